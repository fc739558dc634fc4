"""Learning curves and the crossover: from how many training images does a CNN pay off?

A sweep (``[run] train_sizes``, ``run --sweep``) trains every method on nested
training subsets; validation and test parts never change, so every point of every
curve is measured on the same test stamps.  From its records:

* :func:`learning_curves` gives, per (feature set, method) and training-set size, the
  test metric (AUC for binary tasks, macro-F1 otherwise; mean over seeds) and its 95%
  bootstrap interval (test stamps and seeds resampled);
* the **crossover** is the smallest training-set size at which the best CNN's metric is
  above the best classical method's (each chosen on validation at that size) with a
  one-sided paired bootstrap test at the 5% level, Holm-corrected over the sizes; its
  uncertainty is the spread, over the same resamples, of the first size at which the
  resampled CNN curve lies above the classical one.  When no size qualifies, that is said.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .results import is_subset_record
from .splits import size_label
from .verdict import _best, _counts, _draws, _groups, _metric, _p_phrase, _scores, format_p

__all__ = ["Crossover", "LearningCurves", "crossover_from_draws", "learning_curves"]

#: Significance level of the crossover's test (after Holm's correction over sizes).
ALPHA = 0.05


def _size_key(record) -> str:
    return size_label(record.get("train_size", 1.0))


def _n_train(record) -> int:
    return int(record.get("n_train", record["sizes"]["train"]))


@dataclass
class Crossover:
    """The answer of a sweep, per size and overall (see the module docstring).

    Attributes
    ----------
    rows : list of dict
        Per training-set size (smallest first): ``size``, ``n_train``, ``classical`` and
        ``deep`` (the validation-chosen best of each side), ``difference`` (CNN minus
        classical, test metric), ``lo``/``hi`` (95% interval), ``p`` (one-sided),
        ``p_floor``, ``p_holm``, ``budget_limited``.
    n_train : int or None
        Training images at the crossover; ``None`` when there is none within the data.
    size : str or None
        Its size label (fraction of the training part, or a count).
    interval : tuple or None
        The 2.5% and 97.5% points of the bootstrap distribution of the crossover (in
        training images; ``None`` for a side beyond the largest size).
    text : str
        The answer in one sentence.
    """

    metric: str
    rows: list = field(default_factory=list)
    n_train: int | None = None
    size: str | None = None
    interval: tuple | None = None
    beyond_share: float = 0.0
    n_boot: int = 0
    text: str = ""


@dataclass
class LearningCurves:
    """Per (feature set, method): its points, smallest training set first."""

    metric: str
    curves: list = field(default_factory=list)  # dicts: feature, method, kind, label, points
    crossover: Crossover | None = None

    @property
    def sizes(self) -> list[int]:
        return sorted({p["n_train"] for c in self.curves for p in c["points"]})


def _seed_draws(group, y, counts) -> np.ndarray:
    """(seeds, B) resampled metric of each seed of a group."""
    return np.stack([_draws(y, _scores(t), counts) for t in group.test])


def _resample_seeds(draws: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """Mean over a resample of the seeds: ``pick`` (B, seeds) indexes the rows of ``draws``."""
    s = pick % len(draws)
    return draws[s, np.arange(draws.shape[1])[:, None]].mean(axis=1)


def crossover_from_draws(n_train, observed, draws, *, alpha: float = ALPHA) -> dict:
    """The crossover from per-size CNN-minus-classical differences.

    Parameters
    ----------
    n_train : sequence of int
        Training images of each size, ascending.
    observed : sequence of float
        The observed difference (CNN minus classical) at each size.
    draws : array (sizes, B)
        The difference in each paired bootstrap resample (the same resamples at every
        size, since the test stamps are the same).

    Returns
    -------
    dict
        ``p`` (one-sided, per size), ``p_floor``, ``p_holm``, ``index`` of the crossover
        size (``None`` if none), ``interval`` (the 2.5% and 97.5% points of the first
        size whose resampled difference is positive; ``None`` for beyond the data) and
        ``beyond_share`` (share of resamples in which no size is positive).
    """
    from statsmodels.stats.multitest import multipletests

    draws = np.asarray(draws, float)
    n_boot = draws.shape[1]
    below = (draws <= 0).sum(axis=1)
    floor = below == 0
    p = np.where(floor, 1.0 / (n_boot + 1), below / n_boot)
    p_holm = multipletests(p, method="holm")[1] if len(p) else p
    hits = [i for i in range(len(p)) if observed[i] > 0 and p_holm[i] < alpha]
    positive = draws > 0
    first = np.where(positive.any(axis=0), positive.argmax(axis=0), len(n_train))
    sizes = np.append(np.asarray(n_train, float), np.inf)
    at = sizes[first]
    lo, hi = np.quantile(at, 0.025, method="lower"), np.quantile(at, 0.975, method="higher")
    return {
        "p": p,
        "p_floor": floor,
        "p_holm": p_holm,
        "index": hits[0] if hits else None,
        "interval": tuple(None if not np.isfinite(v) else int(v) for v in (lo, hi)),
        "beyond_share": float(np.mean(~np.isfinite(at))),
    }


def _crossover_text(c: Crossover) -> str:
    name = "AUC" if c.metric == "auc" else "macro-F1"
    if not c.rows:
        return ""
    if not all("difference" in r for r in c.rows):
        return "No crossover: the sweep needs a CNN and a classical method at every size."
    lo, hi = c.interval or (None, None)
    if lo is None:
        spread = f"in {c.beyond_share:.0%} of bootstrap resamples the CNN is above at no size"
    elif hi is None:
        spread = f"bootstrap 95% range of the crossover: {lo:,} images to beyond the largest size"
    else:
        spread = f"bootstrap 95% range of the crossover: {lo:,} to {hi:,} images"
    limited = any(r["budget_limited"] for r in c.rows)
    caveat = " CNN runs were budget-limited, so more training might move it." if limited else ""
    if c.n_train is None:
        last = c.rows[-1]
        return (
            f"No crossover within the data: at no training-set size up to {last['n_train']:,} "
            f"images does the best CNN beat the best classical method on test {name} with a "
            f"paired test at the 5% level (Holm-corrected over {len(c.rows)} sizes); at "
            f"{last['n_train']:,} images CNN minus classical is {last['difference']:+.4f} "
            f"[{last['lo']:+.4f}, {last['hi']:+.4f}] ({spread}).{caveat}"
        )
    at = next(i for i, r in enumerate(c.rows) if r["n_train"] == c.n_train)
    row = c.rows[at]
    first = " (the smallest size tried)" if at == 0 else ""
    holds = all(r["difference"] > 0 and r["p_holm"] < ALPHA for r in c.rows[at:])
    after = (
        "; it stays significantly above at every larger size"
        if holds
        else "; it is not significantly above at every larger size"
    )
    return (
        f"Crossover at {c.n_train:,} training images{first}: there the best CNN "
        f"({row['deep']}) beats the best classical method ({row['classical']}) on test "
        f"{name} by {row['difference']:+.4f} [{row['lo']:+.4f}, {row['hi']:+.4f}], paired "
        f"bootstrap p {_p_phrase(row['p'], row['p_floor'], c.n_boot)} (Holm over "
        f"{len(c.rows)} sizes: {format_p(row['p_holm'])}){after if at < len(c.rows) - 1 else ''}; "
        f"{spread}.{caveat}"
    )


def learning_curves(store, records=None, *, n_boot: int | None = None, seed: int = 0):
    """The learning curves and crossover of a results store (``None`` without a sweep).

    Parameters
    ----------
    store : ResultsStore
    records : list of dict, optional
        Default: every record of the store, the sweep's included.
    n_boot : int, optional
        Bootstrap resamples (default: the experiment's ``n_bootstrap``, at least 200).
    """
    records = store.records(sweep=True) if records is None else records
    if not any(is_subset_record(r) for r in records):
        return None
    binary = len(records[0]["classes"]) == 2
    if n_boot is None:
        n_boot = max(200, int(store.config().get("run", {}).get("n_bootstrap", 1000) or 0))
    by_size: dict[str, list] = {}
    for r in records:
        by_size.setdefault(_size_key(r), []).append(r)
    sizes = sorted(by_size, key=lambda k: _n_train(by_size[k][0]))
    out = LearningCurves(metric="auc" if binary else "macro_f1")
    curves: dict[tuple, dict] = {}
    rng = np.random.default_rng(seed)
    pick = None
    rows, diff_draws = [], []
    for key in sizes:
        groups = _groups(store, by_size[key])
        y = groups[0].test[0]["y_true"].to_numpy()
        counts = _counts(len(y), int(n_boot), seed)
        if pick is None:
            n_seeds = max(len(g.test) for g in groups)
            pick = rng.integers(0, n_seeds, (int(n_boot), n_seeds))
        n_train = _n_train(by_size[key][0])
        resampled = {}
        for g in groups:
            draws = _resample_seeds(_seed_draws(g, y, counts), pick)
            resampled[id(g)] = draws
            curve = curves.setdefault(
                (g.feature, g.method),
                {
                    "feature": g.feature,
                    "method": g.method,
                    "kind": g.kind,
                    "label": g.label,
                    "shortcut": g.shortcut,
                    "points": [],
                },
            )
            curve["points"].append(
                {
                    "size": key,
                    "n_train": n_train,
                    "value": float(np.mean([_metric(y, _scores(t)) for t in g.test])),
                    "lo": float(np.nanquantile(draws, 0.025)),
                    "hi": float(np.nanquantile(draws, 0.975)),
                    "seeds": len(g.test),
                    "budget_limited": g.budget_limited,
                }
            )
        classical, deep = _best(groups, "classical"), _best(groups, "deep")
        row = {
            "size": key,
            "n_train": n_train,
            "classical": classical.label if classical else None,
            "deep": deep.label if deep else None,
            "budget_limited": bool(deep and deep.budget_limited),
        }
        if classical and deep:
            d = resampled[id(deep)] - resampled[id(classical)]
            row["difference"] = float(
                np.mean([_metric(y, _scores(t)) for t in deep.test])
                - np.mean([_metric(y, _scores(t)) for t in classical.test])
            )
            row["lo"], row["hi"] = (float(v) for v in np.nanquantile(d, [0.025, 0.975]))
            diff_draws.append(d)
        rows.append(row)
    out.curves = list(curves.values())
    c = Crossover(metric=out.metric, rows=rows, n_boot=int(n_boot))
    if len(diff_draws) == len(rows) and rows:
        res = crossover_from_draws(
            [r["n_train"] for r in rows], [r["difference"] for r in rows], np.stack(diff_draws)
        )
        for i, r in enumerate(rows):
            r["p"], r["p_floor"], r["p_holm"] = (
                float(res["p"][i]),
                bool(res["p_floor"][i]),
                float(res["p_holm"][i]),
            )
        if res["index"] is not None:
            c.n_train, c.size = rows[res["index"]]["n_train"], rows[res["index"]]["size"]
        c.interval, c.beyond_share = res["interval"], res["beyond_share"]
    c.text = _crossover_text(c)
    out.crossover = c
    return out


def curve_table(lc: LearningCurves) -> tuple[list, list]:
    """Header and rows of the learning curves: one row per method, one column per size
    (test metric, mean over seeds; † marks a budget-limited CNN point)."""
    sizes = lc.sizes
    header = ["Method", *[f"n={n:,}" for n in sizes]]
    body = []
    for c in sorted(lc.curves, key=lambda c: (c["kind"] != "classical", c["label"])):
        if c["shortcut"]:
            continue
        at = {p["n_train"]: p for p in c["points"]}
        cells = [
            "—"
            if n not in at
            else f"{at[n]['value']:.3f}" + (" †" if at[n]["budget_limited"] else "")
            for n in sizes
        ]
        body.append([f"{c['label']} ({c['kind']})", *cells])
    return header, body


def render_curves(lc: LearningCurves, markdown: bool = False) -> str:
    """The learning curves and the crossover, for the terminal or ``table.md``."""
    name = "AUC" if lc.metric == "auc" else "macro-F1"
    header, body = curve_table(lc)
    title = f"Learning curves: test {name} against training-set size (mean over seeds)"
    if markdown:
        out = [f"### {title}", "", "| " + " | ".join(header) + " |"]
        out.append("|" + "|".join("---" for _ in header) + "|")
        out += ["| " + " | ".join(row) + " |" for row in body]
        out += ["", f"**Crossover:** {lc.crossover.text}"]
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        out = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths))]
        out.append("  ".join("-" * w for w in widths))
        out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in body]
        out += ["", f"Crossover: {lc.crossover.text}"]
    return "\n".join(out) + "\n"
