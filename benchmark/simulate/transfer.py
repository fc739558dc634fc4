"""Sim-to-real: train a CNN on simulated ZTF-like triplets only and score real ZTF alerts.

The real alerts (``../shared/data/ztf_alerts``) carry no human labels, but ZTF's own
deep real/bogus score ``drb`` (Duev et al. 2019) says which of them are real.  A
simulator whose triplets teach a CNN what real alerts look like should let that CNN
call most ``drb > 0.5`` alerts real at the threshold it chose on (simulated)
validation data.  Used by ``benchmarks/bench_sim_to_real.py`` and, at test size, by
the test suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["TransferResult", "sim_to_real"]


@dataclass
class TransferResult:
    """Scores of the real alerts from a CNN trained on simulated triplets."""

    method: str
    n_train: int
    threshold: float
    val_auc: float
    scores: np.ndarray  # P(Real) per real alert
    drb: np.ndarray  # ZTF's deep real/bogus score per alert
    ids: list = field(default_factory=list)

    @property
    def real_by_drb(self) -> np.ndarray:
        return self.drb > 0.5

    @property
    def recovered(self) -> float:
        """Share of the ``drb > 0.5`` alerts scored Real at the validation threshold."""
        real = self.real_by_drb
        return float((self.scores[real] >= self.threshold).mean()) if real.any() else float("nan")

    def summary(self) -> str:
        """Lines for a terminal: the headline figure and scores against drb."""
        real = self.real_by_drb
        hits = int((self.scores[real] >= self.threshold).sum())
        lines = [
            f"{self.method} trained on {self.n_train} simulated triplets "
            f"(validation AUC {self.val_auc:.3f}, threshold {self.threshold:.3f} chosen on "
            "validation)",
            f"real alerts with drb > 0.5 scored Real: {hits} / {int(real.sum())} = "
            f"{self.recovered:.1%}",
            "",
            f"{'drb':>14s} {'alerts':>7s} {'score median':>13s} {'min':>6s} {'max':>6s} "
            f"{'scored Real':>12s}",
        ]
        for lo, hi in ((0.0, 0.5), (0.5, 0.9), (0.9, 0.99), (0.99, 1.01)):
            sel = (self.drb >= lo) & (self.drb < hi)
            if not sel.any():
                continue
            s = self.scores[sel]
            label = f"[{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}"
            lines.append(
                f"{label:>14s} {int(sel.sum()):7d} {np.median(s):13.3f} {s.min():6.3f} "
                f"{s.max():6.3f} {(s >= self.threshold).mean():12.0%}"
            )
        return "\n".join(lines)


def sim_to_real(
    real_path,
    *,
    n: int = 12000,
    method: str = "braai-vgg6",
    params: dict | None = None,
    seed: int = 0,
    threshold: str = "max-f1",
    progress: bool = False,
    n_jobs: int = 1,
) -> TransferResult:
    """Train ``method`` on ``n`` simulated ZTF-convention triplets and score the real alerts.

    Both sides get the same preprocessing: NaN (edge) pixels filled with 0, each cutout
    divided by its L2 norm (braai's convention).  The split of the simulation is a
    stratified 70/30 train/validation split; the threshold is chosen on validation.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from .. import datasets, methods
    from ..datasets.preprocess import Preprocess
    from ..metrics import choose_threshold
    from . import simulate

    sim = simulate(
        "sim-sdss-sn", n=n, layout="triplet", seed=seed, progress=progress, n_jobs=n_jobs
    ).relabel("binary")

    prep = Preprocess(nan_policy="fill", normalize="l2")
    x = prep(np.asarray(sim.images))
    y = np.asarray(sim.labels)
    tr, va = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=seed)
    model = methods.create(method, params or {}, seed=seed, progress=progress)
    model.fit(x[tr], y[tr], x[va], y[va])
    val_score = model.predict_proba(x[va])[:, 1]
    cut = choose_threshold(y[va], val_score, strategy=threshold)
    real = datasets.load(real_path, normalize="l2", progress=False)
    if tuple(real.channels) != tuple(sim.channels):
        msg = f"{real_path}: channels {real.channels}, expected ZTF triplets {sim.channels}"
        raise ValueError(msg)
    scores = model.predict_proba(np.asarray(real.images))[:, 1]
    drb = real.meta["drb"].to_numpy(dtype=float)
    return TransferResult(
        method=method,
        n_train=len(tr),
        threshold=float(cut),
        val_auc=float(roc_auc_score(y[va], val_score)),
        scores=np.asarray(scores, float),
        drb=drb,
        ids=list(real.ids),
    )
