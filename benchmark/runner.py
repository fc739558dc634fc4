"""Expand an experiment into runs and execute them under one saved split.

Runs are (feature set x method x seed).  Features are extracted once per
feature set (cached), then the runs train in parallel with joblib.  Each run
tunes on the validation part, chooses its threshold there, and is scored on
the test part; its record and predictions are written as soon as it ends.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .config import ExperimentConfig
from .metrics import (
    BINARY_HEADLINE,
    MULTICLASS_HEADLINE,
    binary_metrics,
    bootstrap_ci,
    choose_threshold,
    multiclass_metrics,
)
from .results import ResultsStore
from .splits import Split, make_split

__all__ = ["IMAGES", "run_experiment", "run_id"]

#: The "feature set" of deep models: the images themselves.
IMAGES = "images"

log = logging.getLogger(__name__)


def run_id(feature: str, method: str, seed: int) -> str:
    return f"{feature.replace('+', '-')}__{method}__seed{seed}"


def _score(proba, val_score, yva, yte, classes, run_cfg, seed) -> dict:
    """Threshold (binary: chosen on validation), test metrics and bootstrap CIs."""
    if len(classes) == 2:
        threshold = choose_threshold(
            yva, val_score, strategy=run_cfg.threshold, target_recall=run_cfg.target_recall
        )
        metrics = binary_metrics(yte, proba[:, 1], threshold)
        ci = (
            bootstrap_ci(
                yte,
                proba[:, 1],
                BINARY_HEADLINE,
                threshold=threshold,
                n_boot=run_cfg.n_bootstrap,
                seed=seed,
            )
            if run_cfg.n_bootstrap
            else {}
        )
    else:
        threshold = None
        metrics = multiclass_metrics(yte, proba, classes)
        ci = (
            bootstrap_ci(
                yte,
                proba,
                MULTICLASS_HEADLINE,
                classes=classes,
                n_boot=run_cfg.n_bootstrap,
                seed=seed,
            )
            if run_cfg.n_bootstrap
            else {}
        )
    return {"threshold": threshold, "metrics": metrics, "ci": ci}


def _train_and_score(method, params, seed, run_cfg, data, classes):
    """A classical baseline on one feature set's matrices."""
    from baselines.method import ClassicalMethod

    xtr, ytr, xva, yva, xte, yte = data
    t0 = time.perf_counter()
    model = ClassicalMethod(method, params, tune_budget=run_cfg.tune_budget, seed=seed)
    model.fit(xtr, ytr, xva, yva)
    fit_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    proba = model.predict_proba(xte)
    predict_s = time.perf_counter() - t1
    val_score = model.predict_proba(xva)[:, 1] if len(classes) == 2 and len(yva) else np.empty(0)
    importances = None
    est = getattr(model.estimator_, "steps", [[None, model.estimator_]])[-1][1]
    if hasattr(est, "feature_importances_"):
        importances = np.asarray(est.feature_importances_, float).tolist()
    info = {
        "importances": importances,
        "method_params": model.best_params_,
        "tuning": model.history_,
        **_score(proba, val_score, yva, yte, classes, run_cfg, seed),
        "timings": {"fit_s": fit_s, "predict_per_s": len(yte) / max(predict_s, 1e-9)},
    }
    return info, proba


def _rows_of(images, index):
    """The images at ``index``: a lazy view for lazy arrays, a copy for NumPy arrays."""
    return (
        images.take(index)
        if hasattr(images, "take") and not isinstance(images, np.ndarray)
        else images[index]
    )


def _train_deep(method, params, seed, run_cfg, dataset, split, classes, work, run_dir, progress):
    """A deep model on the images; saves the model, its history and its explanations."""
    import dataclasses

    from deep.explain import explain
    from deep.method import DeepMethod

    labels = dataset.labels
    yva, yte = labels[split.val], labels[split.test]
    model = DeepMethod(method, params, seed=seed, work_dir=work, progress=progress)
    t0 = time.perf_counter()
    model.fit(
        _rows_of(dataset.images, split.train),
        labels[split.train],
        _rows_of(dataset.images, split.val),
        yva,
    )
    fit_s = time.perf_counter() - t0
    x_test = _rows_of(dataset.images, split.test)
    t1 = time.perf_counter()
    proba = model.predict_proba(x_test)
    predict_s = time.perf_counter() - t1
    binary = len(classes) == 2
    val_score = (
        model.predict_proba(_rows_of(dataset.images, split.val))[:, 1]
        if binary and len(yva)
        else np.empty(0)
    )
    scored = _score(proba, val_score, yva, yte, classes, run_cfg, seed)
    model.threshold_ = scored["threshold"] if scored["threshold"] is not None else 0.5
    model.save(run_dir / "model")
    pick = _explain_indices(yte, len(classes))
    explanation = explain(model, np.asarray(x_test[np.sort(pick)]), yte[np.sort(pick)])
    _save_npz(run_dir / "explain.npz", explanation)
    info = {
        "importances": None,
        "method_params": {**model.params_, **dataclasses.asdict(model.settings_)},
        "tuning": [],
        "history": model.history_,
        "best_epoch": model.best_epoch_,
        "n_parameters": int(model.model_.count_params()),
        **scored,
        "timings": {
            "fit_s": fit_s,
            "predict_per_s": len(yte) / max(predict_s, 1e-9),
            "epochs": len(model.history_),
            "train_images_per_s": _train_rate(model.history_, len(split.train)),
        },
    }
    shutil.rmtree(work, ignore_errors=True)
    return info, proba


def _train_rate(history, n):
    epochs = [h["epoch_s"] for h in history if "epoch_s" in h]
    return float(n / np.median(epochs[1:] or epochs)) if epochs else None


def _explain_indices(y, n_classes, per_class: int = 2) -> np.ndarray:
    """The first ``per_class`` test samples of each class."""
    return np.concatenate([np.flatnonzero(y == k)[:per_class] for k in range(n_classes)])


def _save_npz(path, arrays: dict) -> None:
    import io

    from .results import atomic_write

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write(path, buf.getvalue())


def run_experiment(
    config: ExperimentConfig,
    *,
    out=None,
    jobs: int = 1,
    force: bool = False,
    progress: bool = True,
) -> ResultsStore:
    """Run every pending run of ``config``; return the results store.

    Parameters
    ----------
    config : ExperimentConfig
    out : path, optional
        Results folder (default ``results/<experiment name>``).
    jobs : int
        Parallel runs (and feature-extraction threads); -1 uses every core.
    force : bool
        Redo finished runs, and replace another experiment's results in ``out``.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    import features as feature_sets

    store = ResultsStore.open(Path(out or Path("results") / config.name), config, force=force)
    dataset = config.dataset.load(progress=progress)
    started = time.perf_counter()
    if not dataset.is_labelled:
        from .errors import ConfigError

        msg = f"dataset {dataset.name!r} has unlabelled samples; give labels to benchmark it"
        raise ConfigError(msg)
    if store.split_path.exists():
        split = Split.load(store.split_path, dataset)
    else:
        split = make_split(
            dataset,
            seed=config.split.seed,
            test_size=config.split.test_size,
            val_size=config.split.val_size,
        )
        split.save(store.split_path)
    classes = list(dataset.classes)
    labels = dataset.labels
    test_truth = _test_truth(dataset, split)
    if not (store.root / "dataset.json").exists():
        _save_dataset_summary(store, dataset, split)
    import deep

    deep_methods = [m for m in config.methods if m in deep.available()]
    classical = [m for m in config.methods if m not in deep_methods]
    runs = [(f, m, s) for f in config.features for m in classical for s in range(config.run.seeds)]
    runs += [(IMAGES, m, s) for m in deep_methods for s in range(config.run.seeds)]
    pending = [r for r in runs if not store.has(run_id(*r))]
    log.info(
        "%s: %d runs, %d to do (split %s: %s)",
        config.name,
        len(runs),
        len(pending),
        split.id,
        ", ".join(f"{k} {v}" for k, v in split.sizes().items()),
    )
    simulated = bool(
        dataset.provenance.get("simulated") or dataset.provenance.get("parent", {}).get("simulated")
    )
    bar = tqdm(total=len(pending), desc=config.name, unit="run", disable=None if progress else True)
    n_jobs = jobs if jobs != 0 else 1
    feature_jobs = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    common = {
        "schema": 1,
        "experiment": config.name,
        "config_hash": config.hash,
        "dataset": dataset.name,
        "fingerprint": dataset.fingerprint,
        "simulated": simulated,
        "scheme": dataset.scheme,
        "classes": classes,
        "split_id": split.id,
        "sizes": split.sizes(),
    }

    def finish(f, m, s, info, proba, extra):
        record = {**common, "run_id": run_id(f, m, s), **extra, "method": m, "seed": s, **info}
        preds = pd.DataFrame({"id": dataset.ids[split.test], "y_true": labels[split.test]})
        for k in range(proba.shape[1]):
            preds[f"score_{k}"] = proba[:, k].astype(np.float32)
        for col, values in test_truth.items():
            preds[col] = values
        store.write_run(record["run_id"], record, preds)
        _save_wrong_examples(store, record["run_id"], dataset, split, proba)
        bar.update(1)

    for feature in config.features:
        todo = [r for r in pending if r[0] == feature]
        if not todo:
            continue
        t0 = time.perf_counter()
        parts, names, fitted = feature_sets.extract(
            feature, dataset, split, params=dict(config.features[feature]), n_jobs=feature_jobs
        )
        feature_s = time.perf_counter() - t0
        _save_feature_summary(store, feature, fitted)
        data = (
            parts["train"],
            labels[split.train],
            parts["val"],
            labels[split.val],
            parts["test"],
            labels[split.test],
        )
        work = (
            delayed(_train_and_score)(m, dict(config.methods[m]), s, config.run, data, classes)
            for _, m, s in todo
        )
        runner = Parallel(n_jobs=n_jobs, return_as="generator")
        for (f, m, s), (info, proba) in zip(todo, runner(work)):
            info["timings"]["features_s"] = feature_s
            if info["importances"] is not None:
                order = np.argsort(info["importances"])[::-1][:20]
                info["importances"] = {str(names[i]): info["importances"][i] for i in order}
            extra = {
                "kind": "classical",
                "feature": f,
                "feature_params": dict(config.features[f]),
                "n_features": int(parts["train"].shape[1]),
            }
            finish(f, m, s, info, proba, extra)
    # deep models train one after another on the images, each using every core
    for f, m, s in [r for r in pending if r[0] == IMAGES]:
        rid = run_id(f, m, s)
        info, proba = _train_deep(
            m,
            dict(config.methods[m]),
            s,
            config.run,
            dataset,
            split,
            classes,
            work=store.root / "work" / rid,
            run_dir=store.run_dir(rid),
            progress=progress,
        )
        extra = {
            "kind": "deep",
            "feature": IMAGES,
            "feature_params": {},
            "n_features": int(np.prod(dataset.shape[1:])),
        }
        finish(f, m, s, info, proba, extra)
    bar.close()
    store.write_index()
    log.info("%s: finished in %.1f s", config.name, time.perf_counter() - started)
    return store


def _test_truth(dataset, split) -> dict:
    """Per-test-sample truth kept beside the predictions: finest class, SNR (simulations)."""
    out = {}
    tax = dataset.taxonomy
    if tax.base != dataset.scheme:
        names = np.asarray(tax.classes(tax.base), dtype=object)
        out["fine_class"] = names[dataset.base_labels[split.test]].astype(str)
    for col in ("snr", "true_class"):
        if col in dataset.meta:
            out[col] = dataset.meta[col].to_numpy()[split.test]
    return out


def _save_dataset_summary(store, dataset, split) -> None:
    """Counts per taxonomy level, split sizes and example images per class (for the report)."""
    import json

    from .results import atomic_write

    counts = {s: dataset.relabel(s).counts() for s in dataset.taxonomy.schemes}
    summary = {
        "name": dataset.name,
        "fingerprint": dataset.fingerprint,
        "shape": list(dataset.shape),
        "channels": list(dataset.channels),
        "scheme": dataset.scheme,
        "classes": list(dataset.classes),
        "counts": counts,
        "split": {"id": split.id, "method": split.method, **split.sizes()},
        "simulated": bool(
            dataset.provenance.get("simulated")
            or dataset.provenance.get("parent", {}).get("simulated")
        ),
        "provenance": dataset.provenance,
    }
    atomic_write(store.root / "dataset.json", json.dumps(summary, indent=1, default=str))
    rng = np.random.default_rng(0)
    pick = []
    for k in range(len(dataset.classes)):
        members = split.test[dataset.labels[split.test] == k]
        pick.extend(sorted(rng.choice(members, min(8, len(members)), replace=False).tolist()))
    _save_images(store.root / "examples.npz", dataset, np.asarray(pick, int))


def _save_images(path, dataset, idx) -> None:
    _save_npz(
        path,
        {
            "images": np.asarray(dataset.images[idx], np.float16),
            "ids": dataset.ids[idx].astype(str),
            "labels": dataset.labels[idx],
        },
    )


def _save_wrong_examples(store, rid, dataset, split, proba, k: int = 8) -> None:
    """The ``k`` most confidently wrong test images of a run."""
    y = dataset.labels[split.test]
    confidence_wrong = np.where(proba.argmax(axis=1) != y, proba.max(axis=1), -1)
    worst = np.argsort(-confidence_wrong)[:k]
    worst = worst[confidence_wrong[worst] >= 0]
    _save_images(store.run_dir(rid) / "wrong.npz", dataset, split.test[worst])


def _save_feature_summary(store, feature, fitted) -> None:
    """Scree and eigen-images of PCA features (for the report)."""
    pca = fitted if hasattr(fitted, "eigen_images_") else getattr(fitted, "pca_", None)
    if pca is None or not hasattr(pca, "eigen_images_"):
        return
    _save_npz(
        store.root / "features" / f"{feature.replace('+', '-')}.npz",
        {
            "explained": pca.explained_variance_ratio_,
            "eigen": pca.eigen_images_[:8].astype(np.float16),
        },
    )
