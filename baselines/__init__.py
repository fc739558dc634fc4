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
    name, factory, help, *, search_space, imbalance="class_weight", save_format="joblib", **meta
):
    """Register a baseline: its factory in :mod:`baselines.models`, grid, imbalance, format.

    ``imbalance`` says how ``class_weight="balanced"`` reaches it: ``class_weight`` (the
    factory's argument), ``sample_weight`` (balanced weights in ``fit``), ``priors`` (equal
    class priors, for the Bayes classifiers) or ``oversample`` (training samples of the
    rarer classes repeated, for methods that take no weights).
    """
    METHODS.add(
        name,
        f"baselines.models:{factory}",
        help=help,
        kind="classical",
        input="features",
        method_class="baselines.method:ClassicalMethod",
        search_space={k: tuple(v) for k, v in search_space.items()},
        imbalance=imbalance,
        save_format=save_format,
        **meta,
    )


# search_space: a grid of values per hyperparameter.  ClassicalMethod always fits the
# defaults, then ``n_candidates`` points of the grid (all of a smaller grid), drawn with the
# run's seed: the same candidates on every machine, whatever its load.
_baseline(
    "rf",
    "rf",
    "random forest",
    # fractions of the features above ~0.2 cost minutes per fit on ~100 features and, in
    # the default run, gained nothing on validation
    search_space={"max_features": ["sqrt", "log2", 0.2], "min_samples_leaf": [1, 3, 5]},
)
_baseline(
    "knn",
    "knn",
    "k nearest neighbours (scaled)",
    search_space={"n_neighbors": [5, 15, 31], "weights": ["distance", "uniform"]},
    at_most_n_train=("n_neighbors",),
    imbalance="oversample",
)
_baseline(
    "svm",
    "svm",
    "RBF SVM with Platt-scaled probabilities",
    search_space={"C": [1.0, 10.0, 100.0], "gamma": ["scale", 0.01]},
)
_baseline(
    "nb",
    "nb",
    "Gaussian naive Bayes",
    search_space={"var_smoothing": [1e-9, 1e-6, 1e-3]},
    imbalance="priors",
)
_baseline(
    "mec",
    "mec",
    "minimum error classification (regularised QDA)",
    search_space={"reg_param": [0.01, 0.1, 0.5]},
    imbalance="priors",
)
_baseline(
    "logreg",
    "logreg",
    "logistic regression (scaled)",
    search_space={"C": [0.01, 0.1, 1.0, 10.0]},
)
_baseline(
    "xgboost",
    "xgboost",
    "gradient-boosted trees (XGBoost)",
    search_space={
        "max_depth": [3, 6],
        "learning_rate": [0.05, 0.1],
        "n_estimators": [300, 600],
    },
    imbalance="sample_weight",
    save_format="xgboost",
)
_baseline(
    "decision-tree",
    "decision_tree",
    "a single decision tree",
    search_space={"max_depth": [5, 10, None], "min_samples_leaf": [5, 10]},
)
_baseline(
    "mlp",
    "mlp",
    "feed-forward network (SkyNet-style; 1 hidden layer)",
    # up to alpha = 1: where the training part is too small for early stopping, the
    # network trains every epoch and L2 alone holds it back (real gz2, 980 training
    # images: test AUC 0.837 on hand-crafted features with alpha <= 1e-2, 0.856 up to 1)
    search_space={"hidden_layer_sizes": [(100,), (50, 50)], "alpha": [1e-4, 1e-2, 1e-1, 1.0]},
    imbalance="sample_weight",  # scikit-learn >= 1.7
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
