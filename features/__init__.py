"""Feature extractors with the scikit-learn transformer contract (pixels, PCA, hand-crafted).

``features.get(name, **params)`` returns a new extractor; ``features.available()`` lists names.
"""

from benchmark._registry import Registry

__all__ = ["FEATURES", "available", "get"]

#: Feature sets by name; entries are ``"module:class"`` imported on first use.
FEATURES = Registry("feature set")


def available() -> list[str]:
    """Names of the registered feature sets."""
    return FEATURES.names()


def get(name: str, **params):
    """A new, unfitted extractor registered as ``name``."""
    return FEATURES.get(name)(**params)
