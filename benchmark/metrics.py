"""Classification and regression metrics, bootstrap confidence intervals, paired tests.

Binary metrics take Real (label 1) as the positive class, as du Buisson et al.
(2015) and Negm (2021) do.  AUC is always computed from scores, never from
hard labels.  Confusion matrices have rows = true class and columns = predicted
class everywhere in astrobench (tables, records, report figures); the binary
``confusion`` lists Real first: ``[[tp, fn], [fp, tn]]``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BINARY_HEADLINE",
    "MULTICLASS_HEADLINE",
    "THRESHOLD_STRATEGIES",
    "binary_metrics",
    "bootstrap_ci",
    "choose_threshold",
    "expected_calibration_error",
    "mcnemar",
    "multiclass_metrics",
    "paired_bootstrap",
    "roc_points",
    "vote_rmse",
]

BINARY_HEADLINE = ("auc", "accuracy", "recall", "precision", "f1")
MULTICLASS_HEADLINE = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "auc_ovr")


def _div(a, b):
    return float(a) / float(b) if b else 0.0


def roc_points(y_true, score):
    """False- and true-positive rates at every distinct threshold (descending), with thresholds."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype=float)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    p, n = max(y.sum(), 1), max((~y).sum(), 1)
    fpr = np.r_[0.0, fps / n]
    tpr = np.r_[0.0, tps / p]
    return fpr, tpr, np.r_[np.inf, s[distinct]]


def _auc(y_true, score):
    y = np.asarray(y_true).astype(bool)
    if y.all() or not y.any():
        return float("nan")
    fpr, tpr, _ = roc_points(y, score)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoid rule


def expected_calibration_error(y_true, prob, n_bins: int = 10) -> float:
    """ECE of positive-class probabilities over ``n_bins`` equal-width bins."""
    y = np.asarray(y_true, float)
    p = np.asarray(prob, float)
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(y[m].mean() - p[m].mean())
    return float(ece)


def binary_metrics(y_true, score, threshold: float = 0.5) -> dict:
    """Every binary metric of the benchmark.

    Parameters
    ----------
    y_true : array of {0, 1}, shape (n,)
        1 = Real (positive).
    score : array of float, shape (n,)
        Probability of Real.
    threshold : float
        Predicted Real when ``score >= threshold``.

    Returns
    -------
    dict
        accuracy, precision, recall (= TPR), f1, fpr, auc, mcc, balanced_accuracy,
        tp, fn, fp, tn, confusion (rows true, columns predicted, Real first),
        mdr_at_fpr_1, mdr_at_fpr_4 (missed-detection rate at 1% / 4% FPR),
        fpr_at_mdr_1, fpr_at_mdr_4 (FPR at 1% / 4% missed detections), eer (equal-error
        rate), brier, ece, threshold.
    """
    y = np.asarray(y_true).astype(int)
    s = np.asarray(score, dtype=float)
    pred = (s >= threshold).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    precision, recall = _div(tp, tp + fp), _div(tp, tp + fn)
    tnr = _div(tn, tn + fp)
    denom = np.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    out = {
        "accuracy": _div(tp + tn, len(y)),
        "precision": precision,
        "recall": recall,
        "f1": _div(2 * precision * recall, precision + recall),
        "fpr": _div(fp, fp + tn),
        "auc": _auc(y, s),
        "mcc": float((tp * tn - fp * fn) / denom) if denom else 0.0,
        "balanced_accuracy": (recall + tnr) / 2,
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "tn": tn,
        "confusion": [[tp, fn], [fp, tn]],
        "brier": float(np.mean((s - y) ** 2)),
        "ece": expected_calibration_error(y, s),
        "threshold": float(threshold),
    }
    fpr, tpr, _ = roc_points(y, s)
    mdr = 1 - tpr
    for pct in (1, 4):
        ok = fpr <= pct / 100
        out[f"mdr_at_fpr_{pct}"] = float(mdr[ok].min()) if ok.any() else 1.0
        ok = mdr <= pct / 100
        out[f"fpr_at_mdr_{pct}"] = float(fpr[ok].min()) if ok.any() else 1.0
    i = int(np.argmin(np.abs(fpr - mdr)))
    out["eer"] = float((fpr[i] + mdr[i]) / 2)
    return out


def multiclass_metrics(y_true, proba, classes) -> dict:
    """Accuracy, balanced accuracy, macro/weighted P/R/F1, per-class P/R/F1, OvR AUC, confusion."""
    y = np.asarray(y_true).astype(int)
    p = np.asarray(proba, dtype=float)
    k = p.shape[1]
    pred = p.argmax(axis=1)
    cm = np.zeros((k, k), int)
    np.add.at(cm, (y, pred), 1)
    support = cm.sum(axis=1)
    tp = np.diag(cm)
    prec = np.array([_div(tp[i], cm[:, i].sum()) for i in range(k)])
    rec = np.array([_div(tp[i], support[i]) for i in range(k)])
    f1 = np.array([_div(2 * prec[i] * rec[i], prec[i] + rec[i]) for i in range(k)])
    present = support > 0
    weights = support / max(support.sum(), 1)
    aucs = [_auc(y == i, p[:, i]) for i in range(k) if present[i] and (~(y == i)).any()]
    row_norm = cm / np.maximum(support[:, None], 1)
    out = {
        "accuracy": _div(tp.sum(), len(y)),
        "balanced_accuracy": float(rec[present].mean()) if present.any() else 0.0,
        "macro_precision": float(prec[present].mean()) if present.any() else 0.0,
        "macro_recall": float(rec[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "weighted_precision": float((prec * weights).sum()),
        "weighted_recall": float((rec * weights).sum()),
        "weighted_f1": float((f1 * weights).sum()),
        "auc_ovr": float(np.mean(aucs)) if aucs else float("nan"),
        "confusion": cm.tolist(),
        "confusion_normalised": row_norm.round(6).tolist(),
        "per_class": {
            str(c): {
                "precision": float(prec[i]),
                "recall": float(rec[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, c in enumerate(classes)
        },
    }
    return out


def vote_rmse(y_true, y_pred) -> float:
    """RMSE over all vote-fraction outputs (the Kaggle Galaxy Challenge metric; 37 columns)."""
    a, b = np.asarray(y_true, float), np.asarray(y_pred, float)
    if a.shape != b.shape:
        msg = f"vote arrays differ in shape: {a.shape} vs {b.shape}"
        raise ValueError(msg)
    return float(np.sqrt(np.mean((a - b) ** 2)))


#: ``threshold = "auto"`` chooses thresholds on validation below this share of the rarer class.
AUTO_MINORITY = 0.4

#: The strategies of :func:`choose_threshold` (``[run] threshold``, ``run --threshold``).
THRESHOLD_STRATEGIES = ("fixed", "auto", "balanced", "max-f1", "target-recall")


def choose_threshold(y_val, score_val, *, strategy: str = "fixed", target_recall: float = 0.95):
    """Decision threshold for Real, tuned on the validation part only.

    ``fixed`` gives 0.5; ``max-f1`` maximises F1; ``target-recall`` gives the
    highest threshold that reaches ``target_recall``; ``balanced`` maximises the balanced
    accuracy (recall + specificity, Youden's J), the operating point of equal class
    priors whatever the classifier's calibration, nearest 0.5 among equals.  Without both
    classes in the validation part ``balanced`` gives 0.5.  ``auto`` is ``balanced`` where
    the validation part's rarer class is under :data:`AUTO_MINORITY` of it, else 0.5 (on
    equal classes a threshold chosen on validation adds its noise and little else).
    """
    if strategy not in THRESHOLD_STRATEGIES:
        msg = f"unknown threshold strategy {strategy!r}; valid: {', '.join(THRESHOLD_STRATEGIES)}"
        raise ValueError(msg)
    y = np.asarray(y_val).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if strategy == "auto":
        rare = min(n_pos, n_neg) / max(len(y), 1)
        strategy = "balanced" if rare < AUTO_MINORITY else "fixed"
    if strategy == "fixed":
        return 0.5
    s = np.asarray(score_val, float)
    if strategy == "balanced":
        if not n_pos or not n_neg:
            return 0.5
        fpr, tpr, cuts = roc_points(y, s)  # cuts[0] is +inf: nothing predicted positive
        j = (tpr - fpr)[1:]
        best = cuts[1:][np.isclose(j, j.max())]
        return float(best[np.argmin(np.abs(best - 0.5))])
    cands = np.unique(s)
    if strategy == "max-f1":
        best, best_f1 = 0.5, -1.0
        for t in cands:
            pred = s >= t
            tp = (pred & y).sum()
            f1 = _div(2 * tp, pred.sum() + y.sum())
            if f1 > best_f1:
                best, best_f1 = float(t), f1
        return best
    ok = [t for t in cands if _div(((s >= t) & y).sum(), y.sum()) >= target_recall]
    return float(max(ok)) if ok else float(cands.min())


def _statistic(name, y, s, threshold, classes):
    if classes is None:
        return binary_metrics(y, s, threshold)[name]
    return multiclass_metrics(y, s, classes)[name]


_FAST = {"auc", "accuracy", "recall", "precision", "f1", "fpr", "balanced_accuracy", "mcc"}


def _binary_bootstrap(y, s, threshold, metrics, weights):
    """Binary metrics for every resample at once; ``weights`` (n_boot, n) resample counts."""
    y = y.astype(bool)
    out = {}
    if set(metrics) - {"auc"}:
        out = _binary_confusion_draws(y, s >= threshold, weights.astype(float))
    if "auc" in metrics:
        out["auc"] = _auc_draws(y, s, weights)
    return out


def _auc_draws(y, s, weights):
    """AUC of every resample: for each positive, the resample's weight of negatives below it.

    The negatives are sorted once; a cumulative sum of their resample counts, read at each
    positive's position (ties counted half), gives the Mann-Whitney statistic of every
    resample.  Counts are integers, so float32 sums are exact below 2**24 samples.
    """
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    order = neg[np.argsort(s[neg], kind="mergesort")]
    s_neg = s[order]
    w = np.asarray(weights)
    dtype = np.float32 if len(s) < 2**24 else np.float64
    cum = np.zeros((len(w), len(order) + 1), dtype)
    np.cumsum(w[:, order], axis=1, dtype=dtype, out=cum[:, 1:])
    below = cum[:, np.searchsorted(s_neg, s[pos], side="left")]
    below += cum[:, np.searchsorted(s_neg, s[pos], side="right")]  # 2 x below + ties
    wp = w[:, pos].astype(dtype)
    num = np.einsum("ij,ij->i", wp, below, dtype=np.float64) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / (wp.sum(axis=1, dtype=np.float64) * cum[:, -1].astype(np.float64))


def _binary_confusion_draws(y, pred, w):
    """Threshold metrics of every resample (``w``: float resample counts, (n_boot, n))."""
    tp = w[:, pred & y].sum(axis=1)
    fp = w[:, pred & ~y].sum(axis=1)
    fn = w[:, ~pred & y].sum(axis=1)
    tn = w[:, ~pred & ~y].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        tnr = np.where(tn + fp > 0, tn / (tn + fp), 0.0)
        out = {
            "accuracy": (tp + tn) / w.sum(axis=1),
            "precision": precision,
            "recall": recall,
            "f1": np.where(
                precision + recall > 0, 2 * precision * recall / (precision + recall), 0
            ),
            "fpr": np.where(fp + tn > 0, fp / (fp + tn), 0.0),
            "balanced_accuracy": (recall + tnr) / 2,
        }
        denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        out["mcc"] = np.where(denom > 0, (tp * tn - fp * fn) / np.where(denom > 0, denom, 1), 0)
    return out


def bootstrap_ci(
    y_true, score, metrics, *, threshold=0.5, classes=None, n_boot=1000, seed=0, level=0.95
) -> dict:
    """Percentile bootstrap intervals: ``{metric: (low, high)}`` over resampled test sets.

    ``score`` is (n,) probabilities of Real for binary tasks (``classes=None``)
    or (n, K) probabilities for multi-class ones.  The binary headline metrics
    are computed for all resamples at once.
    """
    y = np.asarray(y_true)
    s = np.asarray(score)
    rng = np.random.default_rng(seed)
    n = len(y)
    idx = rng.integers(0, n, (int(n_boot), n))
    alpha = (1 - level) / 2
    draws = {}
    if classes is None and set(metrics) <= _FAST:
        counts = np.zeros((int(n_boot), n), np.int32)
        rows = np.repeat(np.arange(int(n_boot)), n)
        np.add.at(counts, (rows, idx.ravel()), 1)
        draws = _binary_bootstrap(y, s.astype(float), threshold, metrics, counts)
    else:
        collected = {m: [] for m in metrics}
        for row in idx:
            values = (
                binary_metrics(y[row], s[row], threshold)
                if classes is None
                else multiclass_metrics(y[row], s[row], classes)
            )
            for m in metrics:
                collected[m].append(values[m])
        draws = {m: np.asarray(v, float) for m, v in collected.items()}
    return {
        m: (float(np.nanquantile(draws[m], alpha)), float(np.nanquantile(draws[m], 1 - alpha)))
        for m in metrics
    }


def mcnemar(y_true, pred_a, pred_b) -> dict:
    """McNemar's test (exact binomial) of two classifiers' errors on the same test set."""
    from scipy.stats import binomtest

    y = np.asarray(y_true)
    a_ok = np.asarray(pred_a) == y
    b_ok = np.asarray(pred_b) == y
    b_only = int((~a_ok & b_ok).sum())
    a_only = int((a_ok & ~b_ok).sum())
    n = a_only + b_only
    p = binomtest(min(a_only, b_only), n, 0.5).pvalue if n else 1.0
    return {"a_right_b_wrong": a_only, "a_wrong_b_right": b_only, "p_value": float(p)}


def paired_bootstrap(
    y_true, score_a, score_b, metric: str = "auc", *, threshold=0.5, n_boot=1000, seed=0
) -> dict:
    """Difference ``metric(a) - metric(b)`` with a paired bootstrap interval and p-value."""
    y = np.asarray(y_true)
    a, b = np.asarray(score_a), np.asarray(score_b)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(int(n_boot)):
        idx = rng.integers(0, len(y), len(y))
        diffs.append(
            binary_metrics(y[idx], a[idx], threshold)[metric]
            - binary_metrics(y[idx], b[idx], threshold)[metric]
        )
    diffs = np.asarray(diffs)
    observed = binary_metrics(y, a, threshold)[metric] - binary_metrics(y, b, threshold)[metric]
    p = 2 * min((diffs <= 0).mean(), (diffs >= 0).mean())
    return {
        "difference": float(observed),
        "ci": (float(np.nanquantile(diffs, 0.025)), float(np.nanquantile(diffs, 0.975))),
        "p_value": float(min(p, 1.0)),
    }
