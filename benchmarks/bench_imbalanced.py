"""The real profile on unequal classes: each method's operating point at 0.5 and at its
validation-chosen balanced threshold.

Builds a folder of links to the gz2 sample (``../shared/data/gz2_spirals``) that keeps
every ``non_spirals`` image and the first ``--share`` of each split's ``spirals`` by file
name (0.22: 18% spirals), runs the Galaxy Zoo preset's real profile on it once
(``galaxy-zoo-binary --data``: its ``threshold = "auto"`` chooses every method's threshold
on validation there), then counts each run's test metrics at the fixed 0.5 from the same
stored scores.  Prints, per row, accuracy / recall / precision at 0.5 and at the chosen
threshold, AUC (the same for both), and the range of recall over the rows.

    python benchmarks/bench_imbalanced.py [--data DIR] [--share 0.22] [--out DIR]

About 8 minutes on 2 cores with the simulator pretraining cached (README: "Unequal
classes on real images").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np


def write_folder(source: Path, root: Path, share: float, minority: str = "spirals") -> Path:
    """Links (copies where links fail) to ``source``'s images, ``minority`` cut to ``share``."""
    for split in sorted(p for p in source.iterdir() if p.is_dir()):
        for cls in sorted(p for p in split.iterdir() if p.is_dir()):
            files = sorted(f for f in cls.iterdir() if f.is_file())
            if cls.name == minority:
                files = files[: int(len(files) * share)]
            folder = root / split.name / cls.name
            folder.mkdir(parents=True, exist_ok=True)
            for f in files:
                try:
                    os.symlink(f.resolve(), folder / f.name)
                except OSError:
                    shutil.copy2(f, folder / f.name)
    return root


def main() -> None:
    import pandas as pd

    from benchmark.api import run
    from benchmark.metrics import binary_metrics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--data", default=str(here.parent / "shared/data/gz2_spirals"))
    parser.add_argument("--share", type=float, default=0.22, help="share of spirals kept")
    parser.add_argument("--out", help="folder for the data and results (default: a temp one)")
    args = parser.parse_args()
    source = Path(args.data)
    if not source.is_dir():
        parser.exit(2, f"error: {source} is not a folder; give the gz2 sample with --data\n")
    out = Path(args.out or tempfile.mkdtemp(prefix="astrobench-imbalanced-"))
    if args.out and out.exists() and any(out.iterdir()):
        parser.exit(2, f"error: {out} is not empty; give a new or empty folder\n")
    data = write_folder(source, out / "data", args.share)
    results = run("galaxy-zoo-binary", data=str(data), out=out / "results", jobs=1)
    rows = defaultdict(list)
    for run_dir in sorted((results.root / "runs").iterdir()):
        record = json.loads((run_dir / "record.json").read_text())
        test = pd.read_parquet(run_dir / "predictions.parquet")
        fixed = binary_metrics(test["y_true"], test["score_1"], 0.5)
        rows[f"{record['method']} on {record['feature']}"].append((fixed, record["metrics"]))
    keys = ("accuracy", "recall", "precision")
    print(f"{'row':<32} {'at 0.5: acc / rec / prec':>26} {'chosen: acc / rec / prec':>26} AUC")
    recalls = {"0.5": [], "chosen": []}
    for name, runs in sorted(rows.items(), key=lambda kv: -np.mean([m["auc"] for _, m in kv[1]])):
        cells = []
        for i, label in enumerate(("0.5", "chosen")):
            means = [np.mean([r[i][k] for r in runs]) for k in keys]
            recalls[label].append(means[1])
            cells.append(" / ".join(f"{v:.3f}" for v in means))
        auc = np.mean([m["auc"] for _, m in runs])
        print(f"{name:<32} {cells[0]:>26} {cells[1]:>26} {auc:.3f}")
    for label, values in recalls.items():
        print(f"recall range at {label}: {min(values):.2f} to {max(values):.2f}")


if __name__ == "__main__":
    main()
