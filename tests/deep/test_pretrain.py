"""Pretraining on the embedded simulator: cached, transferred layer by layer, checked."""

import numpy as np
import pytest

from benchmark.errors import ConfigError, UnknownNameError
from deep.method import DeepMethod

QUICK = {"epochs": 1, "batch_size": 16, "augment": []}
SIM = {"n": 120, "mode": "gz4", "scheme": "original", "epochs": 1}


def test_pretraining_on_the_simulator_is_cached_and_transferred(
    blobs, tmp_path, monkeypatch, reuses_pretraining
):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    x, y = blobs
    params = {**QUICK, "pretrain": "sim-galaxy10", "pretrain_params": SIM}
    method = DeepMethod("simple-cnn", params, seed=0).fit(x[:40], y[:40], x[40:], y[40:])
    cached = list((tmp_path / "cache" / "pretrained").glob("simple-cnn-sim-galaxy10-*.keras"))
    assert len(cached) == 1
    copied = method.summary()["pretrained_layers"]
    assert copied and "output" not in copied and "normalize" not in copied
    # the copied layers started from the pretrained weights, the head did not
    import keras

    source = keras.models.load_model(str(cached[0]))
    assert source.get_layer("output").output.shape[-1] == 4  # the 4 simulated classes
    assert method.model_.get_layer("output").output.shape[-1] == 1

    # a second run with the same pretraining reuses the cached model, and repeats exactly
    reuses_pretraining(method, params, QUICK, cached[0], x, y)


def test_single_and_five_band_data_pretrain_on_the_simulated_bands(blobs, tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    x, y = blobs
    one = np.ascontiguousarray(x[..., :1])
    params = {**QUICK, "pretrain": "sim-galaxy10", "pretrain_params": SIM}
    method = DeepMethod("simple-cnn", params).fit(one[:40], y[:40], one[40:], y[40:])
    assert method.summary()["pretrained_layers"]
    five = np.ascontiguousarray(np.concatenate([x, x[..., :2]], axis=-1))  # u, g, r, i, z
    method = DeepMethod("simple-cnn", params).fit(five[:40], y[:40], five[40:], y[40:])
    assert method.summary()["pretrained_layers"]
    assert method.predict_proba(five[:3]).shape == (3, 2)


def test_simulated_bands_are_brought_to_the_data_s_channels():
    from deep.pretrain import bands_to_channels

    g, r, i = 1.0, 2.0, 4.0
    sim = np.broadcast_to(np.array([g, r, i], np.float32), (2, 4, 4, 3))
    assert bands_to_channels(sim, 3) is sim
    np.testing.assert_allclose(bands_to_channels(sim, 1)[0, 0, 0], [7 / 3])
    # five channels, blue to red: g, (g + r) / 2, r, (r + i) / 2, i
    np.testing.assert_allclose(bands_to_channels(sim, 5)[1, 2, 3], [1.0, 1.5, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(bands_to_channels(sim, 2)[0, 0, 0], [g, i])
    assert bands_to_channels(sim, 4).shape == (2, 4, 4, 4)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pretrain": "imagenet"}, "pretrain must be .self. .* or name a simulation"),
        ({"pretrain_params": {"n": 10}}, "pretrain_params is given but pretrain"),
        ({"pretrain": "sim-galaxy10", "pretrain_params": {"nn": 10}}, "unknown parameter 'nn'"),
        ({"pretrain": "sim-galaxy10", "pretrain_params": {"epochs": 0}}, "positive integer"),
        (
            {"pretrain": "sim-galaxy10", "pretrain_params": {"optimizer": "lbfgs"}},
            "pretrain_params: unknown optimizer 'lbfgs'",
        ),
        (
            {"pretrain": "sim-galaxy10", "pretrain_params": {"normalize": "log"}},
            "pretrain_params: unknown normalize 'log'",
        ),
        ({"pretrain": "sim-galaxy10", "pretrain_params": {"resize": 32}}, "cannot set resize"),
        (
            {"pretrain": "sim-sdss-sn", "pretrain_params": {"mode": "auto"}},
            "mode = 'auto' is for sim-galaxy10 only",
        ),
        ({"pretrain": "sim-galaxy10", "pretrain_params": {"mode": "hubble"}}, "unknown mode"),
        (
            {"pretrain": "sim-galaxy10", "pretrain_params": {"learning_rate": -1}},
            "pretrain_params: learning_rate must be a non-negative number",
        ),
    ],
)
def test_bad_pretraining_settings_are_one_line_errors(params, message):
    with pytest.raises((ConfigError, UnknownNameError), match=message):
        DeepMethod("simple-cnn", params).settings()


def test_a_fixed_pretraining_seed_is_shared_by_every_run_seed(blobs, tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    x, y = blobs
    params = {**QUICK, "pretrain": "sim-galaxy10", "pretrain_params": {**SIM, "seed": 0}}
    for seed in (1, 2):
        DeepMethod("simple-cnn", params, seed=seed).fit(x[:40], y[:40], x[40:], y[40:])
    assert len(list((tmp_path / "cache" / "pretrained").iterdir())) == 1
    DeepMethod(
        "simple-cnn", {**QUICK, "pretrain": "sim-galaxy10", "pretrain_params": SIM}, seed=1
    ).fit(x[:40], y[:40], x[40:], y[40:])
    assert len(list((tmp_path / "cache" / "pretrained").iterdir())) == 2  # follows the run seed


def test_head_epochs_train_the_head_alone_before_fine_tuning(blobs, tmp_path, monkeypatch):
    """head_epochs: the copied layers stay frozen at the pretrained weights while the head
    trains; then every layer is trainable again. The pretraining (its cache key) is the
    same with or without it; a bad value is one line."""
    import keras

    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    x, y = blobs
    params = {**QUICK, "pretrain": "sim-galaxy10", "pretrain_params": SIM}
    plain = DeepMethod("simple-cnn", params, seed=0).fit(x[:40], y[:40], x[40:], y[40:])

    def no_fine_tuning(self, model, *args):  # stop after the head's epochs
        self.history_, self.best_epoch_, self.budget_limited_, self.fit_s_ = [], 0, False, 0.0

    monkeypatch.setattr(DeepMethod, "_train", no_fine_tuning)
    probed = DeepMethod("simple-cnn", {**params, "head_epochs": 2}, seed=0)
    probed.fit(x[:40], y[:40], x[40:], y[40:])
    cached = list((tmp_path / "cache" / "pretrained").glob("*.keras"))
    assert len(cached) == 1  # one pretraining for both
    source = keras.models.load_model(str(cached[0]))
    for name in probed.pretrained_layers_:
        for got, want in zip(probed.model_.get_layer(name).get_weights(),
                             source.get_layer(name).get_weights()):  # fmt: skip
            np.testing.assert_array_equal(got, want)
    assert all(layer.trainable for layer in probed.model_.layers)
    monkeypatch.undo()
    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    head = DeepMethod("simple-cnn", {**params, "head_epochs": 2}, seed=0)
    head.fit(x[:40], y[:40], x[40:], y[40:])
    assert not np.allclose(head.predict_proba(x[40:]), plain.predict_proba(x[40:]))
    assert head.summary()["pretrained_layers"] == plain.summary()["pretrained_layers"]
    with pytest.raises(ConfigError, match="head_epochs must be a non-negative integer"):
        DeepMethod("simple-cnn", {"head_epochs": -1}).settings()


def test_pretraining_on_the_data_own_simulation_and_seed_is_refused(tmp_path, monkeypatch):
    from benchmark import datasets

    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    sim = {"n": 120, "mode": "gz4"}
    data = datasets.load("sim-galaxy10", seed=0, resize=16, progress=False, **sim)
    x, y = np.asarray(data.images[:], np.float32), data.labels
    params = {**QUICK, "pretrain": "sim-galaxy10", "pretrain_params": {**sim, "epochs": 1}}
    with pytest.raises(ConfigError, match="contains the data's own images"):
        DeepMethod("simple-cnn", params, seed=0).fit(x[:80], y[:80], x[80:], y[80:])
    other = {**params, "pretrain_params": {**sim, "epochs": 1, "seed": 7}}
    assert DeepMethod("simple-cnn", other, seed=0).fit(x[:80], y[:80], x[80:], y[80:])


def test_pretraining_takes_its_own_training_settings(blobs, tmp_path, monkeypatch):
    """pretrain_params' training keys set the pretraining alone; the fine-tuning keeps the
    run's settings, and the pretraining never races the clock."""
    import deep.pretrain as pretrain

    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    seen = []
    original = DeepMethod.fit

    def spy(self, *args, **kwargs):
        seen.append(self.settings()[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DeepMethod, "fit", spy)
    x, y = blobs
    sim = {**SIM, "optimizer": "rmsprop", "learning_rate": 0.05, "augment": ["d4"], "patience": 2}
    params = {**QUICK, "time_budget": 100, "pretrain": "sim-galaxy10", "pretrain_params": sim}
    method = DeepMethod("simple-cnn", params, seed=0).fit(x[:40], y[:40], x[40:], y[40:])
    outer, inner = seen  # the run's fit, then the pretraining's inside it
    assert (inner.optimizer, inner.learning_rate, inner.augment) == ("rmsprop", 0.05, ("d4",))
    assert (inner.patience, inner.epochs, inner.time_budget, inner.pretrain) == (2, 1, 0.0, "")
    run = DeepMethod("simple-cnn", QUICK).settings()[0]  # the model's own defaults
    assert (outer.optimizer, outer.learning_rate, outer.augment) == (
        run.optimizer,
        run.learning_rate,
        (),
    )
    assert run.optimizer != "rmsprop"
    assert method.settings_.time_budget == 100
    # another pretraining learning rate is another cached model
    again = {**params, "pretrain_params": {**sim, "learning_rate": 0.01}}
    DeepMethod("simple-cnn", again, seed=0).fit(x[:40], y[:40], x[40:], y[40:])
    assert len(list((tmp_path / "cache" / "pretrained").glob("*.keras"))) == 2
    # fine-tuning differently (learning rate, clock) reuses the same pretraining
    seen.clear()
    other = {**params, "learning_rate": 0.02, "time_budget": 50}
    DeepMethod("simple-cnn", other, seed=0).fit(x[:40], y[:40], x[40:], y[40:])
    assert len(seen) == 1  # no pretraining fit this time
    assert len(list((tmp_path / "cache" / "pretrained").glob("*.keras"))) == 2
    assert "optimizer" in pretrain.TRAIN_KEYS and "optimizer" in pretrain.RUN_KEYS


def test_the_simulated_set_takes_the_shared_preprocessing(tmp_path, monkeypatch):
    """channels and normalize in pretrain_params bring the simulated stamps to the data's
    look: here an RGB composite's band order (i, r, g) and its asinh stretch."""
    import dataclasses

    import deep.pretrain as pretrain
    from benchmark.datasets.preprocess import Preprocess

    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    params = {**QUICK, "pretrain": "sim-galaxy10", "pretrain_params": SIM}
    settings = DeepMethod("simple-cnn", params).settings()[0]
    plain, labels, _ = pretrain._simulated(settings, (32, 32, 3), 0, False)
    look = {**SIM, "channels": ["i", "r", "g"], "normalize": "asinh"}
    styled, styled_labels, _ = pretrain._simulated(
        dataclasses.replace(settings, pretrain_params=look), (32, 32, 3), 0, False
    )
    np.testing.assert_array_equal(labels, styled_labels)
    expected = Preprocess(normalize="asinh")(np.ascontiguousarray(plain[..., ::-1]))
    np.testing.assert_allclose(styled, expected, rtol=1e-4, atol=1e-4)
    assert np.abs(styled).max() < 20 < np.abs(plain).max()  # stretched, not linear flux


def test_the_galaxy10_real_profile_runs_ten_classes_end_to_end(tmp_path, monkeypatch):
    """``run galaxy10 --data FILE --quick`` on an astroNN Galaxy10 DECaLS file: the CNN
    pretrained on the 10 simulated DECaLS classes (``mode = "auto"``), fine-tuned on the 10
    real ones, and its hybrid (sharing its fit) each give a 10-class record; the
    pretraining is cached once for both."""
    import json

    import formats

    from benchmark.cli import main

    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    h5 = formats.write_galaxy10(tmp_path / "Galaxy10_DECals.h5", n=120, decals=True)
    out = tmp_path / "out"
    args = ["-q", "run", "galaxy10", "--data", str(h5), "-p", "variant=decals", "--quick"]
    args += ["--out", str(out)]
    assert main([*args, "--methods", "galaxy-cnn", "hybrid", "--features", "handcrafted"]) == 0
    assert len(list((tmp_path / "cache" / "pretrained").glob("galaxy-cnn-sim-galaxy10-*"))) == 1
    records = {
        r["method"]: r
        for r in (json.loads(p.read_text()) for p in out.glob("runs/images__*/record.json"))
    }
    assert set(records) == {"galaxy-cnn", "hybrid"}
    cnn, hybrid = records["galaxy-cnn"], records["hybrid"]
    assert len(cnn["classes"]) == 10 and cnn["metrics"]["confusion"] and cnn["threshold"] is None
    assert "block1_conv" in cnn["pretrained_layers"]
    assert cnn["classes"][0] == "Disturbed"
    assert cnn["method_params"]["pretrain_params"]["mode"] == "decals"
    assert hybrid["method_params"]["backbone"] == "galaxy-cnn"
    assert len(hybrid["metrics"]["confusion"]) == 10


def test_mode_auto_pretrains_on_the_simulated_classes_of_the_data(blobs, tmp_path, monkeypatch):
    from benchmark.datasets.taxonomy import GALAXY10_DECALS, GALAXY10_SDSS
    from benchmark.simulate.galaxies import mode_for

    assert mode_for(GALAXY10_DECALS.classes("original")) == "decals"
    assert mode_for(GALAXY10_DECALS.classes("coarse")) == "decals"
    assert mode_for(GALAXY10_SDSS.classes("original")) == "galaxy10"
    assert mode_for(GALAXY10_SDSS.classes("coarse")) == "galaxy10"
    assert mode_for(["edge-on", "face-on spiral", "elliptical", "merger"]) == "gz4"
    assert mode_for(["spirals", "non_spirals"]) == mode_for(None) == "galaxy10"

    monkeypatch.setenv("ASTROBENCH_CACHE", str(tmp_path / "cache"))
    x, y = blobs
    sim = {**SIM, "mode": "auto", "n": 200}
    params = {**QUICK, "pretrain": "sim-galaxy10", "pretrain_params": sim}
    method = DeepMethod("simple-cnn", params, seed=0)
    method.class_names = ("Merging", "Barred Spiral")
    method.fit(x[:40], y[:40], x[40:], y[40:])
    assert method.summary()["method_params"]["pretrain_params"]["mode"] == "decals"
    import keras

    (cached,) = (tmp_path / "cache" / "pretrained").glob("simple-cnn-sim-galaxy10-*.keras")
    source = keras.models.load_model(str(cached))
    assert source.get_layer("output").output.shape[-1] == 10  # DECaLS's 10 classes
    # without class names it falls back on Galaxy10 SDSS's classes
    plain = DeepMethod("simple-cnn", params, seed=0).fit(x[:40], y[:40], x[40:], y[40:])
    assert plain.summary()["method_params"]["pretrain_params"]["mode"] == "galaxy10"
