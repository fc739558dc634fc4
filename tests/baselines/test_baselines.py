"""Every registered baseline through the same checks with tiny data."""

import numpy as np
import pytest
from sklearn.base import clone

import baselines
from baselines.method import ClassicalMethod
from benchmark.errors import ConfigError, UnknownNameError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 240
    y = (np.arange(n) % 3 == 0).astype(int)  # imbalanced: a third positive
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[:, 0] += 2.0 * y
    x[:, 1] -= 1.5 * y
    return x[:160], y[:160], x[160:], y[160:]


def test_registry_lists_the_nine():
    assert baselines.available() == sorted(
        ["rf", "knn", "svm", "nb", "mec", "logreg", "xgboost", "decision-tree", "mlp"]
    )


@pytest.mark.parametrize("name", baselines.available())
def test_baseline_learns_saves_and_reloads(name, data, tmp_path):
    xtr, ytr, xva, yva = data
    est = baselines.get(name)
    assert clone(est).get_params().keys() == est.get_params().keys()
    method = ClassicalMethod(name, seed=1).fit(xtr, ytr, xva, yva)
    proba = method.predict_proba(xva)
    assert proba.shape == (len(xva), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(yva, proba[:, 1]) > 0.8  # it learned the signal
    method.save(tmp_path / name)
    again = ClassicalMethod.load(tmp_path / name)
    np.testing.assert_allclose(again.predict_proba(xva), proba, atol=1e-6)
    if name == "xgboost":
        assert (tmp_path / name / "model.json").is_file()


def test_tuning_tries_candidates_and_keeps_the_best(data):
    xtr, ytr, xva, yva = data
    method = ClassicalMethod("logreg", n_candidates=8).fit(xtr, ytr, xva, yva)
    assert len(method.history_) == 4  # the defaults (C = 1), then the grid's other three
    best = min(method.history_, key=lambda h: h["val_log_loss"])
    assert {**best["params"]}.items() <= method.best_params_.items()
    fixed = ClassicalMethod("logreg", {"C": 0.5}, n_candidates=8).fit(xtr, ytr, xva, yva)
    assert len(fixed.history_) == 1 and fixed.best_params_ == {"C": 0.5}  # fixed: not tuned


def test_mec_fits_a_class_with_fewer_samples_than_features():
    """A class of 12 training samples in 20 features: scikit-learn >= 1.8 refuses its QDA
    covariance whatever reg_param (a real/bogus set of a few hundred stamps did this); mec
    shrinks it instead and still learns."""
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(12, int), np.zeros(148, int)]
    x = rng.normal(size=(160, 20))
    x[:, 0] += 3.0 * y
    method = ClassicalMethod("mec", seed=0).fit(x, y, x, y)
    from sklearn.metrics import roc_auc_score

    proba = method.predict_proba(x)
    assert np.isfinite(proba).all() and roc_auc_score(y, proba[:, 1]) > 0.9
    wide = method.estimator_[-1]
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    assert wide.shrunk_ == ("solver" in QuadraticDiscriminantAnalysis().get_params())
    assert not ClassicalMethod("mec").fit(x[:, :3], y, x[:, :3], y).estimator_[-1].shrunk_


def test_knn_neighbours_are_capped_at_a_small_training_set(data):
    xtr, ytr, xva, yva = data
    method = ClassicalMethod("knn").fit(xtr[:10], ytr[:10], xva, yva)
    assert method.estimator_[-1].n_neighbors == 10  # the default 15, capped
    assert method.predict_proba(xva).shape == (len(xva), 2)
    tuned = ClassicalMethod("knn", n_candidates=8).fit(xtr[:10], ytr[:10], xva, yva)
    assert {"n_neighbors": 31} not in [h["params"] for h in tuned.history_]  # not tried
    with pytest.raises(ConfigError, match="n_neighbors = 12 exceeds the 10 training samples"):
        ClassicalMethod("knn", {"n_neighbors": 12}).validate(
            n_train=10, n_classes=2, input_shape=(6,)
        )


def test_mlp_early_stopping_only_where_the_held_out_part_is_large_enough():
    """On a small training part the MLP trains its epochs: early stopping on a tenth of 84
    samples stopped before it learnt, ranking a separable toy's test samples backwards."""
    from sklearn.metrics import roc_auc_score

    from baselines.models import MIN_EARLY_STOPPING

    rng = np.random.default_rng(0)
    n_test = 400
    aucs = []
    for n in (84, 10 * MIN_EARLY_STOPPING):
        x = rng.normal(size=(n + n_test, 20))
        y = (x @ rng.normal(size=20) + rng.normal(0, 2, n + n_test) > 0).astype(int)
        method = ClassicalMethod("mlp", seed=3).fit(x[:n], y[:n], x[n : n + 1], y[n : n + 1])
        mlp = method.estimator_[-1]
        assert mlp.early_stopping == "auto"  # the parameter stays as given
        assert mlp.early_stopping_ == (n >= 10 * MIN_EARLY_STOPPING)
        aucs.append(roc_auc_score(y[n:], method.predict_proba(x[n:])[:, 1]))
    assert min(aucs) > 0.8
    forced = baselines.get("mlp").set_params(clf__early_stopping=True, clf__random_state=3)
    forced.fit(x[:84], y[:84])
    assert forced[-1].early_stopping_ is True


def test_multiclass(data):
    xtr, ytr, xva, yva = data
    y3 = np.arange(len(ytr)) % 3
    m = ClassicalMethod("rf").fit(xtr, y3, xva, np.arange(len(yva)) % 3)
    assert m.predict_proba(xva).shape == (len(xva), 3)


def test_errors():
    with pytest.raises(
        UnknownNameError, match="unknown baseline 'cnn'; valid names: decision-tree"
    ):
        baselines.get("cnn")
    with pytest.raises(ConfigError, match="unknown hyperparameter 'depth' for baseline 'rf'"):
        baselines.get("rf", depth=3)


@pytest.mark.parametrize("name", baselines.available())
def test_one_treatment_of_imbalance(name, data):
    """class_weight="balanced" reaches every baseline the way its registration says."""
    from benchmark.methods import spec

    xtr, ytr, xva, yva = data  # a third positive
    balanced = ClassicalMethod(name, class_weight="balanced").fit(xtr, ytr, xva, yva)
    plain = ClassicalMethod(name, class_weight="none").fit(xtr, ytr, xva, yva)
    est = balanced.estimator_
    leaf = getattr(est, "steps", [[None, est]])[-1][1]
    mode = spec(name)["imbalance"]
    if mode == "class_weight":
        params = leaf.get_params()
        weight = params.get("class_weight") or params.get("estimator__class_weight")
        assert weight in ("balanced", "balanced_subsample")
    elif mode == "priors":
        np.testing.assert_allclose(leaf.priors, [0.5, 0.5])
    elif mode == "oversample":
        counts = np.bincount(ytr)
        assert leaf.n_samples_fit_ == 2 * counts.max()  # minority repeated up to the majority
    positive_rate = (balanced.predict_proba(xva)[:, 1] >= 0.5).mean()
    assert positive_rate >= (plain.predict_proba(xva)[:, 1] >= 0.5).mean() - 0.02
    assert balanced.summary()["class_weight"] == "balanced"
