"""sim-sdss-sn: counts, determinism, physics checks and bad parameters."""

import numpy as np
import pytest

from benchmark import datasets
from benchmark.errors import ConfigError, UnknownNameError
from benchmark.simulate import simulate
from benchmark.simulate._profiles import add_noise, moffat_encircled, standard_normal
from benchmark.simulate.stamps import CLASSES, StampConfig


def only(cls, n=64, **kw):
    """A simulation of ``n`` stamps of one class."""
    return simulate("sim-sdss-sn", n=n, fractions={cls: 1.0}, progress=False, **kw)


def test_requested_class_counts_are_met_exactly():
    fractions = {"Artefact": 0.3, "Dipole": 0.2, "SN Gold": 0.25, "Moving": 0.25}
    ds = simulate("sim-sdss-sn", n=101, fractions=fractions, progress=False)
    counts = ds.counts()
    assert sum(counts.values()) == 101
    # 30.3, 20.2, 25.25, 25.25: the largest remainder (Artefact) gets the extra stamp
    assert counts["Artefact"] == 31 and counts["Dipole"] == 20
    assert counts["SN Gold"] == 25 and counts["Moving"] == 25 and counts["SN Silver"] == 0
    assert StampConfig(n=21785).counts().sum() == 21785


def test_default_class_balance_matches_the_paper():
    counts = StampConfig().counts()
    real = counts[3:].sum() / counts.sum()
    assert counts.sum() == 21785 and real == pytest.approx(0.56, abs=0.005)


def test_contract_and_truth_table():
    ds = simulate("sim-sdss-sn", n=200, seed=3, progress=False)
    assert ds.shape == (200, 69, 69, 3) and ds.images.dtype == np.float32
    assert ds.channels == ("g", "r", "i")
    assert ds.relabel("binary").classes == ("Not-Real", "Real")
    for col in (
        "class",
        "snr",
        "flux",
        "x",
        "y",
        "host_offset",
        "shift",
        "fwhm_g",
        "fwhm_r",
        "fwhm_i",
        "sigma_r",
    ):
        assert col in ds.meta
    assert (ds.meta["class"] == [ds.classes[i] for i in ds.labels]).all()
    assert np.isfinite(ds.images).all()
    # every class spans faint to bright: the SNR is not a class shortcut
    for name in CLASSES:
        snr = ds.meta.loc[ds.meta["class"] == name, "snr"]
        if name != "Saturated Star" and len(snr) >= 8:
            assert snr.min() < 6 and snr.max() > 20, name
    assert ds.provenance["simulated"] and ds.provenance["seed"] == 3


def test_same_seed_same_bytes_and_jobs_do_not_matter(tmp_path):
    from benchmark.datasets import write_store

    a = simulate("sim-sdss-sn", n=700, seed=11, progress=False)
    b = simulate("sim-sdss-sn", n=700, seed=11, n_jobs=2, progress=False)
    c = simulate("sim-sdss-sn", n=700, seed=12, progress=False)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
    pa = write_store(a, tmp_path / "a.h5")
    pb = write_store(b, tmp_path / "b.h5")
    assert pa.read_bytes() == pb.read_bytes()


def test_cache_is_reused_and_keyed_by_parameters(tmp_path):
    first = datasets.load("sim-sdss-sn", n=60, seed=1, progress=False)
    cached = list((tmp_path / "cache" / "simulated").iterdir())
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    again = datasets.load("sim-sdss-sn", n=60, seed=1, progress=False)
    assert again.fingerprint == first.fingerprint and cached[0].stat().st_mtime_ns == mtime
    datasets.load("sim-sdss-sn", n=60, seed=2, progress=False)
    datasets.load("sim-sdss-sn", n=60, seed=1, layout="triplet", progress=False)
    assert len(list((tmp_path / "cache" / "simulated").iterdir())) == 3
    cropped = datasets.load("sim-sdss-sn", n=60, seed=1, crop=32, progress=False)
    assert cropped.shape == (60, 32, 32, 3)


def test_psf_flux_recovered_by_aperture_photometry():
    from photutils.aperture import CircularAperture, aperture_photometry

    ds = only("SN Silver", n=24, snr_range=(400, 400), max_neighbours=0, seed=5)
    r_band = np.asarray(ds.images)[..., 1]
    meta = ds.meta
    ratios = []
    for j in range(len(ds)):
        if meta["host_flux"][j] > 0.01 * meta["flux"][j]:
            continue  # the faint host's residual would add to the aperture
        radius = 3.0 * meta["fwhm_r"][j]
        ap = CircularAperture((meta["x"][j], meta["y"][j]), r=radius)
        measured = aperture_photometry(r_band[j], ap)["aperture_sum"][0]
        expected = meta["flux"][j] * moffat_encircled(radius, meta["fwhm_r"][j], meta["beta"][j])
        ratios.append(measured / expected)
    assert len(ratios) >= 8
    np.testing.assert_allclose(ratios, 1.0, atol=0.02)


def test_dipoles_net_flux_is_the_photometric_scaling_error_alone():
    ds = only("Dipole", n=40, max_neighbours=0, noise=False, seed=2)
    images = np.asarray(ds.images, dtype=np.float64)
    net = images.sum(axis=(1, 2))
    lobes = np.abs(images).sum(axis=(1, 2))
    # misregistration leaves no net flux; the reference's scaling error (ZP_SCATTER) leaves
    # zp * flux, less the sliver of the wings outside the stamp
    expected = ds.meta["zp_r"].to_numpy() * ds.meta["flux"].to_numpy()
    np.testing.assert_allclose(net[:, 1], expected, rtol=0.1, atol=0.01 * lobes[:, 1].max())
    assert np.median(np.abs(net) / lobes) < 0.15  # roughly equal positive and negative flux
    # adjacent positive and negative lobes, both clearly present
    r = images[..., 1]
    assert (r.max(axis=(1, 2)) > 0.2 * np.abs(r).max(axis=(1, 2))).all()
    assert (r.min(axis=(1, 2)) < -0.2 * np.abs(r).max(axis=(1, 2))).all()
    assert ds.meta["shift"].between(0.15, 1.0).all()


def test_noise_matches_the_model():
    ds = only("Transient", n=40, snr_range=(3, 3), max_neighbours=0, seed=4)
    images = np.asarray(ds.images)
    outer = np.ones((69, 69), bool)
    outer[19:50, 19:50] = False  # away from the faint central source
    for j, band in enumerate("gri"):
        measured = images[:, outer, j].std(axis=1)
        ratio = measured / ds.meta[f"sigma_{band}"]
        np.testing.assert_allclose(ratio, 1.0, atol=0.06)  # 3,800 pixels: 1.1% per stamp
        assert np.mean(ratio) == pytest.approx(1.0, abs=0.01)


def _centroids(images):
    yy, xx = np.mgrid[0 : images.shape[1], 0 : images.shape[2]]
    w = np.clip(images, 0, None)
    total = w.sum(axis=(1, 2))
    return np.stack([(w * xx).sum(axis=(1, 2)) / total, (w * yy).sum(axis=(1, 2)) / total], -1)


@pytest.mark.parametrize("shape", [(6, 3, 9, 9), (5, 3, 7, 7), (2, 1, 64, 64)])
def test_cache_sized_noise_step_is_the_whole_array_recipe_bit_for_bit(shape):
    """The fused noise step keeps the simulator's output (and its cached files) unchanged."""
    rng = np.random.default_rng(3)
    images = rng.normal(size=shape).astype(np.float32)
    var = rng.uniform(0, 4, size=shape).astype(np.float32)
    extra = rng.uniform(1, 2, size=shape[:2] + (1, 1)).astype(np.float32)
    expected = images + standard_normal(np.random.default_rng(7), shape) * np.sqrt(var + extra)
    add_noise(np.random.default_rng(7), images, var, extra)
    np.testing.assert_array_equal(images, expected)
    assert images.std() > 1.2  # noise was added


def test_asteroids_move_between_bands_supernovae_do_not():
    moving = only("Moving", n=32, noise=False, max_neighbours=0, seed=6)
    sn = only("SN Silver", n=32, noise=False, max_neighbours=0, seed=6)
    for ds, check in ((moving, "moves"), (sn, "still")):
        imgs = np.asarray(ds.images)
        g, r = _centroids(imgs[..., 0]), _centroids(imgs[..., 1])
        shift = np.hypot(*(g - r).T)
        if check == "moves":
            expected = ds.meta["velocity"].to_numpy() * 2.868  # g is taken 287 s after r
            np.testing.assert_allclose(shift, expected, rtol=0.1, atol=0.1)
            assert np.median(shift) > 1.0
        else:
            assert shift.max() < 0.15


def test_cosmic_rays_are_sharper_than_the_psf():
    ds = only("Artefact", n=300, noise=False, max_neighbours=0, label_noise=0.0, seed=8)
    crs = np.flatnonzero(ds.meta["artefact"] == "cosmic-ray")
    assert len(crs) > 10
    imgs = np.asarray(ds.images)[crs]
    # all the flux of a cosmic ray sits in one band
    per_band = np.abs(imgs).sum(axis=(1, 2))
    assert (per_band.max(axis=1) == per_band.sum(axis=1)).all()
    # and within a few pixels: far fewer than a PSF (FWHM >= 2.5 px) would cover
    lit = (np.abs(imgs).max(axis=-1) > 0).sum(axis=(1, 2))
    assert lit.max() <= 6


def test_triplet_layout_follows_ztf_conventions():
    ds = simulate("sim-sdss-sn", n=600, layout="triplet", seed=1, progress=False)
    assert ds.shape == (600, 63, 63, 3)
    assert ds.channels == ("science", "reference", "difference")  # the ztf-alerts loader's
    x = np.asarray(ds.images, np.float64)
    edge = np.isnan(x).any(axis=(1, 2, 3))
    assert 0.005 < edge.mean() < 0.08  # some edge cutouts, NaN-padded in all three channels
    assert (np.isnan(x[edge]).any(axis=(1, 2)).all(axis=1)).all()
    assert ds.meta["edge_px"].to_numpy()[edge].min() >= 3
    med = np.nanmedian(x, axis=(1, 2))  # (n, 3)
    noise = 1.4826 * np.nanmedian(np.abs(x - med[:, None, None, :]), axis=(1, 2))
    # sky in counts in science and reference (scaled alike), none in the difference
    assert 100 < np.median(med[:, 0]) < 300 and np.allclose(med[:, 0], med[:, 1], rtol=0.1)
    assert abs(np.median(med[:, 2])) < 2
    # a deep reference: noise ~2-4 counts against ~14 in science and difference
    assert 10 < np.median(noise[:, 0]) < 18 and np.median(noise[:, 1]) < 4
    assert 10 < np.median(noise[:, 2]) < 18
    assert 2.0 < np.median(ds.meta["fwhm_new_r"]) < 3.2  # 1" pixels: ZTF's ~2.6 px median
    # the detection is shown positive: fading variables are flipped and flagged
    clean = {"layout": "triplet", "noise": False, "max_neighbours": 0, "edge_fraction": 0.0}
    var = only("Variable", n=60, seed=1, **clean)
    imgs, meta = np.asarray(var.images), var.meta
    c = 31
    assert 0.3 < (~meta["isdiffpos"]).mean() < 0.8
    # the detection, the 3x3 core, is positive; a lone centre pixel may carry the star's
    # matching residual instead
    assert (imgs[:, c - 1 : c + 2, c - 1 : c + 2, 2].mean(axis=(1, 2)) > 0).all()
    assert (imgs[:, c, c, 2] > 0).mean() > 0.9
    sky = meta["sky"].to_numpy()
    # a variable is a star already in the reference, above its sky
    assert (imgs[:, c, c, 1] > sky).all()
    fading = ~meta["isdiffpos"].to_numpy()
    flux = (imgs[:, c - 10 : c + 11, c - 10 : c + 11, :2] - sky[:, None, None, None]).sum(
        axis=(1, 2)
    )  # (n, science/reference) in an aperture: the sharper reference has the higher peak
    assert (flux[fading, 0] < flux[fading, 1]).all() and (flux[~fading, 0] > flux[~fading, 1]).all()
    transient = only("Transient", n=16, seed=1, **clean)
    ref = np.asarray(transient.images)[..., 1] - transient.meta["sky"].to_numpy()[:, None, None]
    assert np.abs(ref).max() < 1e-3  # no host, no history: an empty reference, sky only


def test_simulated_edge_cutouts_load_like_ztf_alerts(tmp_path):
    """NaN marks missing pixels: filled on loading, from the cache or a written store."""
    ds = datasets.load("sim-sdss-sn", n=200, layout="triplet", seed=2, progress=False)
    assert np.isfinite(np.asarray(ds.images)).all()
    assert ds.provenance["parent"]["nan_means_no_data"]


@pytest.mark.parametrize(
    "params, error, text",
    [
        ({"n": -5}, ConfigError, "n must be a positive number"),
        ({"fractions": {"SN Gold": 0.5, "Dipole": 0.4}}, ConfigError, "must sum to 1"),
        ({"fractions": {"Comet": 1.0}}, UnknownNameError, "unknown class 'Comet'"),
        ({"layout": "ugriz"}, UnknownNameError, "valid: gri, triplet"),
        ({"snr_range": (10, 3)}, ConfigError, "snr_range must be two positive numbers"),
        ({"snr_slope": -1}, ConfigError, "snr_slope must lie in"),
        ({"snr_slope": "steep"}, ConfigError, "snr_slope must be a number, got 'steep'"),
        ({"size": 4}, ConfigError, "size must be at least 16"),
        ({"colour": "red"}, ConfigError, "unknown parameter 'colour' for sim-sdss-sn"),
    ],
)
def test_bad_parameters(params, error, text):
    with pytest.raises(error, match=text):
        simulate("sim-sdss-sn", progress=False, **params)


def test_label_noise_shows_a_confusable_class():
    ds = simulate("sim-sdss-sn", n=2000, seed=9, progress=False)
    wrong = ds.meta["class"] != ds.meta["true_class"]
    assert 0.02 < wrong.mean() < 0.06  # default 4%
    from benchmark.simulate.stamps import CONFUSABLE

    for label, shown in ds.meta.loc[wrong, ["class", "true_class"]].itertuples(index=False):
        assert shown in CONFUSABLE[label]
    clean = simulate("sim-sdss-sn", n=300, seed=9, label_noise=0.0, progress=False)
    assert (clean.meta["class"] == clean.meta["true_class"]).all()


def test_multi_band_artefacts_exist():
    ds = only("Artefact", n=200, noise=False, max_neighbours=0, label_noise=0.0, seed=10)
    kinds = set(ds.meta["artefact"])
    assert {"psf-mismatch", "ghost", "cosmic-ray"} <= kinds
    imgs = np.asarray(ds.images)
    mismatch = imgs[(ds.meta["artefact"] == "psf-mismatch").to_numpy()]
    assert (np.abs(mismatch).sum(axis=(1, 2)) > 0).all()  # in every band
    net = np.abs(mismatch.sum(axis=(1, 2, 3))) / np.abs(mismatch).sum(axis=(1, 2, 3))
    assert np.median(net) < 0.05  # a subtraction residual: about zero net flux


def test_extended_artefacts_lie_anywhere_not_through_the_centre():
    ds = only("Artefact", n=600, noise=False, max_neighbours=0, label_noise=0.0, seed=11)
    imgs = np.abs(np.asarray(ds.images)).max(axis=-1)  # (n, 69, 69), any band
    kind = ds.meta["artefact"].to_numpy()
    columns = imgs[kind == "bad-column"]
    assert len(columns) >= 15
    where = np.argmax(columns.sum(axis=1), axis=1)  # the lit column of each stamp
    assert where.std() > 69 / 6  # spread over the stamp (uniform: ~20 px)
    assert (np.abs(where - 34) > 3).mean() > 0.6  # mostly away from the centre column
    # satellites and ghosts: their brightest pixel is not always the central one
    for name, far in (("satellite", 3), ("ghost", 1.5)):
        sub = imgs[kind == name]
        peak = np.array(np.unravel_index(sub.reshape(len(sub), -1).argmax(axis=1), (69, 69)))
        assert (np.hypot(*(peak - 34)) > far).mean() > 0.3, name


def test_dipoles_are_centred_on_their_positive_lobe():
    ds = only("Dipole", n=80, noise=False, max_neighbours=0, label_noise=0.0, seed=12)
    r = np.asarray(ds.images)[..., 1]
    peak = np.array(np.unravel_index(r.reshape(len(r), -1).argmax(axis=1), (69, 69)))
    assert np.median(np.hypot(*(peak - 34))) <= 1.5
    # and the source itself sits off-centre, along the registration shift
    offset = np.hypot(ds.meta["x"] - 34, ds.meta["y"] - 34)
    assert (offset > 0.3).all()


def test_saturated_star_brightness_follows_the_star_counts():
    from benchmark.simulate.stamps import SATURATED_GAMMA, SATURATED_OVER, saturated_brightness

    over = saturated_brightness(np.random.default_rng(0), 200_000)
    lo, hi = SATURATED_OVER
    assert over.min() >= lo and over.max() <= hi
    # N(> f) ~ f^-gamma: the share brighter than 10x the lower limit is about 10^-gamma
    expected = (10**-SATURATED_GAMMA - (lo / hi) ** SATURATED_GAMMA) / (
        1 - (lo / hi) ** SATURATED_GAMMA
    )
    assert (over > 10 * lo).mean() == pytest.approx(expected, rel=0.05)
    assert np.median(over) < 3.0  # most saturated stars are only just saturated


def test_every_class_but_saturated_stars_follows_the_shared_snr_law():
    from scipy import stats

    ds = simulate("sim-sdss-sn", n=2000, seed=13, noise=False, label_noise=0.0, progress=False)
    config = StampConfig()
    lo, hi = config.snr_range
    slope = config.snr_slope
    assert slope == pytest.approx(1.0)  # measured on the real ZTF alerts

    def law(snr):  # N(>SNR) ~ SNR**-slope between lo and hi
        return (1 - (lo / snr) ** slope) / (1 - (lo / hi) ** slope)

    for name in CLASSES:
        snr = ds.meta.loc[ds.meta["true_class"] == name, "snr"].to_numpy()
        if name == "Saturated Star":
            assert np.median(snr) > hi  # the easy class, and documented as such
            continue
        assert stats.kstest(np.abs(snr), law).pvalue > 0.001, name
        assert np.median(np.abs(snr)) < 2.5 * lo  # most candidates lie near the threshold
