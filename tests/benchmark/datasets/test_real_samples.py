"""The real samples in ../shared/data (skipped where the folder is absent)."""

import numpy as np
import pytest
from formats import SHARED_DATA

from benchmark import datasets
from benchmark.cli import main
from benchmark.splits import make_split

GZ2 = SHARED_DATA / "gz2_spirals"
ZTF = SHARED_DATA / "ztf_alerts" / "ztf_alerts_sample.parquet"


@pytest.mark.skipif(not GZ2.is_dir(), reason="../shared/data/gz2_spirals is not present")
def test_gz2_spirals_counts_and_predefined_split():
    assert datasets.detect(GZ2) == "image-folder"
    ds = datasets.load(GZ2, progress=False)  # 2,000 x 424 x 424 x 3: too big, read lazily
    assert ds.shape == (2000, 424, 424, 3)
    assert ds.classes == ("non_spirals", "spirals")
    assert ds.counts() == {"non_spirals": 1000, "spirals": 1000}
    parts, counts = np.unique(ds.predefined_split, return_counts=True)
    assert dict(zip(parts, counts.tolist())) == {"train": 1400, "validation": 600}
    first = ds.images[0]
    assert first.shape == (424, 424, 3) and 0 <= first.min() and first.max() <= 1


@pytest.mark.slow
@pytest.mark.skipif(not GZ2.is_dir(), reason="../shared/data/gz2_spirals is not present")
def test_gz2_spirals_downsampled_split(capsys):
    ds = datasets.load(GZ2, resize=32, progress=False)
    assert ds.shape == (2000, 32, 32, 3) and isinstance(ds.images, np.ndarray)
    split = make_split(ds, seed=0)
    assert split.sizes() == {"train": 980, "val": 420, "test": 600}
    assert set(ds.predefined_split[split.test]) == {"validation"}


@pytest.mark.skipif(not ZTF.is_file(), reason="../shared/data/ztf_alerts is not present")
def test_ztf_sample_loads(capsys):
    assert datasets.detect(ZTF) == "ztf-alerts"
    ds = datasets.load(ZTF, progress=False)
    assert ds.shape == (67, 63, 63, 3)
    assert ds.channels == ("science", "reference", "difference")
    assert np.isfinite(ds.images).all()
    assert ds.provenance["padded_cutouts"] == 3
    assert ds.meta["drb"].between(0, 1).all() and len(ds.meta["objectId"].unique()) == 61
    by_drb = datasets.load(ZTF, label_from="drb", progress=False)
    assert sum(by_drb.counts().values()) == 67
    assert main(["-q", "data", "info", str(ZTF)]) == 0
    assert "67 x 63 x 63 x 3" in capsys.readouterr().out


@pytest.mark.skipif(not ZTF.is_file(), reason="../shared/data/ztf_alerts is not present")
def test_gallery_of_simulated_triplets_beside_real_alerts(tmp_path, capsys):
    png = tmp_path / "beside.png"
    args = ["-q", "data", "gallery", "sim-sdss-sn", "-p", "layout=triplet", "-p", "n=60"]
    assert main([*args, "--scheme", "binary", "--beside", str(ZTF), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    other = ["-q", "data", "gallery", "sim-galaxy10", "-p", "n=40", "--beside", str(ZTF)]
    assert main([*other, "-o", str(tmp_path / "no.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--beside needs the same channels" in err[0]
    assert not (tmp_path / "no.png").exists()


@pytest.mark.skipif(not ZTF.is_file(), reason="../shared/data/ztf_alerts is not present")
def test_simulated_snr_law_matches_the_real_alerts():
    import pandas as pd

    from benchmark.simulate.stamps import SNR_SLOPE, StampConfig

    candidate = pd.json_normalize(pd.read_parquet(ZTF, columns=["candidate"])["candidate"])
    snr = 1.0857 / candidate["sigmapsf"].to_numpy()  # PSF-fit SNR of each real detection
    lo = StampConfig(layout="triplet").snr_range[0]
    above = snr[snr >= lo]
    slope = len(above) / np.log(above / lo).sum()  # maximum likelihood, N(>SNR) ~ SNR**-slope
    assert slope == pytest.approx(SNR_SLOPE, abs=0.3)
    simulated = datasets.load("sim-sdss-sn", n=2000, layout="triplet", progress=False)
    median = np.median(simulated.meta["snr"].abs())
    assert median == pytest.approx(np.median(above), rel=0.3)
