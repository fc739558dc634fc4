"""Metrics against hand-computed values and scikit-learn."""

import numpy as np
import pytest
from sklearn import metrics as skm

from benchmark.metrics import (
    binary_metrics,
    bootstrap_ci,
    choose_threshold,
    expected_calibration_error,
    mcnemar,
    multiclass_metrics,
    paired_bootstrap,
    vote_rmse,
)


def test_binary_by_hand():
    # 4 real, 4 not real; threshold 0.5 -> tp 3, fn 1, fp 1, tn 3
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.2, 0.1, 0.4])
    m = binary_metrics(y, s)
    assert m["confusion"] == [[3, 1], [1, 3]]
    assert m["accuracy"] == 0.75 and m["precision"] == 0.75 and m["recall"] == 0.75
    assert m["f1"] == 0.75 and m["fpr"] == 0.25 and m["balanced_accuracy"] == 0.75
    assert m["mcc"] == pytest.approx(0.5)
    # AUC: of 16 (real, not-real) pairs the real one scores higher in 4 + 4 + 3 + 2 = 13
    assert m["auc"] == pytest.approx(13 / 16)
    assert m["brier"] == pytest.approx(np.mean((s - y) ** 2))


def test_published_layout_matches_du_buisson_rf():
    # RF row of the published table: object row 3541 / 259 ... laid out [[tp, fn], [fp, tn]]
    tp, fn, fp, tn = 3541, 342, 259, 2732
    y = np.r_[np.ones(tp + fn), np.zeros(fp + tn)].astype(int)
    s = np.r_[np.ones(tp), np.zeros(fn), np.ones(fp), np.zeros(tn)]
    m = binary_metrics(y, s)
    assert m["confusion"] == [[tp, fn], [fp, tn]]
    assert m["accuracy"] == pytest.approx(0.91, abs=0.005)
    assert m["recall"] == pytest.approx(0.91, abs=0.005)
    assert m["precision"] == pytest.approx(0.93, abs=0.005)


def test_binary_against_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.clip(y * 0.3 + rng.uniform(0, 0.7, 500), 0, 1)
    m = binary_metrics(y, s, threshold=0.45)
    pred = (s >= 0.45).astype(int)
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert m["mcc"] == pytest.approx(skm.matthews_corrcoef(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, s))
    assert m["threshold"] == 0.45


def test_operating_points_by_hand():
    # 100 reals scoring 0.01..1.00, 100 bogus scoring 0.00..0.99 shifted down by 0.5
    y = np.r_[np.ones(100), np.zeros(100)].astype(int)
    s = np.r_[np.arange(1, 101) / 100, np.arange(0, 100) / 100 - 0.5]
    m = binary_metrics(y, s)
    # FPR <= 1% allows 1 bogus above the threshold: threshold just below 0.49 -> reals >= 0.49
    assert m["mdr_at_fpr_1"] == pytest.approx(0.48)
    assert 0 <= m["eer"] <= 0.5 and m["fpr_at_mdr_1"] <= m["fpr_at_mdr_4"] + 1
    perfect = binary_metrics([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert perfect["auc"] == 1 and perfect["eer"] == 0 and perfect["mdr_at_fpr_1"] == 0


def test_calibration_error():
    y = np.array([1, 0, 1, 0])
    assert expected_calibration_error(y, [0.95, 0.05, 0.95, 0.05]) == pytest.approx(0.05)
    assert expected_calibration_error(y, [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.0)


def test_multiclass_against_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 400)
    p = rng.dirichlet(np.ones(4), 400)
    p[np.arange(400), y] += 0.3
    p /= p.sum(axis=1, keepdims=True)
    m = multiclass_metrics(y, p, ["a", "b", "c", "d"])
    pred = p.argmax(axis=1)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["weighted_f1"] == pytest.approx(skm.f1_score(y, pred, average="weighted"))
    assert m["macro_precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert m["auc_ovr"] == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"))
    np.testing.assert_array_equal(m["confusion"], skm.confusion_matrix(y, pred))
    assert m["per_class"]["c"]["recall"] == pytest.approx(
        skm.recall_score(y, pred, average=None)[2]
    )
    assert np.allclose(np.sum(m["confusion_normalised"], axis=1), 1)


def test_vote_rmse():
    a = np.zeros((2, 37))
    b = np.full((2, 37), 0.1)
    assert vote_rmse(a, b) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="differ in shape"):
        vote_rmse(a, b[:, :3])


def test_threshold_tuning_on_validation():
    y = np.array([1, 1, 1, 0, 0, 0])
    s = np.array([0.9, 0.4, 0.35, 0.3, 0.2, 0.1])
    assert choose_threshold(y, s) == 0.5
    assert choose_threshold(y, s, strategy="max-f1") == pytest.approx(0.35)
    assert choose_threshold(y, s, strategy="target-recall", target_recall=0.6) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="valid: fixed, auto, balanced, max-f1, target-recall"):
        choose_threshold(y, s, strategy="youden")


def test_balanced_threshold_is_the_best_balanced_accuracy_on_validation():
    # 2 positives among 10, scored low as an unweighted model of imbalanced data does
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    s = np.array([0.35, 0.2, 0.3, 0.15, 0.1, 0.1, 0.05, 0.05, 0.02, 0.01])
    cut = choose_threshold(y, s, strategy="balanced")
    assert cut == pytest.approx(0.2)  # recall 1, specificity 7/8 (0.5 gives recall 0)
    pred = s >= cut
    assert skm.balanced_accuracy_score(y, pred) == pytest.approx((1 + 7 / 8) / 2)
    for t in np.unique(s):  # no candidate does better
        assert skm.balanced_accuracy_score(y, s >= t) <= skm.balanced_accuracy_score(y, pred)
    # among equally good thresholds the one nearest 0.5; one class only: 0.5
    # 0.4 and 0.9 both give balanced accuracy 0.75
    tie = choose_threshold([1, 0, 1, 0], [0.9, 0.6, 0.4, 0.1], strategy="balanced")
    assert tie == pytest.approx(0.4)
    assert choose_threshold([0, 1], [0.45, 0.55], strategy="balanced") == pytest.approx(0.55)
    assert choose_threshold([0, 0, 0], [0.2, 0.3, 0.9], strategy="balanced") == 0.5
    # auto: balanced below 40% of the rarer class (20% here), 0.5 on equal classes
    assert choose_threshold(y, s, strategy="auto") == cut
    even = np.array([1, 0, 1, 0])
    assert choose_threshold(even, [0.9, 0.6, 0.4, 0.1], strategy="auto") == 0.5


def test_bootstrap_fast_path_matches_the_definition():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    s = np.clip(y * 0.25 + rng.uniform(0, 0.75, 300), 0, 1)
    names = ["auc", "accuracy", "recall", "precision", "f1"]
    fast = bootstrap_ci(y, s, names, n_boot=300, seed=4)
    slow = bootstrap_ci(y, s, [*names, "brier"], n_boot=300, seed=4)  # generic loop
    for name in names:
        assert fast[name] == pytest.approx(slow[name], abs=1e-9)
        point = binary_metrics(y, s)[name]
        assert fast[name][0] <= point <= fast[name][1]
    assert fast["auc"][1] - fast["auc"][0] < 0.15


def test_paired_tests():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    good = np.clip(y * 0.6 + rng.uniform(0, 0.4, 400), 0, 1)
    bad = rng.uniform(0, 1, 400)
    res = paired_bootstrap(y, good, bad, "auc", n_boot=300)
    assert res["difference"] > 0.3 and res["p_value"] < 0.01 and res["ci"][0] > 0
    m = mcnemar(y, (good >= 0.5).astype(int), (bad >= 0.5).astype(int))
    assert m["p_value"] < 1e-6 and m["a_right_b_wrong"] > m["a_wrong_b_right"]
    same = mcnemar(y, y, y)
    assert same["p_value"] == 1.0


def test_bootstrap_auc_of_each_resample_equals_sklearn_on_that_resample():
    from sklearn.metrics import roc_auc_score

    from benchmark.metrics import _binary_bootstrap

    rng = np.random.default_rng(0)
    y = rng.uniform(size=300) < 0.4
    s = np.round(rng.normal(y * 1.0, 1.0), 1)  # many ties
    idx = rng.integers(0, 300, (5, 300))
    counts = np.stack([np.bincount(row, minlength=300) for row in idx])
    got = _binary_bootstrap(y, s, 0.5, ("auc",), counts)["auc"]
    want = [roc_auc_score(y[row], s[row]) for row in idx]
    np.testing.assert_allclose(got, want, rtol=1e-12)
