"""On-disk cache of extracted features, keyed by dataset, split, feature set and parameters.

Files live under ``$ASTROBENCH_CACHE/features`` (default ``~/.cache/astrobench``),
one ``.npy`` per (key, part), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmark._io import atomic_path, cache_root

__all__ = ["FeatureCache"]

log = logging.getLogger(__name__)


def _default_root() -> Path:
    return cache_root() / "features"


class FeatureCache:
    """A folder of cached feature matrices.

    Parameters
    ----------
    root : str or Path, optional
        Folder (default ``$ASTROBENCH_CACHE/features``).
    enabled : bool
        With ``False`` everything is computed and nothing written.
    """

    def __init__(self, root=None, *, enabled: bool = True):
        self.root = Path(root) if root is not None else _default_root()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(**parts) -> str:
        text = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def has(self, key: str, suffix: str = ".npy") -> bool:
        return self.enabled and (self.root / f"{key}{suffix}").is_file()

    def _write(self, key: str, suffix: str, dump) -> None:
        with atomic_path(self.root / f"{key}{suffix}") as tmp, tmp.open("wb") as fh:
            dump(fh)

    def _cached(self, path: Path, load: Callable[[Path], object]):
        """The cached value at ``path``; ``None`` when absent, or unreadable (then recomputed)."""
        if not (self.enabled and path.is_file()):
            return None
        try:
            value = load(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable cache file is recomputed
            log.warning("%s: unreadable feature-cache file (%s); recomputing it", path, exc)
            return None
        self.hits += 1
        return value

    def get_or_fit(self, key: str, fit: Callable[[], object]):
        """A cached fitted object (joblib), or ``fit()`` stored under ``key``."""
        import joblib

        value = self._cached(self.root / f"{key}.joblib", joblib.load)
        if value is not None:
            return value
        self.misses += 1
        value = fit()
        if self.enabled:
            self._write(key, ".joblib", lambda fh: joblib.dump(value, fh))
        return value

    def get_or_compute(self, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached array for ``key``, or ``compute()`` stored under it."""
        value = self._cached(self.root / f"{key}.npy", np.load)
        if value is not None:
            return value
        self.misses += 1
        value = np.asarray(compute(), dtype=np.float32)
        if self.enabled:
            self._write(key, ".npy", lambda fh: np.save(fh, value))
        return value
