"""Prepare an experiment: load the data, make the split and check everything, writing nothing.

:func:`prepare` runs before a results folder is created or replaced, so that a
bad configuration, unusable data or a split that leaves a class out stops the
run with one line while every existing file stays as it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import methods
from .errors import ConfigError
from .splits import PARTS, Split, default_group_column, make_split, training_subsets

__all__ = ["Setup", "check_split", "dataset_summary", "prepare"]

log = logging.getLogger(__name__)

_PART_NAMES = {"train": "training", "val": "validation", "test": "test"}


@dataclass
class Setup:
    """The loaded data and split of an experiment, and what every record shares."""

    dataset: object  # benchmark.datasets.Dataset
    split: Split
    common: dict = field(default_factory=dict)

    @property
    def classes(self) -> tuple:
        return tuple(self.dataset.classes)

    @property
    def simulated(self) -> bool:
        prov = self.dataset.provenance
        return bool(prov.get("simulated") or prov.get("parent", {}).get("simulated"))


def _check_labels(dataset) -> None:
    if not dataset.is_labelled:
        msg = f"dataset {dataset.name!r} has unlabelled samples; give labels to benchmark it"
        raise ConfigError(msg)
    present = [c for c, n in dataset.counts().items() if n > 0]
    if len(present) < 2:
        msg = (
            f"dataset {dataset.name!r} holds one class only ({', '.join(present) or 'none'}); "
            f"a classifier needs at least two: check the labels, the scheme or drop_classes"
        )
        raise ConfigError(msg)


def _without_empty_classes(dataset):
    """The dataset without the classes of its scheme that hold no sample (e.g. no merger
    left after a vote-purity cut): no method can learn or be scored on them."""
    empty = [c for c, n in dataset.counts().items() if n == 0]
    if not empty:
        return dataset
    log.warning(
        "no sample of class %s in the data: left out of the classes compared",
        ", ".join(repr(c) for c in empty),
    )
    return dataset.drop_classes(empty)


def check_split(dataset, split: Split) -> None:
    """Every part holds samples, and every class appears in every part.

    Raises
    ------
    ConfigError
        Naming the empty part, or the class and the part it is missing from.
    """
    labels = dataset.labels
    counts = dataset.counts()
    for part in PARTS:
        index = getattr(split, part)
        if len(index) == 0:
            msg = f"the split leaves the {_PART_NAMES[part]} part empty; check test_size / val_size"
            raise ConfigError(msg)
        present = set(np.unique(labels[index]).tolist())
        for k, name in enumerate(dataset.classes):
            if counts.get(name, 0) and k not in present:
                msg = (
                    f"class {name!r} has {counts[name]} example(s), none in the "
                    f"{_PART_NAMES[part]} part; every class needs examples in the training, "
                    f"validation and test parts: add examples or leave the class out "
                    f"(drop_classes = [{name!r}])"
                )
                raise ConfigError(msg)


def _smallest_train(split) -> int:
    sizes = [len(ix) for per_seed in split.subsets.values() for ix in per_seed.values()]
    return min([len(split.train), *sizes])


def _check_methods(config, dataset, split) -> None:
    n_classes = len(dataset.classes)
    for name, params in config.methods.items():
        method = methods.create(name, dict(params))
        method.validate(
            n_train=_smallest_train(split),
            n_classes=n_classes,
            input_shape=tuple(dataset.shape[1:]),
        )


def with_subsets(config, dataset, split: Split) -> Split:
    """``split`` with the nested training subsets of ``[run] train_sizes`` for every seed
    (kept when the saved split already holds them)."""
    import dataclasses

    sizes = [s for s in config.run.train_sizes if float(s) != 1.0]
    if not sizes:
        return split
    group = default_group_column(dataset, config.split.group_column)
    subsets = {
        str(seed): training_subsets(split, dataset, sizes, seed=seed, group_column=group)
        for seed in range(config.run.seeds)
    }
    if split.subsets:
        missing = [
            (seed, size)
            for seed, per in subsets.items()
            for size in per
            if size not in split.subsets.get(seed, {})
        ]
        if not missing:
            return split
    return dataclasses.replace(split, subsets=subsets)


def _check_features(config, dataset, split) -> None:
    import features

    from .runs import SHORTCUT

    for name, params in {SHORTCUT[0]: {}, **config.features}.items():
        features.validate(
            name, dict(params), image_shape=dataset.shape[1:], n_train=_smallest_train(split)
        )


def prepare(config, *, saved_split=None, progress: bool = True) -> Setup:
    """Load the data, make (or read back) the split and check the methods against them.

    Parameters
    ----------
    config : ExperimentConfig
    saved_split : path, optional
        The split of an experiment being resumed (checked against the data).
    progress : bool

    Raises
    ------
    ConfigError, SplitMismatchError, and the loaders' errors
        For anything that would stop the experiment later.
    """
    dataset = config.dataset.load(progress=progress)
    _check_labels(dataset)
    dataset = _without_empty_classes(dataset)
    if saved_split is not None and Path(saved_split).is_file():
        split = Split.load(saved_split, dataset)
    else:
        split = make_split(
            dataset,
            seed=config.split.seed,
            test_size=config.split.test_size,
            val_size=config.split.val_size,
            group_column=config.split.group_column,
        )
    check_split(dataset, split)
    split = with_subsets(config, dataset, split)
    _check_features(config, dataset, split)
    _check_methods(config, dataset, split)
    setup = Setup(dataset, split)
    setup.common = {
        "schema": 1,
        "experiment": config.name,
        "config_hash": config.hash,
        "dataset": dataset.name,
        "fingerprint": dataset.fingerprint,
        "simulated": setup.simulated,
        "scheme": dataset.scheme,
        "classes": list(dataset.classes),
        "split_id": split.id,
        "sizes": split.sizes(),
    }
    return setup


def dataset_summary(setup: Setup) -> tuple[dict, dict]:
    """The data summary and random test examples per class, for the report."""
    dataset, split = setup.dataset, setup.split
    summary = {
        "name": dataset.name,
        "fingerprint": dataset.fingerprint,
        "shape": list(dataset.shape),
        "channels": list(dataset.channels),
        "scheme": dataset.scheme,
        "classes": list(dataset.classes),
        "counts": {s: dataset.relabel(s).counts() for s in dataset.taxonomy.schemes},
        "split": {"id": split.id, "method": split.method, **split.sizes()},
        "simulated": setup.simulated,
        "provenance": dataset.provenance,
    }
    rng = np.random.default_rng(0)
    pick = []
    for k in range(len(dataset.classes)):
        members = split.test[dataset.labels[split.test] == k]
        pick.extend(sorted(rng.choice(members, min(8, len(members)), replace=False).tolist()))
    return summary, image_arrays(dataset, np.asarray(pick, int))


def image_arrays(dataset, index) -> dict:
    """Images (float16), ids and labels of the samples at ``index``, for the store."""
    index = np.asarray(index, int)
    return {
        "images": np.asarray(dataset.images[index], np.float16),
        "ids": dataset.ids[index].astype(str),
        "labels": dataset.labels[index],
    }


def test_truth(setup: Setup) -> dict:
    """Per-test-sample truth kept beside the predictions: finest class, SNR (simulations)."""
    dataset, test = setup.dataset, setup.split.test
    out = {}
    tax = dataset.taxonomy
    if tax.base != dataset.scheme:
        names = np.asarray(tax.classes(tax.base), dtype=object)
        out["fine_class"] = names[dataset.base_labels[test]].astype(str)
    for col in ("snr", "true_class"):
        if col in dataset.meta:
            out[col] = dataset.meta[col].to_numpy()[test]
    return out
