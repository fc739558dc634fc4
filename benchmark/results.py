"""The results store: one folder per experiment, owning every file in it.

Layout (documented here and nowhere else; everything is written and read
through :class:`ResultsStore`)::

    results/<experiment>/
        .astrobench.json            marker: an astrobench results folder (experiment, config hash)
        config.json                 the validated experiment (its hash identifies it)
        metadata.json               library versions, git hash, hardware, seeds, schema version,
                                    the CNNs' Keras backend and devices (``deep``)
        split.json                  the one split every run used
        dataset.json                data summary: shape, channels, classes, counts per
                                    taxonomy level, split sizes, simulated or real, provenance
        examples.npz                random test images per class (images, ids, labels)
        summaries/<feature>.npz     fitted feature summaries (PCA: explained variance, eigen-images)
        runs/<run_id>/record.json           metrics, CIs, parameters (deterministic: a
                                            rerun on the same machine writes the same bytes)
        runs/<run_id>/timings.json          wall-clock figures (fit, tuning, epochs, predict)
        runs/<run_id>/predictions.parquet   id, y_true, score_<k>, per-sample truth (test part)
        runs/<run_id>/predictions_val.parquet   id, y_true, score_<k> of the validation part
        runs/<run_id>/wrong.npz             the most confidently wrong test images
        runs/<run_id>/explain.npz           what a CNN looks at (filters, activations, occlusion)
        runs/<run_id>/model/                the fitted method (method.json and its files)
        records.jsonl               every record in one table
        label_review.csv            test images nearly every run misclassifies (label,
                                    consensus, fraction of runs; :mod:`benchmark.review`)
        label_review.npz            their images, for the report
        table.csv, table.md         the comparison table
        report/                     the HTML report (``python -m benchmark report``)
        work/<run_id>/              a CNN's checkpoints while it trains (removed when it ends)
        work/_shared/               CNNs trained for one run and reused by another that
                                    trains the same one (a hybrid's backbone, an ensemble's
                                    first member: same settings, seed and data; removed
                                    when the experiment ends)

Every file is written atomically.  A run is finished when its ``record.json``
exists (written last), so an interrupted experiment resumes where it stopped.
The store follows the write rule of :mod:`benchmark.outputs`: it fills only an
empty folder or one it marked, replaces another experiment's results only with
``force`` and then only its own entries (listed in :attr:`ResultsStore.LAYOUT`);
anything else in the folder is left alone.
"""

from __future__ import annotations

import io
import os
import platform
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import atomic_path, atomic_write, read_json, to_jsonable, write_json
from .errors import ConfigError, CorruptFileError
from .outputs import check_output_folder, read_marker, write_marker

__all__ = ["SCHEMA_VERSION", "ResultsStore", "is_subset_record", "load"]

#: Version of the record schema and of the layout above.
SCHEMA_VERSION = 1
LAYOUT_VERSION = 2

_FIX = "run the experiment again with --force to replace these results"


def _versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in (
        "astrobench",
        "numpy",
        "scipy",
        "pandas",
        "scikit-learn",
        "xgboost",
        "astropy",
        "photutils",
        "h5py",
        "keras",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _git_hash() -> str | None:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def _npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _load_npz(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as exc:
        msg = f"{path}: corrupt results file ({exc.__class__.__name__}); {_FIX}"
        raise CorruptFileError(msg) from None


def _legacy_store(folder: Path) -> bool:
    """A results folder written before markers existed (config hash and schema version)."""
    try:
        config = read_json(folder / "config.json")
        meta = read_json(folder / "metadata.json")
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and "hash" in config and "schema_version" in meta


def load(root):
    """The results of a finished experiment (:class:`benchmark.api.Results`): ``.table()``,
    ``.records()``, ``.verdict``, ``.crossover``."""
    from .api import Results

    return Results(root)


def is_subset_record(record: dict) -> bool:
    """True for a run of a learning-curve sweep on a training subset (not the whole part)."""
    return float(record.get("train_size", 1.0)) != 1.0


class ResultsStore:
    """The folder of one experiment's results (see the module docstring for its layout)."""

    #: The entries the store owns in its folder; ``features`` is the old name of ``summaries``.
    LAYOUT = (
        ".astrobench.json",
        "config.json",
        "metadata.json",
        "split.json",
        "dataset.json",
        "examples.npz",
        "summaries",
        "features",
        "runs",
        "records.jsonl",
        "label_review.csv",
        "label_review.npz",
        "table.csv",
        "table.md",
        "report",
        "work",
    )

    def __init__(self, root):
        self.root = Path(root)

    # ----------------------------------------------------------- opening (write rule)
    @classmethod
    def check(cls, root, config, *, force: bool = False, inputs=()) -> str:
        """What running ``config`` into ``root`` would do, checked without writing anything.

        Returns
        -------
        {"new", "resume", "replace"}
            ``resume``: the folder holds this experiment; ``replace``: it holds another
            (or broken) results of astrobench and ``force`` is set.

        Raises
        ------
        OutputRefusedError
            For a folder the write rule does not allow (:mod:`benchmark.outputs`).
        ConfigError
            If the folder holds another experiment's results and ``force`` is false.
        """
        state = check_output_folder(root, kind="results", inputs=inputs, owned=_legacy_store)
        if state == "new":
            return "new"
        store = cls(root)
        if not (store.root / "config.json").exists():
            return "replace"  # marked, but nothing was recorded (a start that failed)
        if force:
            return "replace"
        old = store.config().get("hash")
        if old == config.hash:
            return "resume"
        msg = (
            f"{store.root} holds results of another experiment configuration ({old} vs "
            f"{config.hash}); choose another --out or pass --force to replace them"
        )
        raise ConfigError(msg)

    @classmethod
    def create(cls, root, config, state: str, *, extra: dict | None = None) -> ResultsStore:
        """Claim ``root`` for ``config`` after :meth:`check` (and every other check) passed.

        ``replace`` first removes the store's own entries (and nothing else); ``extra``
        goes into ``metadata.json`` (the runner adds the CNNs' backend and devices).
        """
        store = cls(root)
        if state == "resume":
            return store
        if state == "replace":
            store._clear()
        store.root.mkdir(parents=True, exist_ok=True)
        write_marker(store.root, "results", experiment=config.name, config_hash=config.hash)
        write_json(store.root / "config.json", {"hash": config.hash, **config.to_dict()}, indent=2)
        meta = {
            "schema_version": SCHEMA_VERSION,
            "layout_version": LAYOUT_VERSION,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": _versions(),
            "git": _git_hash(),
            "hardware": {
                "machine": platform.machine(),
                "processor": platform.processor(),
                "cpus": os.cpu_count(),
                "system": platform.platform(),
            },
            "seeds": list(range(config.run.seeds)),
            "split_seed": config.split.seed,
            **(extra or {}),
        }
        write_json(store.root / "metadata.json", meta, indent=2)
        return store

    def _clear(self) -> None:
        """Remove the store's own entries; files of anyone else in the folder stay."""
        for name in self.LAYOUT:
            path = self.root / name
            if (
                name == "features"
                and path.is_dir()
                and any(p.suffix != ".npz" for p in path.iterdir())
            ):
                continue  # a folder of the user's that happens to have the old name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    # ----------------------------------------------------------------- paths
    @property
    def split_path(self) -> Path:
        return self.root / "split.json"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def model_dir(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "model"

    def work_dir(self, run_id: str) -> Path:
        """Where a run keeps checkpoints while it trains (inside the store, so it resumes)."""
        return self.root / "work" / run_id

    def inputs_dir(self) -> Path:
        """Where the runner leaves runs' inputs for workers elsewhere to read (Dask)."""
        return self.root / "work" / "_inputs"

    def clear_inputs(self) -> None:
        """Remove the inputs left for workers (every run that needed them is recorded)."""
        shutil.rmtree(self.inputs_dir(), ignore_errors=True)

    def shared_dir(self) -> Path:
        """Where a CNN trained for one run waits for another run that trains the same one
        (:attr:`deep.method.DeepMethod.share_dir`)."""
        return self.root / "work" / "_shared"

    def clear_shared(self) -> None:
        """Remove the shared CNN fits (every run is recorded, its model in its run folder)."""
        shutil.rmtree(self.shared_dir(), ignore_errors=True)

    # ----------------------------------------------------------------- reading
    def is_store(self) -> bool:
        return self.root.is_dir() and (
            read_marker(self.root) is not None or _legacy_store(self.root)
        )

    def config(self) -> dict:
        return read_json(self.root / "config.json", what="results configuration", fix=_FIX)

    def metadata(self) -> dict:
        return read_json(self.root / "metadata.json", what="results metadata", fix=_FIX)

    def split(self, dataset=None):
        """The saved split (checked against ``dataset`` when given)."""
        from .splits import Split

        return Split.load(self.split_path, dataset)

    def dataset_summary(self) -> dict | None:
        path = self.root / "dataset.json"
        return read_json(path, what="data summary", fix=_FIX) if path.is_file() else None

    def examples(self) -> dict | None:
        return _load_npz(self.root / "examples.npz")

    def feature_summaries(self) -> dict[str, dict]:
        """``{feature set: arrays}`` of every saved summary (the old ``features/`` too)."""
        out = {}
        for folder in (self.root / "features", self.root / "summaries"):
            if folder.is_dir():
                for path in sorted(folder.glob("*.npz")):
                    out[path.stem] = _load_npz(path)
        return out

    def has(self, run_id: str) -> bool:
        """True when the run finished (its record exists and reads; a damaged one is redone)."""
        path = self.run_dir(run_id) / "record.json"
        if not path.is_file():
            return False
        try:
            read_json(path)
        except (OSError, ValueError):
            return False
        return True

    def records(self, *, sweep: bool = False) -> list[dict]:
        """Every finished run's record on the whole training part, its timings merged in
        under ``timings``; with ``sweep``, the runs on a sweep's training subsets too."""
        runs = self.root / "runs"
        if not runs.is_dir():
            return []
        out = []
        for path in sorted(runs.glob("*/record.json")):
            record = read_json(path, what="run record", fix=_FIX)
            if not sweep and is_subset_record(record):
                continue
            timings = path.with_name("timings.json")
            if timings.is_file():
                record["timings"] = read_json(timings, what="run timings", fix=_FIX)
            out.append(record)
        return out

    def predictions(self, run_id: str, part: str = "test") -> pd.DataFrame:
        """Scores of the ``test`` part (with per-sample truth) or of the ``val`` part."""
        name = "predictions.parquet" if part == "test" else "predictions_val.parquet"
        path = self.run_dir(run_id) / name
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds for a bad file
            msg = f"{path}: missing or corrupt predictions ({exc.__class__.__name__}); {_FIX}"
            raise CorruptFileError(msg) from None

    def has_val_predictions(self, run_id: str) -> bool:
        return (self.run_dir(run_id) / "predictions_val.parquet").is_file()

    def wrong_examples(self, run_id: str) -> dict | None:
        return _load_npz(self.run_dir(run_id) / "wrong.npz")

    def explanation(self, run_id: str) -> dict | None:
        return _load_npz(self.run_dir(run_id) / "explain.npz")

    def label_review(self) -> pd.DataFrame | None:
        """The listed test images (:func:`benchmark.review.label_review`); ``None`` for a
        folder written before the review existed."""
        path = self.root / "label_review.csv"
        if not path.is_file():
            return None
        from .review import COLUMNS

        try:
            review = pd.read_csv(path, dtype={"id": str, "label": str, "consensus": str})
        except (OSError, ValueError) as exc:
            msg = f"{path}: corrupt label review ({exc.__class__.__name__}); {_FIX}"
            raise CorruptFileError(msg) from None
        if list(review.columns) != COLUMNS:
            msg = f"{path}: corrupt label review (columns {list(review.columns)}); {_FIX}"
            raise CorruptFileError(msg)
        return review

    def label_review_examples(self) -> dict | None:
        return _load_npz(self.root / "label_review.npz")

    # ----------------------------------------------------------------- writing
    def write_split(self, split) -> None:
        split.save(self.split_path, overwrite=True)

    def write_dataset_summary(self, summary: dict, examples: dict) -> None:
        write_json(self.root / "dataset.json", summary)
        atomic_write(self.root / "examples.npz", _npz_bytes(examples))

    def write_feature_summary(self, feature: str, arrays: dict) -> None:
        name = feature.replace("+", "-")
        atomic_write(self.root / "summaries" / f"{name}.npz", _npz_bytes(arrays))

    def write_run(
        self,
        run_id: str,
        record: dict,
        predictions: pd.DataFrame,
        *,
        val_predictions: pd.DataFrame | None = None,
        wrong: dict | None = None,
        explanation: dict | None = None,
        model_from: Path | None = None,
    ) -> None:
        """Every file of a finished run; the record last, so a run with a record is complete.

        ``record["timings"]`` goes to ``timings.json``, so that ``record.json`` holds only
        what a rerun reproduces byte for byte.
        """
        folder = self.run_dir(run_id)
        record = dict(record)
        write_json(folder / "timings.json", record.pop("timings", {}))
        for name, frame in (
            ("predictions.parquet", predictions),
            ("predictions_val.parquet", val_predictions),
        ):
            if frame is not None:
                with atomic_path(folder / name) as tmp:
                    frame.to_parquet(tmp, index=False)
        for name, arrays in (("wrong.npz", wrong), ("explain.npz", explanation)):
            if arrays is not None:
                atomic_write(folder / name, _npz_bytes(arrays))
        if model_from is not None:
            target = self.model_dir(run_id)
            if target.exists():
                shutil.rmtree(target)
            os.replace(model_from, target)
        write_json(folder / "record.json", record)
        shutil.rmtree(self.work_dir(run_id), ignore_errors=True)

    def write_index(self) -> Path:
        """All records (a sweep's too) as one JSON-lines table, ``records.jsonl`` (timings
        left out: they stay in each run's ``timings.json``, so reruns write identical bytes)."""
        import json

        lines = "".join(
            json.dumps({k: v for k, v in r.items() if k != "timings"}, default=to_jsonable) + "\n"
            for r in self.records(sweep=True)
        )
        return atomic_write(self.root / "records.jsonl", lines)

    def write_label_review(self, review: pd.DataFrame, examples: dict) -> None:
        """``label_review.csv`` and the listed images (``label_review.npz``)."""
        atomic_write(self.root / "label_review.csv", review.to_csv(index=False))
        atomic_write(self.root / "label_review.npz", _npz_bytes(examples))

    def write_tables(self, csv_text: str, markdown: str) -> None:
        atomic_write(self.root / "table.csv", csv_text)
        atomic_write(self.root / "table.md", markdown)
