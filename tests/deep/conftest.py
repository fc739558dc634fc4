"""Deep tests run on whichever Keras backend ``KERAS_BACKEND`` names (tox: tensorflow)."""

import numpy as np
import pytest

pytest.importorskip("keras", reason="the deep models need keras (pip install astrobench[deep])")


@pytest.fixture
def blobs():
    """64 learnable 16x16x3 images: class 1 has a bright central blob."""
    rng = np.random.default_rng(0)
    y = np.arange(64) % 2
    x = rng.normal(size=(64, 16, 16, 3)).astype(np.float32)
    yy, xx = np.mgrid[:16, :16]
    blob = np.exp(-((yy - 7.5) ** 2 + (xx - 7.5) ** 2) / 8.0).astype(np.float32)
    x[y == 1] += 4 * blob[None, :, :, None]
    return x, y


@pytest.fixture
def reuses_pretraining():
    """Check that a second fit with ``params`` reuses the ``cached`` pretrained model and
    repeats ``method`` exactly, and that training from scratch (``scratch`` params) differs."""
    from deep.method import DeepMethod

    def check(method, params, scratch, cached, x, y):
        stamp = cached.stat().st_mtime_ns
        again = DeepMethod("simple-cnn", params, seed=0).fit(x[:40], y[:40], x[40:], y[40:])
        assert cached.stat().st_mtime_ns == stamp
        expected = method.predict_proba(x[40:])
        np.testing.assert_allclose(again.predict_proba(x[40:]), expected, atol=1e-5)
        fresh = DeepMethod("simple-cnn", scratch, seed=0).fit(x[:40], y[:40], x[40:], y[40:])
        assert not np.allclose(fresh.predict_proba(x[40:]), expected)

    return check
