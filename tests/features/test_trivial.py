"""The shortcut detector's features on constructed stamps."""

import numpy as np
import pytest

from benchmark.errors import ConfigError
from features.trivial import STATISTICS, TrivialFeatures


def test_values_on_a_constructed_stamp():
    img = np.zeros((1, 12, 12, 2), np.float32)
    img[0, :, :, 0] = 1.0  # channel 0: flat
    img[0, 5:7, 5:7, 1] = 10.0  # channel 1: a bright centre, empty border
    img[0, 0, 0, 1] = -2.0
    ext = TrivialFeatures(border=3, channel_names=["g", "r"]).fit(img)
    out = dict(zip(ext.get_feature_names_out(), ext.transform(img)[0]))
    assert len(out) == 2 * len(STATISTICS)
    assert out["mean_g"] == 1 and out["std_g"] == 0 and out["border_mean_g"] == 1
    assert out["total_flux_r"] == pytest.approx(40 - 2) and out["max_r"] == 10
    assert out["min_r"] == -2 and out["median_r"] == 0
    assert out["centre_r"] == pytest.approx(40 / 9)  # central 3x3 holds the 2x2 source
    border = np.r_[np.zeros(12 * 12 - 6 * 6 - 1), -2.0]
    assert out["border_mean_r"] == pytest.approx(border.mean())
    assert out["border_std_r"] == pytest.approx(border.std(), rel=1e-5)


def test_small_images_get_a_smaller_border_and_bad_borders_are_refused():
    ext = TrivialFeatures().fit(np.zeros((2, 8, 8, 1), np.float32))
    assert ext.transform(np.ones((2, 8, 8, 1), np.float32)).shape == (2, len(STATISTICS))
    with pytest.raises(ConfigError, match="border must be an integer in 1..3"):
        TrivialFeatures(border=4).fit(np.zeros((2, 8, 8, 1), np.float32))
