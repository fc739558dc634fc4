"""Comparison tables: our runs (with 95% CIs or mean +- std over seeds) beside the published rows.

Numbers from simulated data are labelled as such; published rows say which
data they were measured on and cite their source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import BINARY_HEADLINE, MULTICLASS_HEADLINE

__all__ = [
    "cell_text",
    "comparison_table",
    "counts_text",
    "load_published",
    "published_benchmarks",
    "render_markdown",
    "render_text",
    "table_notes",
    "write_tables",
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


def published_benchmarks() -> list[str]:
    """Names of the published benchmarks an experiment may set as ``published``."""
    return sorted(pd.read_csv(PUBLISHED)["benchmark"].unique())


def load_published(benchmark: str | None) -> pd.DataFrame:
    """Published rows of one benchmark (empty if none)."""
    table = pd.read_csv(PUBLISHED)
    return table[table["benchmark"] == benchmark].reset_index(drop=True) if benchmark else table[:0]


def comparison_table(records: list[dict], published: str | None = None) -> pd.DataFrame:
    """One row per (feature set, method) with mean metrics, CI or std and counts; then published."""
    if not records:
        return pd.DataFrame()
    binary = len(records[0]["classes"]) == 2
    headline = BINARY_HEADLINE if binary else MULTICLASS_HEADLINE
    simulated = any(r.get("simulated") for r in records)
    data = f"{records[0]['dataset']} ({'simulated' if simulated else 'real'})"
    rows = []
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["feature"], r["method"]), []).append(r)
    for (feature, method), runs in groups.items():
        row = {
            "source": "ours",
            "data": data,
            "feature": feature,
            "method": method,
            "seeds": len(runs),
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
        row["fit_s"] = float(np.mean([r["timings"]["fit_s"] for r in runs]))
        rows.append(row)
    ours = pd.DataFrame(rows)
    sort_key = "auc" if binary else "accuracy"
    ours = ours.sort_values(sort_key, ascending=False, na_position="last")
    pub = load_published(published)
    if len(pub):
        pub = pub.rename(columns={"model": "published_model"})
        pub["source"] = "published"
        pub["feature"] = ""
        pub["method"] = pub["published_model"]
        pub["data"] = pub["data"] + " — " + pub["citation"]
        keep = ["source", "data", "feature", "method", *[m for m in headline if m in pub]]
        if binary:
            keep += ["tp", "fn", "fp", "tn"]
        ours = pd.concat([ours, pub[keep]], ignore_index=True)
    return ours.reset_index(drop=True)


def cell_text(row, m) -> str:
    """A metric cell: ours with its CI (or ± std over seeds), published values as quoted."""
    v = row.get(m)
    if v is None or pd.isna(v):
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


def _rows(table: pd.DataFrame):
    headline = [m for m in (*BINARY_HEADLINE, *MULTICLASS_HEADLINE) if m in table]
    seen = []
    for m in headline:
        if m not in seen:
            seen.append(m)
    confusion = all(k in table for k in ("tp", "fn", "fp", "tn"))
    header = ["Source", "Features", "Method", *[LABELS[m] for m in seen]]
    if confusion:
        header.append("TP / FN / FP / TN")
    body = []
    for _, row in table.iterrows():
        cells = [
            "ours" if row["source"] == "ours" else "published",
            row["feature"] or "",
            str(row["method"]),
            *[cell_text(row, m) for m in seen],
        ]
        if confusion:
            cells.append(counts_text(row))
        body.append(cells)
    return header, body


def table_notes(table: pd.DataFrame) -> list[str]:
    """Which data our rows and each published row were measured on."""
    notes = []
    ours = table[table["source"] == "ours"]
    if len(ours):
        notes.append(
            f"ours: {ours['data'].iloc[0]}; 95% bootstrap CIs in brackets "
            f"(mean ± std over seeds when several)"
        )
        if "simulated" in ours["data"].iloc[0]:
            notes.append("our numbers are on simulated data, not on the published data sets")
    for data in table.loc[table["source"] == "published", "data"].unique():
        notes.append(f"published: {data}")
    return notes


def render_text(table: pd.DataFrame, title: str = "") -> str:
    """An aligned plain-text table for the terminal."""
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
    out += ["", *[f"* {n}" for n in table_notes(table)]]
    return "\n".join(out)


def render_markdown(table: pd.DataFrame, title: str = "") -> str:
    header, body = _rows(table)
    out = [f"## {title}", ""] if title else []
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join("---" for _ in header) + "|")
    out += ["| " + " | ".join(str(c) for c in cells) + " |" for cells in body]
    out += ["", *[f"- {n}" for n in table_notes(table)]]
    return "\n".join(out) + "\n"


def write_tables(store, table: pd.DataFrame, title: str) -> str:
    """Write ``table.csv`` and ``table.md`` into the results folder; return the text rendering."""
    from .results import atomic_write

    atomic_write(store.root / "table.csv", table.to_csv(index=False))
    atomic_write(store.root / "table.md", render_markdown(table, title))
    return render_text(table, title)
