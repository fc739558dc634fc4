"""Classical classifiers (scikit-learn estimators or Pipelines with ``predict_proba``).

``baselines.get(name, **params)`` returns a new estimator; ``baselines.available()``
lists names; :class:`baselines.method.ClassicalMethod` tunes one on the validation
split and is what the runner trains.
"""

from __future__ import annotations

from benchmark._registry import Registry

__all__ = ["BASELINES", "available", "get"]

#: Baselines by name; entries are ``"module:factory"`` imported on first use.
BASELINES = Registry("baseline")
for _name, _factory, _help in [
    ("rf", "rf", "random forest"),
    ("knn", "knn", "k nearest neighbours (scaled)"),
    ("svm", "svm", "RBF SVM with Platt-scaled probabilities"),
    ("nb", "nb", "Gaussian naive Bayes"),
    ("mec", "mec", "minimum error classification (regularised QDA)"),
    ("logreg", "logreg", "logistic regression (scaled)"),
    ("xgboost", "xgboost", "gradient-boosted trees (XGBoost)"),
    ("decision-tree", "decision_tree", "a single decision tree"),
    ("mlp", "mlp", "feed-forward network (SkyNet-style; 1 hidden layer)"),
]:
    BASELINES.add(_name, f"baselines.models:{_factory}", help=_help)


def available() -> list[str]:
    """Names of the registered baselines."""
    return BASELINES.names()


def get(name: str, **params):
    """A new, unfitted estimator registered as ``name``.

    Raises
    ------
    UnknownNameError
        For an unknown name (the message lists the valid ones).
    ConfigError
        For a hyperparameter the baseline does not take.
    """
    return BASELINES.create(name, param_word="hyperparameter", **params)
