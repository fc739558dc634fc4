"""Batches for Keras from any image array, the lazy HDF5 store included.

:class:`ImageBatches` is a ``keras.utils.PyDataset``: it reads one batch at a time
(sorted, de-duplicated rows, which is what h5py needs), augments it with NumPy in
loader threads while the model trains on the previous one, and can over-sample
rare classes.  Nothing is held in memory beyond ``max_queue_size`` batches, so a
data set larger than memory trains.
"""

from __future__ import annotations

import numpy as np

from ._keras import import_keras
from .augment import Augment, d4_numpy

keras = import_keras()

__all__ = ["ImageBatches", "channel_stats"]


def _read(images, rows: np.ndarray) -> np.ndarray:
    """``images[rows]`` for any rows (repeats and any order), reading each row once."""
    if len(rows) < 2 or (np.diff(rows) > 0).all():
        return np.asarray(images[rows], dtype=np.float32)
    unique, inverse = np.unique(rows, return_inverse=True)
    return np.asarray(images[unique], dtype=np.float32)[inverse]


def channel_stats(images, *, max_images: int = 4096, seed: int = 0):
    """Per-channel mean and variance over (a random sample of) ``images``."""
    n = len(images)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, min(n, max_images), replace=False))
    sample = np.concatenate([_read(images, rows[i : i + 512]) for i in range(0, len(rows), 512)])
    x = sample.reshape(-1, sample.shape[-1]).astype(np.float64)
    return x.mean(axis=0), np.maximum(x.var(axis=0), 1e-12)


class ImageBatches(keras.utils.PyDataset):
    """Batches of ``(images, labels)`` (or images alone) for ``fit`` / ``predict``.

    Parameters
    ----------
    images : array-like (N, H, W, C)
        A NumPy array or a lazy image array (HDF5 store, image files).
    labels : array of int, optional
        Class indices; ``None`` for prediction.
    batch_size : int
    augment : Augment, optional
        Random transforms (training only).
    shuffle : bool
        New sample order every epoch.
    balance : bool
        Draw each epoch's samples with equal probability per class (with replacement),
        so rare classes are over-sampled and, with ``augment``, seen in new versions.
    view : int, optional
        A fixed D4 element (0..7) applied to every image (test-time augmentation).
    binary_targets : bool
        Labels as float32 column vectors (a sigmoid output) instead of int indices.
    one_hot : int
        Number of classes: labels as float32 one-hot rows (a softmax output trained with
        label smoothing or mixup); 0 = int indices.
    mixup : float
        Mixup (Zhang et al. 2018): each image of a batch becomes ``lam * x + (1 - lam) *
        x'`` with another image ``x'`` of the batch, its target the same mixture of the
        two targets, ``lam ~ Beta(mixup, mixup)`` per image; 0 = off.  Needs
        ``binary_targets`` or ``one_hot`` (soft targets).
    epoch_size : int, optional
        Samples drawn per epoch when more than the images (shuffled: whole permutations
        one after another; balanced: that many draws), so that a small training part
        still gives an epoch of several optimiser steps; default: one pass.
    pad : bool
        Pad the last batch to ``batch_size`` by repeating its last image, so every
        batch has one shape (no graph re-tracing in prediction); drop the extra rows
        of the output (``n_padded`` of them).
    seed : int
    workers : int
        Loader threads (prefetching); 1 reads in the training thread.
    """

    def __init__(
        self,
        images,
        labels=None,
        *,
        batch_size: int = 64,
        augment: Augment | None = None,
        shuffle: bool = False,
        balance: bool = False,
        view: int | None = None,
        binary_targets: bool = False,
        one_hot: int = 0,
        mixup: float = 0.0,
        epoch_size: int | None = None,
        pad: bool = False,
        seed: int = 0,
        workers: int = 2,
        max_queue_size: int = 8,
    ):
        super().__init__(
            workers=int(workers), use_multiprocessing=False, max_queue_size=int(max_queue_size)
        )
        self.images = images
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.augment = augment if augment is not None and augment.active else None
        self.shuffle = bool(shuffle)
        self.balance = bool(balance) and self.labels is not None
        self.view = view
        self.binary_targets = bool(binary_targets)
        self.one_hot = 0 if self.binary_targets else int(one_hot)
        self.mixup = float(mixup) if self.labels is not None else 0.0
        if self.mixup < 0 or (self.mixup and not (self.binary_targets or self.one_hot)):
            msg = "mixup needs a non-negative alpha and soft targets (binary_targets or one_hot)"
            raise ValueError(msg)
        self.pad = bool(pad)
        self.per_epoch = max(len(images), int(epoch_size or 0))
        self.seed = int(seed)
        self.epoch = 0
        self._order = self._make_order()

    def __len__(self) -> int:
        return -(-self.per_epoch // self.batch_size)

    @property
    def n_padded(self) -> int:
        """Rows added to the last batch by ``pad``."""
        return len(self) * self.batch_size - len(self.images) if self.pad else 0

    def _make_order(self) -> np.ndarray:
        n, size = len(self.images), self.per_epoch
        if not (self.shuffle or self.balance):
            return np.resize(np.arange(n), size)
        rng = np.random.default_rng([self.seed, self.epoch, 1])
        if self.balance:
            counts = np.bincount(self.labels)
            p = 1.0 / counts[self.labels]
            return rng.choice(n, size, replace=True, p=p / p.sum())
        if size == n:
            return rng.permutation(n)
        return np.concatenate([rng.permutation(n) for _ in range(-(-size // n))])[:size]

    def set_epoch(self, epoch: int) -> None:
        """Continue from ``epoch`` (data order and augmentation are drawn per epoch)."""
        self.epoch = int(epoch)
        self._order = self._make_order()

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)

    def __getitem__(self, i: int):
        rows = self._order[i * self.batch_size : (i + 1) * self.batch_size]
        if self.shuffle or self.balance:
            rows = np.sort(rows)  # contiguous reads; the order inside a batch does not matter
        x = _read(self.images, rows)
        if self.augment is not None:
            x = self.augment(x, np.random.default_rng([self.seed, self.epoch, i, 2]))
        if self.view:
            x = np.ascontiguousarray(d4_numpy(x, self.view))
        if self.pad and len(x) < self.batch_size:
            x = np.concatenate([x, np.repeat(x[-1:], self.batch_size - len(x), axis=0)])
        if self.labels is None:
            return (x,)
        y = self.labels[rows]
        if self.binary_targets:
            y = y.astype(np.float32)[:, None]
        elif self.one_hot:
            y = np.eye(self.one_hot, dtype=np.float32)[y]
        if self.mixup:
            x, y = _mix(x, y, self.mixup, np.random.default_rng([self.seed, self.epoch, i, 3]))
        return x, y


def _mix(x: np.ndarray, y: np.ndarray, alpha: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Mixup of a batch with a random permutation of itself (soft targets ``y``)."""
    lam = rng.beta(alpha, alpha, size=len(x)).astype(np.float32)
    other = rng.permutation(len(x))
    lx = lam.reshape((-1,) + (1,) * (x.ndim - 1))
    ly = lam.reshape((-1,) + (1,) * (y.ndim - 1))
    return lx * x + (1 - lx) * x[other], ly * y + (1 - ly) * y[other]
