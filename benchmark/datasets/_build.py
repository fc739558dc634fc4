"""Steps every loader shares: shape checks, non-finite pixels, preprocessing, eager vs lazy."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import CorruptFileError, MissingPathError, NonFiniteError, ShapeMismatchError
from ._imageio import image_info, read_image, read_scaled
from .arrays import FileImages, LazyImages, iter_batches
from .container import Dataset
from .preprocess import Preprocess

log = logging.getLogger(__name__)

#: Folders whose decoded images would exceed this many bytes are read lazily.
EAGER_LIMIT_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Reading:
    """How loaders read files just now (set by :func:`for_scoring`; defaults for training).

    ``lazy``: read lazily whatever the data's size; ``skip_bad``: leave out files that
    cannot be read or differ in size, depth or channels from the first readable one
    (each named in the data set's ``provenance["removed"]``) instead of stopping;
    ``unlabelled``: labels are not needed, so files without one are kept.
    """

    lazy: bool = False
    skip_bad: bool = False
    unlabelled: bool = False


_reading = [Reading()]

#: Label of every sample of an unlabelled input (scoring only).
UNLABELLED = "unlabelled"


def reading() -> Reading:
    """The current :class:`Reading`."""
    return _reading[-1]


@contextlib.contextmanager
def for_scoring(*, skip_bad: bool = False):
    """Within this block loaders read as ``predict`` needs: lazily (batch by batch while
    scoring, not everything first), without labels, and with ``skip_bad`` leaving out
    unreadable files instead of stopping."""
    _reading.append(Reading(lazy=True, skip_bad=skip_bad, unlabelled=True))
    try:
        yield
    finally:
        _reading.pop()


def removal(count: int, reason: str, ids=None) -> dict:
    """A provenance record of filtered samples; also logged, so nothing vanishes silently.

    ``ids`` (when given) names them: the first 10 in the log, the first 1,000 recorded.
    """
    record = {"count": int(count), "reason": reason}
    if ids is None:
        log.warning("removed %d samples: %s", count, reason)
        return record
    ids = [str(i) for i in ids]
    shown = ", ".join(repr(i) for i in ids[:10]) + (", ..." if len(ids) > 10 else "")
    log.warning("removed %d samples: %s: %s", count, reason, shown)
    record["ids"] = ids[:1000]
    return record


def skipped_record(ids, messages) -> dict:
    """The removal record of files left out as unreadable (``skip_bad``), each reason logged."""
    for i, message in list(zip(ids, messages))[:10]:
        log.warning("skipped %s: %s", i, message)
    return removal(len(ids), "unreadable file or unlike the others (skip_bad)", ids=ids)


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
            log.info(
                "%s: %d images with NaN/inf pixels filled (nan_policy='fill')", where, bad.size
            )
        return keep, []
    if policy == "raise":
        msg = (
            f"{where}: {bad.size} image(s) contain NaN or inf pixels (first: id {ids[bad[0]]!r}); "
            f"pass nan_policy=fill (replace by fill_value) or nan_policy=drop (remove them)"
        )
        raise NonFiniteError(msg)
    keep[bad] = False
    return keep, [
        removal(bad.size, "NaN or inf pixels (nan_policy='drop')", ids=[ids[i] for i in bad])
    ]


def _materialize(images: LazyImages, progress: bool) -> np.ndarray:
    out = np.empty(images.shape, dtype=np.float32)
    with tqdm(
        total=len(images), desc="reading", unit="img", disable=None if progress else True
    ) as bar:
        for start, batch in iter_batches(images, 256):
            out[start : start + len(batch)] = batch
            bar.update(len(batch))
    return out


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
    progress: bool = False,
    eager_limit: int | None = None,
) -> Dataset:
    """Turn raw pixels into a preprocessed Dataset, applying ``nan_policy``.

    ``images`` is either a raw eager array (preprocessed here) or a lazy array
    with the preprocessing built in.  A lazy array whose preprocessed pixels
    fit in ``eager_limit`` bytes is read into memory; a larger one stays lazy.
    An image counts as non-finite when a NaN or inf pixel survives preprocessing.
    """
    ids = [str(i) for i in ids]
    removed = list(removed or [])
    skipped = getattr(images, "skipped", None)
    if skipped:  # files file_images left out (skip_bad): drop their rows too
        keep = np.ones(len(ids), dtype=bool)
        keep[[i for i, _ in skipped]] = False
        removed.append(skipped_record([ids[i] for i, _ in skipped], [m for _, m in skipped]))
        labels = np.asarray(labels)[keep]
        ids = [i for i, k in zip(ids, keep) if k]
        if meta is not None:
            meta = meta.reset_index(drop=True).loc[keep].reset_index(drop=True)
    preprocessed = isinstance(images, LazyImages)
    if eager_limit is not None:
        limit = eager_limit
    else:
        limit = 0 if reading().lazy else EAGER_LIMIT_BYTES
    if preprocessed and int(np.prod(images.shape)) * 4 <= limit:
        images = _materialize(images, progress)
    if isinstance(images, LazyImages):
        bad = np.empty(0, dtype=np.int64)
        if preprocess.nan_policy != "fill" and not getattr(images, "integer_source", False):
            bad = nonfinite_rows(images)
        keep, more = resolve_nonfinite(bad, ids, preprocess.nan_policy, where)
        if not keep.all():
            images = images.take(np.flatnonzero(keep))
    else:
        images = np.asarray(images, dtype=np.float32)
        if not preprocessed and (not preprocess.is_identity or preprocess.nan_policy == "fill"):
            images = np.concatenate(
                [preprocess(b, channels) for _, b in iter_batches(images, 1024)]
                or [np.empty((0, *preprocess.output_shape(images.shape[1:], channels)), np.float32)]
            )
        bad = np.flatnonzero(~np.isfinite(images).all(axis=(1, 2, 3)))
        keep, more = resolve_nonfinite(bad, ids, preprocess.nan_policy, where)
        if not keep.all():
            images = images[keep]
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


def _same_kind(path, info, first_path, first, *, any_size: bool = False) -> None:
    """Refuse a file whose size, bit depth or channel count differs from the first file's
    (its size alone is accepted with ``any_size``: the preprocessing makes one size)."""
    if info.depth != first.depth:
        fix = (
            "keep one kind of file per data set: all FITS or 32-bit TIFF (pixel values in "
            "their units) or all 8/16-bit PNG/JPEG/TIFF (scaled to [0, 1])"
            if "float" in (info.depth, first.depth)
            else "convert every image to one bit depth (e.g. 8-bit: Pillow's "
            "Image.open(path).convert('L' or 'RGB')) or remove it"
        )
        kind = f"{info.depth} image ({info.mode}) among {first.depth} images"
        msg = f"{path}: {kind} such as {first_path}; {fix}"
        raise ShapeMismatchError(msg)
    if info.shape[2] != first.shape[2]:
        target = "RGB" if first.shape[2] == 3 else "L"
        msg = (
            f"{path}: {info.shape[2]}-channel image ({info.mode}) among {first.shape[2]}-channel "
            f"images ({first.mode}) such as {first_path}; convert it (Pillow: "
            f"Image.open(path).convert({target!r})) or remove it"
        )
        raise ShapeMismatchError(msg)
    if info.shape != first.shape and not any_size:
        msg = (
            f"{path}: image is {'x'.join(map(str, info.shape))} but {first_path} is "
            f"{'x'.join(map(str, first.shape))}; images of different sizes need a size to "
            f"bring them to: -p resize=N (with -p crop=F, a fraction of each image's side, "
            f"to frame them alike) or -p crop=N pixels"
        )
        raise ShapeMismatchError(msg)


def file_images(
    paths: Sequence[str],
    *,
    preprocess: Preprocess,
    channels: Sequence[str] | None = None,
    progress: bool = True,
):
    """Check that image files share one size, bit depth and channel count; wrap them lazily.

    Under :func:`for_scoring` with ``skip_bad``, unreadable files and files unlike the
    first readable one are left out: ``images.skipped`` lists ``(index, reason)`` and
    :func:`build` drops their rows.

    Returns
    -------
    images : FileImages
        8- and 16-bit files are scaled to [0, 1]; :func:`build` reads them into
        memory when they fit.
    channels : tuple of str
    scale : str or None
    """
    if not paths:
        return np.empty((0, 1, 1, 1), np.float32), tuple(channels or ("0",)), None
    skip = reading().skip_bad
    skipped, first, first_path = [], None, None
    any_size = preprocess.fixes_size
    smallest, varied = None, False  # the smallest (height, width); whether sizes differ
    for i, p in enumerate(
        tqdm(paths, desc="checking images", unit="file", disable=None if progress else True)
    ):
        try:
            info = image_info(p)
            if first is None:
                sample = read_image(p)
                if sample.shape != info.shape:
                    msg = f"{p}: header says {info.shape} but the pixels are {sample.shape}"
                    raise ShapeMismatchError(msg)
                first, first_path = info, p
                smallest = info.shape[:2]
            elif info.shape != first.shape or info.depth != first.depth:
                _same_kind(p, info, first_path, first, any_size=any_size)
                smallest = tuple(map(min, smallest, info.shape[:2]))
                varied = varied or info.shape != first.shape
        except (CorruptFileError, MissingPathError, ShapeMismatchError) as exc:
            if not skip:
                raise
            skipped.append((i, str(exc)))
    if first is None:
        msg = f"none of the {len(paths)} image files is readable (first: {skipped[0][1]})"
        raise CorruptFileError(msg)
    if skipped:
        left_out = {i for i, _ in skipped}
        paths = [p for i, p in enumerate(paths) if i not in left_out]
    integer = first.depth in ("8-bit", "16-bit")
    if channels is None:
        rgb = integer and first.shape[2] == 3
        channels = ("R", "G", "B") if rgb else tuple(map(str, range(first.shape[2])))
    raw_shape = (*smallest, first.shape[2])  # a pixel crop must fit the smallest image
    images = FileImages(
        paths,
        read_scaled,
        raw_shape,
        preprocess=preprocess,
        channel_names=channels,
        varied=varied,
    )
    if varied:
        log.info(
            "image files of several sizes (smallest %dx%d): each brought to %dx%d",
            *smallest,
            *images.shape[1:3],
        )
    images.integer_source = integer
    images.skipped = skipped
    scale = {"8-bit": "1/255 for 8-bit files", "16-bit": "1/65535 for 16-bit files"}
    return images, tuple(channels), scale.get(first.depth)
