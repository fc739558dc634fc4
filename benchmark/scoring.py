"""Score new stamps with a saved model: ``python -m benchmark predict`` and :func:`predict`.

A model folder (``results/<experiment>/runs/<run_id>/model``) holds the fitted method,
its fitted feature extractor (classical methods) and ``input.json``: the stamp shape,
channel names, preprocessing, classes and the decision threshold it was trained with.
:func:`predict` reads any input the loaders read (the canonical HDF5 store, FITS
stamps, ``.npy`` arrays, image folders, ZTF alert packets) with that same
preprocessing, refuses stamps of another size or channel layout, and scores them in
batches: the next batch is read (decoded, for lazy inputs such as large HDF5 stores)
while the current one is scored, so memory stays bounded by a few batches.

Given a results folder instead of a model, the validation-chosen best run that has a
saved model is used (the CNNs' models are always saved; ``run --save-models`` or
``[run] save_models = "all"`` keeps the classical ones too).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import atomic_path, read_json
from .errors import (
    ConfigError,
    CorruptFileError,
    DataFormatError,
    MissingPathError,
    ShapeMismatchError,
)

__all__ = ["Model", "check_scores_path", "load_model", "predict", "write_scores"]

log = logging.getLogger(__name__)

#: Marks a scores file astrobench wrote (Parquet schema metadata), for the write rule.
PARQUET_KEY = b"astrobench"


class Model:
    """A saved model ready to score stamps.

    Attributes
    ----------
    folder : Path
    spec : dict
        ``input.json``: ``image_shape``, ``channels``, ``preprocess``, ``classes``,
        ``feature``, ``threshold``, ``run_id``, ``method``.
    """

    def __init__(self, folder):
        from . import methods

        self.folder = Path(folder)
        path = self.folder / "input.json"
        if not path.is_file():
            msg = (
                f"{self.folder}: no saved model for predict here (no input.json); give a run's "
                f"folder, its model folder or a results folder, from a run of this version"
            )
            raise MissingPathError(msg)
        self.spec = read_json(path, what="model input description")
        self.method = methods.load(self.folder)
        self.extractor = None
        if (self.folder / "features.joblib").is_file():
            import joblib

            self.extractor = joblib.load(self.folder / "features.joblib")

    @property
    def classes(self) -> list:
        return list(self.spec["classes"])

    def check(self, dataset) -> None:
        """Refuse stamps of another size, channel count or channel names, saying which."""
        want, got = tuple(self.spec["image_shape"]), tuple(dataset.shape[1:])
        name = f"{self.spec['method']} ({self.spec['run_id']})"
        if want[:2] != got[:2]:
            msg = (
                f"{dataset.name}: stamps are {got[0]}x{got[1]} pixels but {name} was trained "
                f"on {want[0]}x{want[1]}; crop or resize them (-p crop=/resize=) to match"
            )
            raise ShapeMismatchError(msg)
        if want[2] != got[2]:
            msg = (
                f"{dataset.name}: stamps have {got[2]} channel(s) but {name} was trained on "
                f"{want[2]} ({', '.join(self.spec['channels'])})"
            )
            raise ShapeMismatchError(msg)
        channels = list(self.spec["channels"])
        # case aside: FITS writers upper-case EXTNAMEs ("g" band -> "G")
        same = [str(c).lower() for c in dataset.channels] == [str(c).lower() for c in channels]
        if not same and not _generic(dataset.channels):
            msg = (
                f"{dataset.name}: channels are {', '.join(dataset.channels)} but {name} was "
                f"trained on {', '.join(channels)} (in that order)"
            )
            raise ShapeMismatchError(msg)

    def proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities of a batch of preprocessed stamps."""
        x = np.asarray(images, dtype=np.float32)
        if self.extractor is not None:
            x = self.extractor.transform(x)
        return np.asarray(self.method.predict_proba(x))


def _generic(channels) -> bool:
    """Channel names a format without names gets (``0``, ``1``, ...): nothing to compare."""
    return all(str(c).isdigit() for c in channels)


def _model_folder(path: Path) -> Path:
    """The model folder of a run folder, a model folder or a results folder's best run."""
    from .results import ResultsStore

    if (path / "input.json").is_file():
        return path
    if (path / "model" / "input.json").is_file():
        return path / "model"
    store = ResultsStore(path)
    if store.is_store() and store.records():
        from .verdict import analyse

        analysis = analyse(store)
        saved = [
            r for r in store.records() if (store.model_dir(r["run_id"]) / "input.json").is_file()
        ]
        if not saved:
            msg = (
                f"{path}: no run here saved a model for predict; rerun with --save-models "
                f"(or use a CNN run)"
            )
            raise MissingPathError(msg)
        best = analysis.best
        chosen = next(
            (
                r
                for r in saved
                if best and (r["feature"], r["method"]) == (best.feature, best.method)
            ),
            None,
        )
        if chosen is None:  # the best kept no model: the best of those that did, on validation
            pool = [g for g in (analysis.classical, analysis.deep) if g is not None]
            chosen = next(
                (
                    r
                    for g in pool
                    for r in saved
                    if (r["feature"], r["method"]) == (g.feature, g.method)
                ),
                saved[0],
            )
        log.info("using %s, the validation-chosen best run with a saved model", chosen["run_id"])
        return store.model_dir(chosen["run_id"])
    msg = f"{path}: not a saved model, a run folder or a results folder"
    raise MissingPathError(msg)


def load_model(path) -> Model:
    """The :class:`Model` of a model folder, a run folder or a results folder (its best)."""
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such model, run or results folder"
        raise MissingPathError(msg)
    return Model(_model_folder(path))


def _preprocessing(model: Model, params: dict, skip_bad: bool) -> dict:
    """The model's preprocessing with ``params`` on top; ``skip_bad`` drops (and lists)
    stamps with non-finite pixels where the model's policy would stop."""
    preprocess = {k: v for k, v in model.spec.get("preprocess", {}).items() if v is not None}
    preprocess.update(params)
    if skip_bad and preprocess.get("nan_policy", "raise") == "raise":
        preprocess["nan_policy"] = "drop"
    return preprocess


def _dataset(model: Model, source, *, loader=None, skip_bad=False, progress=False, **params):
    from . import datasets

    if isinstance(source, np.ndarray):
        from .datasets import Dataset

        images = source if source.ndim == 4 else source[..., None]
        return Dataset(
            images,
            -np.ones(len(images), int),
            model.classes,
            channels=model.spec["channels"],
            name="array",
        )
    if str(source).endswith(".npy"):  # arrays already preprocessed, memory-mapped
        if not Path(source).is_file():
            msg = f"{source}: no such file; check the path"
            raise MissingPathError(msg)
        try:
            array = np.load(str(source), mmap_mode="r")
        except (OSError, ValueError) as exc:
            msg = f"{source}: not a readable .npy array ({exc})"
            raise DataFormatError(msg) from None
        if array.ndim not in (3, 4):
            msg = f"{source}: expected stamps (N, H, W[, C]), got an array of shape {array.shape}"
            raise ShapeMismatchError(msg)
        return _dataset(model, np.asarray(array, dtype=np.float32), skip_bad=skip_bad)
    preprocess = _preprocessing(model, params, skip_bad)
    from .datasets._build import for_scoring

    # read in batches while scoring, not all first; no labels needed; skip_bad leaves
    # out (and lists) files that cannot be read
    with for_scoring(skip_bad=skip_bad):
        return datasets.load(str(source), loader=loader, progress=progress, **preprocess)


def _parts(model: Model, source, *, chunk_size: int, loader=None, skip_bad=False, **params):
    """``source`` as an iterable of Datasets: a stream of chunks where its loader streams
    (ZTF alerts: decoded chunk by chunk), else the one (lazy where possible) Dataset."""
    if not isinstance(source, np.ndarray) and not str(source).endswith(".npy"):
        from . import datasets
        from .datasets._build import for_scoring

        preprocess = _preprocessing(model, params, skip_bad)
        if Path(str(source)).exists():
            with for_scoring(skip_bad=skip_bad):  # format detection as for scoring
                chunks = datasets.load_chunks(
                    str(source),
                    chunk_size=chunk_size,
                    loader=loader,
                    skip_bad=skip_bad,
                    **preprocess,
                )
            if chunks is not None:
                return chunks
    return [_dataset(model, source, loader=loader, skip_bad=skip_bad, **params)]


_DONE = object()


def _prefetched(items):
    """``items``, each next one computed in a background thread while the caller works on
    the current one (decoding and reading overlap scoring)."""
    items = iter(items)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, items, _DONE)
        while True:
            item = pending.result()
            if item is _DONE:
                return
            pending = pool.submit(next, items, _DONE)
            yield item


def _read(ds, start: int, stop: int, skip_bad: bool):
    """Images ``start:stop`` of ``ds`` and which of them could be read: with ``skip_bad``
    a batch with an unreadable file is read again one stamp at a time, leaving it out."""
    try:
        return np.asarray(ds.images[start:stop], dtype=np.float32), None
    except (CorruptFileError, DataFormatError, MissingPathError):
        if not skip_bad:
            raise
    ok = np.ones(stop - start, bool)
    batch = np.zeros((stop - start, *ds.shape[1:]), np.float32)
    for k in range(start, stop):
        try:
            batch[k - start] = ds.images[k]
        except (CorruptFileError, DataFormatError, MissingPathError) as exc:
            log.warning("skipped %s: %s", ds.ids[k], exc)
            ok[k - start] = False
    return batch, ok


def _scored(model: Model, parts, batch_size: int, bar, skip_bad: bool = False):
    """``(dataset, probabilities, readable)`` for every part, scored batch by batch
    (``readable``: which stamps could be read; all of them unless ``skip_bad``)."""

    def batches():
        for ds in parts:
            model.check(ds)
            n = len(ds)
            if not n:
                yield ds, np.empty((0, *ds.shape[1:]), np.float32), None, 0, 0
            for i in range(0, n, batch_size):
                yield ds, *_read(ds, i, min(i + batch_size, n), skip_bad), i, n

    proba = readable = None
    for ds, batch, ok, i, n in _prefetched(batches()):
        if i == 0:
            proba = np.empty((n, len(model.classes)), np.float32)
            readable = np.ones(n, bool)
        if ok is not None:
            readable[i : i + len(batch)] = ok
        if len(batch):
            proba[i : i + len(batch)] = model.proba(batch)
            bar.update(len(batch))
        if i + len(batch) >= n:
            yield ds, proba, readable


def _frame(ds, proba, classes, cut, source=None) -> pd.DataFrame:
    frame = pd.DataFrame({"id": np.asarray(ds.ids).astype(str)})
    for col in ("objectId", "candid"):
        if col in ds.meta:
            frame[col] = ds.meta[col].to_numpy()
    if source is not None:
        frame["source"] = str(source) if not isinstance(source, np.ndarray) else "array"
    for k, name in enumerate(classes):
        frame[f"p_{name}"] = proba[:, k]
    if len(classes) == 2:
        positive = proba[:, 1] >= (0.5 if cut is None else cut)
        frame["predicted"] = np.where(positive, classes[1], classes[0])
    else:
        frame["predicted"] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    return frame


def predict(
    model,
    inputs,
    *,
    batch_size: int = 1024,
    threshold: float | None = None,
    loader: str | None = None,
    skip_bad: bool = False,
    progress: bool = False,
    params: dict | None = None,
) -> pd.DataFrame:
    """Scores of every stamp of ``inputs`` under a saved model.

    Parameters
    ----------
    model : Model or path
        A :class:`Model`, a model or run folder, or a results folder (its best run).
    inputs : path, array or list of them
        Stamp files or folders any loader reads, or arrays (N, H, W, C) already
        preprocessed as the model's training data were.
    batch_size : int
        Stamps read and scored at a time (ZTF alerts: decoded at a time).
    threshold : float, optional
        Binary decision threshold (default: the one chosen on validation at training).
    skip_bad : bool
        Leave out stamps with non-finite pixels, unreadable files, alerts or cutouts, and
        files unlike the first readable one, instead of stopping; they are listed in the
        log and in ``attrs["skipped"]``.
    params : dict, optional
        Loader parameters and preprocessing options on top of the model's own (e.g.
        ``crop=69`` for larger stamps).

    Returns
    -------
    DataFrame
        ``id`` (``objectId`` and ``candid`` for ZTF alerts, ``source`` with several
        inputs), ``p_<class>`` for every class and ``predicted``.
    """
    from tqdm.auto import tqdm

    model = model if isinstance(model, Model) else load_model(model)
    if batch_size < 1:
        msg = f"batch_size must be a positive integer, got {batch_size}"
        raise ConfigError(msg)
    classes = model.classes
    cut = model.spec.get("threshold") if threshold is None else float(threshold)
    sources = inputs if isinstance(inputs, list | tuple) else [inputs]
    frames, skipped = [], []
    bar = tqdm(desc="predict", unit="stamp", disable=None if progress else True)
    try:
        for source in sources:
            parts = _parts(
                model,
                source,
                chunk_size=batch_size,
                loader=loader,
                skip_bad=skip_bad,
                **(params or {}),
            )
            for ds, proba, readable in _scored(model, parts, batch_size, bar, skip_bad):
                for removed in ds.provenance.get("removed", []):
                    skipped.extend(removed.get("ids", []))
                frame = _frame(ds, proba, classes, cut, source if len(sources) > 1 else None)
                skipped.extend(frame["id"][~readable])
                frames.append(frame[readable].reset_index(drop=True))
    finally:
        bar.close()
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(run_id=model.spec.get("run_id"), threshold=cut, skipped=skipped)
    return out


def _is_scores_file(path: Path) -> bool:
    """A scores file :func:`write_scores` wrote (the write rule's ownership test)."""
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return PARQUET_KEY in (pq.read_schema(path).metadata or {})
        head = path.read_text(errors="replace").splitlines()[:1]
        return bool(head) and head[0].startswith("id,") and head[0].endswith(",predicted")
    except Exception:  # noqa: BLE001 - anything unreadable is not ours
        return False


def check_scores_path(path, *, force: bool = False) -> Path:
    """The write rule for a scores file: ``.parquet`` or ``.csv``; an existing file only
    with ``force`` and only when astrobench wrote it."""
    from .outputs import check_output_file

    path = Path(path)
    if path.suffix not in (".parquet", ".csv"):
        msg = f"{path}: give the scores a .parquet or .csv file name"
        raise ConfigError(msg)
    return check_output_file(path, force=force, owned=_is_scores_file, what="scores")


def write_scores(frame: pd.DataFrame, path, *, force: bool = False) -> Path:
    """Write scores atomically as Parquet (``.parquet``) or CSV (``.csv``)."""
    path = check_scores_path(path, force=force)
    with atomic_path(path) as tmp:
        if path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            meta = {**(table.schema.metadata or {}), PARQUET_KEY: str(frame.attrs).encode()}
            pq.write_table(table.replace_schema_metadata(meta), tmp)
    return path
