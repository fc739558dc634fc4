"""Matplotlib figures of a report, each written as a PNG and returned by file name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "bar_counts",
    "calibration",
    "confusion",
    "efficiency_vs_snr",
    "eigen_images",
    "gallery",
    "importances",
    "learning_curves",
    "pr_curves",
    "roc_curves",
    "scree",
    "threshold_curves",
    "training_curves",
    "conv_filters",
    "activations",
    "occlusion",
]

DPI = 80


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, folder: Path, name: str, tight: bool = True) -> str:
    if tight:
        fig.tight_layout()
    fig.savefig(folder / name, dpi=DPI)
    _plt().close(fig)
    return name


def bar_counts(counts: dict, title: str, folder: Path, name: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(4, 0.55 * len(counts) + 2), 3))
    ax.bar(range(len(counts)), list(counts.values()), color="#4c72b0")
    ax.set_xticks(range(len(counts)), [str(k) for k in counts], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("samples")
    ax.set_title(title, fontsize=10)
    return _save(fig, folder, name)


def roc_curves(curves: list, title: str, folder: Path, name: str) -> str:
    """``curves``: (label, fpr, tpr, auc)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.2))
    for label, fpr, tpr, auc in curves:
        ax.plot(fpr, tpr, lw=1.2, label=f"{label} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate (recall)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, folder, name)


def learning_curves(curves: list, metric: str, crossover, title, folder: Path, name: str) -> str:
    """Test metric against training-set size (log axis), one line per method with its 95%
    band; classical methods solid with circles (blues/greens), CNNs dashed with squares
    (reds/oranges); the crossover, when there is one, as a vertical line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 4.0))
    cool = plt.get_cmap("winter")
    warm = plt.get_cmap("autumn")
    classical = [c for c in curves if c["kind"] != "deep" and len(c["points"]) > 1]
    deep = [c for c in curves if c["kind"] == "deep" and len(c["points"]) > 1]
    for group, cmap, style, marker in ((classical, cool, "-", "o"), (deep, warm, "--", "s")):
        for i, c in enumerate(group):
            colour = cmap(i / max(len(group) - 1, 1) * 0.8)
            pts = sorted(c["points"], key=lambda p: p["n_train"])
            x = [p["n_train"] for p in pts]
            tag = " †" if any(p["budget_limited"] for p in pts) else ""
            ax.plot(
                x,
                [p["value"] for p in pts],
                style,
                marker=marker,
                ms=4,
                lw=1.4,
                color=colour,
                label=f"{c['label']}{tag}",
            )
            ax.fill_between(
                x, [p["lo"] for p in pts], [p["hi"] for p in pts], color=colour, alpha=0.15, lw=0
            )
    if crossover is not None and crossover.n_train is not None:
        ax.axvline(
            crossover.n_train, color="k", ls=":", lw=1, label=f"crossover ({crossover.n_train:,})"
        )
    ax.set_xscale("log")
    ax.set_xlabel("training images (log scale)")
    ax.set_ylabel(f"test {'AUC' if metric == 'auc' else 'macro-F1'}")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(fig, folder, name)


def pr_curves(curves: list, title: str, folder: Path, name: str) -> str:
    """``curves``: (label, recall, precision)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.2))
    for label, recall, precision in curves:
        ax.plot(recall, precision, lw=1.2, label=label)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    return _save(fig, folder, name)


def threshold_curves(y, score, threshold, title, folder, name) -> str:
    """False-negative and false-positive rates against the threshold, with the operating point."""
    plt = _plt()
    t = np.linspace(0, 1, 201)
    y = np.asarray(y).astype(bool)
    s = np.asarray(score)
    fnr = [((s < x) & y).sum() / max(y.sum(), 1) for x in t]
    fpr = [((s >= x) & ~y).sum() / max((~y).sum(), 1) for x in t]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(t, fnr, label="FNR (missed reals)")
    ax.plot(t, fpr, label="FPR (bogus kept)")
    ax.axvline(threshold, color="k", ls="--", lw=0.8, label=f"threshold {threshold:.2f}")
    ax.set_xlabel("threshold on P(positive)")
    ax.set_yscale("log")
    ax.set_ylim(1e-3, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, folder, name)


def confusion(cm, classes, title, folder, name, normalise=False) -> str:
    plt = _plt()
    cm = np.asarray(cm, float)
    if normalise:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    k = len(classes)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * k + 1.5, 0.55 * k + 1.8))
    im = ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            text = f"{cm[i, j]:.2f}" if normalise else f"{int(cm[i, j])}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if cm[i, j] > cm.max() / 2 else "black",
            )
    labels = [str(c)[:18] for c in classes]
    ax.set_xticks(range(k), labels, rotation=40, ha="right", fontsize=7)
    ax.set_yticks(range(k), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    return _save(fig, folder, name)


def calibration(y, score, title, folder, name, bins=10) -> str:
    plt = _plt()
    y = np.asarray(y, float)
    s = np.asarray(score, float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.minimum((s * bins).astype(int), bins - 1)
    mean_p = [s[idx == b].mean() for b in range(bins) if (idx == b).any()]
    frac = [y[idx == b].mean() for b in range(bins) if (idx == b).any()]
    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.plot(mean_p, frac, "o-")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xticks(edges[::2])
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed fraction positive")
    ax.set_title(title, fontsize=9)
    return _save(fig, folder, name)


def importances(values: dict, title, folder, name) -> str:
    plt = _plt()
    names = list(values)[:15][::-1]
    fig, ax = plt.subplots(figsize=(5, 0.25 * len(names) + 1))
    ax.barh(range(len(names)), [values[n] for n in names], color="#55a868")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("importance")
    ax.set_title(title, fontsize=9)
    return _save(fig, folder, name)


def scree(explained, title, folder, name) -> str:
    plt = _plt()
    k = np.arange(1, len(explained) + 1)
    fig, ax = plt.subplots(figsize=(5, 3.3))
    ax.bar(k, explained, color="#8172b2", label="per component")
    ax.plot(k, np.cumsum(explained), "k.-", label="cumulative")
    ax.set_xlabel("component")
    ax.set_ylabel("explained variance ratio")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, folder, name)


def _show(img):
    from benchmark.gallery import composite

    img = np.asarray(img, float)
    if img.shape[-1] == 3:
        img = img[..., ::-1] if img.min() < 0 else img
    return composite(img, signed=bool(img.min() < 0))


def eigen_images(eigen, title, folder, name) -> str:
    plt = _plt()
    k = len(eigen)
    fig, axes = plt.subplots(1, k, figsize=(1.3 * k, 1.6), squeeze=False)
    for i, ax in enumerate(axes[0]):
        e = np.asarray(eigen[i], float)
        ax.imshow(e[..., min(1, e.shape[-1] - 1)], cmap="RdBu_r", origin="lower")
        ax.set_title(f"PC {i + 1}", fontsize=7)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.75, wspace=0.05)
    return _save(fig, folder, name, tight=False)


def gallery(images, captions, title, folder, name, per_row=8) -> str:
    plt = _plt()
    n = max(len(images), 1)
    rows = int(np.ceil(n / per_row))
    fig, axes = plt.subplots(
        rows, per_row, figsize=(1.25 * per_row, 1.45 * rows + 0.4), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    for ax, img, cap in zip(axes.ravel(), images, captions):
        ax.imshow(_show(img), origin="lower")
        ax.set_title(cap, fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.82, wspace=0.05, hspace=0.35)
    return _save(fig, folder, name, tight=False)


def efficiency_vs_snr(series: list, title, folder, name) -> str:
    """``series``: (label, snr, correct-as-positive) for the positive test samples."""
    plt = _plt()
    edges = np.array([3, 5, 7, 10, 15, 20, 30, 50, 100])
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, snr, hit in series:
        centres, eff = [], []
        for lo, hi in zip(edges[:-1], edges[1:]):
            m = (snr >= lo) & (snr < hi)
            if m.sum() >= 5:
                centres.append(np.sqrt(lo * hi))
                eff.append(hit[m].mean())
        ax.plot(centres, eff, "o-", ms=3, lw=1, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("matched-filter SNR (truth)")
    ax.set_ylabel("recall (efficiency)")
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, folder, name)


def training_curves(history: list, best_epoch, title, folder, name) -> str:
    """Loss and accuracy per epoch (training and validation), the kept epoch marked."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    epochs = [int(h.get("epoch", i)) + 1 for i, h in enumerate(history)]
    for ax, key in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = [h.get(prefix + key, np.nan) for h in history]
            if not np.all(np.isnan(values)):
                ax.plot(epochs, values, style, marker=".", label=prefix + key)
        if best_epoch is not None:
            ax.axvline(int(best_epoch) + 1, color="grey", lw=0.8, ls=":", label="kept epoch")
        ax.set_xlabel("epoch")
        ax.set_title(key, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    return _save(fig, folder, name)


def conv_filters(kernel, title, folder, name, limit: int = 32) -> str:
    """First-layer filters, (kh, kw, channels, n): one tile per filter (channel mean)."""
    plt = _plt()
    kernel = np.asarray(kernel, float)
    n = min(kernel.shape[-1], limit)
    cols = min(n, 16)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(0.6 * cols, 0.6 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, ax in enumerate(axes.ravel()[:n]):
        ax.imshow(kernel[..., i].mean(axis=-1), cmap="RdBu_r", origin="lower")
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.8, wspace=0.08, hspace=0.1)
    return _save(fig, folder, name, tight=False)


def activations(image, maps: dict, title, folder, name) -> str:
    """The input image, then each layer's most active channels (one row per layer)."""
    plt = _plt()
    cols = 1 + max((m.shape[-1] for m in maps.values()), default=0)
    rows = max(len(maps), 1)
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.2 * rows + 0.3), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(_show(image), origin="lower")
    axes[0, 0].set_title("input", fontsize=6)
    for r, (layer, fmap) in enumerate(maps.items()):
        for c in range(fmap.shape[-1]):
            axes[r, c + 1].imshow(np.asarray(fmap[..., c], float), cmap="magma", origin="lower")
        axes[r, 1].set_title(layer, fontsize=6, loc="left")
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.9, wspace=0.05, hspace=0.3)
    return _save(fig, folder, name, tight=False)


def occlusion(images, heat, captions, title, folder, name) -> str:
    """Each image above its occlusion-sensitivity map (drop in the true-class probability)."""
    plt = _plt()
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.3 * n, 2.9), squeeze=False)
    limit = float(np.abs(heat).max()) or 1.0
    for i in range(n):
        axes[0, i].imshow(_show(images[i]), origin="lower")
        axes[0, i].set_title(captions[i], fontsize=6)
        axes[1, i].imshow(heat[i], cmap="RdBu_r", vmin=-limit, vmax=limit, origin="lower")
        for ax in axes[:, i]:
            ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.85, wspace=0.05, hspace=0.2)
    return _save(fig, folder, name, tight=False)


def critical_difference(ranks: dict, significance, title, folder, name) -> str:
    """Critical-difference diagram (Friedman + Nemenyi), drawn by scikit-posthocs."""
    import scikit_posthocs as sp

    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(ranks) + 1.5))
    sp.critical_difference_diagram(pd.Series(ranks), significance, ax=ax)
    ax.set_title(title, fontsize=9)
    return _save(fig, folder, name, tight=False)
