"""Labels from catalogues: read a CSV, check its columns, encode class names."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataFormatError, MissingPathError, UnknownNameError


def read_catalog(path, *, columns: Sequence[str], base: Path | None = None) -> pd.DataFrame:
    """Read a CSV catalogue and check that ``columns`` exist (ids are read as strings)."""
    path = Path(path)
    if not path.is_absolute() and base is not None and not path.exists():
        path = base / path
    if not path.exists():
        msg = f"{path}: catalogue not found; give its path with -p catalog=PATH"
        raise MissingPathError(msg)
    if path.is_dir():
        msg = f"{path}: is a folder; catalog= must name a CSV file (e.g. -p catalog=labels.csv)"
        raise DataFormatError(msg)
    try:
        table = pd.read_csv(path, dtype={columns[0]: str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        msg = f"{path}: not a readable CSV catalogue ({exc})"
        raise DataFormatError(msg) from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        msg = (
            f"{path}: no column {missing[0]!r}; columns found: {', '.join(map(str, table.columns))}"
            f" (choose with -p id_column=... / -p label_column=...)"
        )
        raise DataFormatError(msg)
    dup = table[columns[0]][table[columns[0]].duplicated()]
    if len(dup):
        msg = f"{path}: id {dup.iloc[0]!r} appears more than once in column {columns[0]!r}"
        raise DataFormatError(msg)
    return table


def encode_labels(values, class_names: Sequence[str] | None = None):
    """Integer labels and class names from a column of class names or integer codes.

    Parameters
    ----------
    values : array-like
        One label per sample: class names, or integer codes ``0..K-1`` when
        ``class_names`` are given.
    class_names : sequence of str, optional
        The classes in label order; default: the sorted distinct values.

    Returns
    -------
    labels : ndarray of int64
    classes : tuple of str
    """
    values = pd.Series(values).reset_index(drop=True)
    if values.isna().any():
        row = int(values.isna().to_numpy().nonzero()[0][0])
        msg = f"label missing in catalogue row {row}; every sample needs a label"
        raise DataFormatError(msg)
    if class_names is None:
        classes = tuple(sorted({str(v) for v in values}))
    else:
        if isinstance(class_names, str):
            class_names = [c.strip() for c in class_names.split(",")]
        classes = tuple(str(c) for c in class_names)
        if len(set(classes)) != len(classes):
            msg = f"class_names has duplicates: {', '.join(classes)}"
            raise ConfigError(msg)
        if pd.api.types.is_integer_dtype(values):
            codes = values.to_numpy(dtype=np.int64)
            bad = codes[(codes < 0) | (codes >= len(classes))]
            if bad.size:
                msg = f"label code {bad[0]} has no class name; class_names lists {len(classes)}"
                raise UnknownNameError(msg)
            return codes, classes
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({str(v) for v in values} - set(index))
    if unknown:
        msg = f"unknown class name {unknown[0]!r}; valid classes: {', '.join(classes)}"
        raise UnknownNameError(msg)
    return np.array([index[str(v)] for v in values], dtype=np.int64), classes
