"""Shared input checks and batching for the feature extractors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from benchmark.errors import NonFiniteError, ShapeMismatchError


def check_images(images, *, fitted_shape=None, where: str = "images") -> tuple[int, ...]:
    """Validate an (N, H, W, C) image array (eager or lazy); return its shape."""
    shape = tuple(getattr(images, "shape", np.shape(images)))
    if len(shape) != 4:
        msg = f"{where} must have shape (N, H, W, C), got shape {shape}"
        raise ShapeMismatchError(msg)
    if fitted_shape is not None and tuple(shape[1:]) != tuple(fitted_shape):
        msg = (
            f"{where} are {shape[1]}x{shape[2]}x{shape[3]} but the extractor was fitted on "
            f"{fitted_shape[0]}x{fitted_shape[1]}x{fitted_shape[2]} images; refit it"
        )
        raise ShapeMismatchError(msg)
    return shape


def batches(images, batch_size: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, float32 batch)`` over eager or lazy images, rejecting non-finite pixels."""
    for start in range(0, len(images), batch_size):
        batch = np.asarray(images[start : start + batch_size], dtype=np.float32)
        if not np.isfinite(batch).all():
            bad = start + int(np.flatnonzero(~np.isfinite(batch).all(axis=(1, 2, 3)))[0])
            msg = (
                f"image {bad} has NaN or inf pixels; load the data with nan_policy=fill "
                f"or nan_policy=drop"
            )
            raise NonFiniteError(msg)
        yield start, batch


def finite(x: np.ndarray, *, limit: float = 1e6) -> np.ndarray:
    """float32 with NaN -> 0 and values clipped to +-limit: never NaN or inf into a classifier."""
    return np.clip(np.nan_to_num(x, nan=0.0, posinf=limit, neginf=-limit), -limit, limit).astype(
        np.float32
    )
