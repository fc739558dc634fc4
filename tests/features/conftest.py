import numpy as np
import pytest

S = 69
C = (S - 1) / 2


def gaussian(x0=C, y0=C, sx=2.0, sy=None, theta=0.0, amp=1000.0, size=S):
    """An elliptical Gaussian; ``theta`` (radians) turns the x axis counter-clockwise."""
    sy = sx if sy is None else sy
    y, x = np.mgrid[0:size, 0:size].astype(float)
    dx, dy = x - x0, y - y0
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta)
    return amp * np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))


def stamp(*channels, noise=1.0, seed=0):
    """Stack 2-D channel images into one (1, S, S, C) float32 stamp with Gaussian noise."""
    img = np.stack(channels, axis=-1)[None].astype(np.float64)
    img += np.random.default_rng(seed).normal(0, noise, img.shape)
    return img.astype(np.float32)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
