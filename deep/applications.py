"""ResNet50 and InceptionV3 from ``keras.applications`` with a new classification head.

``weights`` is ``None`` (train from scratch), a path to a local weights file (the
"notop" ``.h5`` files Keras publishes), or ``"imagenet"``, which uses Keras' own cache
(``$KERAS_HOME/models``, default ``~/.keras/models``) and never downloads: a missing
file is an error that says where to put it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import ConfigError, MissingPathError, ShapeMismatchError

from ._keras import import_keras
from .models import head, stem

keras = import_keras()
layers = keras.layers

__all__ = ["imagenet_weights_path", "inceptionv3", "resnet50"]

_APPS = {
    # name: (constructor, smallest input, notop weights file, download folder)
    "resnet50": (
        "ResNet50",
        32,
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/resnet/",
    ),
    "inceptionv3": (
        "InceptionV3",
        75,
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/",
    ),
}


def imagenet_weights_path(name: str) -> Path:
    """Where Keras keeps the ImageNet "notop" weights of ``name`` (it may not exist)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "models" / _APPS[name][2]


def _resolve_weights(name: str, weights) -> str | None:
    if weights is None or weights == "none":
        return None
    if weights == "imagenet":
        path = imagenet_weights_path(name)
        if not path.is_file():
            msg = (
                f"{name}: ImageNet weights are not available offline; download "
                f"{_APPS[name][3]}{_APPS[name][2]} and put it at {path} "
                f"(or set weights to the file's path, or weights = 'none' to train from scratch)"
            )
            raise MissingPathError(msg)
        return str(path)
    path = Path(str(weights)).expanduser()
    if not path.is_file():
        msg = f"{name}: weights file {path} does not exist (give a local .h5 file, or 'none')"
        raise MissingPathError(msg)
    return str(path)


def _application(
    name, input_shape, n_classes, *, weights, dense, dropout, trainable, mean, variance
):
    constructor, min_size, _, _ = _APPS[name]
    if not isinstance(trainable, bool):
        msg = f"{name}: trainable must be true or false, got {trainable!r}"
        raise ConfigError(msg)
    weights = _resolve_weights(name, weights)
    if weights is not None and input_shape[-1] != 3:
        msg = f"{name}: pretrained weights need 3-channel images, got {input_shape[-1]} channels"
        raise ShapeMismatchError(msg)
    inputs, x = stem(input_shape, mean, variance)
    size = max(min(input_shape[:2]), min_size)
    if min(input_shape[:2]) < min_size:
        x = layers.Resizing(size, size, name="resize")(x)
    backbone = getattr(keras.applications, constructor)(
        include_top=False,
        weights=weights,
        input_shape=(size, size, input_shape[-1]),
        pooling="avg",
    )
    backbone.trainable = bool(trainable)
    x = backbone(x)
    if dense:
        x = layers.Dense(int(dense), activation="relu", name="head_dense")(x)
    if dropout:
        x = layers.Dropout(float(dropout), name="head_dropout")(x)
    return keras.Model(inputs, head(x, n_classes), name=name)


def resnet50(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    weights: str | None = None,
    dense: int = 0,
    dropout: float = 0.2,
    trainable: bool = True,
    mean=None,
    variance=None,
):
    """ResNet50 (He et al. 2016) with global average pooling and a new head (seed 004)."""
    return _application(
        "resnet50",
        input_shape,
        n_classes,
        weights=weights,
        dense=dense,
        dropout=dropout,
        trainable=trainable,
        mean=mean,
        variance=variance,
    )


def inceptionv3(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    weights: str | None = None,
    dense: int = 0,
    dropout: float = 0.2,
    trainable: bool = True,
    mean=None,
    variance=None,
):
    """InceptionV3 (Szegedy et al. 2016) with a new head (seeds 003, 004); inputs smaller
    than 75x75 are resized inside the model."""
    return _application(
        "inceptionv3",
        input_shape,
        n_classes,
        weights=weights,
        dense=dense,
        dropout=dropout,
        trainable=trainable,
        mean=mean,
        variance=variance,
    )
