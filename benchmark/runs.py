"""Runs: plain values naming one training, and the one function that executes a run.

:func:`plan` expands an experiment into :class:`Run` values (feature set, method,
parameters, seed).  :func:`execute` trains and scores one run from a :class:`Job`
(the run, its data and settings) and returns an :class:`Outcome`; it is the same
function whatever executes it (in this process, in joblib workers, on a cluster),
writes nothing but the run's own work folder, and never looks inside a method.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import methods
from .metrics import (
    BINARY_HEADLINE,
    MULTICLASS_HEADLINE,
    binary_metrics,
    bootstrap_ci,
    choose_threshold,
    multiclass_metrics,
)
from .splits import size_label

__all__ = [
    "IMAGES",
    "SHORTCUT",
    "Job",
    "Outcome",
    "Run",
    "RunData",
    "StoredArray",
    "execute",
    "plan",
    "run_id",
]

#: The "feature set" of methods that train on the images themselves.
IMAGES = "images"


def run_id(feature: str, method: str, seed: int, train_size=None) -> str:
    """The folder name of a run: ``<feature>__<method>__seed<k>``, or
    ``<feature>__<method>__train<size>__seed<k>`` on a training subset of a sweep."""
    size = "" if train_size is None else f"__train{size_label(train_size)}"
    return f"{feature.replace('+', '-')}__{method}{size}__seed{seed}"


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


@dataclass(frozen=True)
class Run:
    """One training of one method on one feature set with one seed (hashable, picklable).

    ``train_size`` is ``None`` for the whole training part, else the size of the nested
    training subset of a learning-curve sweep (see :func:`benchmark.splits.training_subsets`).
    """

    feature: str
    method: str
    params: tuple = ()
    seed: int = 0
    train_size: float | int | None = None

    @property
    def id(self) -> str:
        return run_id(self.feature, self.method, self.seed, self.train_size)

    def param_dict(self) -> dict:
        """The method's parameters (nested tables come back as sorted pairs)."""
        return {k: (dict(v) if _is_pairs(v) else v) for k, v in self.params}


def _is_pairs(value) -> bool:
    return (
        isinstance(value, tuple)
        and bool(value)
        and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in value)
    )


#: The shortcut detector every experiment trains: logistic regression on the
#: ``trivial`` image statistics (see :mod:`features.trivial`).
SHORTCUT = ("trivial", "logreg")


def plan(config) -> list[Run]:
    """Every run of ``config``: methods on features (each feature set) or images, per seed.

    Methods that take features come first, grouped by feature set; methods that take
    images follow.  The shortcut detector (:data:`SHORTCUT`) is always among them.  With
    ``[run] train_sizes`` every run but the shortcut detector's is repeated on each
    smaller training subset, smallest last (after the whole-training-part runs that the
    comparison table needs).
    """
    seeds = range(config.run.seeds)
    on_features, on_images = [], []
    for name, params in config.methods.items():
        if methods.spec(name)["input"] == "images":
            on_images += [Run(IMAGES, name, _frozen(dict(params)), s) for s in seeds]
        else:
            on_features.append((name, _frozen(dict(params))))
    runs = [
        Run(feature, name, params, s)
        for feature in config.features
        for name, params in on_features
        for s in seeds
    ]
    feature, method = SHORTCUT
    if not any((r.feature, r.method) == SHORTCUT for r in runs):
        runs += [Run(feature, method, (), s) for s in seeds]
    full = runs + on_images
    subsets = [s for s in config.run.train_sizes if float(s) != 1.0]
    swept = [r for r in full if (r.feature, r.method) != SHORTCUT]
    for size in sorted(subsets, key=float, reverse=True):
        full += [dataclasses.replace(r, train_size=size) for r in swept]
    return full


@dataclass(frozen=True)
class StoredArray:
    """An array saved as ``.npy`` that whoever executes the run reads (data by reference)."""

    path: str
    shape: tuple

    def __len__(self) -> int:
        return int(self.shape[0])

    def load(self) -> np.ndarray:
        return np.load(self.path)


def _in_memory(x):
    """A part given by reference, read: a :class:`StoredArray`, or a lazy view of images
    that fits the loaders' eager limit (a larger one stays lazy, read batch by batch)."""
    from .datasets import _build
    from .datasets.arrays import LazyImages

    if isinstance(x, StoredArray):
        return x.load()
    if isinstance(x, LazyImages) and 4 * int(np.prod(x.shape)) <= _build.EAGER_LIMIT_BYTES:
        return np.asarray(x)
    return x


@dataclass(frozen=True)
class RunData:
    """The inputs of a run: train / validation / test parts and their integer labels.

    The ``x`` parts are arrays, lazy views of images, or :class:`StoredArray` references
    (what a remote executor sends); :meth:`in_memory` reads the references.
    """

    x_train: Any
    y_train: np.ndarray
    x_val: Any
    y_val: np.ndarray
    x_test: Any
    y_test: np.ndarray
    classes: tuple
    feature_names: tuple | None = None

    def in_memory(self) -> RunData:
        return dataclasses.replace(
            self,
            x_train=_in_memory(self.x_train),
            x_val=_in_memory(self.x_val),
            x_test=_in_memory(self.x_test),
        )


@dataclass(frozen=True)
class Job:
    """Everything :func:`execute` needs: picklable, so any executor can send it anywhere."""

    run: Run
    data: RunData
    settings: Any  # benchmark.config.RunConfig
    work_dir: str | None = None
    save_model: bool = False
    progress: bool = False
    extractor: Any = None  # the fitted feature extractor (saved with the model)
    inputs: dict = field(default_factory=dict)  # what the model takes (saved as input.json)
    features_s: float | None = None  # time the feature set took (recorded in timings)
    share_dir: str | None = None  # where CNNs trained for one run wait for another (deep)

    @property
    def heavy(self) -> bool:
        """A CNN's run: it uses every core (or a GPU) by itself."""
        return self.run.feature == IMAGES


@dataclass
class Outcome:
    """What a run produced: the record's fields, test and validation probabilities, artefacts."""

    run: Run
    info: dict
    proba: np.ndarray
    explanation: dict | None = None
    model_dir: Path | None = None
    val_proba: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


def score(proba, val_score, y_val, y_test, classes, settings, seed) -> dict:
    """Threshold (binary: chosen on validation), test metrics and bootstrap CIs."""
    binary = len(classes) == 2
    threshold = None
    if binary:
        threshold = choose_threshold(
            y_val, val_score, strategy=settings.threshold, target_recall=settings.target_recall
        )
        metrics = binary_metrics(y_test, proba[:, 1], threshold)
    else:
        metrics = multiclass_metrics(y_test, proba, classes)
    ci = {}
    if settings.n_bootstrap:
        ci = bootstrap_ci(
            y_test,
            proba[:, 1] if binary else proba,
            (*BINARY_HEADLINE, "balanced_accuracy") if binary else MULTICLASS_HEADLINE,
            threshold=threshold,
            classes=None if binary else classes,
            n_boot=settings.n_bootstrap,
            seed=seed,
        )
    return {"threshold": threshold, "metrics": metrics, "ci": ci}


def _explain_indices(y, n_classes: int, per_class: int = 2) -> np.ndarray:
    """The first ``per_class`` test samples of each class, in index order."""
    return np.sort(np.concatenate([np.flatnonzero(y == k)[:per_class] for k in range(n_classes)]))


def _train_rate(epoch_s, n) -> float | None:
    """Training images per second, from the median epoch after the first (which compiles)."""
    return float(n / np.median(epoch_s[1:] or epoch_s)) if epoch_s else None


def _named_importances(values, names) -> dict | None:
    """The 20 largest importances by feature name."""
    if values is None or names is None:
        return None
    order = np.argsort(values)[::-1][:20]
    return {str(names[i]): float(values[i]) for i in order}


def save_for_predict(method, folder: Path, job: Job, threshold) -> None:
    """The fitted method, its fitted feature extractor and ``input.json`` (what it takes:
    stamp shape, channels, preprocessing, classes, threshold), for ``predict``."""
    from ._io import atomic_path, write_json

    method.save(folder)
    if job.extractor is not None:
        import joblib

        with atomic_path(folder / "features.joblib") as tmp:
            joblib.dump(job.extractor, tmp)
    write_json(
        folder / "input.json",
        {**job.inputs, "run_id": job.run.id, "method": job.run.method, "threshold": threshold},
    )


def execute(job: Job) -> Outcome:
    """Train, threshold and score one run; save its model into its work folder if asked."""
    run, d, settings = job.run, job.data.in_memory(), job.settings
    method = methods.create(
        run.method,
        run.param_dict(),
        seed=run.seed,
        n_candidates=settings.n_candidates,
        class_weight=settings.class_weight,
        work_dir=job.work_dir,
        progress=job.progress,
    )
    if job.share_dir:
        # a CNN trained for one run (galaxy-cnn seed 0) is kept for another that trains the
        # same one (a hybrid's backbone, an ensemble's first member)
        method.share_dir = job.share_dir
    if run.feature == IMAGES:  # a CNN's pretraining may follow the data's classes
        method.class_names = tuple(d.classes)
    t0 = time.perf_counter()
    method.fit(d.x_train, d.y_train, d.x_val, d.y_val)
    fit_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    proba = method.predict_proba(d.x_test)
    predict_s = time.perf_counter() - t1
    binary = len(d.classes) == 2
    val_proba = method.predict_proba(d.x_val) if len(d.y_val) else np.empty((0, len(d.classes)))
    val_score = val_proba[:, 1] if binary else np.empty(0)
    scored = score(proba, val_score, d.y_val, d.y_test, d.classes, settings, run.seed)
    method.set_threshold(scored["threshold"])
    summary = method.summary()
    pick = _explain_indices(d.y_test, len(d.classes))
    explanation = method.explain(np.asarray(d.x_test[pick]), d.y_test[pick])
    model_dir = None
    if job.save_model:
        model_dir = Path(job.work_dir) / "model"
        save_for_predict(method, model_dir, job, scored["threshold"])
    timings = {
        "fit_s": fit_s,
        "predict_per_s": len(d.y_test) / max(predict_s, 1e-9),
        **summary.get("timings", {}),
    }
    if summary.get("history"):
        timings["epochs"] = len(summary["history"])
        timings["train_images_per_s"] = _train_rate(timings.get("epoch_s"), len(d.y_train))
    if job.features_s is not None:
        timings["features_s"] = job.features_s
    info = {
        **{k: v for k, v in summary.items() if k not in ("threshold", "timings")},
        "importances": _named_importances(summary.get("importances"), d.feature_names),
        **scored,
        "timings": timings,
    }
    n_features = int(np.prod(np.shape(d.x_train)[1:]))
    return Outcome(
        run,
        info,
        proba,
        explanation,
        model_dir,
        val_proba=val_proba,
        extra={"n_features": n_features},
    )
