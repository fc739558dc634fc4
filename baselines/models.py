"""Factories of the classical classifiers, with their default hyperparameters.

Each factory returns a fresh scikit-learn estimator or Pipeline with
``predict_proba``; scaling is included where the method needs it.  Class
imbalance is one run setting for every method (``[run] class_weight``):
:class:`baselines.method.ClassicalMethod` passes it as the factory's
``class_weight``, as equal ``priors``, as sample weights or by over-sampling,
as each baseline's registration says.
Search spaces and other metadata are in the registration lines of
:mod:`baselines`.
Estimators run single-threaded: the runner parallelises over runs.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.linalg import LinAlgWarning
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import StrOptions

__all__ = [
    "MIN_EARLY_STOPPING",
    "MLP",
    "MinimumErrorClassifier",
    "decision_tree",
    "knn",
    "logreg",
    "mec",
    "mlp",
    "nb",
    "rf",
    "svm",
    "xgboost",
]


def _scaled(estimator) -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("clf", estimator)])


def _gaussianised(estimator, random_state) -> Pipeline:
    """Map each feature to normal marginals first: for methods that assume Gaussian densities.

    Measured stamp features (fluxes, areas, ratios) are heavy-tailed; without this, naive
    Bayes and the Gaussian Bayes rule model them badly.
    """
    quantiles = QuantileTransformer(
        n_quantiles=100, output_distribution="normal", random_state=random_state
    )
    return Pipeline([("gaussianise", quantiles), ("clf", estimator)])


def rf(
    *, n_estimators=300, max_features="sqrt", min_samples_leaf=1, class_weight=None, random_state=0
):
    """Random forest (du Buisson et al.'s best classical method)."""
    return RandomForestClassifier(
        n_estimators=n_estimators,
        max_features=max_features,
        min_samples_leaf=min_samples_leaf,
        # each tree's bootstrap sample re-weighted
        class_weight="balanced_subsample" if class_weight == "balanced" else class_weight,
        random_state=random_state,
        n_jobs=1,
    )


def knn(*, n_neighbors=15, weights="distance", random_state=0):
    """k nearest neighbours on standardised features."""
    return _scaled(KNeighborsClassifier(n_neighbors=n_neighbors, weights=weights))


def svm(*, C=10.0, gamma="scale", class_weight=None, random_state=0):
    """RBF support vector machine; probabilities by Platt (sigmoid) calibration, 3-fold."""
    svc = SVC(C=C, gamma=gamma, class_weight=class_weight, random_state=random_state)
    return _scaled(CalibratedClassifierCV(svc, method="sigmoid", cv=3))


def nb(*, var_smoothing=1e-9, priors=None, random_state=0):
    """Gaussian naive Bayes on features mapped to normal marginals."""
    return _gaussianised(GaussianNB(var_smoothing=var_smoothing, priors=priors), random_state)


class MinimumErrorClassifier(ClassifierMixin, BaseEstimator):
    """Regularised QDA that stays defined when a class has no more samples than features.

    scikit-learn 1.8 and later refuse such a class (its covariance is not full rank)
    whatever ``reg_param``; there the class covariances are estimated with Ledoit-Wolf
    shrinkage instead (``solver="eigen"``, ``shrinkage="auto"``), which ``shrunk_`` records.
    Elsewhere it is ``QuadraticDiscriminantAnalysis(reg_param=reg_param, priors=priors)``
    (older scikit-learn fits such a class in the subspace of its samples, without its
    rank warning).
    """

    def __init__(self, reg_param=0.1, priors=None):
        self.reg_param = reg_param
        self.priors = priors

    def fit(self, X, y):
        qda = QuadraticDiscriminantAnalysis(reg_param=self.reg_param, priors=self.priors)
        self.shrunk_ = False
        shrinkable = "solver" in qda.get_params()
        try:
            with warnings.catch_warnings():
                if not shrinkable:  # older scikit-learn fits such a class in its own subspace
                    warnings.simplefilter("ignore", LinAlgWarning)  # and says so each time
                qda.fit(X, y)
        except np.linalg.LinAlgError:
            if not shrinkable:  # older scikit-learn: a real failure
                raise
            shrunk = {"solver": "eigen", "shrinkage": "auto"}
            qda = QuadraticDiscriminantAnalysis(**shrunk, priors=self.priors).fit(X, y)
            self.shrunk_ = True
        self.qda_ = qda
        self.classes_ = qda.classes_
        return self

    def predict_proba(self, X):
        return self.qda_.predict_proba(X)

    def predict(self, X):
        return self.qda_.predict(X)


def mec(*, reg_param=0.1, priors=None, random_state=0):
    """Minimum error classification: Bayes rule with Gaussian class densities (regularised QDA).

    Features are mapped to normal marginals first, so the Gaussian densities fit better;
    a class with no more training samples than features gets a shrunk covariance
    (:class:`MinimumErrorClassifier`).
    """
    return _gaussianised(MinimumErrorClassifier(reg_param=reg_param, priors=priors), random_state)


def logreg(*, C=1.0, class_weight=None, random_state=0):
    """Logistic regression (seed 004 pairs it with 20 PCA components)."""
    return _scaled(
        LogisticRegression(C=C, max_iter=2000, class_weight=class_weight, random_state=random_state)
    )


def xgboost(*, n_estimators=300, max_depth=6, learning_rate=0.1, subsample=0.9, random_state=0):
    """Gradient-boosted trees (XGBoost, histogram method)."""
    from xgboost import XGBClassifier

    return XGBClassifier(
        n_estimators=n_estimators,
        max_depth=max_depth,
        learning_rate=learning_rate,
        subsample=subsample,
        tree_method="hist",
        n_jobs=1,
        random_state=random_state,
        eval_metric="logloss",
    )


def decision_tree(*, max_depth=10, min_samples_leaf=5, class_weight=None, random_state=0):
    """A single decision tree (seed 003's baseline)."""
    return DecisionTreeClassifier(
        max_depth=max_depth,
        min_samples_leaf=min_samples_leaf,
        class_weight=class_weight,
        random_state=random_state,
    )


#: Fewest samples early stopping may hold out: below this (under 1,000 training samples at
#: scikit-learn's 10%) the epoch it stops at is noise. On 84 training samples of a
#: separable toy it stopped before learning anything (test AUC 0.58, some seeds below 0.5,
#: against 0.89 for the same network trained its 300 epochs; 0.74 against 0.90 on 200).
MIN_EARLY_STOPPING = 100


class MLP(MLPClassifier):
    """``MLPClassifier`` whose ``early_stopping="auto"`` holds out ``validation_fraction``
    of the training samples only where that is at least :data:`MIN_EARLY_STOPPING`
    samples; otherwise it trains ``max_iter`` epochs (``alpha`` regularises).
    ``early_stopping_`` says which it did."""

    _parameter_constraints = {
        **MLPClassifier._parameter_constraints,
        "early_stopping": ["boolean", StrOptions({"auto"})],
    }

    def fit(self, X, y, sample_weight=None):
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        auto = self.early_stopping == "auto"
        if auto:
            self.early_stopping = len(y) * self.validation_fraction >= MIN_EARLY_STOPPING
        try:
            self.early_stopping_ = bool(self.early_stopping)
            with warnings.catch_warnings():
                if auto and not self.early_stopping_:  # all max_iter epochs, by design
                    warnings.simplefilter("ignore", ConvergenceWarning)
                return super().fit(X, y, sample_weight=sample_weight)
        finally:
            if auto:
                self.early_stopping = "auto"


def mlp(*, hidden_layer_sizes=(100,), alpha=1e-4, activation="relu", random_state=0):
    """Feed-forward network: SkyNet-style (du Buisson et al.) and seed 003's one hidden layer.

    Early stopping on 10% of the training samples where that holds at least
    :data:`MIN_EARLY_STOPPING`; on smaller sets 300 epochs.
    """
    return _scaled(
        MLP(
            hidden_layer_sizes=tuple(hidden_layer_sizes),
            alpha=alpha,
            activation=activation,
            early_stopping="auto",
            max_iter=300,
            random_state=random_state,
        )
    )
