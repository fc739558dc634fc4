"""The harness: config validation, identical splits, resume after interruption, tables."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from experiments import SMALL

import deep
from benchmark import methods as registry
from benchmark.cli import main
from benchmark.config import ExperimentConfig, load_experiment
from benchmark.errors import ConfigError, UnknownNameError
from benchmark.results import ResultsStore
from benchmark.runner import run_experiment
from benchmark.tables import comparison_table, render_text

_NEEDS_KERAS = pytest.mark.skipif(
    importlib.util.find_spec("keras") is None, reason="validating a CNN's settings needs keras"
)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_every_preset_validates_in_both_profiles():
    pytest.importorskip("keras")  # the presets' CNNs are validated too
    for name in ("du-buisson-2015", "galaxy-zoo-binary", "night-sky-net", "galaxy10"):
        full = load_experiment(name)
        quick = load_experiment(name, quick=True)
        assert full.hash != quick.hash and quick.dataset.params["n"] < full.dataset.params["n"]
    default = load_experiment("du-buisson-2015")
    assert default.dataset.params["n"] == 21785 and default.dataset.scheme == "binary"
    assert set(default.features) == {"pca", "handcrafted", "pca+handcrafted"}
    assert len(default.methods) == 12
    assert {"negm2021", "negm2021-refined", "braai-vgg6"} <= set(default.methods)
    assert "negm2021-refined" not in load_experiment("du-buisson-2015", quick=True).methods
    deep_in = {
        "galaxy-zoo-binary": {"galaxy-cnn", "inceptionv3", "mlp", "decision-tree"},
        "night-sky-net": {"nightskynet"},
        "galaxy10": {"simple-cnn", "resnet50", "inceptionv3"},
    }
    for name, methods in deep_in.items():
        assert methods <= set(load_experiment(name).methods)
        quick = load_experiment(name, quick=True)
        assert all(quick.methods[m]["epochs"] <= 2 for m in methods & set(deep.available()))


def test_real_profile_applies_only_to_real_data(tmp_path):
    """``[real]`` adds and skips methods and feature sets when --data is given; with
    --quick, ``[quick]`` then ``[real]`` then ``[real.quick]`` are merged."""
    from benchmark.config import tomllib

    table = tomllib.loads(SMALL)
    table["quick"] = {"methods": {"logreg": {"C": 0.5}}, "run": {"n_bootstrap": 100}}
    table["real"] = {
        "skip_methods": ["nb"],
        "skip_features": ["pca"],
        "features": {"pixels": {}},
        "methods": {"logreg": {"C": 2.0}},
        "run": {"seeds": 3},
        "quick": {"run": {"seeds": 1}},
    }
    data = str(tmp_path)
    simulated = ExperimentConfig.from_table(table)
    real = ExperimentConfig.from_table(table, data=data)
    assert "nb" in simulated.methods and "nb" not in real.methods
    assert "pixels" not in simulated.features and "pixels" in real.features
    assert "pca" in simulated.features and set(real.features) == {"handcrafted", "pixels"}
    assert real.methods["logreg"]["C"] == 2.0 and real.run.seeds == 3
    assert real.real_data and real.hash != simulated.hash
    quick = ExperimentConfig.from_table(table, data=data, quick=True)
    assert quick.methods["logreg"]["C"] == 2.0  # [real] wins over [quick]
    assert quick.run.seeds == 1 and quick.run.n_bootstrap == 100
    assert "nb" not in quick.methods
    assert ExperimentConfig.from_table(table, quick=True).methods["logreg"]["C"] == 0.5


def test_dataset_params_replace_the_experiments(tmp_path):
    """``-p`` / ``dataset_params`` override the dataset's parameters; None removes one."""
    import formats

    only = {"methods": ["logreg"]}  # classical: no Keras needed
    real = load_experiment("galaxy-zoo-binary", data=str(tmp_path), **only)
    assert dict(real.dataset.params) == {"crop": 0.566, "resize": 64}
    changed = load_experiment(
        "galaxy-zoo-binary", data=str(tmp_path), dataset_params={"crop": None, "resize": 32}, **only
    )
    assert dict(changed.dataset.params) == {"resize": 32}
    assert changed.hash != real.hash
    simulated = load_experiment("galaxy-zoo-binary", dataset_params={"n": 500}, **only)
    assert simulated.dataset.params["n"] == 500 and simulated.dataset.params["seed"] == 0
    # the preset frames images of any size alike (its crop is a fraction of the side):
    # 69-pixel stamps load as well as 424-pixel Kaggle JPEGs
    for size, kept in ((69, 39), (120, 68)):
        root = formats.write_image_folder(tmp_path / f"s{size}", n=2, size=(size, size))
        config = load_experiment("galaxy-zoo-binary", data=str(root), **only)
        assert config.dataset.load(progress=False).shape[1:] == (64, 64, 3)
        nocrop = load_experiment(
            "galaxy-zoo-binary", data=str(root), dataset_params={"crop": kept}, **only
        )
        np.testing.assert_array_equal(
            nocrop.dataset.load(progress=False).images, config.dataset.load(progress=False).images
        )


def test_dataset_table_keys_given_with_p_reach_the_table(tmp_path, capsys):
    """``-p drop_classes=a,b`` and ``-p scheme=...`` act as the [dataset] keys (they are
    not loader parameters); ``-p loader=`` / ``-p source=`` name their options."""
    import formats

    only = {"methods": ["logreg"]}
    root = formats.write_image_folder(tmp_path / "imgs", classes=("a", "b", "c"), n=3)
    config = load_experiment(
        "galaxy-zoo-binary",
        data=str(root),
        dataset_params={"drop_classes": "c", "scheme": "original", "resize": 32},
        **only,
    )
    assert config.dataset.drop_classes == ("c",) and config.dataset.scheme == "original"
    assert dict(config.dataset.params) == {"crop": 0.566, "resize": 32}
    assert config.dataset.load(progress=False).classes == ("a", "b")
    with pytest.raises(ConfigError, match="give --loader NAME instead"):
        load_experiment("galaxy-zoo-binary", data=str(root), dataset_params={"loader": "x"})
    assert main(["-q", "data", "info", str(root), "-p", "drop_classes=b,c"]) == 0
    assert "original   1 classes: a: 3" in capsys.readouterr().out  # b and c dropped
    assert main(["-q", "data", "info", str(root), "-p", "source=x"]) == 2
    assert "give the source argument instead" in capsys.readouterr().err


def test_loader_names_the_real_datas_format(tmp_path, capsys):
    """``run --data DIR --loader NAME`` overrides detection; an unknown name, or --loader
    without --data, is one line naming the fix."""
    import formats

    only = {"methods": ["logreg"]}
    root = formats.write_image_folder(tmp_path / "folder", n=2, size=(69, 69))
    detected = load_experiment("galaxy-zoo-binary", data=str(root), **only)
    named = load_experiment("galaxy-zoo-binary", data=str(root), loader="image-folder", **only)
    assert detected.dataset.loader is None and named.dataset.loader == "image-folder"
    assert named.dataset.load(progress=False).shape == detected.dataset.load(progress=False).shape
    with pytest.raises(ConfigError, match="give --data too"):
        load_experiment("galaxy-zoo-binary", loader="image-folder", **only)
    out = tmp_path / "out"
    args = [
        "run",
        "galaxy-zoo-binary",
        "--data",
        str(root),
        "--loader",
        "nosuch",
        "--methods",
        "logreg",
    ]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown loader 'nosuch'") and "\n" not in err
    assert not out.exists()


def test_run_takes_dataset_params(tmp_path, capsys):
    """``run -p KEY=VALUE`` reaches the dataset: a bad crop is one line naming the fix."""
    import formats

    root = formats.write_image_folder(tmp_path / "imgs", n=2, size=(32, 32))
    code = main(
        ["run", "galaxy-zoo-binary", "--data", str(root), "-p", "crop=40", "--quick",
         "--methods", "logreg", "--features", "handcrafted", "--out", str(tmp_path / "r")]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "crop 40x40 is larger than the images (32x32)" in err and "-p crop=none" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "real, message",
    [
        ({"runn": {}}, r"\[real\]: unknown key 'runn'"),
        ({"skip_methods": ["svm"]}, r"\[real\].skip_methods names 'svm'"),
        ({"skip_features": ["hog"]}, r"\[real\].skip_features names 'hog', not in \[features\]"),
        ({"skip_features": "pca"}, r"skip_features must be a list of names from \[features\]"),
        ({"quick": {"colour": 1}}, r"\[real.quick\]: unknown key 'colour'"),
        ({"methods": {"cnn": {}}}, "unknown name 'cnn'"),
        ("pretrain", r"\[real\] must be a table"),
    ],
)
def test_real_profile_errors_name_the_key(tmp_path, real, message):
    from benchmark.config import tomllib

    table = tomllib.loads(SMALL)
    table["real"] = real
    ExperimentConfig.from_table(table)  # ignored on simulated data
    with pytest.raises(ConfigError, match=message):
        ExperimentConfig.from_table(table, data=str(tmp_path), quick=True)


def test_galaxy_zoo_real_profile_pretrains_and_adds_the_hybrid(tmp_path):
    pytest.importorskip("keras")
    simulated = load_experiment("galaxy-zoo-binary")
    assert "hybrid" not in simulated.methods and simulated.run.threshold == "fixed"
    assert "pretrain" not in simulated.methods["galaxy-cnn"]
    for quick in (False, True):
        real = load_experiment("galaxy-zoo-binary", data=str(tmp_path), quick=quick)
        assert real.methods["galaxy-cnn"]["pretrain"] == "sim-galaxy10"
        assert real.methods["hybrid"]["pretrain"] == "sim-galaxy10"
        assert "handcrafted" in real.features and "inceptionv3" not in real.methods
        assert "pixels" not in real.features
        assert real.run.seeds == (1 if quick else 3)
        assert real.run.threshold == "auto"  # chosen on validation where classes are unequal
        # the ensemble's and the hybrid's CNNs are galaxy-cnn's own (trained once a seed)
        cnn = real.methods["galaxy-cnn"]
        for name in ("cnn-ensemble", "hybrid"):
            own = registry.create(name, real.methods[name]).OWN
            assert {k: v for k, v in real.methods[name].items() if k not in own} == cnn
    quick = load_experiment("galaxy-zoo-binary", data=str(tmp_path), quick=True)
    assert quick.methods["galaxy-cnn"]["pretrain_params"]["n"] <= 1000
    assert quick.methods["hybrid"]["epochs"] <= 2


@pytest.mark.parametrize(
    "preset, backbone, pretrain, skipped, scheme",
    [
        ("galaxy10", "galaxy-cnn", {"n": 6000}, {"resnet50", "inceptionv3"}, None),
        ("night-sky-net", "galaxy-cnn", {"n": 6000}, set(), "gz4"),
        ("du-buisson-2015", "braai-vgg6", None, set(), "binary"),
    ],
)
def test_every_preset_has_a_real_profile_with_the_hybrid(
    tmp_path, preset, backbone, pretrain, skipped, scheme
):
    """On real data each preset runs the recipe measured on gz2: the CNN pretrained on the
    matching simulation where one matches (galaxies), its hybrid with the hand-crafted
    features sharing its fit, budgets a real training part can converge in, and the
    preset's labels where the data have them; its published CNN stays as published."""
    pytest.importorskip("keras")
    simulated = load_experiment(preset)
    assert "hybrid" not in simulated.methods and simulated.dataset.prefer_scheme is None
    real = load_experiment(preset, data=str(tmp_path))
    assert real.dataset.prefer_scheme == scheme and real.run.threshold == "auto"
    assert not skipped & set(real.methods) and skipped <= set(simulated.methods)
    assert real.methods["hybrid"]["backbone"] == backbone
    cnn = real.methods[backbone]
    assert cnn["time_budget"] >= 600 and cnn["time_budget"] > simulated.methods.get(
        backbone, {}
    ).get("time_budget", 0)
    if pretrain:
        assert cnn["pretrain"] == "sim-galaxy10"
        assert pretrain.items() <= cnn["pretrain_params"].items()
    else:
        assert "pretrain" not in cnn
    for name in ("cnn-ensemble", "hybrid"):
        if name in real.methods:  # shares the CNN's fits (trained once a seed)
            own = registry.create(name, real.methods[name]).OWN
            assert {k: v for k, v in real.methods[name].items() if k not in own} == cnn
    published_cnn = {"galaxy10": "simple-cnn", "night-sky-net": "nightskynet"}.get(preset)
    if published_cnn:
        assert real.methods[published_cnn] == simulated.methods[published_cnn]
    quick = load_experiment(preset, data=str(tmp_path), quick=True)
    assert quick.run.seeds == 1
    assert all(quick.methods[m].get("epochs", 99) <= 2 for m in ("hybrid", backbone))
    if pretrain:
        assert quick.methods[backbone]["pretrain_params"]["n"] <= 1000
        shared = quick.methods[backbone]["pretrain_params"]
        assert quick.methods["hybrid"]["pretrain_params"] == shared


def test_a_class_without_samples_is_left_out_of_the_comparison(tmp_path, capsys):
    """A Galaxy Zoo catalogue with no merger left after the 95% purity cut, run by the
    4-class preset: the run compares the three classes present (it used to end in an
    internal error while scoring) and says which class it left out."""
    import formats

    root = formats.write_galaxy_zoo(tmp_path / "gz", n=60)
    out = tmp_path / "out"
    args = ["run", "night-sky-net", "--data", str(root), "--quick", "--out", str(out)]
    assert main([*args, "--methods", "logreg", "--features", "pca"]) == 0
    assert "no sample of class 'merger' in the data" in capsys.readouterr().err
    record = ResultsStore(out).records()[0]
    assert record["classes"] == ["edge-on", "face-on spiral", "elliptical"]
    assert len(record["metrics"]["confusion"]) == 3


def test_a_bad_preferred_scheme_is_one_line(tmp_path):
    from benchmark.config import tomllib

    table = tomllib.loads(SMALL)
    table["dataset_real"] = {"prefer_scheme": 2}
    ExperimentConfig.from_table(table)  # ignored on simulated data
    with pytest.raises(ConfigError, match=r"prefer_scheme must be a string, got 2"):
        ExperimentConfig.from_table(table, data=str(tmp_path))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"run": {"seeds": 0}}, r"run\]\.seeds must lie in \[1, 100\]"),
        ({"run": {"threshold": "youden"}}, "unknown strategy 'youden'"),
        ({"run": {"tune_budgets": 3}}, "unknown key 'tune_budgets'"),
        ({"methods": {"cnn": {}}}, "unknown name 'cnn'"),
        ({"methods": {"rf": {"depth": 3}}}, "unknown hyperparameter 'depth' for baseline 'rf'"),
        ({"features": {"hog": {}}}, "unknown name 'hog'"),
        ({"features": {"pca": {"components": 3}}}, "unknown parameter 'components'"),
        ({"split": {"test_size": 2}}, r"test_size must lie in \[0.0, 0.95\]"),
        ({"dataset": {"source": "x", "catalog": "y"}}, "unknown key 'catalog'"),
        pytest.param(
            {"methods": {"negm2021": {"epoch": 3}}},
            "unknown parameter 'epoch' for deep model",
            marks=_NEEDS_KERAS,
        ),
        pytest.param(
            {"methods": {"braai-vgg6": {"augment": ["spin"]}}},
            "unknown augmentation 'spin'",
            marks=_NEEDS_KERAS,
        ),
        ({"quick": {"skip_methods": ["svm"]}}, "skip_methods names 'svm', not in"),
        ({"quick": {"runn": {}}}, r"\[quick\]: unknown key 'runn'"),
    ],
)
def test_config_errors_name_the_key(change, message):
    from benchmark.config import tomllib  # tomli on Python 3.10

    table = tomllib.loads(SMALL)
    table.update(change)
    with pytest.raises(ConfigError, match=message):
        ExperimentConfig.from_table(table, quick=True)


def test_unknown_preset_lists_valid(capsys):
    with pytest.raises(UnknownNameError, match="valid presets: du-buisson-2015, galaxy-zoo-binary"):
        load_experiment("hubble")
    assert main(["-q", "run", "hubble"]) == 2
    assert "valid presets" in capsys.readouterr().err


def test_run_writes_records_with_one_split_and_a_table(small, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["-q", "run", str(small), "--out", str(out), "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    store = ResultsStore(out)
    records = store.records()
    assert len(records) == 7  # 3 methods x 2 feature sets + the shortcut detector
    assert len({r["split_id"] for r in records}) == 1  # every method saw the same split
    split = json.loads((out / "split.json").read_text())
    for r in records:
        preds = store.predictions(r["run_id"])
        assert preds["id"].tolist() == split["ids"]["test"]
        assert 0 <= r["metrics"]["auc"] <= 1 and r["ci"]["auc"][0] <= r["metrics"]["auc"]
        assert r["simulated"] and r["threshold"] == 0.5 and r["seed"] == 0
        assert r["timings"]["fit_s"] > 0 and r["n_features"] > 0
    lines = (out / "records.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["run_id"] for x in lines) == sorted(r["run_id"] for r in records)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["schema_version"] == 1 and "numpy" in meta["versions"]
    assert meta["deep"] is None  # no CNN: no backend asked for (Keras never imported)
    # the printed table: our rows, then the published ones, labelled
    assert "Random forest (RF)" in printed and "3541 / 342 / 259 / 2732" in printed
    assert "simulated data, not on the published data" in printed
    csv = pd.read_csv(out / "table.csv")
    assert set(csv["source"]) == {"ours", "published"}
    ours = csv[csv["source"] == "ours"]
    assert len(ours) == 7 and ours["auc"].is_monotonic_decreasing
    assert ours["p_holm"].notna().sum() == 6 and ours["best_on_validation"].sum() == 1
    assert (out / "table.md").read_text().startswith("## small")
    assert "Verdict:" in printed and "p vs best (Holm)" in printed
    assert "logreg (shortcut check)" in printed and "56.0%" in printed  # prevalence shown


def test_table_values_match_the_records(small, tmp_path):
    config = load_experiment(small)
    store = run_experiment(config, out=tmp_path / "res", progress=False)
    table = comparison_table(store.records(), published=None)
    for r in store.records():
        row = table[(table["feature"] == r["feature"]) & (table["method"] == r["method"])].iloc[0]
        assert row["accuracy"] == pytest.approx(r["metrics"]["accuracy"])
        assert row["tp"] == r["metrics"]["tp"]
        assert row["accuracy_lo"] == pytest.approx(r["ci"]["accuracy"][0])
    text = render_text(table)
    assert "95% bootstrap CIs" in text


def test_rerun_skips_finished_runs_and_force_redoes(small, tmp_path):
    config = load_experiment(small)
    out = tmp_path / "res"
    store = run_experiment(config, out=out, progress=False)
    first = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/record.json")}
    run_experiment(config, out=out, progress=False)
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/record.json")} == first
    run_experiment(config, out=out, force=True, progress=False)
    assert all(p.stat().st_mtime_ns != t for p, t in first.items())
    assert len(store.records()) == 7


def test_another_experiment_is_not_overwritten(small, tmp_path):
    out = tmp_path / "res"
    run_experiment(load_experiment(small), out=out, progress=False)
    other = load_experiment(small).select(seeds=2)
    with pytest.raises(ConfigError, match="holds results of another experiment"):
        run_experiment(other, out=out, progress=False)
    assert len(ResultsStore(out).records()) == 7


def test_results_written_before_markers_stay_readable(small, tmp_path):
    """A store of the first layout: no marker, feature summaries in ``features/``."""
    out = tmp_path / "res"
    config = load_experiment(small)
    run_experiment(config, out=out, progress=False)
    (out / ".astrobench.json").unlink()
    (out / "summaries").rename(out / "features")
    before = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/record.json")}
    store = run_experiment(config, out=out, progress=False)  # resumes: nothing to redo
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/record.json")} == before
    assert set(store.feature_summaries()) == {"pca"}
    assert main(["-q", "report", str(out)]) == 0
    assert "scree-pca.png" in (out / "report" / "index.html").read_text()
    run_experiment(config.select(seeds=2), out=out, force=True, progress=False)
    assert not (out / "features").exists() and (out / ".astrobench.json").is_file()


def test_reruns_write_byte_identical_records(small, tmp_path):
    """Tuning is a fixed seeded candidate set and timings live apart: records repeat exactly."""
    small.write_text(small.read_text().replace("n_candidates = 0", "n_candidates = 3"))
    config = load_experiment(small).select(seeds=2)
    run_experiment(config, out=tmp_path / "a", jobs=2, progress=False)
    run_experiment(config, out=tmp_path / "b", jobs=1, progress=False)
    records = sorted((tmp_path / "a").glob("runs/*/record.json"))
    assert len(records) == 14  # 7 runs x 2 seeds
    for path in records:
        other = tmp_path / "b" / path.relative_to(tmp_path / "a")
        assert path.read_bytes() == other.read_bytes(), path.parent.name
    index = (tmp_path / "a" / "records.jsonl").read_bytes()
    assert index == (tmp_path / "b" / "records.jsonl").read_bytes()
    tuned = json.loads(records[0].read_text())
    assert len(tuned["tuning"]) >= 2 and "timings" not in tuned
    assert "fit_s" in ResultsStore(tmp_path / "a").records()[0]["timings"]


def test_seeds_give_mean_and_std(small, tmp_path):
    config = load_experiment(small).select(
        methods=["logreg", "decision-tree"], features=["handcrafted"], seeds=2
    )
    store = run_experiment(config, out=tmp_path / "res", progress=False)
    table = comparison_table(store.records())
    assert len(table) == 3 and (table["seeds"] == 2).all()  # and the shortcut detector
    assert "accuracy_std" in table and "±" in render_text(table)


def test_interrupted_run_resumes_with_identical_results(small, tmp_path):
    out_killed, out_clean = tmp_path / "killed", tmp_path / "clean"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "benchmark", "-q", "run", str(small), "--jobs", "1"]
    proc = subprocess.Popen([*cmd, "--out", str(out_killed)], env=env, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out_killed.glob("runs/*/record.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(out_killed.glob("runs/*/record.json")))
    assert 2 <= done < 7, done  # killed part-way
    assert subprocess.run([*cmd, "--out", str(out_killed)], env=env).returncode == 0
    assert subprocess.run([*cmd, "--out", str(out_clean)], env=env).returncode == 0
    killed, clean = ResultsStore(out_killed), ResultsStore(out_clean)
    assert len(killed.records()) == 7
    for r in clean.records():
        other = json.loads((out_killed / "runs" / r["run_id"] / "record.json").read_text())
        assert other["metrics"] == r["metrics"] and other["split_id"] == r["split_id"]
        np.testing.assert_array_equal(
            killed.predictions(r["run_id"])["score_1"], clean.predictions(r["run_id"])["score_1"]
        )


@pytest.mark.slow
def test_default_quick_run_end_to_end(tmp_path, capsys):
    out = tmp_path / "default"
    assert main(["-q", "run", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    records = ResultsStore(out).records()
    assert len(records) == 30  # 9 baselines x 3 feature sets, the shortcut check, 2 CNNs
    features = {r["feature"] for r in records}
    assert features == {"pca", "handcrafted", "pca+handcrafted", "images", "trivial"}
    assert {r["method"] for r in records if r["kind"] == "deep"} == {"negm2021", "braai-vgg6"}
    best = max(records, key=lambda r: r["metrics"]["auc"])
    assert best["metrics"]["auc"] > 0.9  # the classes are learnable ...
    assert min(r["metrics"]["accuracy"] for r in records) < 0.9  # ... and not trivially
    assert "du Buisson et al. 2015" in printed and "simulated" in printed


def test_deep_model_runs_on_the_same_split_and_is_saved(small, tmp_path):
    pytest.importorskip("keras")
    from deep.method import DeepMethod

    text = small.read_text().replace(
        "decision-tree = {}", "decision-tree = {}\nnegm2021 = { epochs = 2, filters = [4, 8, 8] }"
    )
    small.write_text(text)
    config = load_experiment(small).select(features=["pca"])
    store = run_experiment(config, out=tmp_path / "r", progress=False)
    records = {r["method"]: r for r in store.records()}
    cnn = records["negm2021"]
    assert cnn["kind"] == "deep" and cnn["feature"] == "images"
    assert cnn["split_id"] == records["logreg"]["split_id"]
    assert cnn["sizes"] == records["logreg"]["sizes"]
    assert len(cnn["history"]) == 2 and cnn["timings"]["epochs"] == 2
    assert 0.0 <= cnn["metrics"]["auc"] <= 1.0 and cnn["n_parameters"] > 0
    import keras

    used = store.metadata()["deep"]  # the backend and devices the CNN trained with
    assert used["backend"] == keras.backend.backend() and used["devices"]
    folder = store.run_dir(cnn["run_id"])
    preds = store.predictions(cnn["run_id"])
    dataset = config.dataset.load(progress=False)
    index = {i: k for k, i in enumerate(dataset.ids)}
    test = np.array([index[i] for i in preds["id"]])
    model = DeepMethod.load(folder / "model")
    np.testing.assert_allclose(
        model.predict_proba(dataset.images[test])[:, 1], preds["score_1"], atol=1e-4
    )
    assert model.threshold_ == cnn["threshold"]
    explain = np.load(folder / "explain.npz")
    assert explain["occlusion"].shape[0] == 4 and "filters" in explain.files
    assert not (store.root / "work").exists() or not any((store.root / "work").iterdir())
    before = (folder / "record.json").stat().st_mtime_ns
    run_experiment(config, out=tmp_path / "r", progress=False)  # finished: not redone
    assert (folder / "record.json").stat().st_mtime_ns == before
    assert cnn["method_params"]["deterministic"] and cnn["class_weight"] == "balanced"
    again = run_experiment(config, out=tmp_path / "again", progress=False)  # same bytes on CPU
    twin = again.run_dir(cnn["run_id"]) / "record.json"
    assert twin.read_bytes() == (folder / "record.json").read_bytes()


def test_a_cnn_is_trained_once_for_its_own_row_and_a_hybrid_backbone(small, tmp_path):
    """galaxy-cnn and a hybrid on the same CNN settings train it once per seed: the hybrid
    loads the run's fit from work/_shared, which goes when the experiment ends."""
    pytest.importorskip("keras")
    cnn = "negm2021 = { epochs = 2, filters = [4, 8, 8] }"
    hybrid = 'hybrid = { backbone = "negm2021", features = [], epochs = 2, filters = [4, 8, 8] }'
    small.write_text(small.read_text().replace("decision-tree = {}", f"{cnn}\n{hybrid}"))
    config = load_experiment(small).select(features=["pca"], methods=["negm2021", "hybrid"])
    store = run_experiment(config, out=tmp_path / "r", progress=False, jobs=1)
    records = {r["method"]: r for r in store.records()}
    assert records["negm2021"]["fit_shared"] is False
    assert records["hybrid"]["members"][0]["fit_shared"] is True
    assert records["hybrid"]["history"] == records["negm2021"]["history"]
    # the loaded CNN keeps the hybrid's own prediction settings (D4 averaging)
    assert records["hybrid"]["method_params"]["backbone_params"]["tta"] is True
    assert records["negm2021"]["method_params"]["tta"] is False
    assert not store.shared_dir().exists()


def test_balanced_thresholds_are_chosen_on_validation_for_every_method(small, tmp_path, capsys):
    """``--threshold balanced`` (``[run] threshold``): each run's threshold is the best
    balanced accuracy of its validation scores, and its test metrics are counted at it;
    an unknown strategy is one line naming the valid ones."""
    from benchmark.metrics import binary_metrics, choose_threshold

    path = tmp_path / "balanced.toml"
    path.write_text(SMALL.replace("[run]\n", '[run]\nthreshold = "balanced"\n'))
    config = load_experiment(path)
    assert config.run.threshold == "balanced"
    assert load_experiment(small, threshold="balanced").run == config.run
    store = run_experiment(config, out=tmp_path / "res", progress=False)
    records = store.records()
    assert len(records) == 7  # 2 feature sets x 3 methods, and the shortcut detector
    for r in records:
        val = store.predictions(r["run_id"], part="val")
        test = store.predictions(r["run_id"], part="test")
        cut = choose_threshold(val["y_true"], val["score_1"], strategy="balanced")
        assert r["threshold"] == pytest.approx(cut)
        expected = binary_metrics(test["y_true"], test["score_1"], cut)
        assert r["metrics"]["recall"] == pytest.approx(expected["recall"])
        assert r["metrics"]["tp"] == expected["tp"]
    assert any(r["threshold"] != 0.5 for r in records)
    out = tmp_path / "bad"
    assert main(["run", str(small), "--threshold", "youden", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown strategy 'youden'; valid: fixed, auto, balanced" in err and "\n" not in err
    assert not out.exists()
