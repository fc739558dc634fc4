"""Sim-to-real: a CNN trained on simulated ZTF-like triplets only, scored on real alerts.

Prints the share of real ZTF alerts with ``drb > 0.5`` (ZTF's own deep real/bogus
score) that the CNN scores Real at its validation-chosen threshold, and its scores
against ``drb``.  Needs the deep extra (Keras 3) and ../shared/data/ztf_alerts.

    python benchmarks/bench_sim_to_real.py                       # braai-vgg6, 12,000 triplets
    python benchmarks/bench_sim_to_real.py --method negm2021 --epochs 15
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmark.simulate.transfer import sim_to_real

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ztf_alerts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default=str(REAL), help="real ZTF alerts (parquet or folder)")
    parser.add_argument("--n", type=int, default=12000, help="simulated triplets")
    parser.add_argument("--method", default="braai-vgg6")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    result = sim_to_real(
        args.real,
        n=args.n,
        method=args.method,
        params={"epochs": args.epochs},
        seed=args.seed,
        progress=True,
        n_jobs=2,
    )
    print(result.summary())
    print(f"\n{time.perf_counter() - start:.0f} s")
    for alert, score, drb in sorted(zip(result.ids, result.scores, result.drb), key=lambda t: t[2]):
        if drb > 0.5 and score < result.threshold:
            print(f"missed: {alert} drb {drb:.3f} score {score:.3f}")


if __name__ == "__main__":
    main()
