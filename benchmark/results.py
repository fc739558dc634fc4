"""The results store: one folder per experiment, one record per run, predictions beside it.

Layout::

    results/<experiment>/
        config.json       the validated experiment (its hash identifies it)
        metadata.json     library versions, git hash, hardware, schema version
        split.json        the split every run used
        runs/<run_id>/record.json        metrics, CIs, parameters, timings
        runs/<run_id>/predictions.parquet   id, y_true, score(s) of the test part
        records.jsonl     every record in one table
        table.csv, table.md

Every file is written atomically (temporary file, then rename).  A run is
finished when its ``record.json`` exists, so an interrupted experiment resumes
where it stopped.  A folder holding another experiment is never overwritten
without ``force``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .errors import ConfigError

__all__ = ["SCHEMA_VERSION", "ResultsStore", "atomic_write"]

SCHEMA_VERSION = 1


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)
    return path


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


class ResultsStore:
    """The folder of one experiment's results."""

    def __init__(self, root):
        self.root = Path(root)

    @classmethod
    def open(cls, root, config, *, force: bool = False) -> ResultsStore:
        """Open (or create) the folder for ``config``.

        Raises
        ------
        ConfigError
            If the folder holds another experiment's results and ``force`` is false.
        """
        store = cls(root)
        cfg_path = store.root / "config.json"
        if cfg_path.exists():
            old = json.loads(cfg_path.read_text())
            if old.get("hash") != config.hash or force:
                if not force:
                    msg = (
                        f"{store.root} holds results of another experiment configuration "
                        f"({old.get('hash')} vs {config.hash}); choose another --out or pass "
                        f"--force to replace them"
                    )
                    raise ConfigError(msg)
                shutil.rmtree(store.root)
        store.root.mkdir(parents=True, exist_ok=True)
        if not cfg_path.exists():
            atomic_write(cfg_path, json.dumps({"hash": config.hash, **config.to_dict()}, indent=2))
            meta = {
                "schema_version": SCHEMA_VERSION,
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
            }
            atomic_write(store.root / "metadata.json", json.dumps(meta, indent=2))
        return store

    @property
    def split_path(self) -> Path:
        return self.root / "split.json"

    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def has(self, run_id: str) -> bool:
        return (self.run_dir(run_id) / "record.json").is_file()

    def write_run(self, run_id: str, record: dict, predictions: pd.DataFrame) -> None:
        """Predictions first, the record last: a run with a record is complete."""
        folder = self.run_dir(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".predictions.", dir=folder)
        os.close(fd)
        predictions.to_parquet(tmp, index=False)
        os.replace(tmp, folder / "predictions.parquet")
        atomic_write(folder / "record.json", json.dumps(record, indent=1, default=_json))

    def records(self) -> list[dict]:
        runs = self.root / "runs"
        if not runs.is_dir():
            return []
        return [json.loads(p.read_text()) for p in sorted(runs.glob("*/record.json"))]

    def write_index(self) -> Path:
        """All records as one JSON-lines table, ``records.jsonl`` (rewritten atomically)."""
        lines = "".join(json.dumps(r, default=_json) + "\n" for r in self.records())
        return atomic_write(self.root / "records.jsonl", lines)

    def predictions(self, run_id: str) -> pd.DataFrame:
        return pd.read_parquet(self.run_dir(run_id) / "predictions.parquet")


def _json(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
