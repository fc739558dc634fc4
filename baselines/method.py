"""The Method the runner trains for a classical baseline: tune on validation, save, load."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from benchmark._io import atomic_path, read_json, write_json
from benchmark.errors import ConfigError, ShapeMismatchError
from benchmark.methods import Method, spec

__all__ = ["ClassicalMethod"]

log = logging.getLogger(__name__)


def _log_loss(y, proba):
    p = np.clip(proba[np.arange(len(y)), y], 1e-12, 1.0)
    return float(-np.mean(np.log(p)))


def _oversampled_rows(y, rng) -> np.ndarray:
    """Row indices with every class repeated (drawn with replacement) up to the largest's size."""
    counts = np.bincount(y)
    rows = []
    for k, count in enumerate(counts):
        members = np.flatnonzero(y == k)
        if count:
            extra = rng.choice(members, counts.max() - count, replace=True)
            rows.append(np.concatenate([members, extra]))
    return np.sort(np.concatenate(rows))


def _balanced_weights(y):
    counts = np.bincount(y)
    w = len(y) / (len(counts) * np.maximum(counts, 1))
    return w[y]


class ClassicalMethod(Method):
    """A registered baseline with hyperparameters tuned on the validation part.

    The defaults are always fitted; then ``n_candidates`` points of the baseline's
    registered grid (the whole grid when it is smaller), drawn with scikit-learn's
    ``ParameterSampler`` seeded by ``seed``; the candidate with the lowest
    validation log-loss is kept.  The candidates are a fixed set: the same on every
    machine and under any load (time is measured, never a stopping rule).
    Hyperparameters given in ``params`` are fixed, never tuned.  ``class_weight``
    reaches the estimator as its registration's ``imbalance`` says.

    See :class:`benchmark.methods.Method` for the parameters.
    """

    kind = "classical"
    input = "features"

    def _spec(self):
        return spec(self.name)

    def _build(self, extra: dict, n_classes: int):
        from . import get

        return get(
            self.name,
            **{
                "random_state": self.seed,
                **self._balance_params(n_classes),
                **self.params,
                **extra,
            },
        )

    def _balance_params(self, n_classes: int) -> dict:
        """Factory arguments that balance the classes (``class_weight`` or equal ``priors``)."""
        if self.class_weight != "balanced":
            return {}
        mode = self._spec().get("imbalance")
        if mode == "class_weight":
            return {"class_weight": "balanced"}
        if mode == "priors":
            return {"priors": np.full(n_classes, 1.0 / n_classes)}
        return {}

    def _fit_one(self, extra, x, y):
        import warnings

        mode = self._spec().get("imbalance") if self.class_weight == "balanced" else None
        est = self._build(extra, int(y.max()) + 1)
        kwargs = {}
        if mode == "sample_weight":
            steps = getattr(est, "steps", None)  # a Pipeline routes it to its last step
            key = f"{steps[-1][0]}__sample_weight" if steps else "sample_weight"
            kwargs[key] = _balanced_weights(y)
        elif mode == "oversample":
            rows = _oversampled_rows(y, np.random.default_rng(self.seed))
            x, y = x[rows], y[rows]
        with warnings.catch_warnings():
            # small training sets: scikit-learn lowers the quantile count itself, correctly
            warnings.filterwarnings("ignore", "n_quantiles .* greater than the total number")
            est.fit(x, y, **kwargs)
        return est

    def _defaults(self) -> dict:
        import inspect

        from benchmark.methods import METHODS

        signature = inspect.signature(METHODS.get(self.name))
        return {k: p.default for k, p in signature.parameters.items()}

    def candidates(self, n_train: int) -> list[dict]:
        """The defaults (``{}``), then up to ``n_candidates`` grid points, seeded.

        Grid values bounded by the training size (kNN's ``n_neighbors``) that exceed
        ``n_train`` are left out, and so are hyperparameters fixed in ``params``.
        """
        from sklearn.model_selection import ParameterGrid, ParameterSampler

        bounded = self._spec().get("at_most_n_train", ())
        space = {
            k: [v for v in values if not (k in bounded and v is not None and v > n_train)]
            for k, values in self._spec().get("search_space", {}).items()
            if k not in self.params
        }
        space = {k: v for k, v in space.items() if v}
        if not space or self.n_candidates <= 0:
            return [{}]
        grid = list(ParameterGrid(space))
        if len(grid) > self.n_candidates:
            grid = list(ParameterSampler(space, self.n_candidates, random_state=self.seed))
        defaults = self._defaults()
        return [{}] + [c for c in grid if any(defaults.get(k) != v for k, v in c.items())]

    def validate(self, *, n_train: int, n_classes: int, input_shape: tuple) -> None:
        """Refuse bad hyperparameter values now rather than mid-run.

        Values are checked by fitting the estimator on a tiny random problem (where
        scikit-learn validates them); a parameter bounded by the training size
        (kNN's ``n_neighbors``) is checked against ``n_train``.
        """
        from sklearn.exceptions import ConvergenceWarning

        for key in self._spec().get("at_most_n_train", ()):
            value = self.params.get(key)
            if isinstance(value, int | float) and value > n_train:
                msg = (
                    f"method {self.name!r}: {key} = {value} exceeds the {n_train} training "
                    f"samples; choose {key} <= {n_train}"
                )
                raise ConfigError(msg)
        rng = np.random.default_rng(0)
        y = np.arange(max(12, 4 * n_classes)) % n_classes
        x = rng.normal(size=(len(y), 3)) + y[:, None]
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", (ConvergenceWarning, UserWarning, RuntimeWarning))
                self._fit_one({}, x, y)
        except (ValueError, TypeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            msg = f"method {self.name!r}: bad hyperparameter value: {first}"
            raise ConfigError(msg) from None

    def fit(self, x_train, y_train, x_val, y_val) -> ClassicalMethod:
        """Fit the defaults and every candidate; keep the best on the validation part."""
        x_train, y_train = _checked(x_train, y_train, "training")
        x_val, y_val = _checked(x_val, y_val, "validation", x_train.shape[1])
        self.classes_ = np.unique(y_train)
        self.n_features_in_ = x_train.shape[1]
        candidates = self.candidates(len(y_train)) if len(y_val) else [{}]
        self.history_, self.tuning_s_ = [], []
        best = None
        for extra in candidates:
            t0 = time.perf_counter()
            est = self._fit_one(self._capped(extra, len(y_train)), x_train, y_train)
            score = _log_loss(y_val, est.predict_proba(x_val)) if len(y_val) else 0.0
            self.tuning_s_.append(time.perf_counter() - t0)
            self.history_.append({"params": _jsonable(extra), "val_log_loss": score})
            if best is None or score < best[0]:
                best = (score, extra, est)
        self.best_params_ = {**self.params, **best[1]}
        self.estimator_ = best[2]
        return self

    def _capped(self, extra: dict, n_train: int) -> dict:
        """Defaults bounded by the training size (kNN's 15 neighbours) capped at ``n_train``."""
        from . import get

        out = dict(extra)
        defaults = None
        for key in self._spec().get("at_most_n_train", ()):
            if key in self.params or key in extra:
                continue
            defaults = defaults or _leaf_params(get(self.name))
            if defaults.get(key, 0) > n_train:
                log.info("%s: %s capped at the %d training samples", self.name, key, n_train)
                out[key] = n_train
        return out

    def predict_proba(self, x) -> np.ndarray:
        x = np.asarray(x)
        n_features = getattr(self, "n_features_in_", None) or self.estimator_.n_features_in_
        if x.ndim != 2 or x.shape[1] != n_features:
            msg = (
                f"{self.name}.predict_proba: expected a feature matrix (N, {n_features}), "
                f"got shape {x.shape}; use the feature set the method was trained on"
            )
            raise ShapeMismatchError(msg)
        return self.estimator_.predict_proba(x)

    def summary(self) -> dict:
        est = getattr(self.estimator_, "steps", [[None, self.estimator_]])[-1][1]
        importances = getattr(est, "feature_importances_", None)
        if importances is None and getattr(est, "coef_", None) is not None:
            # linear models on standardised inputs: the size of each coefficient
            importances = np.abs(np.atleast_2d(est.coef_)).mean(axis=0)
        return {
            "method_params": _jsonable(self.best_params_),
            "class_weight": self.class_weight,
            "tuning": self.history_,
            "importances": None if importances is None else np.asarray(importances, float).tolist(),
            "threshold": getattr(self, "threshold_", None),
            "timings": {"tuning_fit_s": list(getattr(self, "tuning_s_", []))},
        }

    def save(self, folder) -> None:
        """joblib for scikit-learn estimators; XGBoost's own JSON format where registered so."""
        import joblib

        folder = Path(folder)
        meta = {
            "name": self.name,
            "params": _jsonable(self.best_params_),
            "seed": self.seed,
            "class_weight": self.class_weight,
            "classes": self.classes_.tolist(),
            "threshold": getattr(self, "threshold_", None),
        }
        if self._spec()["save_format"] == "xgboost":
            with atomic_path(folder / "model.json") as tmp:
                self.estimator_.save_model(tmp)
        else:
            with atomic_path(folder / "model.joblib") as tmp:
                joblib.dump(self.estimator_, tmp)
        write_json(folder / "method.json", meta)

    @classmethod
    def load(cls, folder) -> ClassicalMethod:
        import joblib

        folder = Path(folder)
        meta = read_json(folder / "method.json", what="saved method description")
        method = cls(meta["name"], meta["params"], seed=meta["seed"])
        method.class_weight = meta.get("class_weight", "none")
        method.classes_ = np.asarray(meta["classes"])
        method.best_params_ = meta["params"]
        method.history_ = []
        if meta.get("threshold") is not None:
            method.set_threshold(meta["threshold"])
        if spec(meta["name"])["save_format"] == "xgboost":
            from xgboost import XGBClassifier

            method.estimator_ = XGBClassifier()
            method.estimator_.load_model(folder / "model.json")
        else:
            method.estimator_ = joblib.load(folder / "model.joblib")
        return method


def _checked(x, y, part: str, n_features: int | None = None):
    """A 2-D feature matrix and integer labels of the same length."""
    x, y = np.asarray(x), np.asarray(y, int)
    if x.ndim != 2 or len(x) != len(y) or (n_features is not None and x.shape[1] != n_features):
        want = f"(N, {n_features})" if n_features is not None else "(N, n_features)"
        msg = (
            f"{part} part: expected a feature matrix {want} and N labels, "
            f"got shapes {x.shape} and {y.shape}"
        )
        raise ShapeMismatchError(msg)
    return x, y


def _leaf_params(estimator) -> dict:
    """Parameters of a Pipeline's final step (or of a plain estimator)."""
    return getattr(estimator, "steps", [[None, estimator]])[-1][1].get_params()


def _jsonable(d: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
