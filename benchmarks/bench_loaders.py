"""Throughput of the dataset layer: loaders, the canonical store and lazy reads.

Run ``python benchmarks/bench_loaders.py`` and read the printed figures; nothing is asserted.
Uses the real Galaxy Zoo 2 sample in ../shared/data when present.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmark import datasets
from benchmark.datasets import Dataset, read_store, write_store
from benchmark.datasets.taxonomy import SDSS_SN

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def timed(label: str, n: int, func):
    start = time.perf_counter()
    out = func()
    dt = time.perf_counter() - start
    print(f"{label:<48s} {n:>7d} images  {dt:7.2f} s  {n / dt:9.0f} img/s")
    return out


def main() -> int:
    rng = np.random.default_rng(0)
    n = 21785
    ds = Dataset(
        rng.normal(size=(n, 69, 69, 3)).astype(np.float32), np.arange(n) % 10, SDSS_SN, name="bench"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.h5"
        timed("write canonical store (69x69x3 float32)", n, lambda: write_store(ds, path))
        lazy = read_store(path)
        timed("lazy read, sequential batches of 256", n, lambda: np.asarray(lazy.images))
        idx = rng.permutation(n)[:4096]
        timed("lazy read, 4096 random rows", len(idx), lambda: lazy.images[idx])
        timed(
            "fingerprint (SHA-256 over pixels)",
            n,
            lambda: Dataset(ds.images, ds.base_labels, SDSS_SN).fingerprint,
        )
    gz2 = SHARED / "gz2_spirals"
    if gz2.is_dir():
        timed(
            "gz2 JPEG folder, 424x424 -> resize 64",
            2000,
            lambda: datasets.load(gz2, resize=64, progress=False),
        )
        timed(
            "gz2 JPEG folder, lazy (header scan only)",
            2000,
            lambda: datasets.load(gz2, progress=False),
        )
    ztf = SHARED / "ztf_alerts" / "ztf_alerts_sample.parquet"
    if ztf.is_file():
        timed(
            "ZTF alert Parquet (3 gzipped FITS per alert)",
            67,
            lambda: datasets.load(ztf, progress=False),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
