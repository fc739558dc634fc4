"""Experiment configuration: TOML validated into frozen dataclasses.

This module holds the ``[dataset]`` table shared by every experiment file::

    [dataset]
    source = "imgs/"            # a registered dataset name or a path
    loader = "catalog"          # optional: detected from the path when omitted
    scheme = "binary"           # optional label scheme
    drop_classes = ["merger"]   # optional

    [dataset.params]            # loader parameters and shared preprocessing options
    catalog = "labels.csv"
    pattern = "{id}.jpeg"
    crop = 64

Unknown keys are errors that name the key.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import ConfigError, MissingPathError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DatasetConfig", "read_toml"]


def read_toml(path) -> dict:
    """Parse a TOML file with one-line errors for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such configuration file"
        raise MissingPathError(msg)
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: invalid TOML ({exc})"
        raise ConfigError(msg) from None


@dataclass(frozen=True)
class DatasetConfig:
    """The ``[dataset]`` table of an experiment.

    Parameters
    ----------
    source : str
        Registered dataset name or path (relative paths are taken from ``base``).
    loader : str, optional
    scheme : str, optional
    drop_classes : tuple of str
    params : mapping
        Loader parameters and preprocessing options.
    """

    source: str
    loader: str | None = None
    scheme: str | None = None
    drop_classes: tuple[str, ...] = ()
    params: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    KEYS = ("source", "loader", "scheme", "drop_classes", "params")

    @classmethod
    def from_table(cls, table: dict, *, base: Path | None = None, where: str = "[dataset]"):
        """Validate a parsed ``[dataset]`` table."""
        if not isinstance(table, dict):
            msg = f"{where} must be a table"
            raise ConfigError(msg)
        unknown = [k for k in table if k not in cls.KEYS]
        if unknown:
            msg = (
                f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(cls.KEYS)} "
                f"(loader parameters go in {where[:-1]}.params])"
            )
            raise ConfigError(msg)
        if "source" not in table:
            msg = f"{where}: missing key 'source' (a dataset name or a path)"
            raise ConfigError(msg)
        for key in ("source", "loader", "scheme"):
            if key in table and not isinstance(table[key], str):
                msg = f"{where}.{key} must be a string, got {table[key]!r}"
                raise ConfigError(msg)
        drop = table.get("drop_classes", [])
        if isinstance(drop, str) or not all(isinstance(c, str) for c in drop):
            msg = f"{where}.drop_classes must be a list of class names, got {drop!r}"
            raise ConfigError(msg)
        params = table.get("params", {})
        if not isinstance(params, dict):
            msg = f"{where}.params must be a table of loader parameters"
            raise ConfigError(msg)
        source = table["source"]
        if base is not None and not Path(source).is_absolute() and (base / source).exists():
            source = str(base / source)
        return cls(
            source=source,
            loader=table.get("loader"),
            scheme=table.get("scheme"),
            drop_classes=tuple(drop),
            params=MappingProxyType(dict(params)),
        )

    def load(self, **overrides: Any):
        """Load the dataset this table describes."""
        from . import datasets

        params = {**self.params, **overrides}
        return datasets.load(
            self.source,
            loader=self.loader,
            scheme=self.scheme,
            drop_classes=list(self.drop_classes),
            **params,
        )
