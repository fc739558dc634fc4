"""Checks shared by the HDF5 loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFormatError, MissingPathError, ShapeMismatchError


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


def read_columns(path, label_key: str, skip=("images",)):
    """Labels plus every other 1-D dataset of the file's length, as a meta table."""
    import h5py

    with h5py.File(path, "r") as f:
        n = f["images"].shape[0]
        if f["images"].ndim != 4:
            msg = f"{path}: 'images' must be (N, H, W, C), found shape {f['images'].shape}"
            raise ShapeMismatchError(msg)
        labels = np.asarray(f[label_key][()]).reshape(-1)
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
