"""Learning-curve sweeps: nested subsets, config, records and resume, the crossover, the API."""

import json

import numpy as np
import pandas as pd
import pytest

import benchmark
from benchmark._io import write_json
from benchmark.cli import main
from benchmark.config import ExperimentConfig, load_experiment, train_sizes
from benchmark.curves import crossover_from_draws, learning_curves
from benchmark.datasets import Dataset
from benchmark.errors import ConfigError
from benchmark.results import ResultsStore
from benchmark.runner import run_experiment
from benchmark.splits import Split, train_val_test, training_subsets

SWEEP = """
name = "sweep"
description = "tiny learning-curve run"
published = "du-buisson-2015"

[dataset]
source = "sim-sdss-sn"
scheme = "binary"
[dataset.params]
n = 800
seed = 3

[features]
pca = {{ n_components = 5 }}
handcrafted = {{}}

[methods]
logreg = {{}}
nb = {{}}
{extra}

[run]
n_candidates = 0
n_bootstrap = 100
train_sizes = [0.25, 0.5, 1.0]
"""


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))


def _dataset(n=900, groups=False, seed=0):
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.3).astype(int)  # imbalanced: 30% positives
    meta = pd.DataFrame({"objectId": [f"ZTF{i // 3:05d}" for i in range(n)]}) if groups else None
    if groups:  # every object's stamps share its label
        labels = np.repeat((rng.random(n // 3 + 1) < 0.3).astype(int), 3)[:n]
    images = rng.normal(0, 1, (n, 8, 8, 1)).astype(np.float32)
    return Dataset(images, labels, ["bogus", "real"], meta=meta, name="toy")


# ------------------------------------------------------------------ nested subsets
def test_subsets_are_nested_stratified_and_leave_val_and_test_alone():
    ds = _dataset()
    split = train_val_test(ds, seed=0)
    before = {p: getattr(split, p).copy() for p in ("train", "val", "test")}
    subsets = training_subsets(split, ds, [0.1, 0.25, 0.5], seed=0)
    assert list(subsets) == ["0.1", "0.25", "0.5"]
    y = ds.labels
    share = y[split.train].mean()
    previous = set()
    for label, rows in subsets.items():
        rows = np.asarray(rows)
        assert set(previous) <= set(rows)  # every smaller subset inside the larger
        assert set(rows) <= set(split.train)  # only training samples
        assert abs(len(rows) - float(label) * len(split.train)) <= 2
        assert abs(y[rows].mean() - share) < 0.02  # class proportions kept
        previous = set(rows)
    for p, ix in before.items():  # nothing else moved
        np.testing.assert_array_equal(getattr(split, p), ix)
    other = training_subsets(split, ds, [0.1, 0.25, 0.5], seed=1)
    assert other["0.1"] != subsets["0.1"]  # drawn per seed ...
    assert training_subsets(split, ds, [0.5, 0.1, 0.25], seed=0) == subsets  # ... reproducibly


def test_subsets_by_count_and_grouped_subsets_keep_objects_whole():
    ds = _dataset(groups=True)
    split = train_val_test(ds, seed=0, group_column="objectId")
    subsets = training_subsets(split, ds, [60, 200], seed=0, group_column="objectId")
    groups = ds.meta["objectId"].to_numpy()
    small, large = (np.asarray(subsets[k]) for k in ("60", "200"))
    assert set(small) <= set(large)
    assert 55 <= len(small) <= 66 and 195 <= len(large) <= 206
    train_groups = groups[split.train]
    for rows in (small, large):
        for g in np.unique(groups[rows]):  # every object either wholly in or wholly out
            assert (groups[rows] == g).sum() == (train_groups == g).sum()


def test_split_saves_and_reads_back_its_subsets(tmp_path):
    ds = _dataset()
    split = train_val_test(ds, seed=0)
    import dataclasses

    split = dataclasses.replace(split, subsets={"0": training_subsets(split, ds, [0.2], seed=0)})
    split.save(tmp_path / "split.json")
    back = Split.load(tmp_path / "split.json", ds)
    np.testing.assert_array_equal(back.subset(0, 0.2), split.subset(0, 0.2))
    assert back.id == split.id  # the subsets do not change which split it is
    sub = back.with_train(back.subset(0, 0.2))
    np.testing.assert_array_equal(sub.test, split.test)
    assert sub.id != split.id  # so features fitted on the subset are cached apart
    with pytest.raises(ValueError, match="inside the split's training part"):
        back.with_train(split.test[:5])


# ------------------------------------------------------------------ configuration
def test_train_sizes_are_validated_and_always_include_the_whole_part():
    assert train_sizes([0.5, 0.1]) == (0.1, 0.5, 1.0)
    assert train_sizes([200, 0.5]) == (200, 0.5, 1.0)
    for bad in ([0], [-0.2], [1.5], ["half"], "0.1,0.5", [True]):
        with pytest.raises(ConfigError, match="train_sizes"):
            train_sizes(bad)
    table = {
        "name": "t",
        "dataset": {"source": "sim-sdss-sn"},
        "features": {"pca": {}},
        "methods": {"logreg": {}},
        "run": {"train_sizes": [0.1, 2.5]},
    }
    with pytest.raises(ConfigError, match=r"\[run\].train_sizes: 2.5 is not a training-set size"):
        ExperimentConfig.from_table(table)


def test_an_experiment_without_a_sweep_keeps_its_hash():
    pytest.importorskip("keras")  # the preset's CNNs are validated too
    plain = load_experiment("du-buisson-2015")
    assert "train_sizes" not in plain.to_dict()["run"]
    assert plain.hash == "53370151f758"  # results folders written before sweeps still resume


def test_sweep_profile_of_the_presets():
    pytest.importorskip("keras")  # the presets' CNNs are validated too
    for name in ("du-buisson-2015", "galaxy-zoo-binary"):
        plain = load_experiment(name)
        sweep = load_experiment(name, sweep=True)
        quick = load_experiment(name, sweep=True, quick=True)
        assert sweep.name == f"{name}-sweep" and sweep.hash != plain.hash
        assert len(sweep.run.train_sizes) >= 4 and sweep.run.train_sizes[-1] == 1.0
        assert len(quick.run.train_sizes) == 2  # --quick keeps a two-size sweep
        assert set(sweep.methods) <= set(plain.methods)
        kinds = {benchmark.methods.spec(m)["kind"] for m in sweep.methods}
        assert kinds == {"classical", "deep"}  # a crossover needs both sides
    galaxy = load_experiment("galaxy-zoo-binary", sweep=True)
    assert galaxy.methods["galaxy-cnn"]["time_budget"] == 180  # overridden by [sweep.methods]
    bad = {"name": "t", "dataset": {"source": "x"}, "features": {"pca": {}}, "methods": {"rf": {}}}
    with pytest.raises(ConfigError, match=r"\[sweep\].methods names 'svm'"):
        ExperimentConfig.from_table({**bad, "sweep": {"methods": ["svm"]}}, sweep=True)
    with pytest.raises(ConfigError, match=r"\[sweep\]: unknown key 'sizes'"):
        ExperimentConfig.from_table({**bad, "sweep": {"sizes": [0.1]}}, sweep=True)


def test_cli_rejects_bad_train_sizes(capsys):
    assert main(["run", "--train-sizes", "a,b", "--methods", "rf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--train-sizes" in err[0]
    assert main(["run", "--train-sizes", "0.1,3.5", "--methods", "rf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "3.5 is not a training-set size" in err[0]


# ------------------------------------------------------------------ running a sweep
@pytest.fixture
def sweep_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP.format(extra=""))
    return path


def test_sweep_records_resume_and_refit(sweep_file, tmp_path):
    out = tmp_path / "res"
    config = load_experiment(sweep_file)
    store = run_experiment(config, out=out, progress=False)
    every = store.records(sweep=True)
    full = store.records()
    # 2 methods x 2 feature sets x 3 sizes, plus the shortcut check at full size only
    assert len(every) == 13 and len(full) == 5
    ids = {r["run_id"] for r in every}
    assert "pca__logreg__train0.25__seed0" in ids and "pca__logreg__seed0" in ids
    assert not any("trivial" in i and "train" in i for i in ids)
    by_id = {r["run_id"]: r for r in every}
    n_full = full[0]["sizes"]["train"]
    assert by_id["pca__logreg__seed0"]["n_train"] == n_full
    assert by_id["pca__logreg__seed0"]["train_size"] == 1.0
    quarter = by_id["pca__logreg__train0.25__seed0"]
    assert quarter["train_size"] == 0.25 and abs(quarter["n_train"] - n_full / 4) <= 2
    # every size is scored on the same test stamps
    test_ids = [set(store.predictions(i)["id"]) for i in ids]
    assert all(t == test_ids[0] for t in test_ids)
    assert {r["split_id"] for r in every} == {full[0]["split_id"]}
    # the subsets are saved with the split
    saved = json.loads(store.split_path.read_text())
    assert set(saved["subsets"]["0"]) == {"0.25", "0.5"}
    # records.jsonl has the sweep; the comparison table only the whole-part runs
    lines = (out / "records.jsonl").read_text().splitlines()
    assert len(lines) == 13
    # resume: nothing is redone; a removed run is redone alone
    stamps = {i: (out / "runs" / i / "record.json").stat().st_mtime_ns for i in ids}
    (out / "runs" / "handcrafted__nb__train0.5__seed0" / "record.json").unlink()
    run_experiment(config, out=out, progress=False)
    for i, t in stamps.items():
        now = (out / "runs" / i / "record.json").stat().st_mtime_ns
        assert (now != t) == (i == "handcrafted__nb__train0.5__seed0"), i


def test_pca_is_refitted_on_each_subset_and_stateless_features_are_reused(sweep_file, tmp_path):
    from benchmark.prepare import prepare
    from benchmark.runner import _feature_data

    config = load_experiment(sweep_file)
    setup = prepare(config, progress=False)
    store = ResultsStore(tmp_path / "r")
    subset = setup.split.subset(0, 0.25)
    full, _, _ = _feature_data("pca", config, setup, store, 1)
    part, _, _ = _feature_data("pca", config, setup, store, 1, subset)
    assert len(part.x_train) == len(subset) and len(part.x_test) == len(full.x_test)
    np.testing.assert_array_equal(part.y_train, setup.dataset.labels[subset])
    assert not np.allclose(part.x_test, full.x_test)  # PCA fitted on the subset alone
    hc_full, _, _ = _feature_data("handcrafted", config, setup, store, 1)
    hc_part, _, _ = _feature_data("handcrafted", config, setup, store, 1, subset)
    np.testing.assert_array_equal(hc_part.x_test, hc_full.x_test)
    rows = np.searchsorted(setup.split.train, subset)
    np.testing.assert_array_equal(hc_part.x_train, hc_full.x_train[rows])


# ------------------------------------------------------------------ the crossover
def test_crossover_from_constructed_differences():
    rng = np.random.default_rng(0)
    n = [100, 300, 1000, 3000]
    # the CNN is worse at 100, level at 300, clearly better from 1000 on
    means = np.array([-0.05, 0.0, 0.03, 0.06])
    draws = means[:, None] + rng.normal(0, 0.008, (4, 2000))
    res = crossover_from_draws(n, means, draws)
    assert res["index"] == 2  # 1000 images
    assert res["p_holm"][2] < 0.05 and res["p_holm"][0] > 0.5
    lo, hi = res["interval"]
    assert lo in (300, 1000) and hi == 1000
    # never better: no crossover, and the bootstrap says so
    never = crossover_from_draws(n, -np.abs(means) - 0.02, -np.abs(draws) - 0.02)
    assert never["index"] is None and never["interval"] == (None, None)
    assert never["beyond_share"] == 1.0
    # better by a hair only, not significantly: no crossover either
    hair = crossover_from_draws(n, np.full(4, 0.001), 0.001 + rng.normal(0, 0.01, (4, 2000)))
    assert hair["index"] is None


def _fake_sweep(root, cnn_gain_by_size):
    """A results store of a sweep with a classical method and a CNN whose test scores are
    made so that the CNN's AUC minus the classical one is about ``cnn_gain`` per size."""
    store = ResultsStore(root)
    root.mkdir(parents=True)
    write_json(root / "config.json", {"hash": "x", "name": "fake", "run": {"n_bootstrap": 300}})
    rng = np.random.default_rng(1)
    n_test, n_val = 800, 400
    y = (np.arange(n_test) % 2).astype(int)
    yv = (np.arange(n_val) % 2).astype(int)
    sizes = [(0.1, 100), (0.5, 500), (1.0, 1000)]

    def scores(labels, separation):
        s = 1 / (1 + np.exp(-(separation * (labels - 0.5) * 2 + rng.normal(0, 1, len(labels)))))
        return pd.DataFrame(
            {
                "id": [f"s{i}" for i in range(len(labels))],
                "y_true": labels,
                "score_0": 1 - s,
                "score_1": s,
            }
        )

    for (size, n_train), gain in zip(sizes, cnn_gain_by_size):
        for method, kind, separation in (("rf", "classical", 1.0), ("cnn", "deep", 1.0 + gain)):
            feature = "pca" if kind == "classical" else "images"
            suffix = "" if size == 1.0 else f"__train{size:g}"
            run_id = f"{feature}__{method}{suffix}__seed0"
            record = {
                "run_id": run_id,
                "feature": feature,
                "method": method,
                "kind": kind,
                "seed": 0,
                "classes": ["bogus", "real"],
                "sizes": {"train": 1000, "test": n_test},
                "train_size": size,
                "n_train": n_train,
                "metrics": {},
                "dataset": "fake",
            }
            store.write_run(
                run_id, record, scores(y, separation), val_predictions=scores(yv, separation)
            )
    return store


def test_crossover_on_constructed_records(tmp_path):
    store = _fake_sweep(tmp_path / "with", [-0.6, 0.8, 1.2])
    lc = learning_curves(store)
    c = lc.crossover
    assert [r["n_train"] for r in c.rows] == [100, 500, 1000]
    assert c.rows[0]["difference"] < 0 < c.rows[1]["difference"] < c.rows[2]["difference"]
    assert c.n_train == 500 and c.size == "0.5"
    assert "Crossover at 500 training images" in c.text
    curves = {cv["method"]: cv for cv in lc.curves}
    assert [p["n_train"] for p in curves["cnn"]["points"]] == [100, 500, 1000]
    for p in curves["cnn"]["points"]:
        assert p["lo"] <= p["value"] <= p["hi"]
    store = _fake_sweep(tmp_path / "without", [-0.6, -0.4, -0.3])
    c = learning_curves(store).crossover
    assert c.n_train is None and c.text.startswith("No crossover within the data")
    assert "1,000 images" in c.text


def test_no_sweep_no_curves(tmp_path):
    store = _fake_sweep(tmp_path / "plain", [0.5, 0.5, 0.5])
    for path in (tmp_path / "plain" / "runs").glob("*train*"):
        import shutil

        shutil.rmtree(path)
    assert learning_curves(store) is None


# ------------------------------------------------------------------ the Python API
@pytest.mark.slow
def test_python_api_runs_a_sweep_and_loads_it_back(tmp_path):
    pytest.importorskip("keras")
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP.format(extra="negm2021 = { epochs = 1, filters = [4, 8, 8] }"))
    res = benchmark.run(path, out=tmp_path / "res", progress=False, features=["pca"])
    table = res.table()
    assert isinstance(table, pd.DataFrame)
    assert {"ours", "published"} <= set(table["source"])
    records = res.records()
    assert len(records) == 4 and "metrics.auc" in records  # logreg, nb, negm2021, shortcut
    assert len(res.records(sweep=True)) == 4 + 3 * 2
    assert "Best classical" in res.verdict and res.headline
    assert res.crossover is not None and len(res.crossover.rows) == 3
    assert res.crossover.text in res._repr_html_() or "crossover" in res._repr_html_().lower()
    html = res._repr_html_()
    assert "<table>" in html and "negm2021" in html
    curves = res.learning_curves()
    assert set(curves["method"]) >= {"logreg", "nb", "negm2021"}
    again = benchmark.load(tmp_path / "res")
    pd.testing.assert_frame_equal(again.table(), table)
    assert again.verdict == res.verdict
    from benchmark.results import load

    assert load(tmp_path / "res").crossover.text == res.crossover.text
    text = (tmp_path / "res" / "table.md").read_text()
    assert "Learning curves" in text and "Crossover" in text


@pytest.mark.slow
def test_quick_sweep_of_the_default_preset_end_to_end(tmp_path, capsys):
    pytest.importorskip("keras")
    out = tmp_path / "sweep"
    assert main(["-q", "run", "--sweep", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    store = ResultsStore(out)
    every, full = store.records(sweep=True), store.records()
    # xgboost, logreg, knn on pca+handcrafted and negm2021, at 25% and 100%, + shortcut check
    assert len(full) == 5 and len(every) == 9
    assert {r.get("train_size") for r in every} == {0.25, 1.0}
    assert "Learning curves" in printed and "Crossover:" in printed
    assert (out / "report" / "learning-curves.png").is_file()
    assert "When does a CNN pay off?" in (out / "report" / "index.html").read_text()
