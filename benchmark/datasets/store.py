"""The canonical HDF5 store: one file per dataset, readable with h5py alone.

Layout (``format = "astrobench-dataset"``, ``format_version = 1``)::

    /images   float32 (N, H, W, C); contiguous, or with ``compression="gzip"`` chunked
              one image per chunk, gzip level 4 + shuffle
    /labels   int64 (N,)   labels in the base scheme of the taxonomy, -1 = unlabelled
    /ids      utf-8 strings (N,)
    /meta/    one dataset per column (N,); attribute ``columns`` (JSON) keeps the order
              and ``kinds`` (JSON) the column types: int, float, bool or str
    attributes on the root:
        format, format_version, name, scheme, channels (JSON list),
        taxonomy (JSON: base scheme, and classes + mapping of every scheme),
        provenance (JSON), fingerprint

Writing is atomic (a temporary file in the same folder renamed into place) and
refuses to replace an existing file unless ``overwrite=True``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_path
from ..errors import DataFormatError, MissingPathError
from ..outputs import check_output_file
from ._hdf5 import check_numeric, integer_labels
from .arrays import HDF5Images, iter_batches
from .container import Dataset
from .taxonomy import Taxonomy

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "REQUIRED_KEYS",
    "is_store",
    "read_store",
    "sniff",
    "write_store",
]

FORMAT = "astrobench-dataset"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("images", "labels", "ids")


def is_store(path) -> bool:
    """True if ``path`` is an HDF5 file written by :func:`write_store`."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("format") == FORMAT
    except OSError:
        return False


def sniff(path) -> bool:
    """Loader ``hdf5`` reads ``path``: an HDF5 file carrying the store's format attribute."""
    from ._hdf5 import HDF5_SUFFIXES

    path = Path(path)
    return path.is_file() and path.suffix.lower() in HDF5_SUFFIXES and is_store(path)


def write_store(
    dataset: Dataset,
    path,
    *,
    overwrite: bool = False,
    batch_size: int = 256,
    compression: str | None = None,
    progress: bool = False,
) -> Path:
    """Write ``dataset`` to ``path`` in the canonical layout.

    Parameters
    ----------
    dataset : Dataset
        Eager or lazy; images are streamed in batches of ``batch_size``.
    path : str or Path
        Output file (conventionally ``*.h5``).
    overwrite : bool
        Replace an existing canonical store. Without it an existing file is an
        error, and a file that is not an astrobench store is never replaced.
    compression : {None, "gzip"}
        ``None`` (default) stores the images contiguously: fastest to write and
        to read at random. ``"gzip"`` compresses each image (smaller files for
        images with empty sky or 8-bit sources, slower).
    progress : bool
        Show a progress bar.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    OutputRefusedError
        If ``path`` exists and ``overwrite`` is false, or it is not a store.
    """
    import h5py
    from tqdm.auto import tqdm

    path = check_output_file(path, force=overwrite, owned=is_store, what="store")
    if compression not in (None, "gzip"):
        msg = f"compression must be None or 'gzip', got {compression!r}"
        raise ValueError(msg)
    n, h, w, c = dataset.shape
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        layout = {}
        if compression == "gzip" and n:
            layout = dict(chunks=(1, h, w, c), compression="gzip", compression_opts=4, shuffle=True)
        images = f.create_dataset("images", shape=(n, h, w, c), dtype="<f4", **layout)
        finite = True
        with tqdm(
            total=n, desc=f"writing {path.name}", unit="img", disable=None if progress else True
        ) as bar:
            for start, batch in iter_batches(dataset.images, batch_size):
                images[start : start + len(batch)] = batch
                finite = finite and bool(np.isfinite(batch).all())
                bar.update(len(batch))
        f.create_dataset("labels", data=dataset.base_labels.astype("<i8"))
        f.create_dataset("ids", data=list(dataset.ids), dtype=h5py.string_dtype())
        _write_meta(f.create_group("meta"), dataset.meta)
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["name"] = dataset.name
        f.attrs["scheme"] = dataset.scheme
        f.attrs["channels"] = json.dumps(list(dataset.channels))
        f.attrs["taxonomy"] = dataset.taxonomy.to_json()
        f.attrs["provenance"] = json.dumps({**dataset.provenance, "finite": finite}, default=str)
        f.attrs["fingerprint"] = dataset.fingerprint
    return path


def _write_meta(group, meta: pd.DataFrame) -> None:
    import h5py

    kinds = {}
    for col in meta.columns:
        s = meta[col]
        name = str(col)
        if pd.api.types.is_bool_dtype(s):
            group.create_dataset(name, data=s.to_numpy(dtype=bool))
            kinds[name] = "bool"
        elif pd.api.types.is_integer_dtype(s):
            group.create_dataset(name, data=s.to_numpy(dtype=np.int64))
            kinds[name] = "int"
        elif pd.api.types.is_float_dtype(s):
            group.create_dataset(name, data=s.to_numpy(dtype=np.float64))
            kinds[name] = "float"
        else:
            values = ["" if pd.isna(v) else str(v) for v in s]
            group.create_dataset(name, data=values, dtype=h5py.string_dtype())
            kinds[name] = "str"
    group.attrs["columns"] = json.dumps([str(c) for c in meta.columns])
    group.attrs["kinds"] = json.dumps(kinds)


def _read_meta(group, n: int) -> pd.DataFrame:
    columns = json.loads(group.attrs.get("columns", "[]"))
    kinds = json.loads(group.attrs.get("kinds", "{}"))
    data = {}
    for col in columns:
        values = group[col][()]
        if kinds.get(col) == "str":
            values = pd.array([v.decode() if isinstance(v, bytes) else str(v) for v in values])
        data[col] = values
    return pd.DataFrame(data, index=range(n))


def read_provenance(path) -> dict:
    """The provenance attribute of a store alone ({} when there is none to read)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return json.loads(f.attrs.get("provenance", "{}"))
    except (OSError, TypeError, ValueError):
        return {}  # read_store says what is wrong with the file


def read_store(path, *, lazy: bool = True) -> Dataset:
    """Read a canonical store written by :func:`write_store`.

    Parameters
    ----------
    path : str or Path
        The HDF5 file.
    lazy : bool
        Keep the images in the file and read them on demand (default), or load
        them all into memory.

    Raises
    ------
    MissingPathError
        If the file does not exist.
    DataFormatError
        If the file is not HDF5 or lacks the canonical keys (the message names the keys found).
    """
    import h5py

    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file; check the path"
        raise MissingPathError(msg)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        msg = f"{path}: not a readable HDF5 file ({exc})"
        raise DataFormatError(msg) from None
    with f:
        missing = [k for k in REQUIRED_KEYS if k not in f]
        if missing or f.attrs.get("format") != FORMAT:
            found = ", ".join(sorted(f.keys())) or "none"
            msg = (
                f"{path}: not an astrobench store "
                f"(missing {', '.join(missing) or 'format attribute'}"
                f"; keys found: {found}); convert it with `python -m benchmark data prepare`"
            )
            raise DataFormatError(msg)
        if f["images"].ndim != 4:
            msg = f"{path}: 'images' must be (N, H, W, C), found shape {f['images'].shape}"
            raise DataFormatError(msg)
        check_numeric(f["images"], path)
        labels = integer_labels(f["labels"][()], path, "labels")
        ids = [v.decode() if isinstance(v, bytes) else str(v) for v in f["ids"][()]]
        meta = _read_meta(f["meta"], len(labels)) if "meta" in f else None
        attrs = dict(f.attrs)
    try:
        taxonomy = Taxonomy.from_json(attrs["taxonomy"])
        channels = json.loads(attrs["channels"])
        provenance = json.loads(attrs["provenance"])
        scheme, name, fingerprint = (str(attrs[k]) for k in ("scheme", "name", "fingerprint"))
    except (KeyError, TypeError, ValueError) as exc:
        msg = (
            f"{path}: a root attribute of the store is missing or malformed ({exc!r}); "
            f"write the store again with `python -m benchmark data prepare`"
        )
        raise DataFormatError(msg) from None
    images = HDF5Images(str(path), "images")
    if not lazy:
        images = np.asarray(images)
    ds = Dataset(
        images,
        labels,
        taxonomy,
        ids=ids,
        meta=meta,
        scheme=scheme,
        channels=channels,
        name=name,
        provenance=provenance,
    )
    ds._fingerprint = fingerprint
    return ds


def load(path, *, preprocess=None, progress: bool = True, name: str | None = None) -> Dataset:
    """Loader ``hdf5``: a canonical store, read lazily, with optional extra preprocessing."""
    from ._build import build
    from .preprocess import Preprocess

    preprocess = preprocess or Preprocess()
    ds = read_store(path, lazy=True)
    parent = ds.provenance
    if preprocess.is_identity and parent.get("finite", False):
        ds.provenance = {"parent": parent, "removed": parent.get("removed", [])}
        ds.name = name or ds.name
        return ds
    images = HDF5Images(str(path), "images", preprocess=preprocess, channel_names=ds.channels)
    images.integer_source = bool(parent.get("finite", False))
    out = build(
        images,
        ds.base_labels,
        ds.taxonomy,
        ids=ds.ids,
        meta=ds.meta,
        preprocess=preprocess,
        channels=ds.channels,
        name=name or ds.name,
        where=str(path),
        progress=progress,
        removed=parent.get("removed", []),
        extra={"parent": parent, "parent_fingerprint": ds.fingerprint},
    )
    return out.relabel(ds.scheme)
