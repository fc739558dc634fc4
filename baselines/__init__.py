"""Classical classifiers (scikit-learn estimators or Pipelines with ``predict_proba``).

``baselines.get(name, **params)`` returns a new estimator; ``baselines.available()`` lists names.
"""

from benchmark._registry import Registry

__all__ = ["BASELINES", "available", "get"]

#: Baselines by name; entries are ``"module:factory"`` imported on first use.
BASELINES = Registry("baseline")


def available() -> list[str]:
    """Names of the registered baselines."""
    return BASELINES.names()


def get(name: str, **params):
    """A new, unfitted estimator registered as ``name``."""
    return BASELINES.get(name)(**params)
