"""Loader ``arrays``: images and labels as arrays, in a NumPy ``.npz`` or any HDF5 file.

Data prepared in Python are often saved as two arrays under names of their author's
choosing, ``np.savez("stamps.npz", x=images, y=labels)`` or an HDF5 file with ``X`` and
``y``.  The images are the one array of 3 or 4 dimensions (or ``images_key``), (N, H, W)
or (N, H, W, C); (N, C, H, W) is taken as channels-first where its second axis is the
short one (at most 5 channels, ``channels_first`` forces either way).  The labels are
the 1-D array of length N named like labels (``labels``, ``label``, ``y``, ``classes``,
``class``, ``targets``, ``target``, ``ans``; or ``labels_key``): integer class indices,
whose names ``class_names`` may give, or text, whose sorted values become the classes.
Split arrays (``x_train``, ``y_train``, ``x_test``, ``y_test``, optionally ``x_val``,
``y_val``: Keras' layout) give one data set whose parts are kept as its predefined split.
Any other 1-D array of length N goes to ``meta`` (``ids``, ``id`` or ``objid`` names
the samples).  8- and 16-bit pixels are scaled to [0, 1]; floats keep their units.
For ``predict`` the labels may be absent.  An HDF5 array (N, H, W, C) is read lazily,
batch by batch; other layouts, and any ``.npz``, are read into memory.  The specific
HDF5 formats (the canonical store, Galaxy10, SDSS-II SN) are detected before this one.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFormatError, MissingPathError, ShapeMismatchError
from ._build import UNLABELLED, build, reading
from ._hdf5 import HDF5_SUFFIXES, integer_labels
from .arrays import HDF5Images
from .preprocess import Preprocess

__all__ = ["LABEL_KEYS", "load", "sniff"]

#: Names taken for the labels array, in this order of preference (case-insensitive).
LABEL_KEYS = ("labels", "label", "y", "classes", "class", "targets", "target", "ans")
_ID_KEYS = ("ids", "id", "objid")
_SCALE = {np.dtype(np.uint8): 1.0 / 255.0, np.dtype(np.uint16): 1.0 / 65535.0}


def _is_npz(path: Path) -> bool:
    return path.suffix.lower() == ".npz"


def _shapes(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Top-level arrays of the file: name -> (shape, dtype)."""
    if _is_npz(path):  # each member's .npy header, without reading its data
        out = {}
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as handle:
                    version = np.lib.format.read_magic(handle)
                    read = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read(handle)
                out[member[: -len(".npy")]] = (tuple(shape), np.dtype(dtype))
        return out
    import h5py

    with h5py.File(path, "r") as f:
        return {k: (v.shape, v.dtype) for k, v in f.items() if isinstance(v, h5py.Dataset)}


def _pick(path: Path, shapes, images_key=None, labels_key=None, *, unlabelled=False):
    """The images' and the labels' keys, or a one-line error naming what the file holds;
    with ``unlabelled`` (scoring) a file without labels gives ``None`` for them."""
    found = ", ".join(f"{k} {tuple(s)}" for k, (s, _) in shapes.items()) or "nothing"
    if images_key is None:
        cands = [k for k, (s, _) in shapes.items() if len(s) in (3, 4)]
        if len(cands) != 1:
            msg = (
                f"{path}: {'no' if not cands else 'several'} image arrays of 3 or 4 "
                f"dimensions (found: {found}); name the images with -p images_key=NAME"
            )
            raise DataFormatError(msg)
        images_key = cands[0]
    _require(path, shapes, images_key, found)
    n = shapes[images_key][0][0] if shapes[images_key][0] else 0
    if labels_key is None:
        lower = {k.lower(): k for k, (s, _) in shapes.items() if s == (n,)}
        cands = [lower[k] for k in LABEL_KEYS if k in lower]
        if not cands and unlabelled:
            return images_key, None
        if not cands:
            msg = (
                f"{path}: no labels array of length {n} named like labels "
                f"({', '.join(LABEL_KEYS)}; found: {found}); name it with -p labels_key=NAME"
            )
            raise DataFormatError(msg)
        labels_key = cands[0]
    _require(path, shapes, labels_key, found)
    if shapes[labels_key][0] != (n,):
        msg = (
            f"{path}: {n} images in {images_key!r} but {labels_key!r} has shape "
            f"{tuple(shapes[labels_key][0])}; labels must be one per image"
        )
        raise ShapeMismatchError(msg)
    return images_key, labels_key


def _require(path, shapes, key, found: str) -> None:
    if key not in shapes:
        msg = f"{path}: no array {key!r} (found: {found})"
        raise DataFormatError(msg)


#: Name endings of Keras-style split arrays (``x_train``, ``y_test``) and their parts.
_PARTS = {
    "train": "train",
    "training": "train",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "test": "test",
    "testing": "test",
}


def _split_layout(shapes) -> dict[str, tuple[str, str]]:
    """``{part: (images_key, labels_key)}`` for split arrays such as ``x_train``,
    ``y_train``, ``x_test``, ``y_test`` (a training part and at least one other); ``{}``
    where the file is not laid out so."""
    out = {}
    for key, (shape, _) in shapes.items():
        _, sep, tail = key.rpartition("_")
        if not sep or tail.lower() not in _PARTS or len(shape) not in (3, 4):
            continue
        labels = [
            k
            for k, (s, _) in shapes.items()
            if s == (shape[0],)
            and k.rpartition("_")[2] == tail
            and k.rpartition("_")[0].lower() in LABEL_KEYS
        ]
        part = _PARTS[tail.lower()]
        if len(labels) != 1 or part in out:
            return {}  # a part without its labels, or two for one part: not this layout
        out[part] = (key, labels[0])
    return out if "train" in out and len(out) >= 2 else {}


def sniff(path) -> bool:
    """An ``.npz`` or HDF5 file with one image array and a labels array; never raises."""
    path = Path(path)
    if not path.is_file() or not (_is_npz(path) or path.suffix.lower() in HDF5_SUFFIXES):
        return False
    try:
        shapes = _shapes(path)
    except Exception:  # noqa: BLE001 - anything unreadable is not ours
        return False
    if _split_layout(shapes):
        return True
    try:
        _pick(path, shapes, unlabelled=reading().unlabelled)
    except Exception:  # noqa: BLE001
        return False
    return True


def _labels(values, path, key, class_names):
    """Integer labels and class names from integer or text values."""
    values = np.asarray(values).reshape(-1)
    if values.dtype.kind in "SUO":
        text = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values])
        classes = tuple(sorted(set(text.tolist())))
        if class_names is not None:
            missing = sorted(set(classes) - set(map(str, class_names)))
            if missing:
                msg = f"{path}: labels {missing} are not in class_names {list(class_names)}"
                raise DataFormatError(msg)
            classes = tuple(map(str, class_names))
        index = {c: i for i, c in enumerate(classes)}
        return np.array([index[t] for t in text], dtype=np.int64), classes
    labels = integer_labels(values, path, key)
    if labels.size and labels.min() < 0:
        msg = f"{path}: key {key!r} holds negative labels; labels must be class indices 0..K-1"
        raise DataFormatError(msg)
    k = int(labels.max()) + 1 if labels.size else 0
    if class_names is None:
        return labels, tuple(str(i) for i in range(k))
    if len(class_names) < k:
        msg = (
            f"{path}: labels go up to {k - 1} but class_names names {len(class_names)} "
            f"classes; give one name per class index"
        )
        raise DataFormatError(msg)
    return labels, tuple(map(str, class_names))


def load(
    path,
    *,
    preprocess: Preprocess,
    progress: bool = True,
    name: str | None = None,
    images_key: str | None = None,
    labels_key: str | None = None,
    class_names=None,
    channels_first: bool | None = None,
):
    """Load images and labels stored as arrays (``.npz`` or HDF5).

    Parameters
    ----------
    path : str or Path
    preprocess : Preprocess
    progress : bool
    name : str, optional
        Dataset name (default: the file's stem).
    images_key, labels_key : str, optional
        The arrays to read (default: found as the module says).
    class_names : list of str, optional
        Names of the integer classes 0..K-1.
    channels_first : bool, optional
        Images stored (N, C, H, W); default: guessed from the shape.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such file; check the path"
        raise MissingPathError(msg)
    if isinstance(class_names, str):
        class_names = [c.strip() for c in class_names.split(",")]
    elif class_names is not None and not isinstance(class_names, list | tuple):
        class_names = [class_names]  # -p class_names=5: one name
    try:
        shapes = _shapes(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        msg = f"{path}: not a readable .npz or HDF5 file ({exc})"
        raise DataFormatError(msg) from None
    layout = _split_layout(shapes) if images_key is None and labels_key is None else {}
    if layout:
        return _load_parts(
            path, layout, preprocess, progress, name or path.stem, class_names, channels_first
        )
    unlabelled = reading().unlabelled
    images_key, labels_key = _pick(path, shapes, images_key, labels_key, unlabelled=unlabelled)
    shape, dtype = shapes[images_key]
    _check_pixels(path, images_key, dtype)
    n = shape[0]
    if channels_first is None:
        channels_first = _channels_first(shape)
    columns = [k for k, (s, _) in shapes.items() if s == (n,) and k != labels_key]
    lazy = not _is_npz(path) and len(shape) == 4 and not channels_first
    keys = [k for k in (labels_key, *columns) if k is not None]
    arrays = _read(path, keys if lazy else [images_key, *keys])
    if labels_key is None:  # scoring a file of images alone
        labels, classes = np.zeros(n, dtype=np.int64), (UNLABELLED,)
    else:
        labels, classes = _labels(arrays[labels_key], path, labels_key, class_names)
    ids = np.arange(n).astype(str)
    meta = {}
    for key in columns:
        values = arrays[key]
        if values.dtype.kind in "SO":
            values = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values])
        if key.lower() in _ID_KEYS and len(set(values.tolist())) == n:
            ids = np.asarray(values).astype(str)
        else:
            meta[key] = values
    if lazy:  # an HDF5 (N, H, W, C) array: read batch by batch
        images = HDF5Images(
            str(path),
            images_key,
            scale=_SCALE.get(np.dtype(dtype)),
            preprocess=preprocess,
            channel_names=tuple(map(str, range(shape[3]))),
        )
        images.integer_source = dtype.kind in "iu"
    else:
        images = _pixels(arrays[images_key], channels_first)
    return build(
        images,
        labels,
        classes,
        ids=ids,
        meta=pd.DataFrame(meta, index=range(n)) if meta else None,
        preprocess=preprocess,
        channels=tuple(map(str, range(images.shape[-1]))),
        name=name or path.stem,
        where=str(path),
        progress=progress,
    )


def _read(path: Path, keys) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of the file, opened once; Python objects (pickles) are refused
    in one line."""
    if _is_npz(path):
        out = {}
        with np.load(path, allow_pickle=False) as f:
            for key in keys:
                try:
                    out[key] = f[key]
                except ValueError as exc:  # an object array: reading it would run a pickle
                    msg = (
                        f"{path}: array {key!r} cannot be read without unpickling ({exc}); "
                        f"save it as numbers or text (e.g. np.asarray(labels, dtype=str))"
                    )
                    raise DataFormatError(msg) from None
        return out
    import h5py

    with h5py.File(path, "r") as f:
        return {key: f[key][()] for key in keys}


def _check_pixels(path, key: str, dtype) -> None:
    if np.dtype(dtype).kind not in "iuf":
        msg = f"{path}: key {key!r} holds {dtype} data, not pixel values"
        raise DataFormatError(msg)


def _channels_first(shape) -> bool:
    """(N, C, H, W) where the second axis is the short one (at most 5 channels)."""
    return len(shape) == 4 and shape[1] <= 5 < shape[3]


def _pixels(raw: np.ndarray, channels_first: bool) -> np.ndarray:
    """Images (N, H, W, C): a channel axis for grey (N, H, W), channels moved last, 8- and
    16-bit pixels scaled to [0, 1]."""
    raw = raw[..., None] if raw.ndim == 3 else np.moveaxis(raw, 1, -1) if channels_first else raw
    scale = _SCALE.get(raw.dtype)
    return raw.astype(np.float32) * np.float32(scale) if scale else raw


def _load_parts(path, layout, preprocess, progress, name, class_names, channels_first):
    """A file of split arrays (``x_train``, ``y_train``, ``x_test``, ...): the parts are
    kept as the data set's predefined split, as an image folder's split folders are."""
    order = [part for part in ("train", "validation", "test") if part in layout]
    arrays = _read(path, [key for part in order for key in layout[part]])
    images, values, parts, ids = [], [], [], []
    for part in order:
        images_key, labels_key = layout[part]
        raw = arrays[images_key]
        _check_pixels(path, images_key, raw.dtype)
        first = _channels_first(raw.shape) if channels_first is None else channels_first
        images.append(_pixels(raw, first))
        values.append(np.asarray(arrays[labels_key]).reshape(-1))
        parts += [part] * len(raw)
        ids += [f"{part}/{i}" for i in range(len(raw))]
    shapes = {x.shape[1:] for x in images}
    if len(shapes) != 1:
        msg = f"{path}: the parts' images differ in shape ({sorted(shapes)}); they must match"
        raise ShapeMismatchError(msg)
    label_key = "/".join(layout[p][1] for p in order)
    labels, classes = _labels(np.concatenate(values), path, label_key, class_names)
    x = np.concatenate(images)
    return build(
        x,
        labels,
        classes,
        ids=ids,
        meta=pd.DataFrame({"split": parts}),
        preprocess=preprocess,
        channels=tuple(map(str, range(x.shape[-1]))),
        name=name,
        where=str(path),
        progress=progress,
    )
