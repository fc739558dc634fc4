"""The CNN on a small, imbalanced, single-band image folder, with and without ``min_steps``.

Writes a seeded folder of 8-bit single-band PNGs (``train/`` 200 and ``validation/`` 80
images, 70% ``compact`` and 30% ``extended`` sources: exponential profiles with other
scale lengths and axis ratios, on a noisy sky), then runs the Galaxy Zoo preset's real
profile on it (``galaxy-zoo-binary --data``: ``galaxy-cnn`` pretrained on the simulator,
fine-tuned on 140 images) twice over 3 seeds: with one pass of the training part per
epoch (``min_steps = 1``, 3 optimiser steps an epoch at batch 64) and with the default
``min_steps`` (10). ``logreg`` on ``handcrafted`` runs beside it.

    python benchmarks/bench_small_set.py [--out DIR]

About 10 minutes on 2 cores, with the simulator pretraining cached (each ``min_steps``
pretrains once: it is part of the pretraining's key).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path
from types import MappingProxyType

import numpy as np


def write_folder(root: Path, seed: int = 1) -> Path:
    """The seeded single-band folder (``train``/``validation`` × ``compact``/``extended``)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, n in (("train", 200), ("validation", 80)):
        for name, share in (("compact", 0.7), ("extended", 0.3)):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(int(n * share)):
                yy, xx = np.mgrid[:100, :100] - 49.5 + rng.normal(0, 2, 2)[:, None, None]
                scale = rng.uniform(3, 6) if name == "compact" else rng.uniform(4, 9)
                q = rng.uniform(0.5, 1) if name == "compact" else rng.uniform(0.2, 0.8)
                image = 180 * np.exp(-np.hypot(xx, yy / q) / scale)
                image = image + rng.normal(20, 10, (100, 100))
                pixels = np.clip(image, 0, 255).astype(np.uint8)
                Image.fromarray(pixels, mode="L").save(folder / f"{i}.png")
    return root


def main() -> None:
    from benchmark.api import run
    from benchmark.config import load_experiment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder for the data and results (default: a temp one)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="astrobench-small-"))
    if args.out and out.exists() and any(out.iterdir()):
        parser.exit(2, f"error: {out} is not empty; give a new or empty folder\n")
    data = write_folder(out / "data")
    base = load_experiment(
        "galaxy-zoo-binary", data=str(data), methods=["galaxy-cnn", "logreg"],
        features=["handcrafted"],
    )  # fmt: skip
    print(f"{'min_steps':>9}  {'method':<22} {'AUC':>15} {'recall':>15} {'accuracy':>15}")
    for min_steps in (1, 10):
        methods = dict(base.methods)
        methods["galaxy-cnn"] = {**methods["galaxy-cnn"], "min_steps": min_steps}
        config = dataclasses.replace(base, methods=MappingProxyType(methods))
        folder = out / f"min_steps_{min_steps}"
        run(config, out=folder, jobs=1, progress=False)
        for method in ("images__galaxy-cnn", "handcrafted__logreg"):
            metrics = [
                json.loads((folder / "runs" / f"{method}__seed{s}" / "record.json").read_text())[
                    "metrics"
                ]
                for s in range(config.run.seeds)
            ]
            cells = [
                f"{np.mean([m[k] for m in metrics]):.3f} ± {np.std([m[k] for m in metrics]):.3f}"
                for k in ("auc", "recall", "accuracy")
            ]
            print(f"{min_steps:>9}  {method:<22} " + " ".join(f"{c:>15}" for c in cells))


if __name__ == "__main__":
    main()
