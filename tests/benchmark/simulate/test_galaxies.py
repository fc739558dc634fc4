import numpy as np
import pytest

from benchmark import datasets
from benchmark.cli import main
from benchmark.datasets import read_store
from benchmark.datasets.taxonomy import GALAXY10_SDSS
from benchmark.errors import ConfigError, UnknownNameError
from benchmark.simulate import simulate


def test_galaxy10_mode():
    ds = simulate("sim-galaxy10", n=120, seed=1, progress=False)
    assert ds.shape == (120, 69, 69, 3) and ds.classes == GALAXY10_SDSS.classes("original")
    assert sum(ds.counts().values()) == 120 and min(ds.counts().values()) >= 2
    assert np.isfinite(ds.images).all()
    meta = ds.meta
    labels = ds.labels
    cigar = meta["axis_ratio"][labels == 3]
    round_ = meta["axis_ratio"][labels == 1]
    assert cigar.max() < round_.min()
    edge_on = np.isin(labels, [4, 5, 6])
    assert (meta["inclination_deg"][edge_on] >= 82).all()
    tight, loose = meta["pitch_deg"][labels == 7], meta["pitch_deg"][labels == 9]
    assert tight.max() < loose.min()
    assert (meta["boxiness"][labels == 5] > 2.5).all()
    assert ds.relabel("coarse").classes == ("Smooth", "Disk")


def test_gz4_mode_and_mergers_have_two_nuclei():
    ds = simulate(
        "sim-galaxy10",
        n=40,
        mode="gz4",
        seed=2,
        max_neighbours=0,
        noise=False,
        fractions={"merger": 0.5, "elliptical": 0.5},
        progress=False,
    )
    assert ds.classes == ("edge-on", "face-on spiral", "elliptical", "merger")
    from scipy import ndimage

    r = np.asarray(ds.images)[..., 1]
    for img, label in zip(r, ds.labels):
        peaks = (img == ndimage.maximum_filter(img, size=5)) & (img > 0.1 * img.max())
        assert peaks.sum() >= (2 if label == 3 else 1)
    assert ds.relabel("spiral-elliptical").counts()["elliptical"] == 20


def test_decals_mode_classes_and_structure():
    from benchmark.datasets.taxonomy import GALAXY10_DECALS

    ds = simulate(
        "sim-galaxy10", n=200, mode="decals", seed=4, max_neighbours=0, noise=False, progress=False
    )
    assert ds.classes == GALAXY10_DECALS.classes("original")
    counts = ds.counts()
    assert sum(counts.values()) == 200 and counts["Round Smooth"] > counts["Cigar Shaped Smooth"]
    meta, labels = ds.meta, ds.labels
    name = np.asarray(ds.classes)[labels]
    assert (meta["bar"][name == "Barred Spiral"] >= 0.08).all()
    assert (meta["bar"][np.char.startswith(name, "Unbarred")] == 0).all()
    tight = meta["pitch_deg"][name == "Unbarred Tight Spiral"]
    loose = meta["pitch_deg"][name == "Unbarred Loose Spiral"]
    assert tight.max() < loose.min() + 1.5
    assert (meta["bulge_to_total"][name == "Edge-on without Bulge"] < 0.03).all()
    assert (meta["bulge_to_total"][name == "Edge-on with Bulge"] >= 0.15).all()
    assert meta["merger"][name == "Merging"].all() and not meta["merger"][name != "Merging"].any()
    disturbed = name == "Disturbed"
    assert (meta["lopsided"][disturbed] > 0).all() and (meta["tail"][disturbed] > 0).all()
    assert (meta["lopsided"][~disturbed] == 0).all()
    # disturbed galaxies are lopsided: their light is far from symmetric under a half turn,
    # unlike the smooth ones (asymmetry about the brightest pixel, noise-free r band)
    r = np.asarray(ds.images)[..., 1]

    def asymmetry(img):
        y, x = np.unravel_index(np.argmax(img), img.shape)
        h = min(y, x, img.shape[0] - 1 - y, img.shape[1] - 1 - x)
        cut = img[y - h : y + h + 1, x - h : x + h + 1]
        return np.abs(cut - cut[::-1, ::-1]).sum() / np.abs(cut).sum()

    smooth = np.char.find(name, "Smooth") >= 0
    a_dist = np.median([asymmetry(i) for i in r[disturbed]])
    a_smooth = np.median([asymmetry(i) for i in r[smooth]])
    assert a_dist > 2 * a_smooth
    coarse = ds.relabel("coarse")
    assert coarse.classes == ("Disturbed/Merging", "Smooth", "Disk")
    assert coarse.counts()["Disturbed/Merging"] == counts["Disturbed"] + counts["Merging"]


def test_galaxy_light_is_psf_convolved_and_flux_conserved():
    ds = simulate("sim-galaxy10", n=20, seed=3, max_neighbours=0, noise=False, progress=False)
    total = np.asarray(ds.images).sum(axis=(1, 2, 3))
    # most of each galaxy's light lies inside the cutout
    assert (total > 0).all()
    assert ds.meta["fwhm_r"].between(2.5, 4.5).all()


def test_deterministic():
    a = simulate("sim-galaxy10", n=30, seed=5, progress=False)
    b = simulate("sim-galaxy10", n=30, seed=5, progress=False)
    np.testing.assert_array_equal(a.images, b.images)


def test_bad_parameters():
    with pytest.raises(UnknownNameError, match="valid: galaxy10, gz4, decals"):
        simulate("sim-galaxy10", mode="hubble", progress=False)
    with pytest.raises(UnknownNameError, match="unknown class 'Irregular'"):
        simulate("sim-galaxy10", mode="gz4", fractions={"Irregular": 1.0}, progress=False)
    with pytest.raises(ConfigError, match="size must be at least 32"):
        simulate("sim-galaxy10", size=8, progress=False)


def test_cli_simulate_and_gallery(tmp_path, capsys):
    out = tmp_path / "sn.h5"
    assert (
        main(
            [
                "-q",
                "data",
                "simulate",
                "sim-sdss-sn",
                "--n",
                "80",
                "--seed",
                "7",
                "--layout",
                "triplet",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    ds = read_store(out)
    assert ds.shape == (80, 63, 63, 3) and ds.provenance["seed"] == 7
    capsys.readouterr()
    assert main(["-q", "data", "simulate", "sim-sdss-sn", "--n", "80", "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (
        main(["-q", "data", "simulate", "sim-sky", "--n", "8", "-o", str(tmp_path / "x.h5")]) == 2
    )
    assert "valid: sim-galaxy10, sim-sdss-sn" in capsys.readouterr().err
    assert (
        main(["-q", "data", "simulate", "sim-sdss-sn", "--n", "-3", "-o", str(tmp_path / "y.h5")])
        == 2
    )
    assert "--n: must be a positive integer" in capsys.readouterr().err
    png = tmp_path / "gallery.png"
    assert main(["-q", "data", "gallery", str(out), "--per-class", "2", "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    g10 = tmp_path / "g10.h5"
    assert (
        main(
            ["-q", "data", "simulate", "sim-galaxy10", "--n", "40", "--mode", "gz4", "-o", str(g10)]
        )
        == 0
    )
    assert datasets.load(g10).classes[-1] == "merger"


def test_psf_convolution_of_a_point_is_the_psf():
    from benchmark.simulate._profiles import moffat
    from benchmark.simulate.galaxies import _psf_convolve

    for size in (69, 64):
        img = np.zeros((1, 3, size, size), np.float32)
        img[0, :, 30, 33] = 1.0
        fwhm = np.array([[2.5, 3.0, 4.5]], np.float32)
        out = _psf_convolve(img, fwhm, np.array([3.0], np.float32))
        for band in range(3):
            ref = moffat(
                np.array([33.0]),
                np.array([30.0]),
                fwhm[:, band],
                np.array([3.0]),
                np.array([1.0]),
                size,
            )[0]
            inner = np.hypot(*np.mgrid[-30 : size - 30, -33 : size - 33]) < 3 * fwhm[0, band]
            np.testing.assert_allclose(out[0, band][inner], (ref / ref.sum())[inner], atol=2e-4)
            assert out[0, band].sum() == pytest.approx(1.0, abs=0.01)


def test_smooth_and_disk_galaxies_overlap_in_colour_brightness_and_size():
    from scipy import stats
    from sklearn.metrics import roc_auc_score

    ds = simulate("sim-galaxy10", n=1500, seed=5, progress=False).relabel("coarse")
    smooth = ds.labels == 0
    meta = ds.meta
    # brightness and size come from one population: indistinguishable between the classes
    for column in ("flux", "distance", "re_disk"):
        assert stats.ks_2samp(meta[column][smooth], meta[column][~smooth]).pvalue > 0.01, column
    # colour: smooth galaxies are redder on average, but red disks and blue smooth galaxies
    # are common (colour alone separates gz2's classes with AUC ~0.6-0.7)
    colour = meta["colour"].to_numpy()
    assert 0.55 < roc_auc_score(smooth, colour) < 0.72
    assert (colour[~smooth] > np.median(colour[smooth])).mean() > 0.3  # red disks
    assert (colour[smooth] < np.median(colour[~smooth])).mean() > 0.3  # blue smooth ones
    # and the rendered images carry the colour: g/i flux ratio follows the continuum
    img = np.asarray(ds.images)
    g, i = img[..., 0].sum(axis=(1, 2)), img[..., 2].sum(axis=(1, 2))
    plain = ~meta["merger"].to_numpy() & (meta["n_neighbours"].to_numpy() == 0)
    assert stats.spearmanr(colour[plain], -np.log(g[plain] / i[plain])).statistic > 0.8


def test_disk_structure_keeps_the_light_and_lives_only_in_disks():
    from benchmark.simulate import galaxies as G

    cfg = G.GalaxyConfig(n=400, max_neighbours=0, noise=False)
    labels = np.random.default_rng(0).integers(0, len(cfg.classes), 400)
    _, meta = G.render_batch(labels, cfg, np.random.default_rng(1))
    names = np.array(cfg.classes)[labels]
    smooth = np.char.startswith(names.astype(str), "Smooth")
    spiral = np.char.endswith(names.astype(str), "Spiral") & ~np.char.endswith(
        names.astype(str), "No Spiral"
    )
    plain = names == "Disk, Face-on, No Spiral"
    for part in ("bar", "ring", "lens", "knots"):
        assert (meta[part][smooth] == 0).all(), part
    assert (meta["knots"][spiral] > 0).all() and (meta["knots"][plain] == 0).all()
    assert 0.15 < (meta["bar"][spiral | plain] > 0).mean() < 0.45  # ~30% of disks are barred
    assert (meta["lens"][plain] > 0).mean() > 0.3 and (meta["ring"][plain] > 0).mean() > 0.15
    # the components only redistribute the disk's light: a structured unit disk stays unit
    p = G._Params(4, np.random.default_rng(2), 69)
    G._assign(p, np.random.default_rng(3), np.full(4, 7), cfg.classes)
    p.bar[:], p.ring[:], p.lens[:] = 0.1, 0.1, 0.1
    disk, _ = G._disk(p, np.arange(4), 69, np.random.default_rng(4))
    np.testing.assert_allclose(disk.sum(axis=(1, 2)), 1.0, rtol=1e-4)
    assert (disk >= 0).all()
