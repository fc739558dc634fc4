"""One HTML page per (feature set, method): metrics, confusion, calibration, CNN figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.metrics import BINARY_HEADLINE, MULTICLASS_HEADLINE
from benchmark.results import ResultsStore
from benchmark.tables import LABELS

from . import figures
from ._common import env, fmt

__all__ = ["method_page"]


def _confusion_figs(r, classes, binary, folder, stem) -> list:
    m = r["metrics"]
    cm = np.array([[m["tn"], m["fp"]], [m["fn"], m["tp"]]]) if binary else np.array(m["confusion"])
    return [
        figures.confusion(cm, classes, "confusion (counts)", folder, f"{stem}-cm.png"),
        figures.confusion(
            cm, classes, "confusion (row-normalised)", folder, f"{stem}-cmn.png", normalise=True
        ),
    ]


def _wrong_fig(store, r, p, classes, folder, stem):
    wrong = store.wrong_examples(r["run_id"])
    if wrong is None or not len(wrong["images"]):
        return None
    score_cols = [c for c in p if c.startswith("score_")]
    by_id = p.set_index("id")
    captions = []
    for i, y in zip(wrong["ids"], wrong["labels"]):
        s = by_id.loc[str(i), score_cols].to_numpy(float)
        captions.append(f"{classes[int(y)]} → {classes[int(s.argmax())]} {s.max():.2f}")
    return figures.gallery(
        wrong["images"], captions, "true → predicted (probability)", folder, f"{stem}-wrong.png"
    )


def _explanation_figs(ex, classes, folder, stem) -> list:
    figs = []
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
        title = f"activations of a test image ({label}), per conv layer"
        figs.append(
            (
                "Activation maps",
                figures.activations(ex["images"][0], maps, title, folder, f"{stem}-act.png"),
            )
        )
    captions = [classes[int(y)] for y in ex["labels"]]
    title = "drop in the true-class probability when a patch is masked (red: evidence)"
    figs.append(
        (
            "Occlusion sensitivity",
            figures.occlusion(
                ex["images"], ex["occlusion"], captions, title, folder, f"{stem}-occ.png"
            ),
        )
    )
    return figs


def _deep_figures(store, r, classes, folder, stem) -> list:
    """Training curves, first-layer filters, activation and occlusion maps of a CNN run."""
    figs = []
    if r.get("history"):
        title = f"{r['method']}: loss and accuracy per epoch"
        figs.append(
            (
                "Training curves",
                figures.training_curves(
                    r["history"], r.get("best_epoch"), title, folder, f"{stem}-train.png"
                ),
            )
        )
    ex = store.explanation(r["run_id"])
    return figs + ([] if ex is None else _explanation_figs(ex, classes, folder, stem))


def _metric_rows(runs, binary) -> list:
    r = runs[0]
    headline = BINARY_HEADLINE if binary else MULTICLASS_HEADLINE
    rows = [
        (LABELS.get(m, m), fmt(float(np.mean([x["metrics"][m] for x in runs])))) for m in headline
    ]
    if binary:
        extra = ("mcc", "balanced_accuracy", "fpr", "brier", "ece", "eer")
        rows += [(m, fmt(r["metrics"][m])) for m in extra]
    return rows


def method_page(store_root, folder, page, runs, classes, binary, nav) -> None:
    """Write ``page`` for the runs of one (feature set, method), all seeds."""
    store = ResultsStore(store_root)
    folder = Path(folder)
    r = runs[0]
    stem = page[:-5]
    p = store.predictions(r["run_id"])
    figs = _confusion_figs(r, classes, binary, folder, stem)
    if binary:
        figs.append(
            figures.calibration(p["y_true"], p["score_1"], "reliability", folder, f"{stem}-cal.png")
        )
    if r.get("importances"):
        figs.append(
            figures.importances(r["importances"], "feature importances", folder, f"{stem}-imp.png")
        )
    deep_figs = _deep_figures(store, r, classes, folder, stem) if r.get("kind") == "deep" else []
    html = (
        env()
        .get_template("method.html.j2")
        .render(
            title=f"{r['method']} · {r['feature']}",
            run=r,
            seeds=[x["seed"] for x in runs],
            metrics=_metric_rows(runs, binary),
            figs=figs,
            wrong_fig=_wrong_fig(store, r, p, classes, folder, stem),
            deep_figs=deep_figs,
            nav=nav,
        )
    )
    (folder / page).write_text(html, encoding="utf-8")
