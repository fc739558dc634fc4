"""The verdict: which method is best, by how much, and whether that is more than chance.

* The best classical method and the best CNN are chosen on the **validation** part
  (mean over seeds of AUC for binary tasks, macro-F1 otherwise), never on test.
* Every row is compared with the validation-chosen best on the **test** part: a paired
  bootstrap of that metric (test samples resampled; seeds averaged within each
  resample) and McNemar's test on the seed-0 decisions.  The bootstrap p-values are
  Holm-corrected across the table (``statsmodels``).  A p-value no resample reaches
  is reported as ``< 1/(B+1)``, never as 0.
* With three or more seeds, Friedman's test and Nemenyi's post-hoc test over the
  seeds give a critical-difference diagram (``scikit-posthocs``).
* A hybrid (``hybrid``: a CNN's embedding with hand-crafted features) may be the best
  row but is neither side of the CNN-vs-classical verdict; when it is the best, the
  verdict's comparisons are made against the better of those two instead.
* The shortcut detector (logistic regression on trivial image statistics, feature set
  ``trivial``) is flagged when it comes within 0.05 of the best method.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .metrics import _binary_bootstrap, mcnemar
from .runs import SHORTCUT

__all__ = ["SHORTCUT", "Analysis", "analyse", "format_p", "headline", "paired_bootstrap_test"]

#: The detector warns when it comes this close to the best method's metric.
SHORTCUT_MARGIN = 0.05


@dataclass
class Group:
    """One (feature set, method) row: its records and scores, one entry per seed."""

    feature: str
    method: str
    kind: str
    records: list
    test: list = field(default_factory=list)
    val: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.method} on {self.feature}"

    @property
    def shortcut(self) -> bool:
        return (self.feature, self.method) == SHORTCUT

    @property
    def budget_limited(self) -> bool:
        return any(r.get("budget_limited") for r in self.records)


def _scores(frame: pd.DataFrame) -> np.ndarray:
    return frame[[c for c in frame if c.startswith("score_")]].to_numpy(float)


def _macro_f1_draws(y, pred, n_classes, weights) -> np.ndarray:
    """Macro-F1 of every resample (``weights``: resample counts, shape (B, n))."""
    w = weights.astype(float)
    f1s, present = [], []
    for k in range(n_classes):
        tp = w[:, (y == k) & (pred == k)].sum(axis=1)
        fp = w[:, (y != k) & (pred == k)].sum(axis=1)
        fn = w[:, (y == k) & (pred != k)].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1s.append(np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0))
        present.append(tp + fn > 0)
    f1s, present = np.array(f1s), np.array(present)
    return (f1s * present).sum(axis=0) / np.maximum(present.sum(axis=0), 1)


def _draws(y, proba, weights) -> np.ndarray:
    """The headline metric for every resample: AUC (binary) or macro-F1."""
    if proba.shape[1] == 2:
        return _binary_bootstrap(y, proba[:, 1], 0.5, ("auc",), weights)["auc"]
    return _macro_f1_draws(y, proba.argmax(axis=1), proba.shape[1], weights)


def _metric(y, proba) -> float:
    return float(_draws(y, proba, np.ones((1, len(y)), int))[0])


@functools.lru_cache(maxsize=4)
def _counts(n: int, n_boot: int, seed: int) -> np.ndarray:
    """How often each of ``n`` samples is drawn in each of ``n_boot`` resamples (read-only).

    The same for every comparison of a table (same ``n`` and ``seed``), so computed once.
    """
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n_boot, dtype=np.int64) * n, n)
    flat = rows + rng.integers(0, n, (n_boot, n)).ravel()
    counts = np.bincount(flat, minlength=n_boot * n).astype(np.int32).reshape(n_boot, n)
    counts.flags.writeable = False
    return counts


def paired_bootstrap_test(y, probas_a, probas_b, *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Paired bootstrap of ``metric(a) - metric(b)`` over the test samples.

    ``probas_a`` and ``probas_b`` are lists (one per seed) of (n, K) probabilities of
    the same samples; within each resample the metric is averaged over seeds.

    Returns
    -------
    dict
        ``difference``, ``ci`` (95%), ``p_value`` (two-sided) and ``p_floor``: True when
        no resample crossed zero, so that ``p_value`` is the bound ``1 / (B + 1)``.
    """
    y = np.asarray(y)
    counts = _counts(len(y), int(n_boot), seed)
    a = np.mean([_draws(y, p, counts) for p in probas_a], axis=0)
    b = np.mean([_draws(y, p, counts) for p in probas_b], axis=0)
    diffs = a - b
    observed = np.mean([_metric(y, p) for p in probas_a]) - np.mean(
        [_metric(y, p) for p in probas_b]
    )
    crossing = min(int((diffs <= 0).sum()), int((diffs >= 0).sum()))
    floor = crossing == 0
    p = 1.0 / (n_boot + 1) if floor else min(1.0, 2.0 * crossing / n_boot)
    ci = (float(np.nanquantile(diffs, 0.025)), float(np.nanquantile(diffs, 0.975)))
    return {"difference": float(observed), "ci": ci, "p_value": float(p), "p_floor": floor}


def format_p(p: float, floor: bool = False, n_boot: int | None = None) -> str:
    """A p-value for tables: ``< 1/(B+1)`` when no resample reached it."""
    if floor and n_boot:
        return f"< {1.0 / (n_boot + 1):.2g}"
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def _p_phrase(p: float, floor: bool, n_boot: int | None) -> str:
    """``p < 0.005`` or ``p = 0.032``, for sentences."""
    text = format_p(p, floor, n_boot)
    return text if text.startswith("<") else f"= {text}"


def _decisions(record, proba) -> np.ndarray:
    if proba.shape[1] == 2:
        return (proba[:, 1] >= (record.get("threshold") or 0.5)).astype(int)
    return proba.argmax(axis=1)


def _groups(store, records) -> list[Group]:
    groups: dict[tuple, Group] = {}
    for r in sorted(records, key=lambda r: r["seed"]):
        key = (r["feature"], r["method"])
        if key not in groups:
            # a hybrid (a CNN's embedding with hand-crafted features) is neither side of
            # the CNN-vs-classical question: it competes for best overall only
            kind = "hybrid" if r.get("hybrid") else r.get("kind", "classical")
            groups[key] = Group(r["feature"], r["method"], kind, [])
        g = groups[key]
        g.records.append(r)
        g.test.append(store.predictions(r["run_id"]))
        if store.has_val_predictions(r["run_id"]):
            g.val.append(store.predictions(r["run_id"], "val"))
    return list(groups.values())


def _val_metric(group: Group) -> float:
    if not group.val:
        return float("nan")
    return float(np.mean([_metric(v["y_true"].to_numpy(), _scores(v)) for v in group.val]))


def _best(groups, kind=None):
    """The group with the best validation metric (shortcut detector excluded)."""
    pool = [g for g in groups if not g.shortcut and (kind is None or g.kind == kind)]
    pool = [g for g in pool if np.isfinite(_val_metric(g))]
    return max(pool, key=_val_metric) if pool else None


def _better(a: Group, b: Group) -> Group:
    """The one of two groups with the better validation metric (``a`` on a tie)."""
    return b if _val_metric(b) > _val_metric(a) else a


def _compare(groups, best, n_boot) -> pd.DataFrame:
    from statsmodels.stats.multitest import multipletests

    y = best.test[0]["y_true"].to_numpy()
    best_probas = [_scores(t) for t in best.test]
    rows = []
    for g in groups:
        if g is best:
            continue
        probas = [_scores(t) for t in g.test]
        res = paired_bootstrap_test(y, probas, best_probas, n_boot=n_boot)
        mc = mcnemar(
            y, _decisions(g.records[0], probas[0]), _decisions(best.records[0], best_probas[0])
        )
        rows.append(
            {
                "feature": g.feature,
                "method": g.method,
                "difference": res["difference"],
                "diff_lo": res["ci"][0],
                "diff_hi": res["ci"][1],
                "p_value": res["p_value"],
                "p_floor": res["p_floor"],
                "mcnemar_p": mc["p_value"],
            }
        )
    table = pd.DataFrame(rows)
    if len(table):
        table["p_holm"] = multipletests(table["p_value"], method="holm")[1]
    return table


@dataclass
class Analysis:
    """The statistics behind a table: best methods, comparisons, verdict, warnings."""

    metric: str
    n_boot: int
    best: Group | None = None
    classical: Group | None = None
    deep: Group | None = None
    comparisons: pd.DataFrame = field(default_factory=pd.DataFrame)
    verdict: str = ""
    shortcut: str = ""
    critical_difference: dict | None = None
    summary: dict = field(default_factory=dict)
    #: the verdict's comparisons when the best row is a hybrid: every row against the
    #: better (on validation) of the best classical method and the best CNN
    verdict_comparisons: pd.DataFrame | None = None

    def row(self, feature: str, method: str, table: pd.DataFrame | None = None) -> dict | None:
        """The comparison of one row with the best (``None`` for the best itself)."""
        table = self.comparisons if table is None else table
        if table.empty:
            return None
        hit = table[(table["feature"] == feature) & (table["method"] == method)]
        return None if hit.empty else hit.iloc[0].to_dict()


def _verdict_text(a: Analysis) -> str:
    """Best classical against best CNN, from the table's (Holm-corrected) comparisons."""
    name = "AUC" if a.metric == "auc" else "macro-F1"
    if a.classical is None or a.deep is None:
        missing = "CNN" if a.deep is None else "classical method"
        only = a.best.label if a.best else "no method"
        return f"Best by validation {name}: {only} (no {missing} to compare it with)."
    table = a.comparisons if a.verdict_comparisons is None else a.verdict_comparisons
    reference = a.best if a.verdict_comparisons is None else _better(a.classical, a.deep)
    other = a.deep if reference is a.classical else a.classical
    row = a.row(other.feature, other.method, table)
    sign = 1.0 if other is a.deep else -1.0  # rows hold (row - best); say CNN - classical
    diff = sign * row["difference"]
    lo, hi = sorted((sign * row["diff_lo"], sign * row["diff_hi"]))
    m = len(table)
    if row["p_holm"] >= 0.05 and row["p_floor"] and a.n_boot and m / (a.n_boot + 1) >= 0.05:
        need = int(np.ceil(20 * m))
        outcome = (
            f"not resolved: {a.n_boot} bootstrap resamples cannot reach p < 0.05 after Holm "
            f"correction over {m} comparisons; set [run] n_bootstrap to at least {need}"
        )
    elif row["p_holm"] >= 0.05:
        outcome = "no significant difference"
    else:
        outcome = "the CNN is better" if diff > 0 else "the classical method is better"
    limited = " (budget-limited: more training might change this)" if a.deep.budget_limited else ""
    p = _p_phrase(row["p_value"], row["p_floor"], a.n_boot)
    a.summary = {
        "metric": name,
        "classical": a.classical.label,
        "deep": a.deep.label,
        "difference": diff,
        "lo": lo,
        "hi": hi,
        "p": p,
        "p_holm": format_p(row["p_holm"]),
        "outcome": outcome,
        "winner": "deep"
        if outcome == "the CNN is better"
        else "classical"
        if outcome == "the classical method is better"
        else None,
        "budget_limited": a.deep.budget_limited,
    }
    return (
        f"Best classical: {a.classical.label}; best CNN: {a.deep.label}{limited}; both chosen "
        f"on validation {name}. On the test set the CNN's {name} minus the classical one is "
        f"{diff:+.4f} [{lo:+.4f}, {hi:+.4f}], paired bootstrap p {p} (Holm-corrected over "
        f"{m} comparisons: {format_p(row['p_holm'])}): {outcome}."
    )


def headline(a: Analysis) -> str:
    """The verdict in one plain sentence (the first line of the report)."""
    s = a.summary
    if not s:
        return a.verdict
    gap = abs(s["difference"])
    between = f"{min(abs(s['lo']), abs(s['hi'])):.4f} to {max(abs(s['lo']), abs(s['hi'])):.4f}"
    if s["winner"] == "classical":
        text = (
            f"Classical wins here: {s['classical']} beats the best CNN ({s['deep']}) by "
            f"{gap:.4f} {s['metric']} (95% CI {between}; Holm-corrected p {s['p_holm']})."
        )
    elif s["winner"] == "deep":
        text = (
            f"The CNN wins here: {s['deep']} beats the best classical method "
            f"({s['classical']}) by {gap:.4f} {s['metric']} (95% CI {between}; "
            f"Holm-corrected p {s['p_holm']})."
        )
    else:
        text = (
            f"No clear winner: the best CNN ({s['deep']}) and the best classical method "
            f"({s['classical']}) differ by {s['difference']:+.4f} {s['metric']} "
            f"[{s['lo']:+.4f}, {s['hi']:+.4f}] ({s['outcome']})."
        )
    if s["budget_limited"]:
        text += " The CNN was budget-limited."
    return text


def _shortcut_text(groups, best) -> str:
    """One sentence when trivial image statistics nearly match the best method."""
    detector = next((g for g in groups if g.shortcut), None)
    if detector is None or best is None:
        return ""
    y = best.test[0]["y_true"].to_numpy()
    gap = np.mean([_metric(y, _scores(t)) for t in best.test]) - np.mean(
        [_metric(y, _scores(t)) for t in detector.test]
    )
    if gap > SHORTCUT_MARGIN:
        return ""
    importances = detector.records[0].get("importances") or {}
    top = max(importances, key=importances.get) if importances else "unknown"
    how = f"comes within {gap:.3f} of" if gap >= 0 else f"beats, by {-gap:.3f} on the test set,"
    return (
        f"Shortcut warning: logistic regression on trivial image statistics {how} the best "
        f"method chosen on validation; the classes may differ in brightness, noise or "
        f"borders rather than morphology (largest weight: {top})."
    )


def _critical_difference(groups) -> dict | None:
    """Friedman + Nemenyi over seeds (needs 3 or more seeds of every row)."""
    import scikit_posthocs as sp
    from scipy.stats import friedmanchisquare

    seeds = min(len(g.test) for g in groups)
    if seeds < 3 or len(groups) < 3:
        return None
    data = pd.DataFrame(
        {
            g.label: [
                _metric(g.test[s]["y_true"].to_numpy(), _scores(g.test[s])) for s in range(seeds)
            ]  # noqa: E501
            for g in groups
        }
    )
    stat, p = friedmanchisquare(*[data[c] for c in data])
    ranks = data.rank(axis=1, ascending=False).mean()
    return {
        "friedman_p": float(p),
        "ranks": ranks.to_dict(),
        "nemenyi": sp.posthoc_nemenyi_friedman(data.to_numpy())
        .set_axis(data.columns, axis=0)
        .set_axis(data.columns, axis=1),
    }


def analyse(store, records=None, *, n_boot: int | None = None) -> Analysis:
    """The verdict of a results store (see the module docstring).

    Parameters
    ----------
    store : ResultsStore
    records : list of dict, optional
        Default: every record of the store.
    n_boot : int, optional
        Bootstrap resamples (default: the experiment's ``n_bootstrap``, at least 200).
    """
    records = store.records() if records is None else records
    binary = len(records[0]["classes"]) == 2
    if n_boot is None:
        n_boot = max(200, int(store.config().get("run", {}).get("n_bootstrap", 1000) or 0))
    a = Analysis(metric="auc" if binary else "macro_f1", n_boot=n_boot)
    groups = _groups(store, records)
    if not any(g.val for g in groups):
        a.verdict = "No verdict: these results hold no validation predictions (rerun with --force)."
        return a
    a.best, a.classical, a.deep = _best(groups), _best(groups, "classical"), _best(groups, "deep")
    if a.best is not None:
        a.comparisons = _compare(groups, a.best, n_boot)
        if a.classical is not None and a.deep is not None and a.best.kind == "hybrid":
            a.verdict_comparisons = _compare(groups, _better(a.classical, a.deep), n_boot)
    a.verdict = _verdict_text(a)
    a.shortcut = _shortcut_text(groups, a.best)
    a.critical_difference = _critical_difference(groups)
    return a
