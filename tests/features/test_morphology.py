"""The morphology feature set (statmorph) on constructed galaxies with known answers."""

import sys

import numpy as np
import pytest

import features
from benchmark.errors import ConfigError
from benchmark.simulate._profiles import sersic
from features.morphology import NAMES, MorphologyFeatures

S = 64
C = (S - 1) / 2


def galaxy(n, re=6.0, q=0.8, flux=4e4, x=C, y=C, seed=0, noise=1.0):
    """A Sersic galaxy of index ``n`` on a 64x64 stamp with Gaussian noise."""
    img = sersic(
        np.array([x]),
        np.array([y]),
        np.array([re]),
        np.array([n]),
        np.array([q]),
        np.array([0.3]),
        np.array([flux]),
        np.array([1.0]),
        S,
    )[0].astype(np.float64)
    return img + np.random.default_rng(seed).normal(0, noise, img.shape)


def measure(images, **kw):
    """Feature dicts of (N, S, S, C) images."""
    images = np.asarray(images, np.float32)
    mf = MorphologyFeatures(**kw).fit(images)
    values = mf.transform(images)
    assert values.shape == (len(images), len(NAMES)) and np.isfinite(values).all()
    return [dict(zip(mf.get_feature_names_out(), row)) for row in values]


@pytest.fixture(autouse=True)
def _statmorph():
    pytest.importorskip("statmorph", reason="the morphology feature set needs statmorph")


def test_a_bulge_is_more_concentrated_than_a_disk_and_a_merger_is_lopsided():
    bulge, disk = galaxy(4.0), galaxy(1.0)
    pair = galaxy(1.0, flux=2.5e4) + galaxy(1.0, re=3.0, flux=1.5e4, x=C + 11, y=C + 4, seed=1)
    b, d, m = measure(np.stack([bulge, disk, pair])[..., None])
    assert b["no_detection"] == d["no_detection"] == m["no_detection"] == 0
    assert b["concentration"] > d["concentration"] + 0.5
    assert b["gini"] > d["gini"] + 0.05
    # the profiles are softened by a 1-pixel core, so the de Vaucouleurs fits below n = 4
    assert b["sersic_n"] > d["sersic_n"] + 0.7 and abs(d["sersic_n"] - 1.0) < 0.3
    assert b["asymmetry"] < 0.1 and d["asymmetry"] < 0.1
    assert m["asymmetry"] > 3 * max(b["asymmetry"], d["asymmetry"], 0.02)
    assert m["multimode"] > 0.5 > max(b["multimode"], d["multimode"])


def test_any_number_of_bands_and_one_chosen_by_name():
    disk = galaxy(1.0)
    faint = galaxy(1.0, flux=1e4, seed=2)
    three = np.stack([faint, disk, faint], axis=-1)[None]
    (mean,) = measure(three, channel_names=["g", "r", "i"])
    (r_band,) = measure(three, channel_names=["g", "r", "i"], band="r")
    (single,) = measure(disk[None, ..., None])
    assert r_band == single  # the chosen band alone, as if it were the only one
    assert mean["no_detection"] == 0 and abs(mean["sersic_n"] - 1.0) < 0.3


def test_an_empty_stamp_is_flagged_and_workers_change_nothing():
    noise = np.random.default_rng(5).normal(0, 1.0, (S, S))
    images = np.stack([galaxy(4.0), noise, galaxy(1.0, seed=3)])[..., None]
    serial = measure(images)
    assert serial[1]["no_detection"] == 1 and serial[1]["gini"] == 0
    assert serial[0]["no_detection"] == serial[2]["no_detection"] == 0
    assert measure(images, n_jobs=2, batch_size=1) == serial


def test_registered_as_a_feature_set_that_learns_nothing():
    assert "morphology" in features.available()
    assert not features.learns_from_data("morphology")
    assert isinstance(features.get("morphology", band=0), MorphologyFeatures)


def test_bad_settings_are_one_line_errors(monkeypatch):
    mf = MorphologyFeatures(channel_names=["g", "r", "i"], band="z")
    with pytest.raises(ConfigError, match="no channel 'z'; channels are g, r, i"):
        mf.validate((S, S, 3), 10)
    with pytest.raises(ConfigError, match="band 3 is not a channel index"):
        MorphologyFeatures(band=3).validate((S, S, 3), 10)
    with pytest.raises(ConfigError, match="at least 16x16"):
        MorphologyFeatures().validate((12, 12, 1), 10)
    with pytest.raises(ConfigError, match="threshold must be a positive number"):
        MorphologyFeatures(threshold=0).validate((S, S, 1), 10)
    monkeypatch.setitem(sys.modules, "statmorph", None)  # not installed
    with pytest.raises(ConfigError, match=r"pip install 'astrobench\[morphology\]'"):
        MorphologyFeatures().validate((S, S, 1), 10)
