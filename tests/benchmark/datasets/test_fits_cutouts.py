"""The plain-FITS cutout reader of the ZTF loader gives astropy's pixels, or hands over."""

import gzip
import io
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from benchmark.datasets.ztf_alerts import CUTOUTS, _simple_fits_image

SAMPLE = Path(__file__).resolve().parents[4] / "shared" / "data" / "ztf_alerts"


def _fits_bytes(data, **header) -> bytes:
    hdu = fits.PrimaryHDU(data)
    for key, value in header.items():
        hdu.header[key] = value
    buf = io.BytesIO()
    hdu.writeto(buf)
    return buf.getvalue()


def _astropy(raw: bytes) -> np.ndarray:
    with fits.open(io.BytesIO(raw), memmap=False) as hdul:
        return np.asarray(hdul[0].data, dtype=np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.int32, np.uint8])
def test_plain_images_match_astropy(dtype):
    rng = np.random.default_rng(0)
    data = (rng.normal(0, 50, (63, 60)) + 100).astype(dtype)
    raw = _fits_bytes(data)
    np.testing.assert_array_equal(_simple_fits_image(raw), _astropy(raw))


def test_scaled_integers_match_astropy():
    hdu = fits.PrimaryHDU(np.arange(63 * 63, dtype=np.float32).reshape(63, 63) / 7)
    hdu.scale("int16", bscale=0.5, bzero=1000)
    buf = io.BytesIO()
    hdu.writeto(buf)
    raw = buf.getvalue()
    np.testing.assert_allclose(_simple_fits_image(raw), _astropy(raw), rtol=1e-6)


def test_anything_else_is_handed_to_astropy():
    assert _simple_fits_image(_fits_bytes(np.zeros((2, 4, 4), np.float32))) is None  # 3-D
    assert _simple_fits_image(_fits_bytes(np.zeros((4, 4), np.int16), BLANK=-1)) is None
    assert _simple_fits_image(_fits_bytes(np.zeros((4, 4), np.float32))[:2880]) is None  # short
    assert _simple_fits_image(b"not a fits file" * 20) is None


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="the ZTF alert sample is not beside the repository")
def test_every_real_cutout_matches_astropy():
    import pyarrow.parquet as pq

    alerts = pq.read_table(next(SAMPLE.glob("*.parquet")), columns=list(CUTOUTS)).to_pylist()
    for alert in alerts:
        for key in CUTOUTS:
            raw = alert[key]["stampData"]
            raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
            np.testing.assert_array_equal(_simple_fits_image(raw), _astropy(raw))
