"""Comparison tables: our runs (with 95% CIs or mean +- std over seeds) beside the published rows.

Numbers from simulated data are labelled as such; published rows say which data
they were measured on, cite their source, and carry their test set's prevalence
(accuracy, precision and F1 depend on it).  With an :class:`~benchmark.verdict.Analysis`
each of our rows gets its Holm-corrected p-value against the validation-chosen best.
Runs limited by their training budget are marked with a dagger.

Confusion counts are always written ``TP / FN / FP / TN``: first the samples truly of
the positive class (second class; Real for real/bogus), then those of the other one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import AUTO_MINORITY, BINARY_HEADLINE, MULTICLASS_HEADLINE

__all__ = [
    "cell_text",
    "comparison_table",
    "counts_text",
    "load_published",
    "published_benchmarks",
    "render_markdown",
    "render_text",
    "table_notes",
]

PUBLISHED = Path(__file__).parent / "published" / "published.csv"
LABELS = {
    "auc": "AUC",
    "accuracy": "Accuracy",
    "recall": "Recall",
    "precision": "Precision",
    "f1": "F1",
    "balanced_accuracy": "Bal. acc.",
    "macro_f1": "Macro F1",
    "weighted_f1": "Weighted F1",
    "auc_ovr": "AUC (OvR)",
}
COUNTS_HEADER = "TP / FN / FP / TN"
DAGGER = " †"


def published_benchmarks() -> list[str]:
    """Names of the published benchmarks an experiment may set as ``published``."""
    return sorted(pd.read_csv(PUBLISHED)["benchmark"].unique())


def load_published(benchmark) -> pd.DataFrame:
    """Published rows of one benchmark, or of several (a list), in that order (empty if none)."""
    names = [benchmark] if isinstance(benchmark, str) else list(benchmark or [])
    table = pd.read_csv(PUBLISHED)
    parts = [table[table["benchmark"] == name] for name in names]
    return pd.concat(parts, ignore_index=True) if parts else table[:0]


def _prevalence(runs: list[dict], binary: bool) -> float:
    """Share of the positive class (binary) or of the largest class in the test part."""
    m = runs[0]["metrics"]
    if binary:
        return (m["tp"] + m["fn"]) / max(m["tp"] + m["fn"] + m["fp"] + m["tn"], 1)
    support = [c["support"] for c in m.get("per_class", {}).values()]
    return max(support) / max(sum(support), 1) if support else float("nan")


def _imbalanced(records: list[dict]) -> bool:
    """A binary test part whose rarer class is under AUTO_MINORITY of it."""
    m = records[0]["metrics"]
    if not any(m[k] for k in ("tp", "fn", "fp", "tn")):  # no test samples: nothing to say
        return False
    positive = _prevalence(records, binary=True)
    return min(positive, 1 - positive) < AUTO_MINORITY


def _our_row(feature, method, runs, binary, headline, data, analysis) -> dict:
    row = {
        "source": "ours",
        "data": data,
        "feature": feature,
        "method": method,
        "kind": runs[0].get("kind", "classical"),
        "seeds": len(runs),
        "prevalence": _prevalence(runs, binary),
        "budget_limited": any(r.get("budget_limited") for r in runs),
        "shortcut_detector": any(r.get("shortcut_detector") for r in runs),
    }
    for m in headline:
        values = np.array([r["metrics"][m] for r in runs], float)
        row[m] = float(np.nanmean(values))
        if len(runs) > 1:
            row[f"{m}_std"] = float(np.nanstd(values, ddof=1))
        elif runs[0].get("ci", {}).get(m):
            row[f"{m}_lo"], row[f"{m}_hi"] = runs[0]["ci"][m]
    if binary:
        for k in ("tp", "fn", "fp", "tn"):
            row[k] = int(round(np.mean([r["metrics"][k] for r in runs])))
    row["fit_s"] = float(np.mean([r.get("timings", {}).get("fit_s", np.nan) for r in runs]))
    if analysis is not None:
        best = analysis.best
        row["best_on_validation"] = best is not None and (best.feature, best.method) == (
            feature,
            method,
        )
        cmp = analysis.row(feature, method)
        if cmp is not None:
            row["p_holm"], row["p_floor"] = cmp["p_holm"], bool(cmp["p_floor"])
            row["difference"] = cmp["difference"]
    return row


def comparison_table(records: list[dict], published=None, analysis=None) -> pd.DataFrame:
    """One row per (feature set, method) with mean metrics, CI or std and counts; then published.

    Parameters
    ----------
    records : list of dict
    published : str or list of str, optional
        Published benchmark(s) whose rows follow ours.
    analysis : benchmark.verdict.Analysis, optional
        Adds ``p_holm`` (against the validation-chosen best) and ``best_on_validation``.
    """
    if not records:
        return pd.DataFrame()
    binary = len(records[0]["classes"]) == 2
    headline = BINARY_HEADLINE if binary else MULTICLASS_HEADLINE
    if binary and _imbalanced(records):  # accuracy alone would reward the majority class
        headline = (*headline, "balanced_accuracy")
    simulated = any(r.get("simulated") for r in records)
    data = f"{records[0]['dataset']} ({'simulated' if simulated else 'real'})"
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["feature"], r["method"]), []).append(r)
    ours = pd.DataFrame(
        [
            _our_row(feature, method, runs, binary, headline, data, analysis)
            for (feature, method), runs in groups.items()
        ]
    )
    ours = ours.sort_values("auc" if binary else "accuracy", ascending=False, na_position="last")
    pub = load_published(published)
    if len(pub):
        pub = pub.rename(columns={"model": "published_model"})
        pub["source"] = "published"
        pub["feature"] = ""
        pub["method"] = pub["published_model"]
        pub["data"] = pub["data"] + " — " + pub["citation"]
        keep = ["source", "data", "feature", "method", "prevalence", "note"]
        keep += [m for m in headline if m in pub]
        if binary:
            keep += ["tp", "fn", "fp", "tn"]
        ours = pd.concat([ours, pub[keep]], ignore_index=True)
    ours = ours.reset_index(drop=True)
    ours.attrs["classes"] = [str(c) for c in records[0]["classes"]]  # for the notes
    # for the operating-point note: were the binary thresholds all the fixed 0.5?
    ours.attrs["fixed_threshold"] = binary and all(
        r.get("threshold") in (None, 0.5) for r in records
    )
    return ours


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA


def cell_text(row, m) -> str:
    """A metric cell: ours with its CI (or ± std over seeds), published values as quoted."""
    v = row.get(m)
    if _missing(v) or pd.isna(v):
        return "—"
    if not pd.isna(row.get(f"{m}_std", np.nan)):
        return f"{v:.3f} ± {row[f'{m}_std']:.3f}"
    if not pd.isna(row.get(f"{m}_lo", np.nan)):
        return f"{v:.3f} [{row[f'{m}_lo']:.3f}, {row[f'{m}_hi']:.3f}]"
    return f"{v:.3f}" if row["source"] == "ours" else f"{v:g}"


def counts_text(row) -> str:
    """``TP / FN / FP / TN`` of a row, or a dash when the source gives none."""
    counts = [row.get(k) for k in ("tp", "fn", "fp", "tn")]
    if any(c is None or pd.isna(c) for c in counts):
        return "—"
    return " / ".join(str(int(c)) for c in counts)


def method_text(row) -> str:
    """The method cell: a dagger for budget-limited runs, the detector and notes named."""
    text = str(row["method"])
    if row["source"] != "ours":
        note = row.get("note")
        return f"{text} [{note}]" if isinstance(note, str) and note else text
    if row.get("shortcut_detector") is True:
        text += " (shortcut check)"
    if row.get("budget_limited") is True:
        text += DAGGER
    return text


def prevalence_text(row, binary: bool) -> str:
    v = row.get("prevalence")
    if _missing(v) or pd.isna(v):
        return "—"
    return f"{v:.1%}" if binary else f"largest {v:.0%}"


def p_text(row) -> str:
    """The Holm-corrected p-value against the validation-chosen best."""
    if row["source"] != "ours":
        return ""
    if row.get("best_on_validation") is True:
        return "best (val)"
    p = row.get("p_holm")
    if _missing(p) or pd.isna(p):
        return "—"
    bound = "< " if row.get("p_floor") is True else ""
    return f"{bound}{p:.2g}" if p >= 0.001 else f"{bound}{p:.1e}"


def _rows(table: pd.DataFrame):
    binary = "auc" in table and "macro_f1" not in table
    seen = [m for m in dict.fromkeys((*BINARY_HEADLINE, *MULTICLASS_HEADLINE)) if m in table]
    confusion = all(k in table for k in ("tp", "fn", "fp", "tn"))
    stats = "p_holm" in table or "best_on_validation" in table
    header = ["Source", "Features", "Method", *[LABELS[m] for m in seen], "Prevalence"]
    header += [COUNTS_HEADER] if confusion else []
    header += ["p vs best (Holm)"] if stats else []
    body = []
    for _, row in table.iterrows():
        cells = [
            "ours" if row["source"] == "ours" else "published",
            row["feature"] or "",
            method_text(row),
            *[cell_text(row, m) for m in seen],
            prevalence_text(row, binary),
        ]
        cells += [counts_text(row)] if confusion else []
        cells += [p_text(row)] if stats else []
        body.append(cells)
    return header, body


#: A binary table whose recalls differ by this much gets a note on operating points.
RECALL_SPREAD = 0.25


def _recall_spread(ours: pd.DataFrame):
    """The lowest and highest recall of our binary rows (value, label), if far apart.

    Rows of the shortcut detector are left out (it is not a contender).
    """
    rows = ours[ours["recall"].notna()]
    if "shortcut_detector" in rows:
        rows = rows[rows["shortcut_detector"] != True]  # noqa: E712
    if len(rows) < 2 or rows["recall"].max() - rows["recall"].min() < RECALL_SPREAD:
        return None
    lo, hi = rows.loc[rows["recall"].idxmin()], rows.loc[rows["recall"].idxmax()]
    return (
        (float(lo["recall"]), f"{lo['method']} on {lo['feature']}"),
        (float(hi["recall"]), f"{hi['method']} on {hi['feature']}"),
    )


def table_notes(table: pd.DataFrame, analysis=None) -> list[str]:
    """What the table's rows were measured on and how to read its marks."""
    notes = []
    ours = table[table["source"] == "ours"]
    if len(ours):
        notes.append(
            f"ours: {ours['data'].iloc[0]}; 95% bootstrap CIs in brackets "
            f"(mean ± std over seeds when several)"
        )
        if "simulated" in ours["data"].iloc[0]:
            notes.append("our numbers are on simulated data, not on the published data sets")
        if (ours.get("budget_limited", pd.Series(dtype=bool)) == True).any():  # noqa: E712
            notes.append(
                "† budget-limited: stopped by its time budget or still improving at its last "
                "epoch, so more training could change its row; it had less effort than asked"
            )
    if "tp" in table:
        negative, positive = (table.attrs.get("classes") or ["Not-Real", "Real"])[:2]
        notes.append(
            f"{COUNTS_HEADER}: truly {positive} (predicted {positive}, predicted {negative}), "
            f"then truly {negative} (predicted {positive}, predicted {negative})"
        )
    prevalences = table["prevalence"].dropna() if "prevalence" in table else pd.Series([])
    if len(prevalences) and prevalences.max() - prevalences.min() > 0.05:
        notes.append(
            "test sets differ in prevalence (share of the positive or largest class): accuracy, "
            "precision and F1 are not comparable across them; AUC and recall are"
        )
    if "tp" in table and "balanced_accuracy" in table and len(ours):
        prevalence = float(ours["prevalence"].iloc[0])
        majority = max(prevalence, 1 - prevalence)
        positive = (table.attrs.get("classes") or ["", "positive"])[1]
        notes.append(
            f"Bal. acc.: the mean of the two classes' recalls, shown as the test set is "
            f"imbalanced ({prevalence:.1%} {positive}): there accuracy rewards the majority "
            f"class (predicting it for every image scores {majority:.1%})"
        )
    spread = _recall_spread(ours) if "tp" in table and "recall" in ours else None
    if spread is not None:
        (lo, lo_row), (hi, hi_row) = spread
        note = (
            f"recall ranges from {lo:.2f} ({lo_row}) to {hi:.2f} ({hi_row}): accuracy, "
            f"recall, precision and F1 compare the methods' operating points as much as the "
            f"methods; AUC does not depend on them"
        )
        if table.attrs.get("fixed_threshold"):
            note += (
                '; [run] threshold = "balanced" (run --threshold balanced) chooses every '
                "method's threshold the same way on validation"
            )
        notes.append(note)
    if analysis is not None:
        name = "AUC" if analysis.metric == "auc" else "macro-F1"
        best = analysis.best.label if analysis.best else "none"
        notes.append(
            f"p vs best: paired bootstrap of {name} on the test set against the best row chosen "
            f"on validation ({best}), Holm-corrected across the table"
        )
    for data in table.loc[table["source"] == "published", "data"].unique():
        notes.append(f"published: {data}")
    return notes


def render_text(table: pd.DataFrame, title: str = "", analysis=None) -> str:
    """An aligned plain-text table for the terminal, its notes, the verdict and warnings."""
    if table.empty:
        return "(no results)"
    header, body = _rows(table)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    line = "  ".join("-" * w for w in widths)
    out = [title] if title else []
    out += ["  ".join(h.ljust(w) for h, w in zip(header, widths)), line]
    for i, cells in enumerate(body):
        if i and body[i - 1][0] != cells[0]:
            out.append(line)
        out.append("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)))
    out += ["", *[f"* {n}" for n in table_notes(table, analysis)]]
    if analysis is not None:
        out += ["", f"Verdict: {analysis.verdict}"]
        if analysis.shortcut:
            out.append(analysis.shortcut)
    return "\n".join(out)


def render_markdown(table: pd.DataFrame, title: str = "", analysis=None) -> str:
    header, body = _rows(table)
    out = [f"## {title}", ""] if title else []
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join("---" for _ in header) + "|")
    out += ["| " + " | ".join(str(c) for c in cells) + " |" for cells in body]
    out += ["", *[f"- {n}" for n in table_notes(table, analysis)]]
    if analysis is not None:
        out += ["", f"**Verdict:** {analysis.verdict}"]
        if analysis.shortcut:
            out += ["", f"**{analysis.shortcut}**"]
    return "\n".join(out) + "\n"
