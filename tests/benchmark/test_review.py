"""Label review: test images nearly every run misclassifies are listed, shown and printed."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmark.api import load
from benchmark.cli import main
from benchmark.datasets import Dataset, write_store
from benchmark.results import ResultsStore
from benchmark.review import label_review
from reports import build_report


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))


class FakeStore:
    """Records and test predictions in memory: ``runs`` maps run id to predicted classes."""

    def __init__(self, truth, runs, classes=("a", "b"), shortcut=None):
        self.truth, self.runs, self.classes = np.asarray(truth), runs, list(classes)
        self.shortcut = shortcut

    def records(self):
        return [
            {"run_id": k, "classes": self.classes, "shortcut_detector": k == self.shortcut}
            for k in self.runs
        ]

    def predictions(self, run_id):
        predicted = np.asarray(self.runs[run_id])
        scores = np.full((len(predicted), len(self.classes)), 0.1)
        scores[np.arange(len(predicted)), predicted] = 0.8
        frame = pd.DataFrame({"id": [f"x{i}" for i in range(len(predicted))]})
        frame["y_true"] = self.truth
        for k in range(len(self.classes)):
            frame[f"score_{k}"] = scores[:, k] / scores.sum(axis=1)
        return frame


def test_lists_images_most_runs_misclassify_with_their_consensus():
    truth = [0, 0, 1, 1, 0]
    runs = {
        "r1": [1, 0, 1, 0, 0],
        "r2": [1, 0, 1, 0, 0],
        "r3": [1, 0, 1, 1, 0],
        "r4": [1, 1, 1, 0, 0],
        "shortcut": [1, 1, 0, 0, 1],  # wrong everywhere: must not count
    }
    store = FakeStore(truth, runs, shortcut="shortcut")
    review = label_review(store)
    assert review["id"].tolist() == ["x0"]  # x3 is wrong in 3 of 4 runs: below 90%
    row = review.iloc[0]
    assert (row["label"], row["consensus"], row["n_runs"]) == ("a", "b", 4)
    assert row["wrong_fraction"] == 1.0
    assert row["label_score"] == pytest.approx(0.1 / 0.9)
    loose = label_review(store, min_fraction=0.75)
    assert loose["id"].tolist() == ["x0", "x3"]  # most consistent first
    assert loose.iloc[1]["wrong_fraction"] == 0.75 and loose.iloc[1]["consensus"] == "a"


def test_consensus_names_the_class_even_when_another_is_never_predicted():
    truth = [0, 1, 2]
    runs = {f"r{i}": [2, 1, 2] for i in range(3)}
    review = label_review(FakeStore(truth, runs, classes=("e", "s", "m")))
    assert review[["id", "label", "consensus"]].values.tolist() == [["x0", "e", "m"]]


def test_too_few_runs_list_nothing_and_bad_fraction_is_refused():
    store = FakeStore([0, 1], {"r1": [1, 0], "r2": [1, 0]})
    assert label_review(store).empty
    with pytest.raises(ValueError, match="min_fraction"):
        label_review(store, min_fraction=1.5)


def _flipped_data(tmp_path):
    """An easy set (class 1: a bright centre) with 40 of its 400 labels flipped."""
    rng = np.random.default_rng(0)
    truth = np.arange(400) % 2
    images = rng.normal(0, 1, (400, 15, 15, 1)).astype(np.float32)
    images[truth == 1, 6:9, 6:9] += 6
    labels = truth.copy()
    flipped = rng.choice(400, 40, replace=False)
    labels[flipped] = 1 - labels[flipped]
    ids = [f"g{i:03d}" for i in range(400)]
    write_store(Dataset(images, labels, ["smooth", "spiral"], ids=ids), tmp_path / "gals.h5")
    return {ids[i] for i in flipped}


def test_flipped_labels_are_found_printed_and_shown(tmp_path, capsys):
    flipped = _flipped_data(tmp_path)
    exp = tmp_path / "flip.toml"
    exp.write_text(
        f'name = "flip"\n[dataset]\nsource = "{tmp_path / "gals.h5"}"\n'
        "[features]\nhandcrafted = {}\npca = { n_components = 4 }\n"
        "[methods]\nlogreg = {}\nrf = { n_estimators = 30 }\n"
        "[run]\nn_candidates = 0\nn_bootstrap = 20\n"
    )
    out = tmp_path / "res"
    assert main(["-q", "run", str(exp), "--out", str(out)]) == 0
    test_ids = set(json.loads((out / "split.json").read_text())["ids"]["test"])
    expected = flipped & test_ids
    assert len(expected) >= 5
    review = ResultsStore(out).label_review()
    assert set(review["id"]) == expected  # every flipped test label, and nothing else
    assert (review["label"] != review["consensus"]).all() and (review["n_runs"] == 4).all()
    printed = capsys.readouterr().out
    assert f"label review: {len(expected)} test image(s) misclassified" in printed
    examples = ResultsStore(out).label_review_examples()
    assert examples["images"].shape == (len(expected), 15, 15, 1)
    assert examples["ids"].tolist() == review["id"].tolist()
    assert load(out).label_review()["id"].tolist() == review["id"].tolist()
    html = (out / "report" / "index.html").read_text()
    assert 'id="label-review"' in html and "label-review.png" in html
    assert (out / "report" / "label-review.png").stat().st_size > 1000
    assert sorted(expected)[0] in html


def test_older_folders_without_a_review_still_report(tmp_path):
    _flipped_data(tmp_path)
    exp = tmp_path / "flip.toml"
    exp.write_text(
        f'name = "flip"\n[dataset]\nsource = "{tmp_path / "gals.h5"}"\n'
        "[features]\nhandcrafted = {}\n[methods]\nlogreg = {}\nnb = {}\nrf = {}\n"
        "[run]\nn_candidates = 0\nn_bootstrap = 20\n"
    )
    out = tmp_path / "res"
    assert main(["-q", "run", str(exp), "--out", str(out)]) == 0
    written = ResultsStore(out).label_review()
    (out / "label_review.csv").unlink()
    (out / "label_review.npz").unlink()
    assert ResultsStore(out).label_review() is None
    pd.testing.assert_frame_equal(load(out).label_review(), written)  # computed again
    html = build_report(out, jobs=1).read_text()
    assert 'id="label-review"' not in html  # nothing stored, nothing shown
