"""Steps every loader shares: shape checks, non-finite pixels, preprocessing, eager vs lazy."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import NonFiniteError, ShapeMismatchError
from ._imageio import image_shape, read_image
from .arrays import FileImages, LazyImages, iter_batches
from .container import Dataset
from .preprocess import Preprocess

log = logging.getLogger(__name__)

#: Folders whose decoded images would exceed this many bytes are read lazily.
EAGER_LIMIT_BYTES = 2 * 1024**3


def removal(count: int, reason: str) -> dict:
    """A provenance record of filtered samples; also logged, so nothing vanishes silently."""
    log.warning("removed %d samples: %s", count, reason)
    return {"count": int(count), "reason": reason}


def nonfinite_rows(images, batch_size: int = 512) -> np.ndarray:
    """Indices of images holding NaN or infinite pixels (streams lazy arrays)."""
    bad = []
    for start, batch in iter_batches(images, batch_size):
        rows = ~np.isfinite(batch).all(axis=(1, 2, 3))
        bad.extend((np.flatnonzero(rows) + start).tolist())
    return np.asarray(bad, dtype=np.int64)


def resolve_nonfinite(bad: np.ndarray, ids: Sequence[str], policy: str, where: str):
    """Apply ``nan_policy`` given the rows with non-finite pixels.

    Returns the boolean mask of rows to keep and the removal records.
    """
    keep = np.ones(len(ids), dtype=bool)
    if bad.size == 0 or policy == "fill":
        if bad.size:
            log.info("%s: %d images with NaN/inf pixels filled (nan_policy='fill')", where, bad.size)
        return keep, []
    if policy == "raise":
        msg = (
            f"{where}: {bad.size} image(s) contain NaN or inf pixels (first: id {ids[bad[0]]!r}); "
            f"pass nan_policy=fill (replace by fill_value) or nan_policy=drop (remove them)"
        )
        raise NonFiniteError(msg)
    keep[bad] = False
    return keep, [removal(bad.size, "NaN or inf pixels (nan_policy='drop')")]


def build(
    images,
    labels,
    taxonomy,
    *,
    ids,
    meta: pd.DataFrame | None,
    preprocess: Preprocess,
    channels: Sequence[str],
    name: str,
    where: str,
    removed: list | None = None,
    extra: dict | None = None,
) -> Dataset:
    """Turn raw pixels (eager float array or a lazy array) into a preprocessed Dataset."""
    ids = [str(i) for i in ids]
    removed = list(removed or [])
    if isinstance(images, LazyImages):
        bad = np.empty(0, dtype=np.int64)
        if preprocess.nan_policy != "fill" and not getattr(images, "integer_source", False):
            bad = nonfinite_rows(images)
        keep, more = resolve_nonfinite(bad, ids, preprocess.nan_policy, where)
        if not keep.all():
            images = images.take(np.flatnonzero(keep))
    else:
        images = np.asarray(images, dtype=np.float32)
        bad = np.flatnonzero(~np.isfinite(images).all(axis=(1, 2, 3)))
        keep, more = resolve_nonfinite(bad, ids, preprocess.nan_policy, where)
        if not keep.all():
            images = images[keep]
        images = np.concatenate(
            [preprocess(b, channels) for _, b in iter_batches(images, 1024)]
            or [np.empty((0, *preprocess.output_shape(images.shape[1:], channels)), np.float32)]
        )
    removed += more
    labels = np.asarray(labels, dtype=np.int64)[keep]
    ids = np.asarray(ids, dtype=object)[keep]
    if meta is not None:
        meta = meta.reset_index(drop=True).loc[keep].reset_index(drop=True)
    provenance = {"preprocess": preprocess.as_dict(), "removed": removed, **(extra or {})}
    return Dataset(
        images,
        labels,
        taxonomy,
        ids=ids,
        meta=meta,
        channels=preprocess.output_channels(channels, len(channels)),
        name=name,
        provenance=provenance,
    )


def file_images(
    paths: Sequence[str],
    *,
    preprocess: Preprocess,
    channels: Sequence[str] | None = None,
    progress: bool = True,
    eager_limit: int = EAGER_LIMIT_BYTES,
):
    """Check that image files share one shape, then decode them (or wrap them lazily).

    Returns
    -------
    images : ndarray (N, H, W, C) float32, or FileImages
        Raw pixels scaled to [0, 1] for 8-bit files; preprocessing is left to :func:`build`
        for eager arrays and built into the lazy array.
    channels : tuple of str
    scale : float or None
    """
    if not paths:
        return np.empty((0, 1, 1, 1), np.float32), tuple(channels or ("0",)), None
    first = image_shape(paths[0])
    for p in tqdm(paths[1:], desc="checking images", unit="file", disable=not progress, leave=False):
        shape = image_shape(p)
        if shape != first:
            msg = (
                f"{p}: image is {'x'.join(map(str, shape))} but {paths[0]} is "
                f"{'x'.join(map(str, first))}; all images must share one size "
                f"(resize them, or pass crop=... / resize=...)"
            )
            raise ShapeMismatchError(msg)
    sample = read_image(paths[0])
    scale = 1.0 / 255.0 if sample.dtype == np.uint8 else None
    if channels is None:
        channels = ("R", "G", "B") if (scale and first[2] == 3) else tuple(map(str, range(first[2])))
    if len(paths) * int(np.prod(first)) * 4 > eager_limit:
        log.info("%d images are read lazily from their files (too large for memory)", len(paths))
        lazy = FileImages(
            paths, read_image, first, scale=scale, preprocess=preprocess, channel_names=channels
        )
        lazy.integer_source = scale is not None
        return lazy, tuple(channels), scale
    out = np.empty((len(paths), *first), dtype=np.float32)
    with ThreadPoolExecutor(max_workers=4) as pool:
        decoded = pool.map(read_image, paths)
        for i, arr in enumerate(
            tqdm(decoded, total=len(paths), desc="decoding", unit="img", disable=not progress)
        ):
            out[i] = arr
    if scale is not None:
        out *= np.float32(scale)
    return out, tuple(channels), scale
