"""Keras 3 CNN builders and their training wrapper (backend-agnostic).

``deep.get(name, **params)`` returns a model method; ``deep.available()`` lists names.
Nothing here imports Keras until a model is asked for.
"""

from benchmark._registry import Registry

__all__ = ["MODELS", "available", "get"]

#: Deep models by name; entries are ``"module:builder"`` imported on first use.
MODELS = Registry("deep model")


def available() -> list[str]:
    """Names of the registered deep models."""
    return MODELS.names()


def get(name: str, **params):
    """The model method registered as ``name``."""
    return MODELS.get(name)(**params)
