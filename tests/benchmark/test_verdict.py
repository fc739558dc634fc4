"""The verdict: validation-chosen pair, paired bootstrap, Holm, p-value floors, shortcuts."""

import numpy as np
import pandas as pd
import pytest

from benchmark.tables import comparison_table, render_text
from benchmark.verdict import analyse, format_p, paired_bootstrap_test


def _proba(score):
    score = np.clip(score, 0, 1)
    return np.column_stack([1 - score, score])


def test_paired_bootstrap_floor_and_sign():
    rng = np.random.default_rng(0)
    y = np.arange(400) % 2
    good = _proba(0.5 + 0.45 * (2 * y - 1) + rng.normal(0, 0.1, 400))
    poor = _proba(rng.uniform(0, 1, 400))
    res = paired_bootstrap_test(y, [good], [poor], n_boot=199)
    assert res["difference"] > 0.3 and res["ci"][0] > 0
    assert res["p_floor"] and res["p_value"] == pytest.approx(1 / 200)  # never exactly 0
    assert format_p(res["p_value"], res["p_floor"], 199) == "< 0.005"
    same = paired_bootstrap_test(y, [poor], [poor], n_boot=199)
    assert same["difference"] == 0 and same["p_value"] == 1.0 and not same["p_floor"]


def test_seeds_are_averaged_within_each_resample():
    y = np.arange(200) % 2
    perfect, useless = _proba(y * 1.0), _proba(np.full(200, 0.5))
    res = paired_bootstrap_test(y, [perfect, useless], [useless], n_boot=99)
    assert res["difference"] == pytest.approx(0.25)  # mean of AUC 1.0 and 0.5, minus 0.5


class FakeStore:
    """Records and predictions in memory, read like a ResultsStore."""

    def __init__(self, rows):
        self.rows = rows

    def config(self):
        return {"run": {"n_bootstrap": 200}}

    def records(self):
        return [r for r, _, _ in self.rows]

    def _find(self, run_id):
        return next(x for x in self.rows if x[0]["run_id"] == run_id)

    def predictions(self, run_id, part="test"):
        _, test, val = self._find(run_id)
        return test if part == "test" else val

    def has_val_predictions(self, run_id):
        return True


def _frame(y, score):
    return pd.DataFrame(
        {"id": np.arange(len(y)).astype(str), "y_true": y, "score_0": 1 - score, "score_1": score}
    )  # noqa: E501


def _record(feature, method, kind, y, score, **extra):
    from benchmark.metrics import binary_metrics

    return {
        "run_id": f"{feature}__{method}__seed0",
        "feature": feature,
        "method": method,
        "kind": kind,
        "seed": 0,
        "classes": ["bogus", "real"],
        "dataset": "made-up",
        "metrics": binary_metrics(y, score),
        "threshold": 0.5,
        **extra,
    }


def _store(trivial_test_noise=0.62):
    rng = np.random.default_rng(1)
    y = np.arange(600) % 2
    yv = np.arange(300) % 2

    def noisy(labels, noise):
        return np.clip(0.5 + 0.4 * (2 * labels - 1) + rng.normal(0, noise, len(labels)), 0, 1)

    rows = []
    # rf: best on validation, a little worse than svm on test (test must not pick the pair)
    for feature, method, kind, test_noise, val_noise, extra in [
        ("pca", "rf", "classical", 0.60, 0.20, {}),
        ("pca", "svm", "classical", 0.35, 0.60, {}),
        ("images", "cnn", "deep", 0.90, 0.65, {"budget_limited": True}),
        ("trivial", "logreg", "classical", trivial_test_noise, 0.70, {"shortcut_detector": True}),
    ]:
        score, vscore = noisy(y, test_noise), noisy(yv, val_noise)
        record = _record(feature, method, kind, y, score, **extra)
        if method == "logreg":
            record["importances"] = {"border_std_0": 2.0, "mean_0": 0.5}
        rows.append((record, _frame(y, score), _frame(yv, vscore)))
    return FakeStore(rows)


def test_pair_is_chosen_on_validation_and_rows_are_holm_corrected():
    from statsmodels.stats.multitest import multipletests

    store = _store()
    a = analyse(store)
    assert a.best.method == "rf" and a.classical.method == "rf" and a.deep.method == "cnn"
    assert a.row("pca", "svm")["difference"] > 0  # svm is better on test, yet not "best"
    raw = a.comparisons["p_value"].to_numpy()
    np.testing.assert_allclose(a.comparisons["p_holm"], multipletests(raw, method="holm")[1])
    assert "Best classical: rf on pca; best CNN: cnn on images (budget-limited" in a.verdict
    assert "the classical method is better" in a.verdict
    # the shortcut detector comes within 0.05 of the best: said, naming its top statistic
    assert a.shortcut.startswith("Shortcut warning") and "border_std_0" in a.shortcut
    table = comparison_table(store.records(), analysis=a)
    text = render_text(table, analysis=a)
    assert "cnn †" in text and "budget-limited" in text and "best (val)" in text
    assert "logreg (shortcut check)" in text and "Verdict: Best classical" in text


def test_a_hybrid_best_row_is_neither_side_of_the_verdict():
    store = _store()
    rng = np.random.default_rng(5)
    y, yv = np.arange(600) % 2, np.arange(300) % 2
    score = np.clip(y + rng.normal(0, 0.3, 600), 0, 1)
    vscore = np.clip(yv + rng.normal(0, 0.05, 300), 0, 1)  # best on validation by far
    record = _record("images", "hybrid", "deep", y, score, hybrid=True)
    store.rows.append((record, _frame(y, score), _frame(yv, vscore)))
    a = analyse(store)
    assert a.best.method == "hybrid" and a.deep.method == "cnn" and a.classical.method == "rf"
    # the CNN-vs-classical comparisons are made against the better of the two (rf)
    assert "hybrid" in set(a.verdict_comparisons["method"])
    assert "rf" not in set(a.verdict_comparisons["method"])
    assert "Best classical: rf on pca; best CNN: cnn on images" in a.verdict
    assert "the classical method is better" in a.verdict
    assert a.summary["classical"] == "rf on pca" and a.summary["difference"] < 0


def test_shortcut_warning_says_when_trivial_statistics_beat_the_best():
    a = analyse(_store(trivial_test_noise=0.2))
    assert a.shortcut.startswith("Shortcut warning")
    assert "beats, by 0." in a.shortcut and "within -" not in a.shortcut


def test_verdict_says_when_too_few_resamples_cannot_resolve_it():
    """With B = 20 the smallest p is 1/21; Holm over 3 comparisons cannot reach 0.05."""
    a = analyse(_store(), n_boot=20)
    assert "paired bootstrap p < 0.048" in a.verdict
    assert "not resolved: 20 bootstrap resamples cannot reach p < 0.05" in a.verdict
    assert "n_bootstrap to at least 60" in a.verdict


def test_published_rows_carry_prevalence_and_notes():
    store = _store()
    table = comparison_table(store.records(), published=["du-buisson-2015", "negm-2021"])
    text = render_text(table)
    assert "56.5%" in text and "88.2%" in text  # du Buisson's and Negm's test sets
    assert "CNN (initial) [training set, not test" in text
    assert "accuracy, precision and F1 are not comparable across them" in text
    assert "TP / FN / FP / TN: truly real (predicted real, predicted bogus)" in text  # its classes
    galaxy10 = render_text(comparison_table(store.records(), published="galaxy10"))
    assert "maximum over epochs (chosen on test)" in galaxy10 and "DECaLS" in galaxy10


def test_three_seeds_give_a_critical_difference_diagram(tmp_path):
    from reports import figures

    rng = np.random.default_rng(2)
    y, yv = np.arange(300) % 2, np.arange(100) % 2
    rows = []
    for method, noise in (("rf", 0.3), ("knn", 0.5), ("nb", 0.8)):
        for seed in range(3):
            score = np.clip(0.5 + 0.4 * (2 * y - 1) + rng.normal(0, noise, 300), 0, 1)
            vscore = np.clip(0.5 + 0.4 * (2 * yv - 1) + rng.normal(0, noise, 100), 0, 1)
            record = _record("pca", method, "classical", y, score)
            record.update(run_id=f"pca__{method}__seed{seed}", seed=seed)
            rows.append((record, _frame(y, score), _frame(yv, vscore)))
    a = analyse(FakeStore(rows))
    cd = a.critical_difference
    assert cd is not None and 0 <= cd["friedman_p"] <= 1
    assert cd["ranks"]["rf on pca"] == pytest.approx(1.0)  # best in every seed
    assert list(cd["nemenyi"].columns) == list(cd["ranks"])
    path = figures.critical_difference(cd["ranks"], cd["nemenyi"], "ranks", tmp_path, "cd.png")
    assert (tmp_path / path).stat().st_size > 1000


def test_far_apart_recalls_get_a_note_on_operating_points():
    from benchmark.metrics import binary_metrics
    from benchmark.tables import table_notes

    # 20% positives; one method's scores are shifted low (as an unweighted forest's are)
    rng = np.random.default_rng(3)
    y = (np.arange(500) % 5 == 0).astype(int)
    good = np.clip(0.5 + 0.3 * (2 * y - 1) + rng.normal(0, 0.15, 500), 0, 1)
    low = np.clip(good - 0.45, 0, 1)

    def table(threshold_low):
        records = [
            _record("pca", "logreg", "classical", y, good),
            {
                **_record("pca", "rf", "classical", y, low),
                "metrics": binary_metrics(y, low, threshold_low),
                "threshold": threshold_low,
            },
        ]
        return comparison_table(records)

    fixed = table(0.5)
    recalls = fixed.set_index("method")["recall"]
    assert recalls["rf"] < 0.2 and recalls["logreg"] > 0.9
    note = next(n for n in table_notes(fixed) if n.startswith("recall ranges"))
    lo, hi = recalls["rf"], recalls["logreg"]
    assert f"from {lo:.2f} (rf on pca) to {hi:.2f} (logreg on pca)" in note
    assert 'threshold = "balanced"' in note
    # thresholds already chosen (not all 0.5): the note without the advice
    chosen = [n for n in table_notes(table(0.2)) if n.startswith("recall ranges")]
    assert all('"balanced"' not in n for n in chosen)
    # recalls close together: no note
    close = comparison_table([_record("pca", "logreg", "classical", y, good)] * 2)
    assert not [n for n in table_notes(close) if n.startswith("recall ranges")]


def test_an_imbalanced_binary_test_set_gets_balanced_accuracy():
    from benchmark.tables import table_notes

    rng = np.random.default_rng(4)
    y = (np.arange(500) % 5 == 0).astype(int)  # 20% positives
    score = np.clip(0.5 + 0.3 * (2 * y - 1) + rng.normal(0, 0.2, 500), 0, 1)
    majority = _record("pca", "rf", "classical", y, np.zeros(500))  # always the majority
    table = comparison_table([_record("pca", "logreg", "classical", y, score), majority])
    rows = table.set_index("method")
    assert rows.loc["rf", "accuracy"] == pytest.approx(0.8)
    assert rows.loc["rf", "balanced_accuracy"] == pytest.approx(0.5)
    assert rows.loc["logreg", "balanced_accuracy"] > 0.8
    text = render_text(table)
    assert "Bal. acc." in text
    note = next(n for n in table_notes(table) if n.startswith("Bal. acc."))
    assert "(20.0% real)" in note and "scores 80.0%" in note  # its positive class named
    # every binary run's record carries the column's bootstrap interval
    from types import SimpleNamespace

    from benchmark.runs import score as score_run

    settings = SimpleNamespace(threshold="fixed", target_recall=0.95, n_bootstrap=100)
    scored = score_run(_proba(score), score, y, y, ["bogus", "real"], settings, 0)
    lo, hi = scored["ci"]["balanced_accuracy"]
    assert lo < scored["metrics"]["balanced_accuracy"] < hi
    # equal classes: no such column or note
    y2 = np.arange(500) % 2
    even = comparison_table([_record("pca", "logreg", "classical", y2, y2 * 0.8 + 0.1)])
    assert "balanced_accuracy" not in even and "Bal. acc." not in render_text(even)
