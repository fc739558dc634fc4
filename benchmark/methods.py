"""One registry and one contract for everything the runner trains, baseline or CNN alike.

The classical baselines (``baselines/``) and the CNNs (``deep/``) register here, so
a name is unique across both kinds.  Each entry's target is the estimator factory
(baselines) or the Keras model builder (CNNs); its metadata say which
:class:`Method` class trains it and what that class needs to know::

    kind            "classical" or "deep"
    input           "features" (a feature matrix) or "images" (N, H, W, C)
    method_class    "module:Class", a subclass of :class:`Method`
    search_space    candidate hyperparameters tried on the validation part (baselines)
    sample_weight   the estimator takes balanced ``sample_weight`` in ``fit`` (baselines)
    save_format     how :meth:`Method.save` stores the fitted model

``methods.create(name, params, seed=...)`` returns an unfitted method; the runner
uses nothing but the contract below and never looks inside a method.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ._registry import Entry, Registry, import_target

__all__ = ["INPUTS", "METHODS", "Method", "available", "create", "load", "spec"]

#: Every trainable method, by name.
METHODS = Registry("method")

#: What a method declares it trains on.
INPUTS = ("features", "images")

#: Packages whose ``__init__`` registers methods (they import nothing heavy).
PLUGIN_PACKAGES = ("baselines", "deep")


def _registry() -> Registry:
    for package in PLUGIN_PACKAGES:
        importlib.import_module(package)
    return METHODS


def available(*, kind: str | None = None) -> list[str]:
    """Names of the registered methods (of one ``kind`` when given)."""
    where = {} if kind is None else {"kind": kind}
    return _registry().names(**where)


def spec(name: str) -> Entry:
    """The registry entry of method ``name`` (nothing is imported)."""
    return _registry().spec(name)


def create(name: str, params: dict | None = None, *, seed: int = 0, **options) -> Method:
    """An unfitted :class:`Method` for the registered ``name``.

    Parameters
    ----------
    name : str
    params : dict, optional
        The method's hyperparameters (and, for CNNs, training settings).
    seed : int
    **options
        Run settings every method accepts (see :class:`Method`).
    """
    entry = spec(name)
    cls = import_target(entry["method_class"], what=f"method {name!r}")
    return cls(name, params, seed=seed, **options)


def load(folder) -> Method:
    """A fitted method from the folder :meth:`Method.save` wrote."""
    from ._io import read_json

    meta = read_json(Path(folder) / "method.json", what="saved method description")
    return import_target(spec(meta["name"])["method_class"], what="saved method").load(folder)


class Method:
    """The contract of a trainable method (scikit-learn conventions).

    ``__init__`` only stores its arguments; :meth:`fit` returns ``self`` and sets
    ``classes_``; learned attributes end in ``_``.

    Parameters
    ----------
    name : str
        The registered name.
    params : dict, optional
        Hyperparameters fixed by the experiment.
    seed : int
        Seeds every random choice of the method.
    n_candidates : int
        Hyperparameter candidates tried on the validation part besides the defaults
        (methods that tune; a fixed, seeded set).
    class_weight : {"balanced", "none"}
        How class imbalance is treated: ``balanced`` gives every class the same total
        weight (class weights, equal priors or balanced sampling, as the method allows).
    work_dir : path, optional
        Where a method that checkpoints keeps its state while it trains, so an
        interrupted fit resumes there.
    progress : bool
        Show progress while fitting.
    """

    #: "classical" or "deep"
    kind: ClassVar[str] = ""
    #: "features" or "images": what ``fit`` and ``predict_proba`` take
    input: ClassVar[str] = "features"

    def __init__(
        self,
        name: str,
        params: dict | None = None,
        *,
        seed: int = 0,
        n_candidates: int = 0,
        class_weight: str = "balanced",
        work_dir=None,
        progress: bool = False,
    ):
        self.name = name
        self.params = dict(params or {})
        self.seed = int(seed)
        self.n_candidates = int(n_candidates)
        self.class_weight = class_weight
        self.work_dir = work_dir
        self.progress = progress

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn's ``get_params``)."""
        return {
            "name": self.name,
            "params": dict(self.params),
            "seed": self.seed,
            "n_candidates": self.n_candidates,
            "class_weight": self.class_weight,
            "work_dir": self.work_dir,
            "progress": self.progress,
        }

    def validate(self, *, n_train: int, n_classes: int, input_shape: tuple) -> None:
        """Check the parameters against the data before anything runs (no fitting).

        ``input_shape`` is the shape of one sample: (n_features,) or (H, W, C).

        Raises
        ------
        ConfigError
            Naming the parameter and what is wrong with it.
        """

    def fit(self, x_train, y_train, x_val, y_val) -> Method:
        """Train on ``x_train`` (integer labels 0..K-1); tune or early-stop on ``x_val``."""
        raise NotImplementedError

    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities, shape (N, K), rows summing to one."""
        raise NotImplementedError

    def set_threshold(self, threshold: float | None) -> Method:
        """The decision threshold on the positive-class score of a binary task."""
        self.threshold_ = 0.5 if threshold is None else float(threshold)
        return self

    def predict(self, x) -> np.ndarray:
        """Class indices (binary: score at or above ``threshold_``, 0.5 by default)."""
        proba = self.predict_proba(x)
        if proba.shape[1] == 2:
            return (proba[:, 1] >= getattr(self, "threshold_", 0.5)).astype(int)
        return proba.argmax(axis=1)

    def summary(self) -> dict[str, Any]:
        """What records and reports need of the fitted method.

        Keys: ``method_params`` (the parameters used, tuned ones included),
        ``class_weight``, ``tuning`` (candidates tried and their validation scores),
        ``importances`` (per input feature, or None), ``n_parameters``, ``history``,
        ``best_epoch`` and ``budget_limited`` (CNNs), ``threshold``, and ``timings``
        (wall-clock figures, kept apart from the deterministic rest).
        """
        return {"method_params": dict(self.params), "threshold": getattr(self, "threshold_", None)}

    def explain(self, x, y) -> dict[str, np.ndarray] | None:
        """Arrays that show what the method looks at for samples ``x`` (None if nothing)."""
        return None

    def save(self, folder) -> None:
        """Write the fitted method to ``folder`` (``method.json`` names it)."""
        raise NotImplementedError

    @classmethod
    def load(cls, folder) -> Method:
        """The fitted method :meth:`save` wrote."""
        raise NotImplementedError
