"""A PNG grid of example images per class, so a person can look at a dataset.

Three-channel images are shown as colour composites: for difference images
zero is mid-grey, positive flux bright and negative flux dark, so dipoles,
single-band artefacts and moving objects (colour-separated) are visible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import __version__
from ._io import atomic_path
from .datasets.container import Dataset
from .errors import ConfigError

__all__ = ["composite", "write_gallery"]


def composite(img: np.ndarray, *, signed: bool) -> np.ndarray:
    """(H, W, C) -> displayable (H, W, 3) in [0, 1] with an asinh stretch."""
    x = np.asarray(img, dtype=np.float64)
    if x.shape[-1] != 3:
        x = np.repeat(x[..., :1], 3, axis=-1)
    med = np.median(x, axis=(0, 1))
    sigma = 1.4826 * np.median(np.abs(x - med), axis=(0, 1))
    sigma = np.where(sigma > 0, sigma, 1.0)
    z = np.arcsinh((x - med) / (2 * sigma))
    if signed:
        lim = max(np.abs(z).max(), 1e-6)
        return np.clip(0.5 + 0.5 * z / lim, 0, 1)
    lo, hi = np.percentile(z, [1, 99.8])
    return np.clip((z - lo) / max(hi - lo, 1e-6), 0, 1)


def _rows(dataset: Dataset, rng, per_class: int, prefix: str) -> list:
    """(label, dataset, indices) for each class of ``dataset`` (or one unlabelled row)."""
    if not dataset.classes:
        pick = np.sort(rng.choice(len(dataset), min(per_class, len(dataset)), replace=False))
        return [(f"{prefix}unlabelled", dataset, pick)]
    rows = []
    for code, name in enumerate(dataset.classes):
        members = np.flatnonzero(dataset.labels == code)
        pick = np.sort(rng.choice(members, min(per_class, len(members)), replace=False))
        rows.append((f"{prefix}{name}", dataset, pick))
    return rows


def write_gallery(
    dataset: Dataset,
    path,
    *,
    per_class: int = 8,
    seed: int = 0,
    title: str | None = None,
    beside: Dataset | None = None,
) -> Path:
    """Write a grid with ``per_class`` random examples of every class to ``path`` (PNG).

    ``beside``, a second data set with the same channels (e.g. real ZTF alerts beside
    simulated triplets), adds its rows below, drawn with the same stretch.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if beside is not None and tuple(beside.channels) != tuple(dataset.channels):
        msg = (
            f"--beside needs the same channels: {dataset.name} has {', '.join(dataset.channels)}, "
            f"{beside.name} has {', '.join(beside.channels)}"
        )
        raise ConfigError(msg)
    rng = np.random.default_rng(seed)
    prefix = f"{dataset.name}: " if beside is not None else ""
    rows = _rows(dataset, rng, per_class, prefix)
    if beside is not None:
        rows += _rows(beside, rng, per_class, f"{beside.name}: ")
    triplet = dataset.channels == ("science", "reference", "difference")
    cols = per_class * (3 if triplet else 1)
    fig, axes = plt.subplots(
        len(rows), cols, figsize=(cols * 1.1 + 2.5, len(rows) * 1.25), squeeze=False
    )
    for row, (name, data, pick) in enumerate(rows):
        for ax in axes[row]:
            ax.axis("off")
        for j, i in enumerate(pick):
            img = np.nan_to_num(np.asarray(data.images[int(i)], dtype=np.float64))
            if triplet:
                for k in range(3):
                    ax = axes[row, 3 * j + k]
                    ax.imshow(composite(img[..., k : k + 1], signed=(k == 2)), origin="lower")
            else:
                if data.channels == ("g", "r", "i"):
                    img = img[..., ::-1]  # i, r, g as red, green, blue
                signed = bool(img.min() < 0)
                axes[row, j].imshow(composite(img, signed=signed), origin="lower")
        axes[row, 0].text(
            -0.1, 0.5, name, transform=axes[row, 0].transAxes, ha="right", va="center", fontsize=8
        )
    default = f"{dataset.name}: {per_class} random examples per class"
    if beside is not None:
        default += f", beside {beside.name} (same stretch)"
    fig.suptitle(title or default, fontsize=10)
    fig.subplots_adjust(left=0.25, wspace=0.05, hspace=0.1)
    path = Path(path)
    with atomic_path(path) as tmp:
        # the Software tag is how the write rule recognises the file as astrobench's
        fig.savefig(tmp, dpi=90, format="png", metadata={"Software": f"astrobench {__version__}"})
    plt.close(fig)
    return path
