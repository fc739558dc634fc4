"""Build the HTML report of a results folder, from the results store alone (no retraining).

The report is drawn into a staging folder beside its destination, then its files
are moved into place; the destination's marker lists the files the report owns,
so a rebuild replaces exactly those and never touches anything else there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.curves import learning_curves
from benchmark.errors import MissingPathError
from benchmark.metrics import roc_points
from benchmark.outputs import check_output_folder, read_marker, write_marker
from benchmark.results import ResultsStore
from benchmark.tables import LABELS, comparison_table, table_notes
from benchmark.verdict import analyse, format_p, headline

from . import figures
from ._common import env, fmt
from .pages import method_page

__all__ = ["build_report"]

log = logging.getLogger(__name__)


def _table_context(table, page_of, analysis):
    """The comparison table as cells (text, sortable value, best mark, link), and its notes."""
    from benchmark.tables import _rows

    header, body = _rows(table)
    metrics = [m for m in LABELS if LABELS[m] in header]
    ours = table[table["source"] == "ours"]
    best = {m: ours[m].max() for m in metrics if len(ours)}
    rows = []
    for (_, row), texts in zip(table.iterrows(), body):
        is_ours = row["source"] == "ours"
        cells = []
        for name, text in zip(header, texts):
            metric = next((m for m in metrics if LABELS[m] == name), None)
            value = row.get(metric) if metric else None
            value = None if value is None or pd.isna(value) else float(value)
            main, sep, ci = str(text).partition(" [")
            cell = {
                "text": main if metric and sep else text,
                "ci": f"[{ci}" if metric and sep else "",
                "value": value,
                "best": is_ours and metric and value == best.get(metric),
                "wrap": name == "Method",
            }
            if name == "Method" and is_ours:
                cell["link"] = page_of.get((row["feature"], row["method"]))
            cells.append(cell)
        rows.append({"source": row["source"], "cells": cells})
    return {"header": header, "rows": rows, "notes": table_notes(table, analysis)}


def _best_per_method(records, key):
    best = {}
    for r in records:
        if r["seed"] != 0:
            continue
        if r["method"] not in best or r["metrics"][key] > best[r["method"]]["metrics"][key]:
            best[r["method"]] = r
    return best


def _data_summary(store, records) -> dict:
    """The store's data summary; from the records for folders written before it existed."""
    data = store.dataset_summary()
    if data is not None:
        return data
    r = records[0]
    return {
        "name": r["dataset"],
        "simulated": r.get("simulated", False),
        "shape": [],
        "channels": [],
        "scheme": r["scheme"],
        "classes": r["classes"],
        "counts": {},
        "split": {"id": r["split_id"], "method": "", **r["sizes"]},
        "fingerprint": r["fingerprint"],
    }


def _overview(store, records, folder) -> dict:
    config = store.config()
    data = _data_summary(store, records)
    return {
        "title": f"{config['name']} — astrobench report",
        "description": config.get("description", ""),
        "data": data,
        "meta": store.metadata(),
        "config_json": json.dumps(config, indent=2),
        "n_runs": len(records),
        "total_fit": sum(r["timings"]["fit_s"] for r in records),
        "count_figs": [
            figures.bar_counts(counts, f"{scheme} classes", folder, f"counts-{i}.png")
            for i, (scheme, counts) in enumerate(data["counts"].items())
        ],
    }


def _pr(y, s):
    order = np.argsort(-s, kind="mergesort")
    y = y[order].astype(bool)
    tp = np.cumsum(y)
    k = np.arange(1, len(y) + 1)
    return tp / max(y.sum(), 1), tp / k


def _curve_figs(seed0, preds, folder) -> list:
    """ROC and precision-recall curves, one pair of figures per feature set."""
    out = []
    for i, feature in enumerate(sorted({r["feature"] for r in seed0})):
        rocs, prs = [], []
        for r in (r for r in seed0 if r["feature"] == feature):
            p = preds[r["run_id"]]
            fpr, tpr, _ = roc_points(p["y_true"], p["score_1"])
            rocs.append((r["method"], fpr, tpr, r["metrics"]["auc"]))
            recall, precision = _pr(p["y_true"].to_numpy(), p["score_1"].to_numpy())
            prs.append((r["method"], recall, precision))
        out.append(figures.roc_curves(rocs, f"ROC — {feature}", folder, f"roc-{i}.png"))
        out.append(figures.pr_curves(prs, f"precision–recall — {feature}", folder, f"pr-{i}.png"))
    return out


_OPERATING = (
    ("mdr1", "mdr_at_fpr_1"),
    ("mdr4", "mdr_at_fpr_4"),
    ("fpr1", "fpr_at_mdr_1"),
    ("fpr4", "fpr_at_mdr_4"),
    ("eer", "eer"),
)


def _operating(seed0, preds, folder) -> dict:
    """Missed-detection rates at fixed FPR for every run; FNR/FPR curves of the best."""
    top = max(seed0, key=lambda r: r["metrics"]["auc"])
    p = preds[top["run_id"]]
    label = f"{top['method']} · {top['feature']}"
    rows = [
        {
            "label": f"{r['method']} · {r['feature']}",
            **{k: fmt(r["metrics"][m]) for k, m in _OPERATING},
            "threshold": fmt(r["threshold"]),
        }
        for r in sorted(seed0, key=lambda r: -r["metrics"]["auc"])
    ]
    fig = figures.threshold_curves(
        p["y_true"], p["score_1"], top["threshold"], label, folder, "threshold.png"
    )
    return {"label": f"{top['method']} on {top['feature']}", "fig": fig, "rows": rows}


def _truth(seed0, preds, classes, folder):
    """Efficiency against SNR and recall per original class (simulated data only)."""
    first = preds[seed0[0]["run_id"]]
    if "fine_class" not in first and "snr" not in first:
        return None
    best = _best_per_method(seed0, "auc")
    series, rows = [], []
    for method, r in sorted(best.items()):
        p = preds[r["run_id"]]
        pos = (p["score_1"] >= r["threshold"]).to_numpy()
        if "snr" in p:
            real = p["y_true"].to_numpy() == 1
            series.append((f"{method} · {r['feature']}", p["snr"].to_numpy()[real], pos[real]))
    for name in sorted(set(first["fine_class"])) if "fine_class" in first else []:
        values = []
        for _, r in sorted(best.items()):
            p = preds[r["run_id"]]
            m = (p["fine_class"] == name).to_numpy()
            values.append(fmt(float((p["score_1"].to_numpy()[m] >= r["threshold"]).mean())))
        rows.append({"name": name, "cells": values})
    title = "recall against SNR (best run per method)"
    fig = figures.efficiency_vs_snr(series, title, folder, "efficiency.png") if series else None
    return {"fig": fig, "rows": rows, "methods": sorted(best), "positive": classes[1]}


def _comparisons(analysis, folder) -> dict | None:
    """Every row against the validation-chosen best: differences, CIs, p-values, the CD diagram."""
    if analysis.best is None or analysis.comparisons.empty:
        return None
    name = "AUC" if analysis.metric == "auc" else "macro-F1"
    rows = [
        {
            "label": f"{r['method']} · {r['feature']}",
            "difference": f"{r['difference']:+.4f} [{r['diff_lo']:+.4f}, {r['diff_hi']:+.4f}]",
            "p": format_p(r["p_value"], r["p_floor"], analysis.n_boot),
            "p_holm": ("< " if r["p_floor"] else "") + format_p(r["p_holm"]),
            "mcnemar": format_p(r["mcnemar_p"]),
        }
        for r in analysis.comparisons.sort_values("difference", ascending=False).to_dict("records")
    ]
    cd = analysis.critical_difference
    fig = None
    if cd is not None:
        fig = figures.critical_difference(
            cd["ranks"],
            cd["nemenyi"],
            f"mean rank over seeds (Friedman p = {cd['friedman_p']:.2g})",
            folder,
            "critical-difference.png",
        )
    return {"best": analysis.best.label, "metric": name, "rows": rows, "cd_fig": fig}


def _sweep(store, folder) -> dict | None:
    """The learning-curve figure and the crossover, when the experiment ran a sweep."""
    lc = learning_curves(store)
    if lc is None:
        return None
    name = "AUC" if lc.metric == "auc" else "macro-F1"
    fig = figures.learning_curves(
        lc.curves,
        lc.metric,
        lc.crossover,
        f"test {name} against training-set size (95% bootstrap bands; † budget-limited)",
        folder,
        "learning-curves.png",
    )
    rows = [
        {
            "n_train": f"{r['n_train']:,}",
            "classical": r["classical"] or "—",
            "deep": r["deep"] or "—",
            "difference": (
                f"{r['difference']:+.4f} [{r['lo']:+.4f}, {r['hi']:+.4f}]"
                if "difference" in r
                else "—"
            ),
            "p_holm": format_p(r["p_holm"]) if "p_holm" in r else "—",
        }
        for r in lc.crossover.rows
    ]
    return {"fig": fig, "crossover": lc.crossover.text, "rows": rows, "metric": name}


def nav_groups(page_of: dict) -> list:
    """The method pages grouped by feature set, for the navigation."""
    groups: dict[str, list] = {}
    for (feature, method), page in sorted(page_of.items()):
        groups.setdefault(feature, []).append({"page": page, "label": method})
    return [{"feature": f, "pages": pages} for f, pages in groups.items()]


def _feature_figs(store, folder) -> list:
    out = []
    for name, f in store.feature_summaries().items():
        out.append(
            figures.scree(f["explained"], f"PCA scree — {name}", folder, f"scree-{name}.png")
        )
        out.append(
            figures.eigen_images(f["eigen"], f"eigen-images — {name}", folder, f"eigen-{name}.png")
        )
    return out


def _examples_fig(store, classes, folder):
    ex = store.examples()
    if not ex:
        return None
    captions = [f"{classes[int(y)]}" for y in ex["labels"]]
    title = "random test examples per class"
    return figures.gallery(ex["images"], captions, title, folder, "examples.png")


def _label_review(store, folder) -> dict | None:
    """The test images nearly every run misclassifies: a table and their images."""
    review = store.label_review()
    if review is None or not len(review):
        return None
    ex = store.label_review_examples()
    fig = None
    by_id = review.set_index("id")
    keep = [n for n, i in enumerate(ex["ids"]) if str(i) in by_id.index] if ex else []
    if keep:  # images of ids the list holds (both files are the store's; never a KeyError)
        captions = [
            f"{by_id.at[str(i), 'label']}\n→ {by_id.at[str(i), 'consensus']} "
            f"({by_id.at[str(i), 'wrong_fraction']:.0%})"
            for i in ex["ids"][keep]
        ]
        title = "label → class most runs give it (fraction of runs that disagree with the label)"
        fig = figures.gallery(ex["images"][keep], captions, title, folder, "label-review.png")
    rows = [
        {
            "id": r["id"],
            "label": r["label"],
            "consensus": r["consensus"],
            "fraction": f"{r['wrong_fraction']:.0%} of {r['n_runs']}",
            "score": f"{r['label_score']:.2f}",
        }
        for r in review.head(100).to_dict("records")
    ]
    return {
        "n": len(review),
        "n_runs": int(review["n_runs"].max()),
        "fraction": f"{review['wrong_fraction'].min():.0%}",
        "fig": fig,
        "rows": rows,
        "more": max(len(review) - len(rows), 0),
    }


def _write_index(store, records, folder, page_of, nav) -> None:
    classes = records[0]["classes"]
    binary = len(classes) == 2
    analysis = analyse(store, records)
    table = comparison_table(records, store.config().get("published"), analysis=analysis)
    ctx = {**_overview(store, records, folder), "nav": nav}
    ctx["table"] = _table_context(table, page_of, analysis)
    ctx["verdict"] = {
        "headline": headline(analysis),
        "text": analysis.verdict,
        "shortcut": analysis.shortcut,
    }
    ctx["sweep"] = _sweep(store, folder)
    preds = {r["run_id"]: store.predictions(r["run_id"]) for r in records}
    seed0 = [r for r in records if r["seed"] == 0]
    if binary:
        ctx["roc_figs"] = _curve_figs(seed0, preds, folder)
        ctx["operating"] = _operating(seed0, preds, folder)
        ctx["truth"] = _truth(seed0, preds, classes, folder)
    ctx["comparisons"] = _comparisons(analysis, folder)
    ctx["feature_figs"] = _feature_figs(store, folder)
    ctx["examples_fig"] = _examples_fig(store, classes, folder)
    ctx["review"] = _label_review(store, folder)
    html = env().get_template("index.html.j2").render(**ctx)
    (folder / "index.html").write_text(html, encoding="utf-8")


def _check_destination(store, folder: Path, out) -> None:
    """The write rule: an empty folder, or a report folder astrobench wrote."""
    if out is None:  # the store's own report folder (older stores wrote it without a marker)
        check_output_folder(folder, kind="report", owned=lambda f: True)
    else:
        check_output_folder(folder, kind="report", inputs=[store.root])


def _install(staging: Path, folder: Path, source: Path) -> None:
    """Move the staged files into ``folder``; remove files an earlier report there owned."""
    old = set((read_marker(folder) or {}).get("files", [])) if folder.is_dir() else set()
    new = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
    folder.mkdir(parents=True, exist_ok=True)
    for rel in new:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, folder / rel)
    for rel in sorted(old - set(new)):
        (folder / rel).unlink(missing_ok=True)
    write_marker(folder, "report", source=str(source.resolve()), files=new)


def build_report(results_dir, out=None, *, jobs: int = -1) -> Path:
    """Write ``index.html``, one page per (feature set, method) and the figures.

    Parameters
    ----------
    results_dir : path
        A results folder written by ``python -m benchmark run``.
    out : path, optional
        Report folder (default ``<results_dir>/report``): new, empty, or an earlier report.
    jobs : int
        Processes drawing the per-method pages (-1: every core).

    Returns
    -------
    Path
        The report's ``index.html``.
    """
    from joblib import Parallel, delayed

    t0 = time.perf_counter()
    store = ResultsStore(results_dir)
    records = store.records() if store.is_store() else []
    if not records:
        msg = f"{store.root}: no results found; run `python -m benchmark run` first"
        raise MissingPathError(msg)
    folder = Path(out) if out else store.report_dir
    _check_destination(store, folder, out)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.building-", dir=folder.parent))
    try:
        page_of = {}
        for r in records:
            page_of.setdefault((r["feature"], r["method"]), f"run-{r['run_id']}.html")
        nav = nav_groups(page_of)
        _write_index(store, records, staging, page_of, nav)
        classes, binary = records[0]["classes"], len(records[0]["classes"]) == 2
        pages = [  # absolute paths: pool workers may have started in another working folder
            delayed(method_page)(
                store.root.resolve(),
                staging.resolve(),
                page,
                [r for r in records if (r["feature"], r["method"]) == key],
                classes,
                binary,
                nav,
            )
            for key, page in page_of.items()
        ]
        Parallel(n_jobs=jobs)(pages)
        _install(staging, folder, store.root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("report written to %s in %.1f s", folder, time.perf_counter() - t0)
    return folder / "index.html"
