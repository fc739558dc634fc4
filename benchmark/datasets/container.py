"""The :class:`Dataset` container every loader returns and every method consumes."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ShapeMismatchError, UnknownNameError
from .arrays import LazyImages, iter_batches
from .taxonomy import Taxonomy, flat

__all__ = ["Dataset"]

log = logging.getLogger(__name__)

SPLIT_COLUMN = "split"


class Dataset:
    """Images with labels, class names, a taxonomy, ids and per-sample metadata.

    Parameters
    ----------
    images : ndarray or LazyImages, shape (N, H, W, C)
        float32 pixels; a :class:`~benchmark.datasets.arrays.LazyImages` reads them on demand.
    labels : array of int, shape (N,)
        Labels in the taxonomy's base scheme; ``-1`` marks an unlabelled sample.
    taxonomy : Taxonomy or sequence of str
        Class names (a single scheme) or a :class:`Taxonomy` of coarser schemes.
    ids : array of str, shape (N,), optional
        Unique sample identifiers (default ``"0"``, ``"1"``, ...).
    meta : DataFrame with N rows, optional
        Per-sample table (truth parameters, vote fractions, coordinates, ...).
        A column ``split`` holding ``train``/``validation``/``test`` is a predefined split.
    scheme : str, optional
        The label scheme ``labels``/``classes`` are expressed in (default: the base scheme).
    channels : sequence of str, optional
        Channel names (e.g. ``("g", "r", "i")``).
    name : str
        Short name of the data set.
    provenance : dict, optional
        Where the data came from and what was done to it (loader, parameters,
        preprocessing, items removed and why).
    """

    def __init__(
        self,
        images,
        labels,
        taxonomy: Taxonomy | Sequence[str],
        *,
        ids=None,
        meta: pd.DataFrame | None = None,
        scheme: str | None = None,
        channels: Sequence[str] = (),
        name: str = "dataset",
        provenance: dict[str, Any] | None = None,
    ):
        if not isinstance(images, LazyImages):
            images = np.asarray(images, dtype=np.float32)
        if images.ndim != 4:
            msg = f"images must have shape (N, H, W, C), got shape {tuple(images.shape)}"
            raise ShapeMismatchError(msg)
        n = len(images)
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if len(labels) != n:
            msg = f"{name}: {n} images but {len(labels)} labels; they must have the same length"
            raise ShapeMismatchError(msg)
        self.taxonomy = taxonomy if isinstance(taxonomy, Taxonomy) else flat(taxonomy)
        n_base = len(self.taxonomy.classes(self.taxonomy.base))
        if n and (labels.max(initial=-1) >= n_base or labels.min(initial=0) < -1):
            msg = f"{name}: labels must lie in -1..{n_base - 1} (one per class), found other values"
            raise ShapeMismatchError(msg)
        if ids is None:
            ids = np.arange(n).astype(str)
        ids = np.asarray([str(i) for i in ids], dtype=object)
        if len(ids) != n:
            msg = f"{name}: {n} images but {len(ids)} ids; they must have the same length"
            raise ShapeMismatchError(msg)
        if len(set(ids)) != n:
            seen: set[str] = set()
            dup = next(i for i in ids if i in seen or seen.add(i))
            msg = f"{name}: sample ids must be unique, {dup!r} appears more than once"
            raise ShapeMismatchError(msg)
        meta = pd.DataFrame(index=range(n)) if meta is None else meta.reset_index(drop=True)
        if len(meta) != n:
            msg = f"{name}: {n} images but the meta table has {len(meta)} rows"
            raise ShapeMismatchError(msg)
        self.images = images
        self.base_labels = labels
        self.ids = ids
        self.meta = meta
        self.scheme = scheme or self.taxonomy.base
        self.taxonomy.classes(self.scheme)  # validates the scheme name
        self.channels = tuple(channels) or tuple(str(c) for c in range(images.shape[3]))
        self.name = name
        self.provenance = dict(provenance or {})
        self._fingerprint: str | None = None

    # -- derived views -------------------------------------------------------------------
    @property
    def labels(self) -> np.ndarray:
        """Labels in the current scheme, shape (N,); ``-1`` is unlabelled."""
        return self.taxonomy.map(self.base_labels, self.scheme)

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names of the current scheme, in label order."""
        return self.taxonomy.classes(self.scheme)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape)

    @property
    def is_labelled(self) -> bool:
        return bool(len(self)) and bool((self.base_labels >= 0).all())

    @property
    def predefined_split(self) -> np.ndarray | None:
        """Per-sample part (``train``/``validation``/``test``) when the source fixed one."""
        if SPLIT_COLUMN in self.meta:
            return self.meta[SPLIT_COLUMN].astype(str).to_numpy()
        return None

    def __len__(self) -> int:
        return len(self.images)

    def counts(self) -> dict[str, int]:
        """Number of samples per class of the current scheme (plus ``unlabelled`` if any)."""
        labels = self.labels
        out = {c: int((labels == i).sum()) for i, c in enumerate(self.classes)}
        if (labels < 0).any():
            out["unlabelled"] = int((labels < 0).sum())
        return out

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the pixels, labels, ids and class names (hex, 16 characters)."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            h.update(self.taxonomy.to_json().encode())
            h.update(self.base_labels.astype("<i8").tobytes())
            h.update("\0".join(self.ids).encode())
            for _, batch in iter_batches(self.images, 512):
                h.update(np.ascontiguousarray(batch, dtype="<f4").tobytes())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    # -- new datasets from this one --------------------------------------------------------
    def _replace(self, **changes) -> Dataset:
        fields = dict(
            images=self.images,
            labels=self.base_labels,
            taxonomy=self.taxonomy,
            ids=self.ids,
            meta=self.meta,
            scheme=self.scheme,
            channels=self.channels,
            name=self.name,
            provenance=self.provenance,
        )
        fields.update(changes)
        images = fields.pop("images")
        labels = fields.pop("labels")
        taxonomy = fields.pop("taxonomy")
        return Dataset(images, labels, taxonomy, **fields)

    def subset(self, indices) -> Dataset:
        """The samples at ``indices`` (integers or a boolean mask); lazy images stay lazy."""
        idx = np.asarray(indices)
        idx = np.flatnonzero(idx) if idx.dtype == bool else idx.astype(np.int64)
        images = self.images.take(idx) if isinstance(self.images, LazyImages) else self.images[idx]
        return self._replace(
            images=images,
            labels=self.base_labels[idx],
            ids=self.ids[idx],
            meta=self.meta.iloc[idx].reset_index(drop=True),
        )

    def relabel(self, scheme: str) -> Dataset:
        """The same samples with labels in another scheme of the taxonomy (e.g. ``binary``)."""
        self.taxonomy.classes(scheme)
        out = self._replace(scheme=scheme)
        out._fingerprint = self._fingerprint
        return out

    def drop_classes(self, names: Iterable[str]) -> Dataset:
        """Remove every sample of the named classes (of the current scheme).

        The classes disappear from the taxonomy; how many samples were removed
        is logged and recorded in ``provenance["removed"]``.
        """
        names = list(names)
        classes = self.classes
        unknown = [c for c in names if c not in classes]
        if unknown:
            msg = f"unknown class {unknown[0]!r}; classes of scheme {self.scheme!r}: " + ", ".join(
                classes
            )
            raise UnknownNameError(msg)
        drop_idx = [classes.index(c) for c in names]
        mapping = self.taxonomy.mapping(self.scheme)
        keep_base = ~np.isin(mapping, drop_idx)
        keep = ~np.isin(self.labels, drop_idx)
        removed = int((~keep).sum())
        log.info("drop_classes: removed %d samples of %s", removed, ", ".join(names))
        remap = np.full(len(keep_base), -1, dtype=np.int64)
        remap[keep_base] = np.arange(int(keep_base.sum()))
        out = self.subset(keep)
        provenance = dict(self.provenance)
        provenance["removed"] = [
            *self.provenance.get("removed", []),
            {"count": removed, "reason": f"drop_classes({', '.join(names)})"},
        ]
        labels = out.base_labels.copy()
        labels[labels >= 0] = remap[labels[labels >= 0]]
        return out._replace(
            labels=labels,
            taxonomy=self.taxonomy.keep_base_classes(keep_base),
            provenance=provenance,
        )

    def materialize(self) -> Dataset:
        """A copy with all images read into memory."""
        if not isinstance(self.images, LazyImages):
            return self
        out = self._replace(images=np.asarray(self.images))
        out._fingerprint = self._fingerprint
        return out

    # -- display -------------------------------------------------------------------------
    def summary(self) -> str:
        """A few lines describing the dataset (what ``benchmark data info`` prints)."""
        n, h, w, c = self.shape
        lines = [
            f"dataset      {self.name}",
            f"images       {n} x {h} x {w} x {c} float32 (channels: {', '.join(self.channels)})",
            f"fingerprint  {self.fingerprint}",
            f"schemes      {', '.join(self.taxonomy.schemes)} (current: {self.scheme})",
        ]
        for scheme in self.taxonomy.schemes:
            counts = self.relabel(scheme).counts()
            total = ", ".join(f"{k}: {v}" for k, v in counts.items())
            n_classes = len(self.taxonomy.classes(scheme))
            lines.append(f"  {scheme:<11s}{n_classes} classes: {total}")
        split = self.predefined_split
        if split is not None:
            parts, num = np.unique(split, return_counts=True)
            lines.append(
                "predefined   " + ", ".join(f"{p}: {k}" for p, k in zip(parts, num.tolist()))
            )
        removed = self.provenance.get("removed", [])
        for r in removed:
            lines.append(f"removed      {r['count']} ({r['reason']})")
        if len(self.meta.columns):
            cols = list(self.meta.columns)
            more = f" ... (+{len(cols) - 12})" if len(cols) > 12 else ""
            lines.append(f"meta         {', '.join(map(str, cols[:12]))}{more}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, shape={self.shape}, scheme={self.scheme!r}, "
            f"classes={list(self.classes)})"
        )

    def provenance_json(self) -> str:
        return json.dumps(self.provenance, default=str)
