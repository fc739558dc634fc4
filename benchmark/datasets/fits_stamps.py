"""Loader ``fits-stamps``: one FITS cutout per stamp, labels from a CSV or a header keyword.

A stamp file holds either several 2-D image extensions (one per band or epoch;
their ``EXTNAME`` become the channel names), a (C, H, W) cube, or a single 2-D
image.  Labels come from a CSV catalogue (``catalog``, ``id_column``,
``label_column``, ``pattern`` as in the ``catalog`` loader) or, without one,
from a primary-header keyword (``label_keyword``, default ``CLASS``).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CorruptFileError, DataFormatError, MissingPathError
from ._build import UNLABELLED, build, file_images, reading, skipped_record
from ._imageio import FITS_SUFFIXES, is_fits, open_fits
from ._labels import encode_labels, read_catalog
from .catalog import resolve_files
from .preprocess import Preprocess

__all__ = ["load", "sniff", "stem"]


def stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(FITS_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _header_info(path: Path, keyword: str | None):
    try:
        with open_fits(path) as hdul:
            value = hdul[0].header.get(keyword) if keyword else None
            names = [h.name for h in hdul if getattr(h, "data", None) is not None]
    except (OSError, ValueError, TypeError, EOFError, IndexError, KeyError) as exc:
        msg = f"{path}: unreadable or corrupt FITS file ({exc}); replace or remove it"
        raise CorruptFileError(msg) from None
    return value, names


def sniff(path) -> bool:
    """A folder holding FITS files."""
    path = Path(path)
    return path.is_dir() and any(p.is_file() and is_fits(p) for p in path.iterdir())


def load(
    path,
    *,
    catalog: str | None = None,
    id_column: str = "id",
    label_column: str = "label",
    pattern: str = "{id}.fits",
    label_keyword: str = "CLASS",
    class_names=None,
    missing: str = "raise",
    preprocess: Preprocess,
    progress: bool = True,
    name: str | None = None,
):
    """Load a folder of FITS stamps.

    Raises
    ------
    MissingPathError
        No folder, no FITS files, or a catalogue row without its file.
    DataFormatError
        A stamp without the label keyword (when no catalogue is given).
    """
    root = Path(path)
    if not root.is_dir():
        msg = f"{root}: no such folder; check the path"
        raise MissingPathError(msg)
    removed = []
    meta = None
    if catalog is not None:
        table = read_catalog(catalog, columns=[id_column, label_column], base=root)
        paths, keep, removed = resolve_files(root, table[id_column], pattern, missing)
        table = table[keep].reset_index(drop=True)
        ids, raw_labels = list(table[id_column]), table[label_column]
        meta = table.drop(columns=[id_column, label_column])
    else:
        files = sorted(p for p in root.iterdir() if p.is_file() and is_fits(p))
        if not files:
            msg = f"{root}: no FITS files (.fits, .fit, .fits.gz) found"
            raise MissingPathError(msg)
        raw_labels, paths, ids, bad = [], [], [], []
        for p in files:
            try:
                value, _ = _header_info(p, label_keyword)
            except CorruptFileError as exc:
                if not reading().skip_bad:
                    raise
                bad.append((stem(p), str(exc)))
                continue
            if value is None and not reading().unlabelled:
                msg = (
                    f"{p}: no {label_keyword!r} keyword in the primary header; give labels with "
                    f"-p catalog=labels.csv or name the keyword with -p label_keyword=..."
                )
                raise DataFormatError(msg)
            raw_labels.append(value)
            paths.append(str(p))
            ids.append(stem(p))
        if any(v is None for v in raw_labels):  # scoring: labels are not needed
            raw_labels = [UNLABELLED] * len(raw_labels)
        if bad and not paths:
            msg = f"{root}: none of the {len(bad)} FITS files is readable (first: {bad[0][1]})"
            raise CorruptFileError(msg)
        if bad:
            removed.append(skipped_record([i for i, _ in bad], [m for _, m in bad]))
    labels, classes = encode_labels(raw_labels, class_names)
    channels = None
    for p in paths:  # extension names of the first readable file
        try:
            _, names = _header_info(Path(p), None)
        except CorruptFileError:
            if not reading().skip_bad:
                raise
            continue
        if len(names) > 1 and len(set(names)) == len(names) and "PRIMARY" not in names:
            channels = tuple(names)
        break
    images, channels, scale = file_images(
        paths, preprocess=preprocess, channels=channels, progress=progress
    )
    return build(
        images,
        labels,
        classes,
        ids=ids,
        meta=meta,
        preprocess=preprocess,
        channels=channels,
        name=name or root.name,
        where=str(root),
        progress=progress,
        removed=removed,
        extra={"scale": scale},
    )
