"""Why the simulators render with NumPy rather than GalSim: GalSim's speed on our stamps.

Draws the objects ``sim-sdss-sn`` and ``sim-galaxy10`` need (a Sersic galaxy convolved
with a Moffat PSF; a Moffat point source) on 69x69 pixels, one object per call as
GalSim works, and prints images per second to set beside ``bench_simulate.py``.
Needs GalSim (``pip install galsim``), which astrobench itself does not depend on.

    python benchmarks/bench_galsim.py
"""

from __future__ import annotations

import time

import numpy as np


def main(n: int = 300) -> None:
    try:
        import galsim
    except ImportError:
        raise SystemExit("GalSim is not installed: pip install galsim") from None
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(n):
        gal = galsim.Sersic(n=rng.uniform(1, 4), half_light_radius=rng.uniform(1.5, 3.0), flux=1e5)
        gal = gal.shear(q=rng.uniform(0.3, 1), beta=rng.uniform(0, np.pi) * galsim.radians)
        psf = galsim.Moffat(beta=3.0, fwhm=rng.uniform(1.0, 1.8))
        galsim.Convolve(gal, psf).drawImage(nx=69, ny=69, scale=0.396)
    per = (time.perf_counter() - start) / n
    print(f"GalSim {galsim.__version__}, one core")
    print(f"Sersic x Moffat, 69x69, one band: {per * 1e3:.1f} ms -> {1 / per:.0f} images/s")
    start = time.perf_counter()
    for _ in range(n):
        galsim.Moffat(beta=3.0, fwhm=rng.uniform(1.0, 1.8), flux=1e4).drawImage(
            nx=69, ny=69, scale=0.396
        )
    per = (time.perf_counter() - start) / n
    print(f"Moffat point source, 69x69:       {per * 1e3:.1f} ms -> {1 / per:.0f} images/s")


if __name__ == "__main__":
    main()
