"""Classical classifiers (scikit-learn estimators or Pipelines with ``predict_proba``).

Each baseline is one registration line below: its factory in :mod:`baselines.models`
and its metadata (search space, sample-weight support, save format).  They join
the one method registry of :mod:`benchmark.methods`, where
:class:`baselines.method.ClassicalMethod` trains them.  ``baselines.get(name,
**params)`` returns a new estimator; ``baselines.available()`` lists the names.
"""

from __future__ import annotations

from benchmark.errors import UnknownNameError
from benchmark.methods import METHODS

__all__ = ["available", "get"]


def _baseline(
    name, factory, help, *, search_space, sample_weight=False, save_format="joblib", **meta
):
    """Register a baseline: ``factory`` in :mod:`baselines.models`, tried candidates, format."""
    METHODS.add(
        name,
        f"baselines.models:{factory}",
        help=help,
        kind="classical",
        input="features",
        method_class="baselines.method:ClassicalMethod",
        search_space=tuple(search_space),
        sample_weight=sample_weight,
        save_format=save_format,
        **meta,
    )


# candidates are tried after the defaults, in order, while the tuning budget lasts
_baseline(
    "rf", "rf", "random forest", search_space=[{"max_features": 0.3}, {"min_samples_leaf": 3}]
)
_baseline(
    "knn",
    "knn",
    "k nearest neighbours (scaled)",
    search_space=[{"n_neighbors": 5}, {"n_neighbors": 31}],
    at_most_n_train=("n_neighbors",),
)
_baseline(
    "svm", "svm", "RBF SVM with Platt-scaled probabilities", search_space=[{"C": 1.0}, {"C": 100.0}]
)
_baseline("nb", "nb", "Gaussian naive Bayes", search_space=[{"var_smoothing": 1e-6}])
_baseline(
    "mec",
    "mec",
    "minimum error classification (regularised QDA)",
    search_space=[{"reg_param": 0.01}, {"reg_param": 0.5}],
)
_baseline(
    "logreg", "logreg", "logistic regression (scaled)", search_space=[{"C": 0.1}, {"C": 10.0}]
)
_baseline(
    "xgboost",
    "xgboost",
    "gradient-boosted trees (XGBoost)",
    search_space=[{"max_depth": 3}, {"learning_rate": 0.05, "n_estimators": 600}],
    sample_weight=True,
    save_format="xgboost",
)
_baseline(
    "decision-tree",
    "decision_tree",
    "a single decision tree",
    search_space=[{"max_depth": 5}, {"max_depth": None, "min_samples_leaf": 10}],
)
_baseline(
    "mlp",
    "mlp",
    "feed-forward network (SkyNet-style; 1 hidden layer)",
    search_space=[{"hidden_layer_sizes": (50, 50), "alpha": 1e-3}, {"alpha": 1e-2}],
)


def available() -> list[str]:
    """Names of the registered baselines."""
    return METHODS.names(kind="classical")


def get(name: str, **params):
    """A new, unfitted estimator registered as ``name``.

    Raises
    ------
    UnknownNameError
        For an unknown name (the message lists the valid ones).
    ConfigError
        For a hyperparameter the baseline does not take.
    """
    if name not in available():
        msg = f"unknown baseline {name!r}; valid names: {', '.join(available())}"
        raise UnknownNameError(msg)
    return METHODS.create(name, param_word="hyperparameter", what="baseline", **params)
