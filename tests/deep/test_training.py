"""Augmentation, data feeding, training callbacks, persistence, explanations."""

import numpy as np
import pytest

import deep
from benchmark.errors import ConfigError, ShapeMismatchError
from deep.augment import Augment, d4_numpy
from deep.data import ImageBatches
from deep.method import DeepMethod


def _np(x):
    """A backend tensor as NumPy (torch tensors that need grad included)."""
    import keras

    return keras.ops.convert_to_numpy(x)


def _square(n=4, size=6, channels=2):
    return np.random.default_rng(0).normal(size=(n, size, size, channels)).astype(np.float32)


def test_d4_layer_matches_numpy_and_forms_the_group():
    from deep.layers import D4Transform

    x = _square()
    views = {k: d4_numpy(x, k) for k in range(8)}
    for k, view in views.items():
        np.testing.assert_allclose(_np(D4Transform(k)(x)), view)
    flat = {views[k].tobytes() for k in range(8)}
    assert len(flat) == 8  # eight distinct elements
    np.testing.assert_allclose(d4_numpy(d4_numpy(d4_numpy(d4_numpy(x, 1), 1), 1), 1), x)
    np.testing.assert_allclose(d4_numpy(d4_numpy(x, 4), 4), x)


def test_augmentations_keep_shapes_and_content():
    x = _square(n=32, size=9)
    rng = np.random.default_rng(1)
    out = Augment(d4=True)(x, rng)
    assert out.shape == x.shape
    np.testing.assert_allclose(np.sort(out.reshape(32, -1)), np.sort(x.reshape(32, -1)))
    assert not np.allclose(out, x)
    shifted = Augment(translate=2)(x, rng)
    assert shifted.shape == x.shape and not np.allclose(shifted, x)
    cropped = Augment(resized_crop=(0.5, 0.5))(x, rng)
    assert cropped.shape == x.shape
    flat = np.zeros((4000, 4, 4, 2), np.float32)
    noisy = Augment(noise=np.array([1.0, 3.0], np.float32))(flat, rng)
    np.testing.assert_allclose(noisy.reshape(-1, 2).std(axis=0), [1.0, 3.0], rtol=0.03)
    with pytest.raises(ConfigError, match="unknown augmentation 'zoom'"):
        Augment.from_names(["zoom"])


def test_resized_crop_of_full_scale_is_identity_and_translate_zero_too():
    x = _square(n=3, size=8)
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(Augment(resized_crop=(1.0, 1.0))(x, rng), x)
    np.testing.assert_allclose(Augment()(x, rng), x)


def test_batches_cover_every_row_once_and_pad_for_prediction():
    x = np.arange(10, dtype=np.float32)[:, None, None, None] * np.ones((10, 2, 2, 1), np.float32)
    batches = ImageBatches(x, batch_size=4, workers=1)
    seen = np.concatenate([batches[i][0][:, 0, 0, 0] for i in range(len(batches))])
    np.testing.assert_array_equal(seen, np.arange(10))
    padded = ImageBatches(x, batch_size=4, pad=True, workers=1)
    assert padded[2][0].shape[0] == 4 and padded.n_padded == 2
    y = np.arange(10) % 2
    shuffled = ImageBatches(x, y, batch_size=4, shuffle=True, seed=3, workers=1)
    rows = np.concatenate([shuffled[i][0][:, 0, 0, 0] for i in range(3)])
    np.testing.assert_array_equal(np.sort(rows), np.arange(10))
    np.testing.assert_array_equal(shuffled[0][1], rows[:4].astype(int) % 2)  # labels follow


def test_balanced_sampling_over_samples_the_rare_class():
    y = np.array([0] * 95 + [1] * 5)
    x = np.zeros((100, 2, 2, 1), np.float32)
    counts = np.zeros(2)
    batches = ImageBatches(x, y, batch_size=100, balance=True, workers=1)
    for _ in range(20):
        counts += np.bincount(batches[0][1], minlength=2)
        batches.on_epoch_end()
    assert 0.4 < counts[1] / counts.sum() < 0.6


def test_a_small_training_part_is_drawn_to_the_epoch_size():
    x = np.arange(10, dtype=np.float32)[:, None, None, None] * np.ones((10, 2, 2, 1), np.float32)
    y = np.array([0] * 8 + [1] * 2)
    shuffled = ImageBatches(x, y, batch_size=4, shuffle=True, epoch_size=25, seed=1, workers=1)
    assert len(shuffled) == 7  # ceil(25 / 4) optimiser steps, not 3
    rows = np.concatenate([shuffled[i][0][:, 0, 0, 0] for i in range(len(shuffled))])
    assert len(rows) == 25 and np.bincount(rows.astype(int), minlength=10).min() >= 2
    balanced = ImageBatches(x, y, batch_size=5, balance=True, epoch_size=400, workers=1)
    labels = np.concatenate([balanced[i][1] for i in range(len(balanced))])
    assert len(labels) == 400 and 0.4 < labels.mean() < 0.6
    # an epoch size below the images changes nothing: one pass in the same order
    once = ImageBatches(x, y, batch_size=4, shuffle=True, seed=1, workers=1)
    same = ImageBatches(x, y, batch_size=4, shuffle=True, epoch_size=8, seed=1, workers=1)
    assert len(same) == len(once) == 3
    for i in range(3):
        np.testing.assert_array_equal(same[i][0], once[i][0])


def test_min_steps_sets_the_steps_of_an_epoch_on_small_sets(blobs):
    """64 images at batch 32 are 2 steps an epoch; ``min_steps`` makes each that many."""
    x, y = blobs
    params = {"epochs": 2, "batch_size": 32, "filters": [4], "dense": 8, "restore_best": False}
    for min_steps, steps in ((1, 2), (10, 10)):
        method = DeepMethod("negm2021", {**params, "min_steps": min_steps})
        method.fit(x, y, x[:16], y[:16])
        assert int(_np(method.model_.optimizer.iterations)) == 2 * steps
    with pytest.raises(ConfigError, match="min_steps must be a positive integer"):
        DeepMethod("galaxy-cnn", {"min_steps": 0}).settings()


def test_batches_read_from_a_lazy_store(tmp_path, sdss_dataset):
    from benchmark.datasets.store import read_store, write_store

    write_store(sdss_dataset, tmp_path / "s.h5")
    lazy = read_store(tmp_path / "s.h5", lazy=True).images
    batches = ImageBatches(
        lazy, sdss_dataset.labels % 2, batch_size=16, shuffle=True, balance=True, workers=2
    )
    x, y = batches[1]
    assert x.shape == (16, 8, 8, 3) and x.dtype == np.float32 and y.shape == (16,)


def test_fit_learns_saves_and_reloads(blobs, tmp_path):
    x, y = blobs
    method = DeepMethod(
        "galaxy-cnn",
        {"epochs": 6, "batch_size": 16, "learning_rate": 0.05, "filters": [8, 8], "dense": 16},
        seed=0,
    )
    method.fit(x[:48], y[:48], x[48:], y[48:])
    proba = method.predict_proba(x)
    assert proba.shape == (64, 2)
    assert (method.predict(x) == y).mean() > 0.8
    method.threshold_ = 0.3
    method.save(tmp_path / "m")
    again = DeepMethod.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict_proba(x), proba, atol=1e-6)
    assert again.threshold_ == 0.3 and again.input_shape_ == (16, 16, 3)
    with pytest.raises(ShapeMismatchError, match="trained on"):
        again.predict_proba(x[:, :8, :8])


def test_same_seed_same_model(blobs):
    x, y = blobs
    params = {"epochs": 2, "batch_size": 16, "augment": ["d4", "noise"], "filters": [4]}
    a = DeepMethod("negm2021", {**params, "dense": 8}, seed=5)
    b = DeepMethod("negm2021", {**params, "dense": 8}, seed=5)
    pa = a.fit(x, y).predict_proba(x)
    pb = b.fit(x, y).predict_proba(x)
    np.testing.assert_allclose(pa, pb, atol=1e-5)


def test_step_schedule_and_early_stopping(blobs):
    x, y = blobs
    method = DeepMethod(
        "negm2021",
        {
            "epochs": 3,
            "batch_size": 32,
            "schedule": "step",
            "step_every": 1,
            "step_gamma": 0.5,
            "learning_rate": 0.01,
            "filters": [4],
            "dense": 8,
        },
    )
    method.fit(x, y, x[:16], y[:16])
    assert float(_np(method.model_.optimizer.learning_rate)) == pytest.approx(0.0025)
    # patience 1 with a learning rate of 0 (no improvement possible) stops after 2 epochs
    frozen = DeepMethod(
        "negm2021",
        {
            "epochs": 10,
            "patience": 1,
            "learning_rate": 0.0,
            "filters": [4],
            "dense": 8,
            "batch_size": 32,
        },
    )
    frozen.fit(x, y, x[:16], y[:16])
    assert len(frozen.history_) == 2
    assert {"loss", "val_loss", "accuracy", "epoch_s"} <= set(frozen.history_[0])


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_interrupted_training_resumes_from_its_last_epoch(blobs, tmp_path, monkeypatch, ema):
    import keras

    import deep.training as training

    x, y = blobs

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    original = training.make_callbacks
    monkeypatch.setattr(training, "make_callbacks", lambda *a, **k: [*original(*a, **k), Stop()])
    params = {"epochs": 4, "batch_size": 32, "filters": [4], "dense": 8, "ema": ema}
    with pytest.raises(KeyboardInterrupt):
        DeepMethod("negm2021", params, work_dir=tmp_path / "w").fit(x, y, x[:16], y[:16])
    monkeypatch.setattr(training, "make_callbacks", original)
    method = DeepMethod("negm2021", params, work_dir=tmp_path / "w").fit(x, y, x[:16], y[:16])
    assert [int(h["epoch"]) for h in method.history_] == [0, 1, 2, 3]


def test_test_time_augmentation_averages_the_d4_views(blobs):
    x, y = blobs
    method = DeepMethod("negm2021", {"epochs": 1, "filters": [4], "dense": 8}).fit(x, y)
    plain = method.predict_proba(x[:4])
    views = np.mean([method.predict_proba(d4_numpy(x[:4], k)) for k in range(8)], axis=0)
    np.testing.assert_allclose(method.predict_proba(x[:4], tta=True), views, atol=1e-6)
    assert not np.allclose(plain, views)


def test_rotation_invariant_wrapper_gives_one_answer_per_orbit():
    x = _square(n=3, size=24, channels=3)
    model = deep.build(
        "rotation-invariant", (24, 24, 3), 3, backbone_params={"filters": [4, 8, 8], "dense": 8}
    )
    base = _np(model(x))
    for k in range(1, 8):
        np.testing.assert_allclose(_np(model(d4_numpy(x, k))), base, atol=1e-5)
    plain = deep.build("negm2021", (24, 24, 3), 3, filters=[4, 8, 8], dense=8)
    assert not np.allclose(_np(plain(d4_numpy(x, 1))), _np(plain(x)), atol=1e-5)


def test_maxout_round_trips_through_its_config(tmp_path):
    import keras

    from deep.layers import Maxout

    model = keras.Sequential([keras.Input((5,)), Maxout(3, pieces=2)])
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    z = _np(model.layers[0].dense(x)).reshape(4, 3, 2)
    np.testing.assert_allclose(_np(model(x)), z.max(axis=-1), atol=1e-6)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(_np(again(x)), _np(model(x)), atol=1e-6)


def test_explanations_have_the_right_shapes_and_find_the_evidence(blobs):
    from deep.explain import activation_maps, explain, first_filters, occlusion_map

    x, y = blobs
    method = DeepMethod("negm2021", {"epochs": 1, "filters": [4, 8], "dense": 8}).fit(x, y)
    maps = activation_maps(method.model_, x[0], max_channels=3)
    assert list(maps) == ["block1_conv", "block2_conv"]
    assert maps["block1_conv"].shape == (14, 14, 3)
    assert first_filters(method.model_).shape == (3, 3, 3, 4)

    def bright_centre(images):  # "probability" of class 1: brightness of the central pixels
        p = 1 / (1 + np.exp(-images[:, 6:10, 6:10].mean(axis=(1, 2, 3))))
        return np.stack([1 - p, p], axis=1)

    image = x[np.flatnonzero(y == 1)[0]]
    heat = occlusion_map(bright_centre, image, 1, patch=4, stride=2)
    assert heat.shape == (7, 7)
    assert np.unravel_index(heat.argmax(), heat.shape) == (3, 3)  # the patch on the centre
    out = explain(method, x[:2], y[:2])
    assert out["occlusion"].shape[0] == 2 and "filters" in out


def test_budget_limited_runs_are_flagged(blobs):
    from deep.method import DeepMethod

    x, y = blobs
    base = {"batch_size": 16, "augment": [], "workers": 1}
    clocked = DeepMethod("simple-cnn", {**base, "epochs": 3, "time_budget": 1e-6}, seed=0)
    clocked.fit(x, y, x[:16], y[:16])
    assert len(clocked.history_) == 1 and clocked.summary()["budget_limited"]
    # nothing learnt (learning rate 0): the best epoch is the first, not the last
    flat = DeepMethod("simple-cnn", {**base, "epochs": 3, "learning_rate": 0.0}, seed=0)
    flat.fit(x, y, x[:16], y[:16])
    assert flat.best_epoch_ == 0 and not flat.summary()["budget_limited"]
    assert "epoch_s" not in flat.summary()["history"][0]  # wall-clock figures kept apart
    assert len(flat.summary()["timings"]["epoch_s"]) == 3


def test_class_weight_balances_the_batches():
    from deep.method import DeepMethod

    assert DeepMethod("negm2021", class_weight="balanced").settings()[0].balance
    assert not DeepMethod("negm2021", class_weight="none").settings()[0].balance
    fixed = DeepMethod("negm2021", {"balance": False}, class_weight="balanced")
    assert not fixed.settings()[0].balance  # the experiment's own setting wins


def test_jit_compile_is_a_recorded_and_checked_setting(blobs):
    x, y = blobs
    method = DeepMethod("simple-cnn", {"epochs": 1, "jit_compile": False}).fit(x[:48], y[:48])
    assert method.summary()["method_params"]["jit_compile"] is False
    assert method.settings_.jit_compile is False
    assert DeepMethod("simple-cnn").settings()[0].jit_compile == "auto"
    with pytest.raises(ConfigError, match="jit_compile must be true, false or"):
        DeepMethod("simple-cnn", {"jit_compile": "xla"}).settings()


def test_mixup_mixes_images_and_their_targets_alike():
    # every image is its own target (binary: one constant band; 3 classes: one-hot bands)
    y = np.arange(64) % 2
    x = np.broadcast_to(y[:, None, None, None], (64, 4, 4, 1)).astype(np.float32)
    batches = ImageBatches(x, y, batch_size=32, shuffle=True, binary_targets=True, mixup=0.4)
    xb, yb = batches[0]
    assert yb.shape == (32, 1) and yb.dtype == np.float32
    np.testing.assert_allclose(xb[:, 0, 0, :], yb, atol=1e-6)
    assert ((yb > 0.01) & (yb < 0.99)).mean() > 0.2  # mixed, not the labels
    np.testing.assert_array_equal(batches[0][1], yb)  # drawn per batch and epoch, repeatably
    y3 = np.arange(60) % 3
    x3 = np.broadcast_to(np.eye(3, dtype=np.float32)[y3][:, None, None, :], (60, 4, 4, 3))
    xb, yb = ImageBatches(x3, y3, batch_size=30, one_hot=3, mixup=0.4)[1]
    assert yb.shape == (30, 3)
    np.testing.assert_allclose(yb.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(xb[:, 2, 1, :], yb, atol=1e-6)
    plain = ImageBatches(x3, y3, batch_size=30, one_hot=3)[0][1]
    np.testing.assert_array_equal(plain, np.eye(3)[y3[:30]])
    with pytest.raises(ValueError, match="soft targets"):
        ImageBatches(x3, y3, mixup=0.2)


def test_label_smoothing_and_mixup_train_and_round_trip(blobs, tmp_path):
    x, y = blobs
    base = {"epochs": 12, "batch_size": 16, "learning_rate": 0.05, "filters": [8, 8], "dense": 16}
    sharp = DeepMethod("galaxy-cnn", base, seed=0).fit(x[:48], y[:48], x[48:], y[48:])
    smooth = DeepMethod("galaxy-cnn", {**base, "label_smoothing": 0.4}, seed=0)
    smooth.fit(x[:48], y[:48], x[48:], y[48:])
    # the smoothed targets are 0.8 / 0.2: no longer pushed towards certainty
    assert np.abs(sharp.predict_proba(x) - 0.5).max() > 0.45
    assert np.abs(smooth.predict_proba(x) - 0.5).max() < 0.4
    assert (smooth.predict(x) == y).mean() > 0.8
    mixed = DeepMethod("galaxy-cnn", {**base, "mixup": 0.2, "label_smoothing": 0.1}, seed=0)
    mixed.fit(x[:48], y[:48], x[48:], y[48:])
    assert (mixed.predict(x) == y).mean() > 0.8
    assert all(0 <= h["accuracy"] <= 1 for h in mixed.history_)
    mixed.save(tmp_path / "m")
    again = DeepMethod.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict_proba(x), mixed.predict_proba(x), atol=1e-6)
    assert again.settings_.mixup == 0.2 and again.settings_.label_smoothing == 0.1


def test_generalized_cross_entropy_values():
    from deep.layers import GeneralizedCrossEntropy

    p = np.array([[0.9], [0.2], [0.6]], np.float32)
    y = np.array([1.0, 1.0, 0.0], np.float32)
    p_y = np.array([0.9, 0.2, 0.4])
    gce = GeneralizedCrossEntropy(0.7, reduction=None)
    np.testing.assert_allclose(_np(gce(y, p)), (1 - p_y**0.7) / 0.7, rtol=1e-5)
    # q -> 0 is cross-entropy; a confidently "wrong" label costs far less than under it
    near_ce = GeneralizedCrossEntropy(1e-4, reduction=None)
    np.testing.assert_allclose(_np(near_ce(y, p)), -np.log(p_y), rtol=5e-3)
    assert _np(gce(y, p))[1] < 0.65 * -np.log(0.2)
    # softmax: integer labels, one-hot targets and smoothing agree with the formula
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], np.float32)
    labels = np.array([0, 2])
    sparse = GeneralizedCrossEntropy(0.5, binary=False, n_classes=3, reduction=None)
    onehot = GeneralizedCrossEntropy(0.5, binary=False, reduction=None)
    expected = (1 - probs[[0, 1], labels] ** 0.5) / 0.5
    np.testing.assert_allclose(_np(sparse(labels, probs)), expected, rtol=1e-5)
    np.testing.assert_allclose(_np(onehot(np.eye(3)[labels], probs)), expected, rtol=1e-5)
    smooth = GeneralizedCrossEntropy(0.5, binary=False, label_smoothing=0.3, reduction=None)
    t = np.eye(3)[labels] * 0.7 + 0.1
    np.testing.assert_allclose(
        _np(smooth(np.eye(3)[labels], probs)), (t * (1 - probs**0.5)).sum(1) / 0.5, rtol=1e-5
    )


def test_gce_trains_validates_on_its_loss_and_round_trips(blobs, tmp_path):
    x, y = blobs
    params = {"epochs": 12, "batch_size": 16, "learning_rate": 0.05, "filters": [8], "dense": 8}
    method = DeepMethod("galaxy-cnn", {**params, "gce": 0.7}, seed=0)
    method.fit(x[:48], y[:48], x[48:], y[48:])
    assert type(method.model_.loss).__name__ == "GeneralizedCrossEntropy"
    assert (method.predict(x) == y).mean() > 0.8
    p_y = np.clip(method.predict_proba(x[48:])[np.arange(16), y[48:]], 1e-7, 1)
    best = min(h["val_loss"] for h in method.history_)
    assert float(((1 - p_y**0.7) / 0.7).mean()) == pytest.approx(best, rel=1e-3)
    method.save(tmp_path / "m")
    again = DeepMethod.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict_proba(x), method.predict_proba(x), atol=1e-6)
    assert again.model_.loss.q == pytest.approx(0.7)
    three = DeepMethod("galaxy-cnn", {**params, "epochs": 1, "gce": 0.5}, seed=0)
    three.fit(x[:48], np.arange(48) % 3, x[48:], np.arange(16) % 3)
    assert three.predict_proba(x).shape == (64, 3)
    assert np.isfinite(three.history_[0]["val_loss"])


def _val_loss(method, x, y):
    """The binary cross-entropy of the fitted model's predictions."""
    p = np.clip(method.predict_proba(x)[np.arange(len(y)), y], 1e-7, 1.0)
    return float(-np.log(p).mean())


@pytest.mark.parametrize("stop", ["last epoch", "time budget"])
def test_ema_validates_keeps_and_applies_the_averaged_weights(blobs, stop):
    x, y = blobs
    base = {"epochs": 3, "batch_size": 16, "learning_rate": 0.05, "filters": [8], "dense": 8}
    if stop == "time budget":  # stopped after its first epoch, with the average in the model
        base.update(epochs=10, time_budget=1e-9)
    base["restore_best"] = False  # the weights at the end of fit, not a checkpoint

    def fitted(ema):
        return DeepMethod("galaxy-cnn", {**base, "ema": ema}, seed=0).fit(
            x[:48], y[:48], x[48:], y[48:]
        )

    raw, averaged = fitted(0.0), fitted(0.9)
    assert len(averaged.history_) == (1 if stop == "time budget" else 3)
    # what was validated in the last epoch is what the model holds: the average
    last = averaged.history_[-1]["val_loss"]
    assert _val_loss(averaged, x[48:], y[48:]) == pytest.approx(last, rel=1e-3)
    assert _val_loss(raw, x[48:], y[48:]) == pytest.approx(raw.history_[-1]["val_loss"], rel=1e-3)
    # the same steps, averaged: other weights than the raw fit's
    assert last != pytest.approx(raw.history_[-1]["val_loss"], rel=1e-2)
    assert averaged.model_.optimizer.use_ema and not raw.model_.optimizer.use_ema


def test_ema_checkpoint_is_the_average_of_the_best_epoch(blobs, tmp_path):
    x, y = blobs
    params = {"epochs": 4, "batch_size": 16, "learning_rate": 0.05, "filters": [8], "dense": 8}
    method = DeepMethod("galaxy-cnn", {**params, "ema": 0.8}, seed=0)
    method.fit(x[:48], y[:48], x[48:], y[48:])
    best = min(h["val_loss"] for h in method.history_)
    assert _val_loss(method, x[48:], y[48:]) == pytest.approx(best, rel=1e-3)
    method.save(tmp_path / "m")
    again = DeepMethod.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict_proba(x), method.predict_proba(x), atol=1e-6)
    assert again.settings_.ema == 0.8


def test_soft_targets_train_a_softmax_over_three_classes(blobs):
    x, y = blobs
    y3 = np.arange(64) % 3
    params = {"epochs": 2, "batch_size": 16, "filters": [4], "dense": 8, "mixup": 0.3}
    method = DeepMethod("galaxy-cnn", {**params, "label_smoothing": 0.1}, seed=0)
    method.fit(x[:48], y3[:48], x[48:], y3[48:])
    assert type(method.model_.loss).__name__ == "CategoricalCrossentropy"
    proba = method.predict_proba(x)
    assert proba.shape == (64, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"label_smoothing": 1.0}, r"label_smoothing must be a number in \[0, 1\), got 1.0"),
        ({"label_smoothing": "0.1"}, "label_smoothing must be a number"),
        ({"mixup": -0.2}, "mixup must be a non-negative number, got -0.2"),
        ({"ema": 1.0}, r"ema must be a number in \[0, 1\), got 1.0"),
        ({"ema": True}, "ema must be a number"),
        ({"gce": 1.5}, r"gce must be a number in \[0, 1\), got 1.5"),
    ],
)
def test_bad_label_smoothing_or_mixup_is_a_config_error(params, message):
    with pytest.raises(ConfigError, match=message):
        DeepMethod("galaxy-cnn", params).settings()
