"""The Method the runner trains for a classical baseline: tune on validation, save, load."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from .models import SEARCH_SPACES, SUPPORTS_SAMPLE_WEIGHT

__all__ = ["ClassicalMethod"]

log = logging.getLogger(__name__)


def _log_loss(y, proba):
    p = np.clip(proba[np.arange(len(y)), y], 1e-12, 1.0)
    return float(-np.mean(np.log(p)))


def _balanced_weights(y):
    counts = np.bincount(y)
    w = len(y) / (len(counts) * np.maximum(counts, 1))
    return w[y]


class ClassicalMethod:
    """A named baseline with hyperparameters tuned on the validation part.

    Parameters
    ----------
    name : str
        A registered baseline (``baselines.available()``).
    params : dict, optional
        Hyperparameters fixed by the experiment (not tuned).
    tune_budget : float
        Seconds for trying the search-space candidates after the defaults; the
        defaults are always fitted.  0 disables tuning.
    seed : int
    """

    kind = "classical"

    def __init__(
        self, name: str, params: dict | None = None, *, tune_budget: float = 30.0, seed: int = 0
    ):
        self.name = name
        self.params = dict(params or {})
        self.tune_budget = float(tune_budget)
        self.seed = int(seed)

    def _build(self, extra: dict):
        from . import get

        return get(self.name, **{"random_state": self.seed, **self.params, **extra})

    def _fit_one(self, extra, x, y):
        est = self._build(extra)
        if self.name in SUPPORTS_SAMPLE_WEIGHT:
            est.fit(x, y, sample_weight=_balanced_weights(y))
        else:
            est.fit(x, y)
        return est

    def fit(self, x_train, y_train, x_val, y_val):
        """Fit the defaults, then candidates while the budget lasts; keep the best on val."""
        y_train = np.asarray(y_train, int)
        y_val = np.asarray(y_val, int)
        self.classes_ = np.unique(y_train)
        start = time.perf_counter()
        candidates = [{}]
        if self.tune_budget > 0 and len(y_val):
            fixed = set(self.params)
            candidates += [c for c in SEARCH_SPACES.get(self.name, []) if not fixed & set(c)]
        self.history_ = []
        best = None
        for extra in candidates:
            if extra and time.perf_counter() - start > self.tune_budget:
                break
            t0 = time.perf_counter()
            est = self._fit_one(extra, x_train, y_train)
            score = _log_loss(y_val, est.predict_proba(x_val)) if len(y_val) else 0.0
            self.history_.append(
                {
                    "params": _jsonable(extra),
                    "val_log_loss": score,
                    "fit_s": time.perf_counter() - t0,
                }
            )
            if best is None or score < best[0]:
                best = (score, extra, est)
        self.best_params_ = {**self.params, **best[1]}
        self.estimator_ = best[2]
        return self

    def predict_proba(self, x) -> np.ndarray:
        return self.estimator_.predict_proba(x)

    def save(self, folder) -> None:
        """joblib for scikit-learn estimators; XGBoost's own JSON format for xgboost."""
        import joblib

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "name": self.name,
            "params": _jsonable(self.best_params_),
            "seed": self.seed,
            "classes": self.classes_.tolist(),
        }
        if self.name == "xgboost":
            self.estimator_.save_model(folder / "model.json")
        else:
            joblib.dump(self.estimator_, folder / "model.joblib")
        (folder / "method.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder) -> ClassicalMethod:
        import joblib

        folder = Path(folder)
        meta = json.loads((folder / "method.json").read_text())
        method = cls(meta["name"], meta["params"], tune_budget=0, seed=meta["seed"])
        method.classes_ = np.asarray(meta["classes"])
        method.best_params_ = meta["params"]
        if meta["name"] == "xgboost":
            from xgboost import XGBClassifier

            method.estimator_ = XGBClassifier()
            method.estimator_.load_model(folder / "model.json")
        else:
            method.estimator_ = joblib.load(folder / "model.joblib")
        return method


def _jsonable(d: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
