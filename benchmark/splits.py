"""Seeded, stratified train/validation/test splits, saved as JSON with the dataset fingerprint.

Defaults follow seed 001: 25% of the data for test and 30% of the remainder for
validation (52.5 / 22.5 / 25).  A split is made once per (dataset, seed) and
every method of a run uses it.  Predefined splits (folders, a ``split`` meta
column) are respected: their parts are never mixed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._io import read_json, write_json
from .datasets.container import Dataset
from .errors import ConfigError, DataFormatError, MissingPathError, SplitMismatchError
from .outputs import check_output_file, json_with_keys

__all__ = [
    "Split",
    "groups_cross_parts",
    "kfold",
    "make_split",
    "predefined",
    "size_label",
    "train_val_test",
    "training_subsets",
]

log = logging.getLogger(__name__)

SCHEMA = 1
PARTS = ("train", "val", "test")

#: Recognises a split file astrobench wrote (the write rule's ownership test).
is_split_file = json_with_keys("schema", "fingerprint", "method", *PARTS)


@dataclass(frozen=True)
class Split:
    """Index arrays of the train, validation and test parts of one dataset.

    Attributes
    ----------
    train, val, test : ndarray of int
        Sorted row indices into the dataset.
    ids : dict of str to list of str
        The sample ids of each part (so the split can be checked against the data).
    seed : int
    method : str
        ``stratified``, ``predefined`` or ``kfold``.
    fractions : dict
        ``test_size``, ``val_size`` (and ``k``, ``fold`` for k-fold).
    fingerprint : str
        Fingerprint of the dataset the split was made for.
    dataset : str
        Name of that dataset.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int
    method: str
    fingerprint: str
    dataset: str
    fractions: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    subsets: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Short content hash naming the split."""
        h = hashlib.sha256(self.fingerprint.encode())
        for part in PARTS:
            h.update(getattr(self, part).astype("<i8").tobytes())
        return h.hexdigest()[:12]

    def sizes(self) -> dict[str, int]:
        return {p: int(len(getattr(self, p))) for p in PARTS}

    def with_train(self, train) -> Split:
        """The same split with training part ``train`` (a subset of it); val and test kept."""
        from dataclasses import replace

        train = np.asarray(train, dtype=np.int64)
        if not np.isin(train, self.train).all():
            msg = "a training subset must lie inside the split's training part"
            raise ValueError(msg)
        return replace(self, train=np.sort(train), subsets={})

    def subset(self, seed: int, size) -> np.ndarray:
        """The saved training subset of ``size`` (a label of :func:`size_label`) for ``seed``."""
        try:
            return np.asarray(self.subsets[str(seed)][size_label(size)], dtype=np.int64)
        except KeyError:
            msg = (
                f"the saved split has no training subset of size {size_label(size)} for seed "
                f"{seed}; run the experiment again with --force to draw it"
            )
            raise SplitMismatchError(msg) from None

    def parts(self, dataset: Dataset) -> dict[str, Dataset]:
        """The three parts as datasets (after checking the split belongs to ``dataset``)."""
        self.check(dataset)
        return {p: dataset.subset(getattr(self, p)) for p in PARTS}

    def check(self, dataset: Dataset) -> None:
        """Raise :class:`SplitMismatchError` unless the split was made for ``dataset``."""
        if dataset.fingerprint != self.fingerprint:
            msg = (
                f"split was made for dataset {self.dataset!r} (fingerprint {self.fingerprint}) "
                f"but this dataset {dataset.name!r} has fingerprint {dataset.fingerprint}; "
                f"make a new split for it"
            )
            raise SplitMismatchError(msg)

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "id": self.id,
            "dataset": self.dataset,
            "fingerprint": self.fingerprint,
            "method": self.method,
            "seed": self.seed,
            "fractions": self.fractions,
            **{p: getattr(self, p).tolist() for p in PARTS},
            "ids": self.ids,
            **({"subsets": self.subsets} if self.subsets else {}),
        }

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the split as JSON, atomically.

        An existing file is kept unless ``overwrite``, and only a split file is ever
        replaced (:mod:`benchmark.outputs`).
        """
        path = check_output_file(path, force=overwrite, owned=is_split_file, what="split")
        write_json(path, self.to_dict(), indent=None)
        return path

    @classmethod
    def load(cls, path, dataset: Dataset | None = None) -> Split:
        """Read a split saved by :meth:`save`; with ``dataset``, check it matches."""
        path = Path(path)
        if not path.is_file():
            msg = f"{path}: no such split file"
            raise MissingPathError(msg)
        d = read_json(path, what="split file")
        try:
            split = cls(
                **{p: np.asarray(d[p], dtype=np.int64) for p in PARTS},
                seed=d["seed"],
                method=d["method"],
                fingerprint=d["fingerprint"],
                dataset=d["dataset"],
                fractions=d.get("fractions", {}),
                ids=d.get("ids", {}),
                subsets={
                    str(seed): {str(k): [int(i) for i in v] for k, v in sizes.items()}
                    for seed, sizes in d.get("subsets", {}).items()
                },
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"{path}: not a split file written by astrobench ({exc!r})"
            raise DataFormatError(msg) from None
        if dataset is not None:
            split.check(dataset)
        return split


def _labels_for_split(dataset: Dataset) -> np.ndarray:
    if not dataset.is_labelled:
        msg = f"dataset {dataset.name!r} has unlabelled samples; a split needs labels"
        raise ConfigError(msg)
    return dataset.labels


def _check_fraction(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        msg = f"{name} must lie in [0, 1), got {value}"
        raise ConfigError(msg)
    return value


def _stratified(indices: np.ndarray, labels: np.ndarray, size: float, rng) -> tuple:
    """Split ``indices`` into (rest, held) with ``size`` of each class held out."""
    if size == 0:
        return np.sort(indices), np.empty(0, dtype=np.int64)
    from sklearn.model_selection import train_test_split

    y = labels[indices]
    classes, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    if stratify is None:
        log.info("a class has fewer than 2 samples; this split is not stratified")
    seed = int(rng.integers(2**31 - 1))
    try:
        rest, held = train_test_split(indices, test_size=size, random_state=seed, stratify=stratify)
    except ValueError as exc:
        msg = f"cannot split {len(indices)} samples with size {size}: {exc}"
        raise ConfigError(msg) from None
    return np.sort(rest), np.sort(held)


def _split(dataset, train, val, test, *, seed, method, fractions) -> Split:
    return Split(
        train=np.asarray(train, dtype=np.int64),
        val=np.asarray(val, dtype=np.int64),
        test=np.asarray(test, dtype=np.int64),
        seed=int(seed),
        method=method,
        fingerprint=dataset.fingerprint,
        dataset=dataset.name,
        fractions=fractions,
        ids={
            p: dataset.ids[np.asarray(ix, dtype=np.int64)].tolist()
            for p, ix in zip(PARTS, (train, val, test))
        },
    )


def _grouped(indices, labels, groups, size: float, rng) -> tuple:
    """Split ``indices`` into (rest, held) keeping each group whole, stratified as far as
    groups allow: one fold of scikit-learn's ``StratifiedGroupKFold`` with ``round(1/size)``
    folds, so the held-out share is close to ``size``."""
    from sklearn.model_selection import StratifiedGroupKFold

    folds = StratifiedGroupKFold(
        n_splits=max(2, round(1 / size)), shuffle=True, random_state=int(rng.integers(2**31 - 1))
    )
    rest, held = next(folds.split(indices, labels[indices], groups[indices]))
    return np.sort(indices[rest]), np.sort(indices[held])


def _group_values(dataset: Dataset, group_column: str) -> np.ndarray:
    if group_column not in dataset.meta:
        cols = ", ".join(map(str, dataset.meta.columns)) or "none"
        msg = f"group_column {group_column!r} is not a column of the data; columns: {cols}"
        raise ConfigError(msg)
    return dataset.meta[group_column].astype(str).to_numpy()


def train_val_test(
    dataset: Dataset,
    *,
    seed: int = 0,
    test_size: float = 0.25,
    val_size: float = 0.30,
    group_column: str | None = None,
) -> Split:
    """Stratified split: ``test_size`` of all samples for test, ``val_size`` of the rest for val.

    Parameters
    ----------
    dataset : Dataset
    seed : int
    test_size : float
        Fraction of all samples in the test part (default 0.25, seed 001).
    val_size : float
        Fraction of the remaining samples in the validation part (default 0.30).
    group_column : str, optional
        A ``meta`` column (e.g. ZTF's ``objectId``): every sample of a group lands in
        one part, so no object is both trained on and tested.  The fractions are then
        approximate (whole groups, ``1/round(1/size)``).
    """
    test_size = _check_fraction("test_size", test_size)
    val_size = _check_fraction("val_size", val_size)
    labels = _labels_for_split(dataset)
    rng = np.random.default_rng(seed)
    everything = np.arange(len(dataset))
    fractions = {"test_size": test_size, "val_size": val_size}
    if group_column:
        groups = _group_values(dataset, group_column)
        rest, test = _grouped(everything, labels, groups, test_size, rng)
        train, val = _grouped(rest, labels, groups, val_size, rng)
        fractions["group_column"] = group_column
    else:
        rest, test = _stratified(everything, labels, test_size, rng)
        train, val = _stratified(rest, labels, val_size, rng)
    return _split(dataset, train, val, test, seed=seed, method="stratified", fractions=fractions)


def size_label(size) -> str:
    """The name of a training-set size: ``"0.25"`` (a fraction) or ``"500"`` (a count)."""
    value = float(size)
    if value > 1:
        return str(int(round(value)))
    return f"{value:g}"


def subset_count(size, n_train: int) -> int:
    """Samples in a training subset of ``size`` (fraction of ``n_train`` or a count)."""
    value = float(size)
    n = int(round(value * n_train)) if value <= 1 else int(round(value))
    return min(max(n, 1), n_train)


def _class_order(members: np.ndarray, rng) -> np.ndarray:
    return members[rng.permutation(len(members))]


def training_subsets(
    split: Split, dataset: Dataset, sizes, *, seed: int, group_column: str | None = None
) -> dict[str, list[int]]:
    """Nested, stratified training subsets of ``split.train``, one per size, for one seed.

    Each class's training samples (or, with ``group_column``, its groups: whole groups
    only, a group counted under its most common class) are put in one seeded random
    order; a subset takes the first ``size`` share of every class.  So every smaller
    subset lies inside every larger one, class proportions are kept (to within one
    sample or group per class), every class keeps at least two samples (or groups), and the
    validation and test parts are never touched.

    Returns
    -------
    dict of str to list of int
        ``{size_label(size): sorted dataset row indices}``.
    """
    labels = dataset.labels[split.train]
    rng = np.random.default_rng([int(split.seed), int(seed), 20151])
    if group_column:
        groups = _group_values(dataset, group_column)[split.train]
        names, inverse = np.unique(groups, return_inverse=True)
        majority = np.array([np.bincount(labels[inverse == g]).argmax() for g in range(len(names))])
        units = [
            [np.flatnonzero(inverse == g) for g in _class_order(np.flatnonzero(majority == k), rng)]
            for k in np.unique(majority)
        ]
    else:
        units = [
            [np.array([i]) for i in _class_order(np.flatnonzero(labels == k), rng)]
            for k in np.unique(labels)
        ]
    out = {}
    n_train = len(split.train)
    for size in sorted(sizes, key=lambda s: subset_count(s, n_train)):
        share = subset_count(size, n_train) / n_train
        rows = []
        for members in units:
            n_members = sum(len(m) for m in members)
            want, taken = max(min(2, n_members), int(round(share * n_members))), 0
            for unit in members:
                if taken >= want:
                    break
                rows.append(unit)
                taken += len(unit)
        out[size_label(size)] = np.sort(split.train[np.concatenate(rows)]).tolist()
    return out


def groups_cross_parts(split: Split, dataset: Dataset, group_column: str) -> list[str]:
    """Groups with samples in more than one part (empty for a grouped split)."""
    groups = _group_values(dataset, group_column)
    seen: dict[str, str] = {}
    crossing = set()
    for part in PARTS:
        for g in np.unique(groups[getattr(split, part)]):
            if seen.setdefault(g, part) != part:
                crossing.add(g)
    return sorted(crossing)


def kfold(dataset: Dataset, *, k: int = 5, seed: int = 0, val_size: float = 0.30) -> list[Split]:
    """``k`` stratified folds: fold ``i`` tests on part ``i``; validation comes from the rest."""
    from sklearn.model_selection import StratifiedKFold

    if int(k) < 2:
        msg = f"k must be at least 2, got {k}"
        raise ConfigError(msg)
    val_size = _check_fraction("val_size", val_size)
    labels = _labels_for_split(dataset)
    if np.bincount(labels).min(initial=k) < k:
        msg = f"k={k} folds need at least {k} samples of every class"
        raise ConfigError(msg)
    folds = StratifiedKFold(n_splits=int(k), shuffle=True, random_state=seed)
    rng = np.random.default_rng(seed)
    out = []
    for i, (rest, test) in enumerate(folds.split(np.zeros(len(labels)), labels)):
        train, val = _stratified(rest, labels, val_size, rng)
        fractions = {"k": int(k), "fold": i, "val_size": val_size}
        out.append(
            _split(
                dataset, train, val, np.sort(test), seed=seed, method="kfold", fractions=fractions
            )
        )
    return out


def predefined(dataset: Dataset, *, seed: int = 0, val_size: float = 0.30) -> Split:
    """The split the source fixed (``meta["split"]``: train / validation / test).

    Samples of one predefined part never move to another.  When the source has
    no test part, its ``validation`` part is held out as the test set and a
    validation part is carved (stratified, seeded) from ``train``; when it has a
    test part but no validation part, validation is carved from ``train``.
    """
    parts = dataset.predefined_split
    if parts is None:
        msg = f"dataset {dataset.name!r} has no predefined split (no 'split' meta column)"
        raise ConfigError(msg)
    unknown = sorted(set(parts) - {"train", "validation", "test"})
    if unknown:
        msg = f"predefined split has unknown part {unknown[0]!r}; use train, validation or test"
        raise DataFormatError(msg)
    labels = _labels_for_split(dataset)
    idx = {p: np.flatnonzero(parts == p) for p in ("train", "validation", "test")}
    rng = np.random.default_rng(seed)
    fractions: dict = {"val_size": val_size}
    if len(idx["test"]) == 0:
        log.info("predefined split has no test part: 'validation' is the test set")
        test = idx["validation"]
        train, val = _stratified(idx["train"], labels, _check_fraction("val_size", val_size), rng)
        fractions["test_from"] = "validation"
    elif len(idx["validation"]) == 0:
        test = idx["test"]
        train, val = _stratified(idx["train"], labels, _check_fraction("val_size", val_size), rng)
    else:
        train, val, test = idx["train"], idx["validation"], idx["test"]
        fractions = {}
    return _split(dataset, train, val, test, seed=seed, method="predefined", fractions=fractions)


def default_group_column(dataset: Dataset, group_column=None) -> str | None:
    """``group_column``, or the loader's (``ztf-alerts``: ``objectId``) when it is ``None``."""
    if group_column is None:
        group_column = dataset.provenance.get("group_column")
    return group_column or None


def make_split(dataset: Dataset, *, seed: int = 0, group_column=None, **fractions) -> Split:
    """The predefined split when the dataset has one, else a stratified one.

    ``group_column`` defaults to the column the loader names (``ztf-alerts``:
    ``objectId``); ``""`` turns grouping off.
    """
    group_column = default_group_column(dataset, group_column)
    if dataset.predefined_split is not None:
        fractions.pop("test_size", None)
        return predefined(dataset, seed=seed, **fractions)
    return train_val_test(dataset, seed=seed, group_column=group_column, **fractions)
