"""Lazy image arrays: index into a file (HDF5 or a list of image files) on demand.

They behave like a read-only float32 array of shape (N, H, W, C) for the
purposes astrobench needs: ``len``, ``shape``, integer/slice/index-array
access, ``take`` (a lazy subset) and ``numpy.asarray`` (read everything).
Reading applies the loader's scale and :class:`Preprocess` on the fly, so a
data set larger than memory can be streamed in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .preprocess import Preprocess

__all__ = ["LazyImages", "HDF5Images", "FileImages", "iter_batches"]


class LazyImages:
    """Base class: subclasses implement ``_read(rows)`` for sorted unique source rows."""

    def __init__(
        self,
        n_source: int,
        raw_shape: tuple[int, int, int],
        *,
        scale: float | None = None,
        preprocess: Preprocess | None = None,
        channel_names: Sequence[str] = (),
        index: np.ndarray | None = None,
    ):
        self._n_source = int(n_source)
        self._raw_shape = tuple(int(s) for s in raw_shape)
        self._scale = scale
        self._preprocess = preprocess or Preprocess()
        self._channel_names = tuple(channel_names)
        self._index = None if index is None else np.asarray(index, dtype=np.int64)
        self.dtype = np.dtype(np.float32)
        self.ndim = 4
        n = self._n_source if self._index is None else len(self._index)
        self.shape = (n, *self._preprocess.output_shape(self._raw_shape, self._channel_names))

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _source_rows(self, key) -> tuple[np.ndarray, bool]:
        n = len(self)
        scalar = isinstance(key, int | np.integer)
        if scalar:
            if not -n <= key < n:
                msg = f"index {key} is out of bounds for {n} images"
                raise IndexError(msg)
            rows = np.array([key % n])
        elif isinstance(key, slice):
            rows = np.arange(n)[key]
        else:
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (n,):
                    msg = f"boolean index of shape {key.shape} does not match {n} images"
                    raise IndexError(msg)
                rows = np.flatnonzero(key)
            else:
                rows = key.astype(np.int64).reshape(-1)
                if rows.size and (rows.max() >= n or rows.min() < -n):
                    msg = f"index out of bounds for {n} images"
                    raise IndexError(msg)
                rows = rows % max(n, 1)
        if self._index is not None:
            rows = self._index[rows]
        return rows, scalar

    def __getitem__(self, key) -> np.ndarray:
        rows, scalar = self._source_rows(key)
        if rows.size == 0:
            return np.empty((0, *self.shape[1:]), dtype=np.float32)
        unique, inverse = np.unique(rows, return_inverse=True)
        raw = np.asarray(self._read(unique))[inverse.reshape(-1)]
        batch = raw.astype(np.float32)
        if self._scale is not None:
            batch *= np.float32(self._scale)
        batch = self._preprocess(batch, self._channel_names)
        return batch[0] if scalar else batch

    def take(self, indices) -> LazyImages:
        """A lazy view of the images at ``indices`` (nothing is read)."""
        rows, _ = self._source_rows(np.asarray(indices, dtype=np.int64))
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._index = rows
        clone.shape = (len(rows), *self.shape[1:])
        return clone

    def __array__(self, dtype=None, copy=None):
        out = np.empty(self.shape, dtype=np.float32)
        for start, batch in iter_batches(self):
            out[start : start + len(batch)] = batch
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype=float32)"


class HDF5Images(LazyImages):
    """Images read from one dataset (``key``) of an HDF5 file."""

    def __init__(self, path: str, key: str, **kwargs):
        import h5py

        self.path = str(path)
        self.key = key
        self._file = None
        with h5py.File(self.path, "r") as f:
            shape = f[key].shape
        super().__init__(shape[0], shape[1:], **kwargs)

    def _read(self, rows: np.ndarray) -> np.ndarray:
        import h5py

        if self._file is None:
            self._file = h5py.File(self.path, "r")
        data = self._file[self.key]
        lo, hi = int(rows[0]), int(rows[-1]) + 1
        # h5py's fancy indexing is slow: read a dense span as one slice, else row by row
        if hi - lo <= 2 * len(rows):
            return data[lo:hi][rows - lo]
        out = np.empty((len(rows), *data.shape[1:]), dtype=data.dtype)
        for i, r in enumerate(rows):
            data.read_direct(out, np.s_[int(r)], np.s_[i])
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_file"] = None
        return state


class FileImages(LazyImages):
    """Images decoded on demand from one file each.

    Parameters
    ----------
    paths : sequence of str
        One file per image.
    reader : callable
        ``reader(path) -> ndarray (H, W, C)``; must raise a clear error naming the file.
    raw_shape : (int, int, int)
        The shape every decoded image has (with ``varied``, the smallest).
    varied : bool
        The files differ in size: each image is preprocessed on its own (its crop a
        fraction of its own side), the preprocessing bringing them all to one size.
    """

    def __init__(
        self, paths: Sequence[str], reader: Callable, raw_shape, *, varied=False, **kwargs
    ):
        self.paths = [str(p) for p in paths]
        self.reader = reader
        self.varied = bool(varied)
        super().__init__(len(self.paths), raw_shape, **kwargs)

    def _one(self, row: int) -> np.ndarray:
        """One image of a ``varied`` set, scaled and preprocessed alone."""
        x = np.asarray(self.reader(self.paths[row]), dtype=np.float32)[None]
        if self._scale is not None:
            x *= np.float32(self._scale)
        return self._preprocess(x, self._channel_names)[0]

    def __getitem__(self, key) -> np.ndarray:
        if not self.varied:
            return super().__getitem__(key)
        rows, scalar = self._source_rows(key)
        if not len(rows):
            return np.empty((0, *self.shape[1:]), dtype=np.float32)
        out = np.stack(_map(self._one, rows))
        return out[0] if scalar else out

    def _read(self, rows: np.ndarray) -> np.ndarray:
        return np.stack(_map(self.reader, [self.paths[i] for i in rows]))


def _map(fn: Callable, items) -> list:
    """``fn`` over ``items``; image decoders release the GIL, so a few threads decode a
    batch in parallel."""
    if len(items) < 8:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(fn, items))


def iter_batches(images, batch_size: int = 256) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, images[start:start + batch_size])`` over an eager or lazy array."""
    for start in range(0, len(images), batch_size):
        yield start, np.asarray(images[start : start + batch_size], dtype=np.float32)
