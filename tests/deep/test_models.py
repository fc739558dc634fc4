"""Every registered model builds for its input shapes, trains a step and predicts."""

import numpy as np
import pytest

import deep
from benchmark.errors import ConfigError, MissingPathError, ShapeMismatchError, UnknownNameError
from deep.method import DeepMethod

FAST = [
    ("negm2021", (24, 24, 3), 2),
    ("negm2021-refined", (48, 48, 3), 2),
    ("nightskynet", (24, 24, 3), 4),
    ("galaxy-cnn", (32, 32, 3), 2),
    ("simple-cnn", (16, 16, 3), 10),
    ("braai-vgg6", (63, 63, 3), 2),
    ("rotation-invariant", (24, 24, 3), 2),
]
SLOW = [("resnet50", (32, 32, 3), 10), ("inceptionv3", (32, 32, 3), 2)]


def _np(x):
    """A backend tensor as NumPy (torch tensors that need grad included)."""
    import keras

    return keras.ops.convert_to_numpy(x)


def _train_predict(name, shape, n_classes, **params):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, *shape)).astype(np.float32)
    y = np.arange(16) % n_classes
    method = DeepMethod(name, {"epochs": 1, "batch_size": 8, "augment": [], **params}, seed=0)
    method.fit(x, y, x[:8], y[:8])
    proba = method.predict_proba(x[:5])
    assert proba.shape == (5, n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert len(method.history_) == 1 and "val_loss" in method.history_[0]
    assert list(method.classes_) == list(range(n_classes))
    return method


@pytest.mark.parametrize(("name", "shape", "n_classes"), FAST)
def test_model_builds_trains_a_step_and_predicts(name, shape, n_classes):
    _train_predict(name, shape, n_classes)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "shape", "n_classes"), SLOW)
def test_application_builds_trains_a_step_and_predicts(name, shape, n_classes):
    method = _train_predict(name, shape, n_classes, batch_size=4)
    if name == "inceptionv3":  # smaller than its 75-pixel minimum: resized inside the model
        assert method.model_.get_layer("resize").output.shape[1:3] == (75, 75)


def test_every_registered_model_is_tested():
    assert {n for n, _, _ in FAST + SLOW} == set(deep.available())


def test_braai_vgg6_has_the_published_size():
    model = deep.build("braai-vgg6", (63, 63, 3), 2)
    assert model.count_params() == 312_081  # Duev et al. 2019: "~312k parameters"
    assert model.output_shape == (None, 1)


def test_negm2021_layers_follow_seed_001():
    model = deep.build("negm2021", (69, 69, 3), 2)
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [32, 64, 128]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert sum(layer.__class__.__name__ == "MaxPooling2D" for layer in model.layers) == 3


def test_nightskynet_crops_to_60_and_uses_maxout():
    model = deep.build("nightskynet", (120, 120, 3), 4)
    assert model.get_layer("crop").output.shape[1:3] == (60, 60)
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds.count("Maxout") == 2 and kinds.count("Conv2D") == 4
    assert model.output_shape == (None, 4)


def test_simple_cnn_adds_noise_in_training_only(blobs):
    x, _ = blobs
    model = deep.build("simple-cnn", (16, 16, 3), 3, noise=0.2, mean=[0, 0, 0], variance=[1, 1, 1])
    a = _np(model(x[:4], training=False))
    b = _np(model(x[:4], training=False))
    np.testing.assert_allclose(a, b)
    noisy = model.get_layer("input_noise")
    out = _np(noisy(np.zeros((2000, 4), np.float32), training=True))
    assert abs(out.std() - 0.2) < 0.01


def test_unknown_model_and_parameters_are_clear_errors():
    with pytest.raises(UnknownNameError, match="valid names: .*negm2021"):
        deep.get("alexnet")
    with pytest.raises(ConfigError, match="unknown parameter 'filterz' .*filters"):
        deep.get("negm2021", filterz=[8])
    with pytest.raises(ConfigError, match="unknown optimizer 'adamw'"):
        deep.get("negm2021", optimizer="adamw")
    with pytest.raises(ConfigError, match="unknown augmentation 'rotate'"):
        deep.get("negm2021", augment=["rotate"])
    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        deep.get("negm2021", epochs=0)
    with pytest.raises(ShapeMismatchError, match="at least 22x22"):
        deep.build("negm2021", (8, 8, 3), 2)


def test_imagenet_weights_missing_is_an_error_not_a_download(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(MissingPathError) as err:
        deep.build("resnet50", (32, 32, 3), 2, weights="imagenet")
    message = str(err.value)
    assert (
        str(tmp_path / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5") in message
    )
    assert "storage.googleapis.com" in message
    with pytest.raises(MissingPathError, match="does not exist"):
        deep.build("inceptionv3", (75, 75, 3), 2, weights=str(tmp_path / "nope.h5"))


@pytest.mark.slow
def test_local_weights_file_is_loaded(tmp_path):
    import keras

    source = keras.applications.ResNet50(
        include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg"
    )
    path = tmp_path / "resnet50-notop.weights.h5"
    source.save_weights(str(path))
    model = deep.build("resnet50", (32, 32, 3), 2, weights=str(path))
    backbone = model.get_layer("resnet50")
    np.testing.assert_allclose(backbone.get_weights()[0], source.get_weights()[0])
