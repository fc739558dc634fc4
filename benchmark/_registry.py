"""Lazy name registries shared by every kind of plug-in.

An entry maps a name to ``"package.module:object"`` plus the metadata the rest of
the harness needs about it (a baseline's search space, a loader's ``sniff``
function, a simulation's parameter class, ...).  The module is imported on first
use only, so listing names, reading metadata and validating names never import
heavy dependencies.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .errors import ConfigError, MissingDependencyError, UnknownNameError

__all__ = ["OPTIONAL_EXTRAS", "Entry", "Registry", "import_target"]

#: Optional dependencies (top-level module name) and the extra that installs each.
OPTIONAL_EXTRAS = {
    "keras": "deep",
    "tensorflow": "deep",
    "torch": "deep",
    "jax": "deep",
    "dask": "distributed",
    "distributed": "distributed",
}


def import_target(target: str, *, what: str) -> Any:
    """Import ``"module:object"``; a missing *optional* dependency becomes a one-line error.

    Any other ImportError is a bug (or a broken installation) and is raised as it is.
    """
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except MissingDependencyError:
        raise
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in OPTIONAL_EXTRAS:
            raise
        msg = (
            f"{what} needs the optional package {missing!r}; install it with: "
            f'pip install "astrobench[{OPTIONAL_EXTRAS[missing]}]"'
        )
        raise MissingDependencyError(msg) from exc
    return getattr(module, attr) if attr else module


@dataclass(frozen=True)
class Entry:
    """One registered plug-in: its name, where it lives, and its metadata."""

    name: str
    target: str
    help: str = ""
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, key: str) -> Any:
        return self.meta[key]

    def get(self, key: str, default=None) -> Any:
        return self.meta.get(key, default)


class Registry:
    """An ordered dictionary of named, lazily imported plug-ins.

    Parameters
    ----------
    kind : str
        What the entries are ("loader", "feature set", ...), used in error messages.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._objects: dict[str, Any] = {}

    def add(self, name: str, target: str, *, help: str = "", **meta) -> None:
        """Register ``target`` (``"module:object"``) under ``name`` without importing it.

        Keyword arguments are the entry's metadata, read with :meth:`spec`.
        """
        if name in self._entries:
            msg = f"{self.kind} {name!r} is registered twice"
            raise ValueError(msg)
        self._entries[name] = Entry(name, target, help, MappingProxyType(dict(meta)))

    def register(self, name: str, *, help: str = "", **meta) -> Callable[[Any], Any]:
        """Decorator registering an already imported object under ``name``."""

        def decorator(obj):
            doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
            target = f"{obj.__module__}:{obj.__qualname__}"
            self.add(name, target, help=help or (doc[0] if doc else ""), **meta)
            self._objects[name] = obj
            return obj

        return decorator

    def names(self, **where) -> list[str]:
        """Registered names, sorted; ``where`` keeps entries whose metadata match."""
        return sorted(
            n for n, e in self._entries.items() if all(e.get(k) == v for k, v in where.items())
        )

    def entries(self) -> list[Entry]:
        """Every entry, in registration order (the order auto-detection tries them)."""
        return list(self._entries.values())

    def describe(self, name: str) -> str:
        """One-line description of an entry."""
        return self._entries[name].help if name in self._entries else ""

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def spec(self, name: str) -> Entry:
        """The entry ``name`` (metadata included), without importing anything.

        Raises
        ------
        UnknownNameError
            If ``name`` is not registered; the message lists the valid names.
        """
        if name not in self._entries:
            valid = ", ".join(self.names()) or "(none registered yet)"
            msg = f"unknown {self.kind} {name!r}; valid names: {valid}"
            raise UnknownNameError(msg)
        return self._entries[name]

    def get(self, name: str) -> Any:
        """The object registered as ``name``, importing it on first use.

        Raises
        ------
        UnknownNameError
            For an unknown name.
        MissingDependencyError
            If the entry needs an optional dependency that is not installed.
        """
        if name not in self._objects:
            entry = self.spec(name)
            self._objects[name] = import_target(entry.target, what=f"{self.kind} {name!r}")
        return self._objects[name]

    def resolve(self, name: str, key: str) -> Any:
        """Import the ``"module:object"`` held in metadata ``key`` of entry ``name``."""
        return import_target(self.spec(name)[key], what=f"{self.kind} {name!r}")

    def create(
        self, name: str, *, param_word: str = "parameter", what: str | None = None, **params
    ) -> Any:
        """Call the entry ``name`` with ``params``, naming any parameter it does not take.

        ``what`` names the entry's kind in the message (default: the registry's kind).

        Raises
        ------
        UnknownNameError
            For an unknown name.
        ConfigError
            For a parameter the entry's signature lacks (the message lists the valid ones).
        """
        factory = self.get(name)
        accepted = [p for p in inspect.signature(factory).parameters if p != "self"]
        unknown = [k for k in params if k not in accepted]
        if unknown:
            msg = (
                f"unknown {param_word} {unknown[0]!r} for {what or self.kind} {name!r}; "
                f"valid: {', '.join(accepted)}"
            )
            raise ConfigError(msg)
        return factory(**params)
