"""Feature-extraction throughput on simulated 69x69x3 stamps (figures, no assertions).

``python benchmarks/bench_features.py [--n 4096]``.  Compares the batch-vectorised
``handcrafted`` set with a straightforward photutils segmentation + catalogue loop
over single-band stamps, the design it replaces; times the statmorph ``morphology`` set
on ``--n-morphology`` simulated 69x69 galaxies (``sim-galaxy10``), when
statmorph is installed.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchmark.simulate import simulate
from features.handcrafted import HandcraftedFeatures
from features.pca import PCAFeatures


def rate(label, n, func, unit="stamps"):
    start = time.perf_counter()
    func()
    dt = time.perf_counter() - start
    print(f"{label:<52s} {n / dt:8.0f} {unit}/s  ({dt:.2f} s)")


def photutils_loop(images):
    from astropy.convolution import convolve
    from photutils.segmentation import SourceCatalog, detect_sources, make_2dgaussian_kernel

    kernel = make_2dgaussian_kernel(2.0, size=5)
    for img in images:
        sigma = 1.4826 * np.median(np.abs(img - np.median(img)))
        smooth = convolve(img, kernel)
        seg = detect_sources(smooth, 3 * sigma * 0.28, npixels=5)
        if seg is not None:
            SourceCatalog(img, seg, convolved_data=smooth).to_table()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--n-morphology", type=int, default=200)
    args = parser.parse_args()
    ds = simulate("sim-sdss-sn", n=args.n, seed=0, progress=False)
    x = np.asarray(ds.images)
    hf = HandcraftedFeatures(channel_names=ds.channels).fit(x)
    hf.transform(x[:256])
    rate("handcrafted, 1 worker (per core)", len(x), lambda: hf.transform(x))
    hf2 = HandcraftedFeatures(channel_names=ds.channels, n_jobs=2).fit(x)
    rate("handcrafted, 2 workers", len(x), lambda: hf2.transform(x))
    rate("pca (20 components): fit", len(x), lambda: PCAFeatures(20).fit(x))
    pca = PCAFeatures(20).fit(x)
    rate("pca (20 components): transform", len(x), lambda: pca.transform(x))
    single = x[:300, :, :, 1].astype(np.float64)
    rate(
        "photutils segmentation + catalogue loop, one band",
        len(single),
        lambda: photutils_loop(single),
        unit="band-stamps",
    )
    try:
        import statmorph  # noqa: F401
    except ImportError:
        print("morphology: statmorph is not installed (pip install 'astrobench[morphology]')")
        return 0
    from features.morphology import MorphologyFeatures

    gal = simulate("sim-galaxy10", n=args.n_morphology, seed=0, progress=False)
    g = np.asarray(gal.images)
    for jobs in (1, 2):
        mf = MorphologyFeatures(channel_names=gal.channels, n_jobs=jobs).fit(g)
        rate(f"morphology (statmorph), {jobs} process(es)", len(g), lambda m=mf: m.transform(g))
    return 0


if __name__ == "__main__":
    sys.exit(main())
