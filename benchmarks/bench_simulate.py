"""Simulation throughput: stamps per second per core, and the default set on all cores.

Run ``python benchmarks/bench_simulate.py`` (add ``--full`` for the 21,785-stamp default
on 2 workers) and read the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchmark.simulate import galaxies, simulate, stamps
from benchmark.simulate.driver import BATCH


def per_core(module, config, repeats: int = 5) -> tuple[float, float]:
    """Best and mean rate of batches of the simulator's size, two per repeat, in this
    process (one core)."""
    labels = np.random.default_rng(0).permutation(
        np.repeat(np.arange(len(config.counts())), config.counts())
    )[: 2 * BATCH]
    module.render_batch(labels[:BATCH], config, np.random.default_rng(0))  # warm up
    rates = []
    for i in range(repeats):
        start = time.perf_counter()
        for k in range(0, len(labels), BATCH):
            module.render_batch(labels[k : k + BATCH], config, np.random.default_rng(i + 1))
        rates.append(len(labels) / (time.perf_counter() - start))
    return max(rates), float(np.mean(rates))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="also time the 21,785-stamp default")
    args = parser.parse_args()
    cases = [
        ("sim-sdss-sn gri 69x69x3", stamps, stamps.StampConfig(n=21785)),
        ("sim-sdss-sn triplet 63x63x3", stamps, stamps.StampConfig(n=21785, layout="triplet")),
        ("sim-galaxy10 69x69x3", galaxies, galaxies.GalaxyConfig(n=21785)),
        ("sim-galaxy10 gz4 69x69x3", galaxies, galaxies.GalaxyConfig(n=21785, mode="gz4")),
    ]
    for name, module, config in cases:
        best, mean = per_core(module, config)
        print(f"{name:<30s} per core: best {best:7.0f} /s, mean {mean:7.0f} /s")
    if args.full:
        for n_jobs in (1, 2):
            start = time.perf_counter()
            simulate("sim-sdss-sn", n=21785, seed=0, n_jobs=n_jobs, progress=False)
            dt = time.perf_counter() - start
            print(
                f"sim-sdss-sn default 21,785 stamps, n_jobs={n_jobs}: {dt:6.1f} s "
                f"({21785 / dt:.0f} stamps/s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
