"""Class frequencies shared by the simulators: validation and exact counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import ConfigError, UnknownNameError


def check_fractions(fractions: Mapping, classes: Sequence[str]) -> dict[str, float]:
    """Every class's fraction (missing ones 0); unknown names, negatives or a bad sum are errors."""
    fractions = dict(fractions)
    unknown = [c for c in fractions if c not in classes]
    if unknown:
        msg = f"unknown class {unknown[0]!r} in fractions; classes: {', '.join(classes)}"
        raise UnknownNameError(msg)
    if any(float(v) < 0 for v in fractions.values()):
        msg = "class fractions must be non-negative"
        raise ConfigError(msg)
    total = sum(float(v) for v in fractions.values())
    if abs(total - 1.0) > 1e-6:
        msg = f"class fractions must sum to 1, they sum to {total:.6g}"
        raise ConfigError(msg)
    return {c: float(fractions.get(c, 0.0)) for c in classes}


def exact_counts(fractions: Mapping[str, float], classes: Sequence[str], n: int) -> np.ndarray:
    """Samples per class summing to ``n`` exactly (largest-remainder rounding)."""
    want = np.array([fractions[c] for c in classes]) * n
    counts = np.floor(want).astype(int)
    order = np.argsort(-(want - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts
