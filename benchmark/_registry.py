"""Lazy name registries shared by every kind of plug-in.

An entry maps a name to ``"package.module:object"``; the module is imported on
first use only, so listing names never imports heavy dependencies.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from .errors import ConfigError, MissingDependencyError, UnknownNameError

__all__ = ["Registry"]


class Registry:
    """A dictionary of named, lazily imported objects.

    Parameters
    ----------
    kind : str
        What the entries are ("loader", "feature set", ...), used in error messages.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._targets: dict[str, str] = {}
        self._objects: dict[str, Any] = {}
        self._help: dict[str, str] = {}

    def add(self, name: str, target: str, *, help: str = "") -> None:
        """Register ``target`` (``"module:object"``) under ``name`` without importing it."""
        if name in self._targets or name in self._objects:
            msg = f"{self.kind} {name!r} is registered twice"
            raise ValueError(msg)
        self._targets[name] = target
        self._help[name] = help

    def register(self, name: str, *, help: str = "") -> Callable[[Any], Any]:
        """Decorator registering an already imported object under ``name``."""

        def decorator(obj):
            if name in self._objects:
                msg = f"{self.kind} {name!r} is registered twice"
                raise ValueError(msg)
            self._objects[name] = obj
            doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
            self._help.setdefault(name, help or (doc[0] if doc else ""))
            return obj

        return decorator

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(set(self._targets) | set(self._objects))

    def describe(self, name: str) -> str:
        """One-line description of an entry."""
        return self._help.get(name, "")

    def __contains__(self, name: object) -> bool:
        return name in self._targets or name in self._objects

    def get(self, name: str) -> Any:
        """Return the object registered as ``name``, importing it on first use.

        Raises
        ------
        UnknownNameError
            If ``name`` is not registered; the message lists the valid names.
        MissingDependencyError
            If the entry's module needs an optional dependency that is missing.
        """
        if name in self._objects:
            return self._objects[name]
        if name not in self._targets:
            valid = ", ".join(self.names()) or "(none registered yet)"
            msg = f"unknown {self.kind} {name!r}; valid names: {valid}"
            raise UnknownNameError(msg)
        module_name, _, attr = self._targets[name].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            missing = getattr(exc, "name", None) or str(exc)
            msg = (
                f"{self.kind} {name!r} needs the optional package {missing!r}; "
                f'install it with: pip install "astrobench[all]"'
            )
            raise MissingDependencyError(msg) from exc
        obj = getattr(module, attr)
        self._objects[name] = obj
        return obj

    def create(self, name: str, *, param_word: str = "parameter", **params) -> Any:
        """Call the entry ``name`` with ``params``, naming any parameter it does not take.

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
                f"unknown {param_word} {unknown[0]!r} for {self.kind} {name!r}; "
                f"valid: {', '.join(accepted)}"
            )
            raise ConfigError(msg)
        return factory(**params)
