"""Model builders: published sizes and layouts, errors, the applications' resizing.

Every registered model trains a step, predicts and round-trips in tests/test_common.py.
"""

import numpy as np
import pytest

import deep
from benchmark.errors import ConfigError, MissingPathError, ShapeMismatchError, UnknownNameError


def _np(x):
    """A backend tensor as NumPy (torch tensors that need grad included)."""
    import keras

    return keras.ops.convert_to_numpy(x)


def test_inceptionv3_resizes_inputs_below_its_minimum():
    model = deep.build("inceptionv3", (32, 32, 3), 2)
    assert model.get_layer("resize").output.shape[1:3] == (75, 75)


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


def test_galaxy_cnn_batch_norm_normalises_each_block_before_its_relu():
    plain = deep.build("galaxy-cnn", (32, 32, 3), 2)
    model = deep.build("galaxy-cnn", (32, 32, 3), 2, batch_norm=True)
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds.count("BatchNormalization") == 4 and "BatchNormalization" not in [
        layer.__class__.__name__ for layer in plain.layers
    ]
    names = [layer.name for layer in model.layers]
    for i in range(1, 5):
        at = names.index(f"block{i}_conv")
        assert names[at + 1 : at + 3] == [f"block{i}_bn", f"block{i}_relu"]
        assert model.get_layer(f"block{i}_conv").use_bias is False
    assert model.output_shape == plain.output_shape == (None, 1)


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
