import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from benchmark.datasets import Dataset
from benchmark.errors import ConfigError, DataFormatError, SplitMismatchError
from benchmark.splits import Split, kfold, make_split, predefined, train_val_test


def test_default_fractions_follow_seed_001(balanced_dataset):
    split = train_val_test(balanced_dataset, seed=1)
    assert split.sizes() == {"train": 105, "val": 45, "test": 50}  # 52.5 / 22.5 / 25 %
    all_idx = np.concatenate([split.train, split.val, split.test])
    assert sorted(all_idx.tolist()) == list(range(200))  # disjoint and complete
    assert split.method == "stratified" and split.fractions == {"test_size": 0.25, "val_size": 0.30}


def test_stratified(balanced_dataset):
    split = train_val_test(balanced_dataset, seed=3)
    labels = balanced_dataset.labels
    for part in (split.train, split.val, split.test):
        assert labels[part].mean() == pytest.approx(0.4, abs=0.02)


def test_seeded(balanced_dataset):
    a = train_val_test(balanced_dataset, seed=5)
    b = train_val_test(balanced_dataset, seed=5)
    c = train_val_test(balanced_dataset, seed=6)
    assert a.id == b.id and np.array_equal(a.test, b.test)
    assert a.id != c.id


def test_save_and_load_round_trip(tmp_path, balanced_dataset):
    split = train_val_test(balanced_dataset, seed=2)
    path = split.save(tmp_path / "split.json")
    back = Split.load(path, balanced_dataset)
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(back, part), getattr(split, part))
    assert back.id == split.id and back.seed == 2
    data = json.loads(path.read_text())
    assert data["fingerprint"] == balanced_dataset.fingerprint
    assert data["ids"]["test"] == balanced_dataset.ids[split.test].tolist()
    with pytest.raises(FileExistsError):
        split.save(path)
    parts = back.parts(balanced_dataset)
    assert len(parts["val"]) == 45


def test_loading_against_another_dataset_names_both_fingerprints(tmp_path, balanced_dataset):
    path = train_val_test(balanced_dataset).save(tmp_path / "split.json")
    other = Dataset(np.zeros((200, 4, 4, 1)), balanced_dataset.labels, ["a", "b"], name="other")
    with pytest.raises(SplitMismatchError) as info:
        Split.load(path, other)
    assert balanced_dataset.fingerprint in str(info.value)
    assert other.fingerprint in str(info.value)


def test_corrupt_split_file(tmp_path):
    path = tmp_path / "split.json"
    path.write_text("{}")
    with pytest.raises(DataFormatError, match="not a split file"):
        Split.load(path)


def test_kfold_tests_every_sample_once(balanced_dataset):
    folds = kfold(balanced_dataset, k=4, seed=0)
    tested = np.concatenate([f.test for f in folds])
    assert sorted(tested.tolist()) == list(range(200))
    for f in folds:
        assert len(np.intersect1d(f.test, np.concatenate([f.train, f.val]))) == 0
        assert len(f.test) == 50
    with pytest.raises(ConfigError, match="k must be at least 2"):
        kfold(balanced_dataset, k=1)


def _with_parts(parts):
    import pandas as pd

    n = len(parts)
    return Dataset(
        np.arange(n * 4, dtype=np.float32).reshape(n, 2, 2, 1),
        np.arange(n) % 2,
        ["a", "b"],
        meta=pd.DataFrame({"split": parts}),
    )


def test_predefined_train_validation_only_holds_out_validation_as_test():
    ds = _with_parts(["train"] * 40 + ["validation"] * 20)
    split = make_split(ds, seed=0)
    assert split.method == "predefined"
    np.testing.assert_array_equal(split.test, np.arange(40, 60))
    assert set(split.train) | set(split.val) == set(range(40))
    assert split.sizes() == {"train": 28, "val": 12, "test": 20}


def test_predefined_three_parts_are_kept_exactly():
    ds = _with_parts(["train"] * 10 + ["validation"] * 4 + ["test"] * 6)
    split = predefined(ds)
    assert split.train.tolist() == list(range(10))
    assert split.val.tolist() == list(range(10, 14))
    assert split.test.tolist() == list(range(14, 20))


def test_predefined_rejects_unknown_parts():
    with pytest.raises(DataFormatError, match="unknown part 'holdout'"):
        predefined(_with_parts(["train", "holdout"] * 3))


def test_bad_fractions_and_unlabelled(balanced_dataset):
    with pytest.raises(ConfigError, match="test_size must lie in"):
        train_val_test(balanced_dataset, test_size=1.5)
    unlabelled = Dataset(np.zeros((4, 2, 2, 1)), [-1] * 4, [])
    with pytest.raises(ConfigError, match="unlabelled"):
        train_val_test(unlabelled)


def test_grouped_split_keeps_every_group_in_one_part():
    import pandas as pd

    from benchmark.splits import groups_cross_parts, train_val_test

    rng = np.random.default_rng(0)
    n_objects = 150
    epochs = rng.integers(1, 6, n_objects)  # 1-5 alerts per object, one class per object
    objects = np.repeat([f"ZTF{i:05d}" for i in range(n_objects)], epochs)
    labels = np.repeat(np.arange(n_objects) % 3 == 0, epochs).astype(int)
    ds = Dataset(
        rng.normal(size=(len(labels), 4, 4, 1)),
        labels,
        ["bogus", "real"],
        meta=pd.DataFrame({"objectId": objects}),
    )
    plain = train_val_test(ds, seed=1)
    assert groups_cross_parts(plain, ds, "objectId")  # a stamp split divides objects
    split = train_val_test(ds, seed=1, group_column="objectId")
    assert groups_cross_parts(split, ds, "objectId") == []
    assert split.fractions["group_column"] == "objectId"
    sizes = split.sizes()
    assert 0.18 < sizes["test"] / len(ds) < 0.32  # one of four folds, in whole objects
    for part in ("train", "val", "test"):  # stratified as far as groups allow
        share = labels[getattr(split, part)].mean()
        assert abs(share - labels.mean()) < 0.12
    saved = Split.load(split.save(Path(tempfile.mkdtemp()) / "s.json"), ds)
    assert saved.fractions["group_column"] == "objectId"
    with pytest.raises(ConfigError, match="group_column 'candid' is not a column"):
        train_val_test(ds, group_column="candid")


def test_ztf_alerts_are_grouped_by_object_by_default(tmp_path):
    import formats

    from benchmark import datasets
    from benchmark.splits import make_split

    path = formats.write_ztf_parquet(tmp_path / "alerts.parquet", n=12)
    ds = datasets.load(path, label_from="drb", progress=False)
    assert ds.provenance["group_column"] == "objectId"
    split = make_split(ds, seed=0, test_size=0.25, val_size=0.3)
    assert split.fractions["group_column"] == "objectId"
