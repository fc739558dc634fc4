"""How far trivial cues separate the classes: simulated data against real data.

Logistic regression, 5-fold cross-validated, on (a) trivial per-channel image
statistics (the ``trivial`` feature set: mean, std, min, max, median, total flux,
border mean and std, centre value) and (b) one colour index (the log flux ratio
of the first and last channel inside a central aperture, sky subtracted).  A
simulator whose classes these separate much better than they separate real data
hands the methods a shortcut the sky does not.

    python benchmarks/bench_shortcuts.py                       # sim-galaxy10 coarse, sim-sdss-sn
    python benchmarks/bench_shortcuts.py --real ../shared/data/gz2_spirals
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmark import datasets
from features.trivial import TrivialFeatures


def _cv_auc(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    score = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, score))


def colour_index(images: np.ndarray, radius: float = 8.0) -> np.ndarray:
    """log10 flux ratio of the first to the last channel in a central aperture (sky removed)."""
    n, h, w, _ = images.shape
    yy, xx = np.mgrid[:h, :w]
    inner = np.hypot(yy - (h - 1) / 2, xx - (w - 1) / 2) <= radius
    border = np.ones((h, w), bool)
    border[4:-4, 4:-4] = False
    sky = np.median(images[:, border, :], axis=1)  # (n, C)
    flux = (images[:, inner, :] - sky[:, None, :]).sum(axis=1)
    first, last = np.maximum(flux[:, 0], 1e-3), np.maximum(flux[:, -1], 1e-3)
    return np.log10(first / last)[:, None]


def shortcut_aucs(ds, positive: int = 1) -> dict:
    images = np.asarray(ds.images, np.float32)
    y = (ds.labels == positive).astype(int)
    trivial = TrivialFeatures().fit(images).transform(images)
    return {"trivial": _cv_auc(trivial, y), "colour": _cv_auc(colour_index(images), y)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="simulated images per set")
    parser.add_argument("--real", help="a real spiral/non-spiral image folder (gz2 layout)")
    args = parser.parse_args()
    rows = []
    galaxies = datasets.load("sim-galaxy10", n=args.n, scheme="coarse", progress=False)
    rows.append(("sim-galaxy10, coarse Smooth vs Disk", shortcut_aucs(galaxies)))
    if args.real:
        real = datasets.load(args.real, crop=240, resize=64, progress=False)
        rows.append((f"real: {args.real} (crop 240 -> 64)", shortcut_aucs(real)))
    stamps = datasets.load("sim-sdss-sn", n=args.n, scheme="binary", progress=False)
    rows.append(("sim-sdss-sn, binary Real vs Not-Real", shortcut_aucs(stamps)))
    keep = stamps.meta["class"].to_numpy() != "Saturated Star"
    without = shortcut_aucs(stamps.subset(keep))
    rows.append(("sim-sdss-sn, binary, without Saturated Stars", without))
    print(f"{'data':55s} {'trivial statistics AUC':>24s} {'colour-only AUC':>16s}")
    for name, res in rows:
        print(f"{name:55s} {res['trivial']:24.3f} {res['colour']:16.3f}")


if __name__ == "__main__":
    main()
