"""Registered feature sets: common contract, train-only fitting, caching."""

import numpy as np
import pytest
from sklearn.base import clone

import features
from benchmark.datasets import Dataset
from benchmark.errors import ConfigError, SplitMismatchError, UnknownNameError
from benchmark.splits import train_val_test
from features.cache import FeatureCache


@pytest.fixture
def dataset():
    rng = np.random.default_rng(0)
    images = rng.normal(0, 1, (80, 33, 33, 3)).astype(np.float32)
    labels = np.arange(80) % 2
    images[labels == 1, 14:19, 14:19] += 20.0  # class 1 has a central source
    return Dataset(images, labels, ["empty", "source"], channels=("g", "r", "i"), name="tiny")


@pytest.mark.parametrize("name", ["pixels", "pca", "handcrafted", "pca+handcrafted"])
def test_every_feature_set_follows_the_contract(name, dataset):
    params = {"n_components": 5} if "pca" in name else {}
    extractor = features.get(name, **params)
    assert clone(extractor).get_params() == extractor.get_params()
    x = dataset.images[:40]
    assert extractor.fit(x) is extractor
    out = extractor.transform(x)
    names = extractor.get_feature_names_out()
    assert out.dtype == np.float32 and out.shape == (40, len(names))
    assert len(set(names)) == len(names) and np.isfinite(out).all()


def test_pca_is_fitted_on_the_training_part_only(dataset, tmp_path):
    split = train_val_test(dataset, seed=0)
    parts, names, fitted = features.extract(
        "pca", dataset, split, params={"n_components": 4}, cache=FeatureCache(tmp_path)
    )
    train_mean = np.asarray(dataset.images)[split.train].mean(axis=0)
    all_mean = np.asarray(dataset.images).mean(axis=0)
    np.testing.assert_allclose(fitted.mean_image_, train_mean, atol=1e-5)
    assert not np.allclose(fitted.mean_image_, all_mean, atol=1e-5)
    assert {k: v.shape for k, v in parts.items()} == {
        "train": (len(split.train), 4),
        "val": (len(split.val), 4),
        "test": (len(split.test), 4),
    }


def test_cache_reuses_and_parameters_invalidate(dataset, tmp_path):
    split = train_val_test(dataset, seed=0)
    cache = FeatureCache(tmp_path)
    first, _, _ = features.extract(
        "pca+handcrafted", dataset, split, params={"n_components": 3}, cache=cache
    )
    assert cache.misses == 4 and cache.hits == 0  # the fitted model and three parts
    again = FeatureCache(tmp_path)
    second, _, fitted = features.extract(
        "pca+handcrafted", dataset, split, params={"n_components": 3}, cache=again
    )
    assert again.misses == 0 and again.hits == 4
    for part in first:
        np.testing.assert_array_equal(first[part], second[part])
    assert fitted.pca_.n_components_ == 3
    changed = FeatureCache(tmp_path)
    features.extract("pca+handcrafted", dataset, split, params={"n_components": 4}, cache=changed)
    assert changed.misses == 4
    other_split = train_val_test(dataset, seed=1)
    resplit = FeatureCache(tmp_path)
    features.extract(
        "pca+handcrafted", dataset, other_split, params={"n_components": 3}, cache=resplit
    )
    assert resplit.misses == 4


def test_channel_names_come_from_the_dataset(dataset, tmp_path):
    split = train_val_test(dataset, seed=0)
    parts, names, _ = features.extract("handcrafted", dataset, split, cache=FeatureCache(tmp_path))
    assert "colour_g_r" in names and "fwhm_i" in names
    i = list(names).index("no_detection_r")
    labels = dataset.labels[split.test]
    assert parts["test"][labels == 1, i].max() == 0  # every source is detected
    assert parts["test"][labels == 0, i].mean() > 0.9  # noise-only stamps mostly are not


def test_errors(dataset, tmp_path):
    with pytest.raises(
        UnknownNameError, match="valid names: handcrafted, .*pca, pca\\+handcrafted"
    ):
        features.get("hog")
    with pytest.raises(ConfigError, match="unknown parameter 'components' for feature set 'pca'"):
        features.get("pca", components=3)
    split = train_val_test(dataset, seed=0)
    other = dataset.subset(np.arange(40))
    with pytest.raises(SplitMismatchError):
        features.extract("pixels", other, split, cache=FeatureCache(tmp_path))
