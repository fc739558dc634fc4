"""Checks shared by the HDF5 loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFormatError, MissingPathError, ShapeMismatchError

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".he5")


def has_keys(path, keys) -> bool:
    """True for an HDF5 file (by suffix and content) holding every one of ``keys``; never raises."""
    import h5py

    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in HDF5_SUFFIXES:
        return False
    try:
        with h5py.File(path, "r") as f:
            return all(k in f for k in keys)
    except OSError:
        return False


def hdf5_keys(path) -> list[str]:
    """Top-level keys of an HDF5 file, with one-line errors for missing or non-HDF5 files."""
    import h5py

    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such file; check the path"
        raise MissingPathError(msg)
    try:
        with h5py.File(path, "r") as f:
            return sorted(f.keys())
    except OSError as exc:
        msg = f"{path}: not a readable HDF5 file ({exc})"
        raise DataFormatError(msg) from None


def require_keys(path, keys, fmt: str) -> list[str]:
    """Raise naming the keys found unless every one of ``keys`` is present."""
    found = hdf5_keys(path)
    missing = [k for k in keys if k not in found]
    if missing:
        msg = (
            f"{path}: not a {fmt} file: missing key(s) {', '.join(missing)}; "
            f"keys found: {', '.join(found) or 'none'}"
        )
        raise DataFormatError(msg)
    return found


def integer_labels(values, path, key: str) -> np.ndarray:
    """Labels as int64, refusing text and non-integer numbers with a line naming file and key."""
    values = np.asarray(values).reshape(-1)
    kind = values.dtype.kind
    if kind in "SUO":
        first = values[0].decode() if isinstance(values[0], bytes) else values[0]
        msg = (
            f"{path}: key {key!r} holds text labels (e.g. {first!r}); labels must be integer "
            f"class indices 0..K-1: map the names to integers, or load the images with a CSV "
            f"of class names (the catalog loader)"
        )
        raise DataFormatError(msg)
    if kind == "f":
        bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
        if bad.size:
            msg = (
                f"{path}: key {key!r} holds non-integer labels ({values[bad[0]]:g} at row "
                f"{bad[0]}, {bad.size} in all); labels must be integer class indices 0..K-1"
            )
            raise DataFormatError(msg)
    elif kind not in "iub":
        msg = f"{path}: key {key!r} holds {values.dtype} values; labels must be integers"
        raise DataFormatError(msg)
    return values.astype(np.int64)


def check_numeric(dataset, path, key: str = "images") -> None:
    """Refuse an image dataset that does not hold numbers (text, objects, compound types)."""
    if dataset.dtype.kind not in "iuf":
        msg = (
            f"{path}: key {key!r} holds {dataset.dtype} data, not pixel values; images must be "
            f"a numeric array (N, H, W, C)"
        )
        raise DataFormatError(msg)


def read_columns(path, label_key: str, skip=("images",)):
    """Labels plus every other 1-D dataset of the file's length, as a meta table."""
    import h5py

    with h5py.File(path, "r") as f:
        n = f["images"].shape[0]
        if f["images"].ndim != 4:
            msg = f"{path}: 'images' must be (N, H, W, C), found shape {f['images'].shape}"
            raise ShapeMismatchError(msg)
        check_numeric(f["images"], path)
        labels = integer_labels(f[label_key][()], path, label_key)
        if len(labels) != n:
            msg = (
                f"{path}: {n} images but {len(labels)} labels in {label_key!r}; lengths must match"
            )
            raise ShapeMismatchError(msg)
        meta = {}
        for key in f:
            if key in skip or key == label_key or not isinstance(f[key], h5py.Dataset):
                continue
            if f[key].shape == (n,):
                values = f[key][()]
                if values.dtype.kind in "SO":
                    values = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
                meta[key] = values
        dtype = f["images"].dtype
    return labels, pd.DataFrame(meta, index=range(n)), dtype
