"""Build the HTML report of a results folder, from the results store alone (no retraining)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from benchmark.metrics import (
    BINARY_HEADLINE,
    MULTICLASS_HEADLINE,
    mcnemar,
    paired_bootstrap,
    roc_points,
)
from benchmark.results import ResultsStore
from benchmark.tables import LABELS, cell_text, comparison_table, counts_text, table_notes

from . import figures

__all__ = ["build_report"]

log = logging.getLogger(__name__)


def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
    )


def _load_npz(path: Path):
    if not path.is_file():
        return None
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _table_context(table, headline, page_of):
    cols = [m for m in headline if m in table]
    confusion = all(k in table for k in ("tp", "fn", "fp", "tn"))
    header = ["source", "features", "method", *[LABELS[m] for m in cols]]
    if confusion:
        header.append("TP / FN / FP / TN")
    ours = table[table["source"] == "ours"]
    best = {m: ours[m].max() for m in cols if len(ours)}
    rows = []
    for _, row in table.iterrows():
        is_ours = row["source"] == "ours"
        link = page_of.get((row["feature"], row["method"])) if is_ours else None
        cells = [
            {"text": row["source"], "value": None},
            {"text": row["feature"] or "", "value": None},
            {"text": str(row["method"]), "value": None, "link": link},
        ]
        for m in cols:
            v = row.get(m)
            missing = v is None or np.isnan(v)
            cells.append(
                {
                    "text": cell_text(row, m),
                    "value": None if missing else float(v),
                    "best": is_ours and v == best.get(m),
                }
            )
        if confusion:
            cells.append({"text": counts_text(row), "value": None})
        rows.append({"source": row["source"], "cells": cells})
    return {"header": header, "rows": rows, "notes": table_notes(table)}


def _best_per_method(records, key):
    best = {}
    for r in records:
        if r["seed"] != 0:
            continue
        if r["method"] not in best or r["metrics"][key] > best[r["method"]]["metrics"][key]:
            best[r["method"]] = r
    return best


def build_report(results_dir, out=None, *, jobs: int = -1) -> Path:
    """Write ``index.html``, one page per run and the figures; return the index path.

    Parameters
    ----------
    results_dir : path
        A results folder written by ``python -m benchmark run``.
    out : path, optional
        Report folder (default ``<results_dir>/report``).
    jobs : int
        Processes drawing the per-run pages (-1: every core).
    """
    from benchmark.errors import MissingPathError

    t0 = time.perf_counter()
    store = ResultsStore(results_dir)
    records = store.records()
    if not records or not (store.root / "config.json").is_file():
        msg = f"{store.root}: no results found; run `python -m benchmark run` first"
        raise MissingPathError(msg)
    config = json.loads((store.root / "config.json").read_text())
    meta = json.loads((store.root / "metadata.json").read_text())
    data_path = store.root / "dataset.json"
    data = (
        json.loads(data_path.read_text())
        if data_path.is_file()
        else {
            "name": records[0]["dataset"],
            "simulated": records[0].get("simulated", False),
            "shape": [],
            "channels": [],
            "scheme": records[0]["scheme"],
            "classes": records[0]["classes"],
            "counts": {},
            "split": {"id": records[0]["split_id"], "method": "", **records[0]["sizes"]},
            "fingerprint": records[0]["fingerprint"],
        }
    )
    folder = Path(out) if out else store.root / "report"
    folder.mkdir(parents=True, exist_ok=True)
    classes = records[0]["classes"]
    binary = len(classes) == 2
    headline = BINARY_HEADLINE if binary else MULTICLASS_HEADLINE
    key = "auc" if binary else "accuracy"
    env = _env()

    page_of = {}
    for r in records:
        page_of.setdefault((r["feature"], r["method"]), f"run-{r['run_id']}.html")
    nav = [{"page": p, "label": f"{m} · {f}"} for (f, m), p in sorted(page_of.items())]

    table = comparison_table(records, published=config.get("published"))
    ctx = {
        "title": f"{config['name']} — astrobench report",
        "description": config.get("description", ""),
        "nav": nav,
        "data": data,
        "meta": meta,
        "config_json": json.dumps(config, indent=2),
        "n_runs": len(records),
        "total_fit": sum(r["timings"]["fit_s"] for r in records),
        "table": _table_context(table, headline, page_of),
        "count_figs": [
            figures.bar_counts(counts, f"{scheme} classes", folder, f"counts-{i}.png")
            for i, (scheme, counts) in enumerate(data["counts"].items())
        ],
    }
    preds = {r["run_id"]: store.predictions(r["run_id"]) for r in records}
    seed0 = [r for r in records if r["seed"] == 0]
    if binary:
        ctx["roc_figs"] = []
        for i, feature in enumerate(sorted({r["feature"] for r in seed0})):
            runs = [r for r in seed0 if r["feature"] == feature]
            rocs, prs = [], []
            for r in runs:
                p = preds[r["run_id"]]
                fpr, tpr, _ = roc_points(p["y_true"], p["score_1"])
                rocs.append((r["method"], fpr, tpr, r["metrics"]["auc"]))
                recall, precision = _pr(p["y_true"].to_numpy(), p["score_1"].to_numpy())
                prs.append((r["method"], recall, precision))
            ctx["roc_figs"].append(
                figures.roc_curves(rocs, f"ROC — {feature}", folder, f"roc-{i}.png")
            )
            ctx["roc_figs"].append(
                figures.pr_curves(prs, f"precision–recall — {feature}", folder, f"pr-{i}.png")
            )
        top = max(seed0, key=lambda r: r["metrics"]["auc"])
        p = preds[top["run_id"]]
        ctx["operating"] = {
            "label": f"{top['method']} on {top['feature']}",
            "fig": figures.threshold_curves(
                p["y_true"],
                p["score_1"],
                top["threshold"],
                f"{top['method']} · {top['feature']}",
                folder,
                "threshold.png",
            ),
            "rows": [
                {
                    "label": f"{r['method']} · {r['feature']}",
                    **{
                        k: _fmt(r["metrics"][m])
                        for k, m in (
                            ("mdr1", "mdr_at_fpr_1"),
                            ("mdr4", "mdr_at_fpr_4"),
                            ("fpr1", "fpr_at_mdr_1"),
                            ("fpr4", "fpr_at_mdr_4"),
                            ("eer", "eer"),
                        )
                    },
                    "threshold": _fmt(r["threshold"]),
                }
                for r in sorted(seed0, key=lambda r: -r["metrics"]["auc"])
            ],
        }
        ctx["truth"] = _truth(seed0, preds, classes, folder)
    ctx["paired"] = _paired(seed0, preds, binary, key)
    ctx["feature_figs"] = []
    for path in (
        sorted((store.root / "features").glob("*.npz"))
        if (store.root / "features").is_dir()
        else []
    ):
        f = _load_npz(path)
        ctx["feature_figs"].append(
            figures.scree(
                f["explained"], f"PCA scree — {path.stem}", folder, f"scree-{path.stem}.png"
            )
        )
        ctx["feature_figs"].append(
            figures.eigen_images(
                f["eigen"], f"eigen-images — {path.stem}", folder, f"eigen-{path.stem}.png"
            )
        )
    ex = _load_npz(store.root / "examples.npz")
    ctx["examples_fig"] = (
        figures.gallery(
            ex["images"],
            [f"{classes[int(y)]}" for y in ex["labels"]],
            "random test examples per class",
            folder,
            "examples.png",
        )
        if ex
        else None
    )
    (folder / "index.html").write_text(env.get_template("index.html.j2").render(**ctx))

    from joblib import Parallel, delayed

    pages = []
    for (feature, method), page in page_of.items():
        runs = [r for r in records if r["feature"] == feature and r["method"] == method]
        pages.append(
            delayed(_method_page)(
                folder, page, runs, preds[runs[0]["run_id"]], classes, binary, nav, store.root
            )
        )
    Parallel(n_jobs=jobs)(pages)
    log.info("report written to %s in %.1f s", folder, time.perf_counter() - t0)
    return folder / "index.html"


def _pr(y, s):
    order = np.argsort(-s, kind="mergesort")
    y = y[order].astype(bool)
    tp = np.cumsum(y)
    k = np.arange(1, len(y) + 1)
    return tp / max(y.sum(), 1), tp / k


def _truth(seed0, preds, classes, folder):
    """Efficiency against SNR and recall per original class (simulated data only)."""
    first = preds[seed0[0]["run_id"]]
    if "fine_class" not in first and "snr" not in first:
        return None
    best = _best_per_method(seed0, "auc")
    series, rows = [], []
    fine = sorted(set(first["fine_class"])) if "fine_class" in first else []
    for method, r in sorted(best.items()):
        p = preds[r["run_id"]]
        pos = (p["score_1"] >= r["threshold"]).to_numpy()
        if "snr" in p:
            real = p["y_true"].to_numpy() == 1
            series.append((f"{method} · {r['feature']}", p["snr"].to_numpy()[real], pos[real]))
    for name in fine:
        values = []
        for _, r in sorted(best.items()):
            p = preds[r["run_id"]]
            m = (p["fine_class"] == name).to_numpy()
            values.append(_fmt(float((p["score_1"].to_numpy()[m] >= r["threshold"]).mean())))
        rows.append({"name": name, "cells": values})
    fig = (
        figures.efficiency_vs_snr(
            series, "recall against SNR (best run per method)", folder, "efficiency.png"
        )
        if series
        else None
    )
    return {"fig": fig, "rows": rows, "methods": sorted(best), "positive": classes[1]}


def _paired(seed0, preds, binary, key):
    """Paired tests between the two best methods (the best CNN and baseline once CNNs exist)."""
    best = sorted(_best_per_method(seed0, key).values(), key=lambda r: -r["metrics"][key])
    if len(best) < 2:
        return None
    cnns = [r for r in best if r.get("kind") == "deep"]
    others = [r for r in best if r.get("kind") != "deep"]
    a, b = (cnns[0], others[0]) if cnns and others else (best[0], best[1])
    pa, pb = preds[a["run_id"]], preds[b["run_id"]]
    score_cols = [c for c in pa if c.startswith("score_")]
    y = pa["y_true"].to_numpy()
    pred_a = pa[score_cols].to_numpy().argmax(axis=1)
    pred_b = pb[score_cols].to_numpy().argmax(axis=1)
    if binary:
        pred_a = (pa["score_1"] >= a["threshold"]).to_numpy().astype(int)
        pred_b = (pb["score_1"] >= b["threshold"]).to_numpy().astype(int)
    mc = mcnemar(y, pred_a, pred_b)
    text = (
        f"McNemar: {mc['a_right_b_wrong']} test samples right only for the first, "
        f"{mc['a_wrong_b_right']} only for the second, p = {mc['p_value']:.3g}"
    )
    if binary:
        pb_res = paired_bootstrap(y, pa["score_1"], pb["score_1"], "auc", n_boot=500)
        text += (
            f"; AUC difference {pb_res['difference']:+.4f} "
            f"[{pb_res['ci'][0]:+.4f}, {pb_res['ci'][1]:+.4f}], p = {pb_res['p_value']:.3g}"
        )
    if a.get("kind") == "deep" and b.get("kind") != "deep":
        what = "the best CNN against the best baseline"
    else:
        what = "the two best methods" + ("" if cnns else " (no CNN in this experiment)")
    label = f"{a['method']} ({a['feature']}) vs {b['method']} ({b['feature']}), {what}"
    return {"label": label, "text": text}


def _method_page(folder, page, runs, p, classes, binary, nav, store_root):
    env = _env()
    r = runs[0]
    stem = page[:-5]
    figs = []
    cm = (
        np.array(
            [[r["metrics"]["tn"], r["metrics"]["fp"]], [r["metrics"]["fn"], r["metrics"]["tp"]]]
        )
        if binary
        else np.array(r["metrics"]["confusion"])
    )
    figs.append(figures.confusion(cm, classes, "confusion (counts)", folder, f"{stem}-cm.png"))
    figs.append(
        figures.confusion(
            cm, classes, "confusion (row-normalised)", folder, f"{stem}-cmn.png", normalise=True
        )
    )
    if binary:
        figs.append(
            figures.calibration(p["y_true"], p["score_1"], "reliability", folder, f"{stem}-cal.png")
        )
    if r.get("importances"):
        figs.append(
            figures.importances(r["importances"], "feature importances", folder, f"{stem}-imp.png")
        )
    wrong_fig = None
    wrong = _load_npz(store_root / "runs" / r["run_id"] / "wrong.npz")
    if wrong is not None and len(wrong["images"]):
        score_cols = [c for c in p if c.startswith("score_")]
        by_id = p.set_index("id")
        captions = []
        for i, y in zip(wrong["ids"], wrong["labels"]):
            s = by_id.loc[str(i), score_cols].to_numpy(float)
            captions.append(f"{classes[int(y)]} → {classes[int(s.argmax())]} {s.max():.2f}")
        wrong_fig = figures.gallery(
            wrong["images"], captions, "true → predicted (probability)", folder, f"{stem}-wrong.png"
        )
    deep_figs = _deep_figures(folder, stem, r, store_root, classes)
    headline = BINARY_HEADLINE if binary else MULTICLASS_HEADLINE
    metrics = [
        (LABELS.get(m, m), _fmt(float(np.mean([x["metrics"][m] for x in runs])))) for m in headline
    ]
    if binary:
        metrics += [
            (m, _fmt(r["metrics"][m]))
            for m in ("mcc", "balanced_accuracy", "fpr", "brier", "ece", "eer")
        ]
    html = env.get_template("method.html.j2").render(
        title=f"{r['method']} · {r['feature']}",
        run=r,
        seeds=[x["seed"] for x in runs],
        metrics=metrics,
        figs=figs,
        wrong_fig=wrong_fig,
        deep_figs=deep_figs,
        nav=nav,
    )
    (folder / page).write_text(html)


def _deep_figures(folder, stem, r, store_root, classes) -> list:
    """Training curves, first-layer filters, activation and occlusion maps of a CNN run."""
    if r.get("kind") != "deep":
        return []
    figs = []
    if r.get("history"):
        figs.append(
            (
                "Training curves",
                figures.training_curves(
                    r["history"],
                    r.get("best_epoch"),
                    f"{r['method']}: loss and accuracy per epoch",
                    folder,
                    f"{stem}-train.png",
                ),
            )
        )
    ex = _load_npz(store_root / "runs" / r["run_id"] / "explain.npz")
    if ex is None:
        return figs
    if "filters" in ex:
        figs.append(
            (
                "First-layer filters",
                figures.conv_filters(
                    ex["filters"],
                    "first conv layer (mean over input channels)",
                    folder,
                    f"{stem}-filters.png",
                ),
            )
        )
    maps = {k.split("_", 1)[1]: ex[k] for k in ex if k.startswith("act")}  # saved in layer order
    if maps:
        label = classes[int(ex["labels"][0])]
        figs.append(
            (
                "Activation maps",
                figures.activations(
                    ex["images"][0],
                    maps,
                    f"activations of a test image ({label}), per conv layer",
                    folder,
                    f"{stem}-act.png",
                ),
            )
        )
    captions = [classes[int(y)] for y in ex["labels"]]
    figs.append(
        (
            "Occlusion sensitivity",
            figures.occlusion(
                ex["images"],
                ex["occlusion"],
                captions,
                "drop in the true-class probability when a patch is masked (red: evidence)",
                folder,
                f"{stem}-occ.png",
            ),
        )
    )
    return figs
