"""Hand-crafted features on constructed stamps with known answers."""

import numpy as np
import pytest
from conftest import C, S, gaussian, stamp

from features.handcrafted import PER_CHANNEL, HandcraftedFeatures


def features(images, channel_names=None, **kw):
    hf = HandcraftedFeatures(channel_names=channel_names, **kw).fit(images)
    values = hf.transform(images)
    return dict(zip(hf.get_feature_names_out(), values.T)), hf


def test_centred_gaussian_fwhm_and_roundness():
    for sigma in (1.2, 2.0, 3.0):
        f, _ = features(stamp(gaussian(sx=sigma), noise=0.5))
        assert f["fwhm_0"][0] == pytest.approx(2.3548 * sigma, rel=0.05)
        assert f["ellipticity_0"][0] < 0.05
        assert f["no_detection_0"][0] == 0
        assert abs(f["offset_0"][0]) < 0.1
        assert f["gauss_flux_0"][0] == pytest.approx(2 * np.pi * sigma**2 * 1000, rel=0.05)
        assert f["gauss_amp_0"][0] == pytest.approx(1000, rel=0.05)


@pytest.mark.parametrize("angle", [0.0, 30.0, 75.0, -45.0])
def test_elongated_gaussian_orientation(angle):
    theta = np.deg2rad(angle)
    f, _ = features(stamp(gaussian(sx=3.0, sy=1.2, theta=theta), noise=0.5))
    measured = np.rad2deg(f["theta_0"][0])
    assert (measured - angle + 90) % 180 - 90 == pytest.approx(0, abs=3)
    assert f["ellipticity_0"][0] > 0.3 and f["elongation_0"][0] > 1.4
    assert f["a_0"][0] > f["b_0"][0]


def test_offset_source_centroid():
    f, _ = features(stamp(gaussian(x0=C + 2.0, y0=C - 1.0), noise=0.5))
    assert f["dx_0"][0] == pytest.approx(2.0, abs=0.05)
    assert f["dy_0"][0] == pytest.approx(-1.0, abs=0.05)


def test_dipole_flux_ratio_and_negative_pixels():
    dipole = gaussian(x0=C + 0.8, sx=1.5) - gaussian(x0=C - 0.8, sx=1.5)
    f, _ = features(stamp(dipole, noise=1.0))
    assert f["flux_ratio_0"][0] == pytest.approx(-1.0, abs=0.05)
    assert f["n3sig3_0"][0] > 0 and f["n2sig5_0"][0] > 0
    point, _ = features(stamp(gaussian(sx=1.5), noise=1.0))
    assert point["flux_ratio_0"][0] > -0.05 and point["n3sig3_0"][0] == 0


def test_shift_across_bands():
    g = gaussian(x0=C, sx=1.5)
    r = gaussian(x0=C + 3.0, sx=1.5)
    i = gaussian(x0=C + 3.0, y0=C + 4.0, sx=1.5)
    f, _ = features(stamp(g, r, i, noise=0.5), channel_names=["g", "r", "i"])
    assert f["shift_g_r"][0] == pytest.approx(3.0, abs=0.1)
    assert f["shift_r_i"][0] == pytest.approx(4.0, abs=0.1)
    assert f["shift_g_i"][0] == pytest.approx(5.0, abs=0.1)
    assert f["shift_max"][0] == pytest.approx(5.0, abs=0.1)
    still, _ = features(stamp(g, g, g, noise=0.5), channel_names=["g", "r", "i"])
    assert still["shift_max"][0] < 0.05


def test_colours_follow_flux_ratios():
    g = gaussian(amp=400.0)
    r = gaussian(amp=1000.0)
    f, _ = features(stamp(g, r, r, noise=0.1), channel_names=["g", "r", "i"])
    # bright sources: asinh magnitudes tend to -2.5 log10(f_g / f_r)
    assert f["colour_g_r"][0] == pytest.approx(-2.5 * np.log10(0.4), abs=0.05)
    assert f["colour_r_i"][0] == pytest.approx(0.0, abs=0.02)


def test_empty_noise_stamp_has_no_detection():
    rng = np.random.default_rng(3)
    empty = rng.normal(0, 1.0, (40, S, S, 1)).astype(np.float32)
    f, _ = features(empty)
    assert f["no_detection_0"].mean() >= 0.95
    assert np.all(f["area_0"][f["no_detection_0"] == 1] == 0)


def test_cosmic_ray_is_sharper_than_a_psf():
    cr = np.zeros((S, S))
    cr[34, 34] = 300.0
    cr[35, 34] = 120.0
    sharp, _ = features(stamp(cr, noise=1.0))
    psf, _ = features(stamp(gaussian(sx=1.3, amp=200), noise=1.0))
    assert sharp["sharpness_0"][0] > 0.8 > psf["sharpness_0"][0]
    assert sharp["peak_to_flux_0"][0] > 2 * psf["peak_to_flux_0"][0]


def test_bad_column_and_neighbours():
    col = np.zeros((S, S))
    col[:, 30] = 20.0
    f, _ = features(stamp(col, noise=1.0))
    assert f["col_excess_0"][0] > 10
    two = gaussian() + gaussian(x0=C + 15, y0=C + 10)
    g, _ = features(stamp(two, noise=0.5))
    assert g["n_other_0"][0] == 1
    assert g["nearest_dist_0"][0] == pytest.approx(np.hypot(15, 10), abs=0.5)


def test_triplet_host_features():
    host = gaussian(x0=C - 5, y0=C, sx=3.0, amp=300)
    sn = gaussian(sx=1.5, amp=500)
    images = stamp(host + sn, host, sn, noise=0.5)
    f, hf = features(images, channel_names=["science", "reference", "difference"])
    assert hf.triplet_
    assert f["host_dist"][0] == pytest.approx(5.0, abs=0.3)
    assert f["host_flux"][0] > 0.8 * 2 * np.pi * 9 * 300
    assert "colour_science_reference" not in f


def test_never_nan_or_inf():
    weird = np.stack(
        [
            np.zeros((S, S, 3)),
            np.full((S, S, 3), 7.0),
            -np.abs(np.random.default_rng(0).normal(0, 1, (S, S, 3))),
            np.full((S, S, 3), 3e30),
        ]
    ).astype(np.float32)
    hf = HandcraftedFeatures(channel_names=["g", "r", "i"]).fit(weird)
    values = hf.transform(weird)
    assert values.dtype == np.float32 and np.isfinite(values).all()
    assert values.shape == (4, 3 * len(PER_CHANNEL) + 7)


def test_parallel_is_identical(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.normal(0, 1, (300, S, S, 3)).astype(np.float32)
    imgs[:, 30:39, 30:39] += 50
    one = HandcraftedFeatures(batch_size=64).fit(imgs).transform(imgs)
    two = HandcraftedFeatures(batch_size=64, n_jobs=2).fit(imgs).transform(imgs)
    np.testing.assert_array_equal(one, two)


def test_bad_input():
    from benchmark.errors import NonFiniteError, ShapeMismatchError

    with pytest.raises(ShapeMismatchError, match=r"\(N, H, W, C\)"):
        HandcraftedFeatures().fit(np.zeros((3, S, S)))
    hf = HandcraftedFeatures().fit(np.zeros((2, S, S, 1), np.float32))
    with pytest.raises(ShapeMismatchError, match="fitted on 69x69x1"):
        hf.transform(np.zeros((2, 31, 31, 1), np.float32))
    bad = np.zeros((2, S, S, 1), np.float32)
    bad[1, 3, 3, 0] = np.nan
    with pytest.raises(NonFiniteError, match="image 1 has NaN"):
        hf.transform(bad)
