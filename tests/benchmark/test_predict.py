"""predict: a saved model scores new stamps exactly as it scored its own test part."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import benchmark
from benchmark.cli import main
from benchmark.datasets import Dataset
from benchmark.datasets.store import write_store
from benchmark.errors import MissingPathError, ShapeMismatchError
from benchmark.results import ResultsStore
from benchmark.scoring import load_model, predict, write_scores

ZTF = Path(__file__).resolve().parents[3] / "shared" / "data" / "ztf_alerts"

EXPERIMENT = """
name = "tiny"
[dataset]
source = "{source}"
[features]
pca = {{ n_components = 4 }}
trivial = {{}}
[methods]
logreg = {{}}
rf = {{ n_estimators = 20 }}
[run]
n_candidates = 0
n_bootstrap = 0
{save}
"""


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))


def _store(path, n=240, seed=0, nan_rows=(), channels=("g", "r", "i"), size=16):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = rng.normal(0, 1, (n, size, size, len(channels))).astype(np.float32)
    images[labels == 1, 6:10, 6:10] += 3.0  # a learnable source in class b
    images[list(nan_rows), 0, 0, 0] = np.nan
    ds = Dataset(images, labels, ["bogus", "real"], channels=channels, name="toy")
    return write_store(ds, path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict")
    import os

    os.environ["ASTROBENCH_CACHE"] = str(root / "cache")
    data = _store(root / "toy.h5")
    exp = root / "exp.toml"
    exp.write_text(EXPERIMENT.format(source=data, save='save_models = "all"'))
    assert main(["-q", "run", str(exp), "--out", str(root / "res"), "--jobs", "1"]) == 0
    return root


def test_saved_models_reproduce_their_own_test_predictions(trained, tmp_path):
    store = ResultsStore(trained / "res")
    for r in store.records():
        folder = store.model_dir(r["run_id"])
        assert {"input.json", "method.json"} <= {p.name for p in folder.iterdir()}
        scores = predict(store.run_dir(r["run_id"]), trained / "toy.h5")
        own = store.predictions(r["run_id"]).merge(scores, on="id")
        assert len(own) == r["sizes"]["test"]
        np.testing.assert_allclose(own["score_1"], own["p_real"], atol=1e-6)
        expected = np.where(own["score_1"] >= r["threshold"], "real", "bogus")
        assert (own["predicted"] == expected).all()


def test_results_folder_means_its_best_run_and_arrays_work_too(trained):
    store = ResultsStore(trained / "res")
    model = load_model(trained / "res")
    best = max(
        store.records(), key=lambda r: r["metrics"]["auc"] if r["feature"] != "trivial" else 0
    )
    assert model.spec["run_id"].endswith("__seed0") and model.spec["feature"] in ("pca", "trivial")
    images = np.random.default_rng(3).normal(0, 1, (10, 16, 16, 3)).astype(np.float32)
    scores = benchmark.predict(store.model_dir(best["run_id"]), images)
    assert len(scores) == 10 and set(scores["predicted"]) <= {"bogus", "real"}
    assert np.allclose(scores["p_bogus"] + scores["p_real"], 1, atol=1e-5)


def test_npy_arrays_on_the_command_line(trained, tmp_path, capsys):
    run = trained / "res" / "runs" / "pca__logreg__seed0"
    images = np.random.default_rng(5).normal(0, 1, (12, 16, 16, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", images)
    out = tmp_path / "s.csv"
    assert main(["-q", "predict", str(run), str(tmp_path / "x.npy"), "-o", str(out)]) == 0
    np.testing.assert_allclose(
        pd.read_csv(out)["p_real"], predict(run, images)["p_real"], rtol=1e-6
    )
    np.save(tmp_path / "flat.npy", images[:, :, 0, 0])
    capsys.readouterr()
    assert (
        main(["-q", "predict", str(run), str(tmp_path / "flat.npy"), "-o", str(out), "--force"])
        == 2
    )
    assert "expected stamps (N, H, W[, C])" in capsys.readouterr().err


def test_stamps_of_another_layout_are_refused_saying_which(trained, tmp_path):
    model = load_model(trained / "res" / "runs" / "pca__logreg__seed0")
    cases = [
        (dict(size=20), "stamps are 20x20 pixels but logreg"),
        (dict(channels=("g", "r")), "have 2 channel(s) but logreg"),
        (dict(channels=("u", "g", "r")), "channels are u, g, r but logreg"),
    ]
    for i, (change, message) in enumerate(cases):
        path = _store(tmp_path / f"other{i}.h5", n=20, **change)
        with pytest.raises(
            ShapeMismatchError, match=message.replace("(", r"\(").replace(")", r"\)")
        ):
            predict(model, path)
    with pytest.raises(MissingPathError, match="no such model"):
        load_model(tmp_path / "nowhere")


def test_cli_writes_scores_atomically_and_follows_the_write_rule(trained, tmp_path, capsys):
    run = str(trained / "res" / "runs" / "pca__rf__seed0")
    out = tmp_path / "scores.parquet"
    assert main(["-q", "predict", run, str(trained / "toy.h5"), "-o", str(out)]) == 0
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["id", "p_bogus", "p_real", "predicted"] and len(frame) == 240
    assert "240 stamps scored by pca__rf__seed0" in capsys.readouterr().out
    assert main(["-q", "predict", run, str(trained / "toy.h5"), "-o", str(out)]) == 2  # exists
    assert main(["-q", "predict", run, str(trained / "toy.h5"), "-o", str(out), "--force"]) == 0
    csv = tmp_path / "scores.csv"
    assert (
        main(["-q", "predict", run, str(trained / "toy.h5"), "-o", str(csv), "--threshold", "0.99"])
        == 0
    )
    assert (pd.read_csv(csv)["predicted"] == "real").sum() < (frame["predicted"] == "real").sum()
    mine = tmp_path / "mine.csv"
    mine.write_text("my,notes\n")
    capsys.readouterr()
    assert main(["-q", "predict", run, str(trained / "toy.h5"), "-o", str(mine), "--force"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not written by astrobench" in err[0]
    assert mine.read_text() == "my,notes\n"
    assert main(["-q", "predict", run, str(trained / "toy.h5"), "-o", str(tmp_path / "x.txt")]) == 2
    assert ".parquet or .csv" in capsys.readouterr().err


def test_bad_stamps_stop_the_run_or_are_skipped_and_listed(trained, tmp_path, capsys, caplog):
    bad = _store(tmp_path / "bad.h5", n=30, nan_rows=(3, 7))
    run = str(trained / "res" / "runs" / "pca__logreg__seed0")
    out = tmp_path / "s.parquet"
    assert main(["-q", "predict", run, str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2 image(s) contain NaN or inf pixels" in err[0]
    assert not out.exists()
    assert main(["-q", "predict", run, str(bad), "-o", str(out), "--skip-bad"]) == 0
    frame = pd.read_parquet(out)
    assert len(frame) == 28 and not {"3", "7"} & set(frame["id"])
    assert (
        "skipped 2 stamp(s) with non-finite pixels or unreadable: 3, 7" in capsys.readouterr().out
    )
    caplog.set_level("INFO")
    predict(run, bad, skip_bad=True)
    assert "'3'" in caplog.text and "'7'" in caplog.text  # the skipped stamps are listed


def test_models_saved_only_for_cnns_by_default(tmp_path):
    data = _store(tmp_path / "toy.h5", n=120)
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT.format(source=data, save=""))
    assert main(["-q", "run", str(exp), "--out", str(tmp_path / "res"), "--jobs", "1"]) == 0
    assert not list((tmp_path / "res" / "runs").glob("*/model"))
    with pytest.raises(MissingPathError, match="no run here saved a model for predict"):
        load_model(tmp_path / "res")


@pytest.mark.skipif(not ZTF.is_dir(), reason="the ZTF alert sample is not beside the repository")
def test_alert_packets_keep_object_and_candidate_ids(tmp_path):
    from benchmark.config import load_experiment
    from benchmark.runner import run_experiment

    exp = tmp_path / "tri.toml"
    exp.write_text(
        '[dataset]\nsource = "sim-sdss-sn"\nscheme = "binary"\n[dataset.params]\nn = 400\n'
        'layout = "triplet"\n[features]\npca = { n_components = 5 }\n[methods]\nlogreg = {}\n'
        '[run]\nn_candidates = 0\nn_bootstrap = 0\nsave_models = "all"\n'
    )
    text = exp.read_text()
    exp.write_text('name = "tri"\n' + text)
    store = run_experiment(load_experiment(exp), out=tmp_path / "res", progress=False)
    scores = predict(store.run_dir("pca__logreg__seed0"), ZTF)
    assert len(scores) == 67
    assert list(scores.columns[:3]) == ["id", "objectId", "candid"]
    assert scores["objectId"].str.startswith("ZTF").all()
    path = write_scores(scores, tmp_path / "alerts.parquet")
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, scores.reset_index(drop=True), check_dtype=False)
    shutil.rmtree(tmp_path / "res")


def test_alert_files_are_decoded_chunk_by_chunk_with_the_same_scores(tmp_path, monkeypatch):
    """predict never decodes a whole alert file at once: each chunk of --batch-size alerts
    is decoded (the next one while the current is scored), and the scores are those of the
    file loaded whole; a corrupt cutout stops it naming the alert."""
    from benchmark.config import load_experiment
    from benchmark.datasets import examples, ztf_alerts
    from benchmark.errors import CorruptFileError
    from benchmark.runner import run_experiment

    exp = tmp_path / "tri.toml"
    exp.write_text(
        'name = "tri"\n[dataset]\nsource = "sim-sdss-sn"\nscheme = "binary"\n'
        '[dataset.params]\nn = 300\nlayout = "triplet"\n[features]\npca = { n_components = 5 }'
        '\n[methods]\nlogreg = {}\n[run]\nn_candidates = 0\nn_bootstrap = 0\nsave_models = "all"\n'
    )
    store = run_experiment(load_experiment(exp), out=tmp_path / "res", progress=False)
    model = load_model(store.run_dir("pca__logreg__seed0"))
    alerts = examples.write_ztf_avro(tmp_path / "night.avro", n=10)
    whole = predict(model, alerts, batch_size=1024)
    sizes = []
    decode = ztf_alerts._decode

    def counting(chunk, where, bad=None):
        sizes.append(len(chunk))
        return decode(chunk, where, bad)

    monkeypatch.setattr(ztf_alerts, "_decode", counting)
    chunked = predict(model, alerts, batch_size=4)
    assert sizes == [4, 4, 2]  # never more than one chunk of alerts decoded at a time
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked["candid"].tolist() == list(range(1000, 1010))
    bad = examples.ztf_alerts(10)
    bad[6]["cutoutTemplate"]["stampData"] = b"\x1f\x8b not a gzip stream"
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "bad.parquet"

    pq.write_table(pa.Table.from_pylist(bad), path)
    with pytest.raises(CorruptFileError, match="alert 1006: corrupt cutoutTemplate cutout"):
        predict(model, path, batch_size=4)
    kept = predict(model, path, batch_size=4, skip_bad=True)
    assert kept.attrs["skipped"] == ["1006"] and 1006 not in set(kept["candid"])
    pd.testing.assert_frame_equal(kept, whole[whole["candid"] != 1006].reset_index(drop=True))


def test_an_unreadable_stamp_file_stops_the_run_naming_it(trained, tmp_path, capsys):
    from benchmark.datasets import examples

    folder = examples.write_fits_stamps(tmp_path / "stamps", n=8, size=16, bands="gri")
    (folder / "stamp05.fits").write_bytes(b"SIMPLE  =                    T" + b"\0" * 10)
    run = str(trained / "res" / "runs" / "pca__logreg__seed0")
    out = tmp_path / "s.csv"
    args = ["-q", "predict", run, str(folder), "-o", str(out), "--batch-size", "3"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stamp05.fits" in err[0] and not out.exists()


def test_unreadable_stamps_met_while_reading_are_skipped_and_listed(trained, monkeypatch):
    """A lazily read input whose batch has an unreadable stamp: --skip-bad reads that batch
    one stamp at a time and leaves out (and lists) only the unreadable one."""
    from benchmark.datasets.arrays import HDF5Images
    from benchmark.errors import CorruptFileError

    data = trained / "toy.h5"
    whole = predict(trained / "res" / "runs" / "pca__logreg__seed0", data, batch_size=50)
    read = HDF5Images._read

    def failing(self, rows):
        if 17 in rows:
            raise CorruptFileError("stamp 17: unreadable (test)")
        return read(self, rows)

    monkeypatch.setattr(HDF5Images, "_read", failing)
    run = trained / "res" / "runs" / "pca__logreg__seed0"
    with pytest.raises(CorruptFileError, match="stamp 17"):
        predict(run, data, batch_size=50)
    kept = predict(run, data, batch_size=50, skip_bad=True)
    assert kept.attrs["skipped"] == ["17"] and len(kept) == len(whole) - 1
    pd.testing.assert_frame_equal(kept, whole[whole["id"] != "17"].reset_index(drop=True))


def test_fits_stamps_without_labels_are_scored_and_bad_files_skipped(trained, tmp_path, capsys):
    """FITS stamps need no label keyword to be scored; an unreadable stamp and one of
    another size stop the run naming the file, or are left out and listed (--skip-bad)."""
    from astropy.io import fits

    from benchmark.datasets import examples
    from benchmark.errors import CorruptFileError

    run = trained / "res" / "runs" / "pca__logreg__seed0"
    folder = examples.write_fits_stamps(tmp_path / "stamps", n=8, size=16, bands="gri")
    for p in folder.glob("*.fits"):  # new candidates: no CLASS keyword
        with fits.open(p, mode="update") as hdul:
            del hdul[0].header["CLASS"]
    clean = predict(run, folder)
    assert list(clean["id"]) == [f"stamp{i:02d}" for i in range(8)]
    (folder / "stamp05.fits").write_bytes(b"SIMPLE  =                    T" + b"\0" * 10)
    examples.write_fits_stamps(tmp_path / "big", n=1, size=20, bands="gri")
    (tmp_path / "big" / "stamp00.fits").rename(folder / "stamp06.fits")
    with pytest.raises(CorruptFileError, match="stamp05.fits"):
        predict(run, folder)
    kept = predict(run, folder, skip_bad=True)
    assert kept.attrs["skipped"] == ["stamp05", "stamp06"]
    expected = clean[~clean["id"].isin(["stamp05", "stamp06"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, expected)
    out = tmp_path / "s.csv"
    assert main(["-q", "predict", str(run), str(folder), "-o", str(out), "--skip-bad"]) == 0
    assert "skipped 2 stamp(s)" in capsys.readouterr().out and len(pd.read_csv(out)) == 6


@pytest.fixture(scope="module")
def trained_rgb(tmp_path_factory):
    """A model trained on a class-per-folder tree of 16x16 RGB JPEGs."""
    from benchmark.datasets import examples

    root = tmp_path_factory.mktemp("predict_rgb")
    images = examples.write_image_folder(root / "images", n=30, size=(16, 16))
    exp = root / "exp.toml"
    exp.write_text(EXPERIMENT.format(source=images, save='save_models = "all"'))
    assert main(["-q", "run", str(exp), "--out", str(root / "res"), "--jobs", "1"]) == 0
    return root


def test_image_folders_flat_or_by_class_with_bad_files_skipped(trained_rgb, tmp_path):
    """A class tree and a flat folder of new JPEGs are scored alike; a corrupt JPEG and a
    PNG of another size are left out and listed with skip_bad, each named otherwise."""
    from benchmark.datasets import examples
    from benchmark.errors import CorruptFileError

    run = trained_rgb / "res" / "runs" / "pca__logreg__seed0"
    tree = examples.write_image_folder(tmp_path / "tree", n=3, size=(16, 16))
    flat = tmp_path / "flat"
    flat.mkdir()
    for p in sorted(tree.glob("*/*.jpg")):
        shutil.copy(p, flat / p.name)
    by_class, unlabelled = predict(run, tree), predict(run, flat)
    assert len(by_class) == len(unlabelled) == 6
    np.testing.assert_allclose(
        by_class.sort_values("id")["p_spiral"].to_numpy(),
        unlabelled.assign(id="x/" + unlabelled["id"]).sort_values("id")["p_spiral"].to_numpy(),
        rtol=1e-6,
    )
    examples.write_jpeg(flat / "wide.png", size=(16, 24))
    with pytest.raises(ShapeMismatchError, match="wide.png"):
        predict(run, flat)
    (flat / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    with pytest.raises(CorruptFileError, match="broken.jpg"):
        predict(run, flat)
    kept = predict(run, flat, skip_bad=True)
    assert sorted(kept.attrs["skipped"]) == ["broken", "wide"]
    pd.testing.assert_frame_equal(kept, unlabelled)
