"""Run an experiment: plan → prepare → execute → record, under one saved split.

* :func:`benchmark.runs.plan` expands the config into :class:`~benchmark.runs.Run` values;
* :func:`benchmark.prepare.prepare` loads the data, makes the split and checks
  everything before a results folder is created or replaced;
* features are extracted once per feature set (cached), and an executor
  (:mod:`benchmark.executors`) runs :func:`benchmark.runs.execute` on each job;
* :func:`record` writes each outcome through the results store as soon as it
  arrives, so an interrupted experiment resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import methods
from .config import ExperimentConfig
from .executors import make_executor
from .locks import FolderLock
from .prepare import Setup, dataset_summary, image_arrays, prepare, test_truth
from .results import ResultsStore
from .review import label_review
from .runs import (
    IMAGES,
    SHORTCUT,
    Job,
    Outcome,
    RunData,
    StoredArray,
    execute,
    plan,
    run_id,
    size_label,
)

__all__ = ["IMAGES", "record", "run_experiment", "run_id"]

log = logging.getLogger(__name__)


def _rows_of(images, index):
    """The images at ``index``: a lazy view for lazy arrays, a copy for NumPy arrays."""
    if hasattr(images, "take") and not isinstance(images, np.ndarray):
        return images.take(index)
    return images[index]


def _data_inputs(config: ExperimentConfig) -> list:
    """Paths the experiment reads (an output folder may not hold them)."""
    source = Path(config.dataset.source)
    return [source] if source.exists() else []


def _image_data(setup: Setup, train=None, images=None) -> RunData:
    """The images of the split's parts (of ``images``, by default the data set's own)."""
    ds, split = setup.dataset, setup.split
    train = split.train if train is None else train
    images = ds.images if images is None else images
    labels = ds.labels
    return RunData(
        *(
            v
            for part in (train, split.val, split.test)
            for v in (_rows_of(images, part), labels[part])
        ),
        classes=setup.classes,
    )


def _feature_data(feature, config, setup, store, n_jobs, train=None):
    """Extract (or read from the cache) one feature set's matrices; save its summary.

    With ``train`` (a training subset of a sweep) an extractor that learns from data
    (PCA) is refitted on that subset alone; one that does not reuses the whole training
    part's features, keeping the subset's rows.
    """
    import features as feature_sets

    t0 = time.perf_counter()
    params = dict(config.features.get(feature, {}))
    split = setup.split
    refit = train is not None and feature_sets.learns_from_data(feature, params)
    parts, names, fitted = feature_sets.extract(
        feature,
        setup.dataset,
        split.with_train(train) if refit else split,
        params=params,
        n_jobs=n_jobs,
    )
    if train is None:
        _save_feature_summary(store, feature, fitted)
    elif not refit:
        parts = {**parts, "train": parts["train"][np.searchsorted(split.train, train)]}
    labels = setup.dataset.labels
    train = split.train if train is None else train
    data = RunData(
        parts["train"],
        labels[train],
        parts["val"],
        labels[split.val],
        parts["test"],
        labels[split.test],
        classes=setup.classes,
        feature_names=tuple(str(n) for n in names),
    )
    return data, time.perf_counter() - t0, fitted


def _save_feature_summary(store, feature, fitted) -> None:
    pca = fitted if hasattr(fitted, "eigen_images_") else getattr(fitted, "pca_", None)
    if pca is not None and hasattr(pca, "eigen_images_"):
        store.write_feature_summary(
            feature,
            {
                "explained": pca.explained_variance_ratio_,
                "eigen": pca.eigen_images_[:8].astype(np.float16),
            },
        )


def _model_inputs(config, setup, feature) -> dict:
    """What a saved model takes, for ``predict``: stamp shape, channel names, the
    preprocessing the data had, the feature set and the classes."""
    ds = setup.dataset
    return {
        "feature": feature,
        "feature_params": {} if feature == IMAGES else dict(config.features.get(feature, {})),
        "image_shape": [int(v) for v in ds.shape[1:]],
        "channels": list(ds.channels),
        "preprocess": dict(ds.provenance.get("preprocess", {})),
        "classes": list(ds.classes),
        "dataset": ds.name,
        "experiment": config.name,
    }


def _data_key(run) -> tuple:
    """Runs that share their input data: one feature set on one training (sub)set."""
    if run.train_size is None:
        return (run.feature, None, None)
    return (run.feature, run.train_size, run.seed)


def _jobs(key, pending, config, setup, store, feature_jobs, progress, shared=None):
    """The jobs of the pending runs that share one input (feature set, training subset).

    With ``shared`` (a remote executor: see :func:`_shared_images`) the jobs carry their
    data by reference: images as a lazy view of an HDF5 file, feature matrices as ``.npy``
    files in the store's work folder.
    """
    feature, size, seed = key
    runs = [r for r in pending if _data_key(r) == key]
    train = None if size is None else setup.split.subset(seed, size)
    if feature == IMAGES:
        data, features_s, fitted = _image_data(setup, train, shared), None, None
    else:
        data, features_s, fitted = _feature_data(feature, config, setup, store, feature_jobs, train)
        if shared is not None:
            data = _stored_features(data, store, runs[0])
    inputs = _model_inputs(config, setup, feature)
    jobs = []
    for run in runs:
        deep = methods.spec(run.method)["kind"] == "deep"
        save = deep or config.run.save_models == "all"
        work = str(store.work_dir(run.id).resolve()) if save else None
        jobs.append(
            Job(
                run,
                data,
                config.run,
                work,
                save_model=save,
                progress=progress and shared is None,
                extractor=fitted if save else None,
                inputs=inputs,
                features_s=features_s,
                share_dir=str(store.shared_dir().resolve()) if deep else None,
            )
        )
    return jobs


def _stored_features(data: RunData, store, run) -> RunData:
    """``data`` with its feature matrices saved in the store's work folder, by reference."""
    from ._io import atomic_path

    # one folder per input: the feature set, and for a sweep's subset its size and seed
    name = run.feature.replace("+", "-")
    if run.train_size is not None:
        name += f"__train{size_label(run.train_size)}__seed{run.seed}"
    folder = store.inputs_dir() / name
    parts = {}
    for part in ("x_train", "x_val", "x_test"):
        values = np.asarray(getattr(data, part))
        path = folder / f"{part}.npy"
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            np.save(fh, values)
        parts[part] = StoredArray(str(path.resolve()), tuple(values.shape))
    return dataclasses.replace(data, **parts)


def _shared_images(setup: Setup):
    """The data set's images where every worker can read them: the lazy HDF5 or file
    array itself, else (images in memory) an HDF5 file of them in astrobench's cache,
    keyed by the data set's fingerprint and written once."""
    from ._io import atomic_path, cache_root
    from .datasets.arrays import HDF5Images, LazyImages, iter_batches

    images = setup.dataset.images
    if isinstance(images, LazyImages):
        return images
    import h5py

    path = cache_root() / "stores" / f"images-{setup.dataset.fingerprint}.h5"
    if not path.is_file():
        with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
            out = f.create_dataset("images", shape=images.shape, dtype="<f4")
            for start, batch in iter_batches(images, 1024):
                out[start : start + len(batch)] = batch
    return HDF5Images(str(path.resolve()), "images")


def _outcomes(pending, config, setup, store, executor, jobs, progress):
    """Yield each pending run's outcome, one input (feature set and training subset) at a
    time: features first, images last, whole training part before the sweep's subsets.

    A remote executor gets every job at once, each with its data by reference."""
    feature_jobs = (os.cpu_count() or 1) if jobs < 0 else max(jobs, 1)
    keys = list(dict.fromkeys(_data_key(r) for r in pending))
    if keys and getattr(executor, "remote", False):
        shared = _shared_images(setup)
        todo = [
            job
            for key in keys
            for job in _jobs(key, pending, config, setup, store, feature_jobs, progress, shared)
        ]
        yield from executor.map(execute, todo)
        return
    for key in keys:
        todo = _jobs(key, pending, config, setup, store, feature_jobs, progress)
        yield from executor.map(execute, todo, heavy=key[0] == IMAGES)


def record(store: ResultsStore, setup: Setup, config: ExperimentConfig, outcome: Outcome) -> None:
    """Write one finished run: predictions, wrong examples, artefacts, then the record."""
    run, proba = outcome.run, outcome.proba
    ds, split = setup.dataset, setup.split
    images = run.feature == IMAGES
    record = {
        **setup.common,
        "run_id": run.id,
        "kind": methods.spec(run.method)["kind"],
        # a CNN with hand-crafted features: neither side of the CNN-vs-classical verdict
        "hybrid": bool(methods.spec(run.method).get("hybrid", False)),
        "feature": run.feature,
        "feature_params": {} if images else dict(config.features.get(run.feature, {})),
        "n_features": outcome.extra["n_features"],
        "method": run.method,
        "seed": run.seed,
        "shortcut_detector": (run.feature, run.method) == SHORTCUT,
        **_size_fields(run, split),
        **outcome.info,
    }
    preds = _scores(ds, split.test, proba)
    for col, values in test_truth(setup).items():
        preds[col] = values
    store.write_run(
        run.id,
        record,
        preds,
        val_predictions=_scores(ds, split.val, outcome.val_proba),
        wrong=_wrong_examples(setup, proba),
        explanation=outcome.explanation,
        model_from=outcome.model_dir,
    )


def _size_fields(run, split) -> dict:
    """``train_size`` and ``n_train`` of a sweep's run (nothing for an ordinary run, so
    records of experiments without a sweep are what they were)."""
    if run.train_size is None:
        return {"train_size": 1.0, "n_train": len(split.train)} if split.subsets else {}
    return {"train_size": run.train_size, "n_train": len(split.subset(run.seed, run.train_size))}


def _scores(dataset, index, proba) -> pd.DataFrame:
    """``id``, ``y_true`` and ``score_<k>`` of the samples at ``index``."""
    frame = pd.DataFrame({"id": dataset.ids[index], "y_true": dataset.labels[index]})
    for k in range(proba.shape[1]):
        frame[f"score_{k}"] = proba[:, k].astype(np.float32)
    return frame


def _wrong_examples(setup: Setup, proba, k: int = 8) -> dict:
    """The ``k`` most confidently wrong test images of a run."""
    y = setup.dataset.labels[setup.split.test]
    confidence_wrong = np.where(proba.argmax(axis=1) != y, proba.max(axis=1), -1)
    worst = np.argsort(-confidence_wrong)[:k]
    worst = worst[confidence_wrong[worst] >= 0]
    return image_arrays(setup.dataset, setup.split.test[worst])


def _write_label_review(store: ResultsStore, setup: Setup, k: int = 24) -> None:
    """Write the test images nearly every run misclassifies (:mod:`benchmark.review`) and
    the first ``k`` of them as images."""
    review = label_review(store)
    position = {str(i): n for n, i in enumerate(setup.dataset.ids)}
    index = [position[i] for i in review["id"][:k] if i in position]
    store.write_label_review(review, image_arrays(setup.dataset, index))


def run_experiment(
    config: ExperimentConfig,
    *,
    out=None,
    jobs: int = 1,
    force: bool = False,
    progress: bool = True,
    executor=None,
    scheduler: str | None = None,
    deep_resources: dict | None = None,
    inputs=(),
    finish=None,
) -> ResultsStore:
    """Run every pending run of ``config``; return the results store.

    Parameters
    ----------
    config : ExperimentConfig
    out : path, optional
        Results folder (default ``results/<experiment name>``).
    jobs : int
        Parallel runs and feature-extraction threads (-1: every core).
    force : bool
        Replace the folder's results (of this or another experiment) with new ones.
    executor : optional
        How runs are scheduled (default: :func:`benchmark.executors.make_executor`).
    scheduler : str, optional
        Run on a Dask cluster: ``tcp://HOST:PORT`` of a running scheduler, or ``local:N``
        for a ``LocalCluster`` of N workers (:class:`benchmark.executors.DaskExecutor`).
    deep_resources : dict, optional
        Dask worker resources each CNN run claims (e.g. ``{"GPU": 1}``).
    inputs : paths
        Files the command read (the experiment file); the results folder may not hold them.
    finish : callable, optional
        Called with the store after the last run, still under the folder's write lock
        (the command line writes the tables and the report there).

    Raises
    ------
    ResultsInUseError
        When another run is writing into the same folder (:mod:`benchmark.locks`).
    """
    started = time.perf_counter()
    own = executor is None
    executor = executor or make_executor(jobs, scheduler=scheduler, deep_resources=deep_resources)
    try:
        return _run_checked(config, out, jobs, force, progress, executor, inputs, finish, started)
    finally:
        if own and hasattr(executor, "close"):
            executor.close()


def _run_checked(config, out, jobs, force, progress, executor, inputs, finish, started):
    """:func:`run_experiment` once its executor exists: check, prepare, then run locked."""
    root = Path(out) if out else Path("results") / config.name
    inputs = [*inputs, *_data_inputs(config)]
    state = ResultsStore.check(root, config, force=force, inputs=inputs)
    if getattr(executor, "remote", False):
        executor.connect()  # an unreachable scheduler stops the run before data are read
    saved = ResultsStore(root).split_path if state == "resume" else None
    setup = prepare(config, saved_split=saved, progress=progress)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    try:
        with FolderLock(root):
            # checked again under the lock: another run may have written here meanwhile
            state = ResultsStore.check(root, config, force=force, inputs=inputs)
            store = _run_locked(config, setup, root, state, jobs, progress, executor, started)
            if finish is not None:
                finish(store)
            return store
    finally:
        if created and root.is_dir() and not any(root.iterdir()):
            root.rmdir()  # a start that failed leaves nothing behind


def _deep_info(config) -> dict | None:
    """The CNNs' backend and devices (``None`` for a classical-only experiment, which never
    imports Keras); warns when a GPU on the machine goes unused."""
    if not any(methods.spec(m)["kind"] == "deep" for m in config.methods):
        return None
    from deep.devices import backend_info

    info = backend_info()
    if info["warning"]:
        log.warning("%s", info["warning"])
    return info


def _run_locked(config, setup, root, state, jobs, progress, executor, started) -> ResultsStore:
    """The part of :func:`run_experiment` that writes, under the folder's lock."""
    from tqdm.auto import tqdm

    extra = {"deep": _deep_info(config)}
    if getattr(executor, "remote", False):
        extra["executor"] = executor.describe()
        log.info("running on the Dask cluster at %s", executor.scheduler)
    store = ResultsStore.create(root, config, state, extra=extra)
    if not store.split_path.is_file() or store.split().subsets != setup.split.subsets:
        store.write_split(setup.split)
    if store.dataset_summary() is None:
        store.write_dataset_summary(*dataset_summary(setup))
    runs = plan(config)
    pending = [r for r in runs if not store.has(r.id)]
    sizes = ", ".join(f"{k} {v}" for k, v in setup.split.sizes().items())
    log.info(
        "%s: %d runs, %d to do (split %s: %s)",
        config.name,
        len(runs),
        len(pending),
        setup.split.id,
        sizes,
    )
    bar = tqdm(total=len(pending), desc=config.name, unit="run", disable=None if progress else True)
    try:
        for outcome in _outcomes(pending, config, setup, store, executor, jobs, progress):
            record(store, setup, config, outcome)
            bar.update(1)
    finally:
        bar.close()
    store.clear_inputs()
    store.clear_shared()
    store.write_index()
    _write_label_review(store, setup)
    log.info("%s: finished in %.1f s", config.name, time.perf_counter() - started)
    return store
