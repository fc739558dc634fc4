import numpy as np
import pytest

from benchmark.datasets.preprocess import Preprocess
from benchmark.errors import ConfigError, UnknownNameError


@pytest.fixture
def batch():
    r = np.random.default_rng(0)
    return r.normal(5.0, 2.0, size=(3, 10, 12, 3)).astype(np.float32)


def test_identity(batch):
    p = Preprocess()
    assert p.is_identity
    np.testing.assert_array_equal(p(batch), batch)


def test_centre_crop(batch):
    out = Preprocess(crop=(4, 6))(batch)
    np.testing.assert_array_equal(out, batch[:, 3:7, 3:9, :])


def test_crop_larger_than_image(batch):
    with pytest.raises(ConfigError, match="crop 20x20 is larger than the images"):
        Preprocess(crop=20)(batch)


def test_crop_as_a_fraction_of_the_side(batch):
    # 0.5 of 10 x 12 is the central 5 x 6, the same pixels an integer crop keeps
    p = Preprocess(crop=0.5)
    assert p.output_shape((10, 12, 3)) == (5, 6, 3)
    np.testing.assert_array_equal(p(batch), Preprocess(crop=(5, 6))(batch))
    # one framing for every image size: the Galaxy Zoo preset's 0.566 keeps 240 of 424
    # pixels and 39 of 69; 1.0 keeps the whole side, while the integer 1 is one pixel
    assert Preprocess(crop=0.566).output_shape((424, 424, 3)) == (240, 240, 3)
    assert Preprocess(crop=0.566).output_shape((69, 69, 1)) == (39, 39, 1)
    assert Preprocess(crop=1.0).output_shape((69, 69, 1)) == (69, 69, 1)
    assert Preprocess(crop=(0.5, 1.0)).output_shape((10, 12, 3)) == (5, 12, 3)
    assert Preprocess(crop=1).output_shape((69, 69, 1)) == (1, 1, 1)
    assert Preprocess(crop=64.0).crop == (64, 64)  # a whole number is pixels
    assert Preprocess(crop=0.5).as_dict()["crop"] == [0.5, 0.5]


@pytest.mark.parametrize("bad", [1.5, -0.2, 0.0, -3, (64, "a"), (1, 2, 3), True, "big"])
def test_bad_crops(bad):
    with pytest.raises(ConfigError, match="crop"):
        Preprocess(crop=bad)


def test_crop_error_says_how_to_change_it(batch):
    with pytest.raises(ConfigError, match=r"-p crop=N pixels, a fraction .* -p crop=none"):
        Preprocess(crop=20)(batch)


def test_resize_shape_and_flux_level():
    img = np.full((1, 40, 40, 1), 3.0, dtype=np.float32)
    out = Preprocess(resize=10)(img)
    assert out.shape == (1, 10, 10, 1)
    np.testing.assert_allclose(out, 3.0, rtol=1e-6)
    assert Preprocess(resize=(10, 8)).output_shape((40, 40, 3)) == (10, 8, 3)


def test_channel_selection_by_name_and_index(batch):
    names = ("g", "r", "i")
    np.testing.assert_array_equal(Preprocess(channels=["i", "g"])(batch, names), batch[..., [2, 0]])
    np.testing.assert_array_equal(Preprocess(channels=1)(batch, names), batch[..., [1]])
    assert Preprocess(channels=["i"]).output_channels(names, 3) == ("i",)
    with pytest.raises(UnknownNameError, match="unknown channel 'z'; channels are g, r, i"):
        Preprocess(channels=["z"])(batch, names)
    with pytest.raises(ConfigError, match="channel index 5 is out of range"):
        Preprocess(channels=[5])(batch, names)


def test_normalisations(batch):
    mm = Preprocess(normalize="minmax")(batch)
    np.testing.assert_allclose(mm.min(axis=(1, 2, 3)), 0.0)
    np.testing.assert_allclose(mm.max(axis=(1, 2, 3)), 1.0)
    st = Preprocess(normalize="standardize")(batch)
    np.testing.assert_allclose(st.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(st.std(axis=(1, 2, 3)), 1.0, atol=1e-5)
    asinh = Preprocess(normalize="asinh")(batch)
    order = np.argsort(batch[0].ravel())
    assert np.all(np.diff(asinh[0].ravel()[order]) >= 0)  # monotonic stretch
    # l2: every channel of every image on its own unit-norm scale (braai's convention)
    scaled = batch * np.array([1.0, 100.0, 1e4], np.float32)
    l2 = Preprocess(normalize="l2")(scaled)
    np.testing.assert_allclose(np.sqrt((l2**2).sum(axis=(1, 2))), 1.0, rtol=1e-5)
    np.testing.assert_allclose(l2, Preprocess(normalize="l2")(batch), rtol=1e-5, atol=1e-7)
    flat = np.zeros((1, 4, 4, 1), np.float32)
    for how in ("minmax", "standardize", "asinh", "l2"):
        assert np.isfinite(Preprocess(normalize=how)(flat)).all()


def test_nan_fill(batch):
    batch[0, 1, 1, 0] = np.nan
    batch[1, 2, 2, 2] = np.inf
    out = Preprocess(nan_policy="fill", fill_value=-1)(batch)
    assert out[0, 1, 1, 0] == -1 and out[1, 2, 2, 2] == -1


def test_bad_options():
    with pytest.raises(UnknownNameError, match="valid: none, minmax, standardize, asinh"):
        Preprocess(normalize="zscale")
    with pytest.raises(UnknownNameError, match="valid: raise, fill, drop"):
        Preprocess(nan_policy="ignore")
    with pytest.raises(ConfigError, match="crop must be positive"):
        Preprocess(crop=0)
    with pytest.raises(ConfigError, match="resize must be an integer or two integers"):
        Preprocess(resize="big")


def test_pop_from_takes_only_its_keys():
    params = {"crop": 5, "catalog": "x.csv", "nan_policy": "drop"}
    p = Preprocess.pop_from(params, nan_policy="fill")
    assert params == {"catalog": "x.csv"}
    assert p.crop == (5, 5) and p.nan_policy == "drop"
    assert p.as_dict()["crop"] == [5, 5]
