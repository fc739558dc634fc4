"""Keras 3 model builders: ``build(input_shape, n_classes, **hparams) -> keras.Model``.

Every builder starts from ``keras.Input``, normalises inside the model (per-channel
``mean`` / ``variance`` measured on the training images by the method), runs named
blocks in a loop over a list of filters and ends in a head named ``output``: one
sigmoid unit for two classes, a softmax otherwise.  The tensor entering the head
is the output of a layer named ``features`` (used by the rotation-invariant wrapper
and by the explanations).  Architectures follow the write-ups in ``../shared/seeds``.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchmark.errors import ConfigError, ShapeMismatchError

from ._keras import import_keras
from .layers import D4Transform, Maxout

keras = import_keras()
layers = keras.layers

__all__ = [
    "braai_vgg6",
    "galaxy_cnn",
    "negm2021",
    "negm2021_refined",
    "nightskynet",
    "rotation_invariant",
    "simple_cnn",
]


def stem(input_shape, mean=None, variance=None):
    """``keras.Input`` and the in-model normalisation; returns ``(inputs, x)``."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        msg = f"input_shape must be (height, width, channels), got {input_shape!r}"
        raise ShapeMismatchError(msg)
    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    if mean is not None:
        var = variance if variance is not None else [1.0] * shape[-1]
        x = layers.Normalization(axis=-1, mean=list(mean), variance=list(var), name="normalize")(x)
    return inputs, x


def head(x, n_classes: int, *, name: str = "output"):
    """Classification head: a sigmoid unit for 2 classes, a softmax over ``n_classes`` else."""
    if n_classes < 2:
        msg = f"n_classes must be at least 2, got {n_classes}"
        raise ConfigError(msg)
    x = layers.Identity(name="features")(x)
    if n_classes == 2:
        return layers.Dense(1, activation="sigmoid", dtype="float32", name=name)(x)
    return layers.Dense(n_classes, activation="softmax", dtype="float32", name=name)(x)


def _check_size(shape, min_size: int, name: str) -> None:
    if min(shape[:2]) < min_size:
        msg = (
            f"{name} needs images of at least {min_size}x{min_size} pixels, got "
            f"{shape[0]}x{shape[1]}; resize the data (dataset param resize={min_size})"
        )
        raise ShapeMismatchError(msg)


def _valid_min_size(blocks: int) -> int:
    """Smallest image that survives ``blocks`` x (3x3 'valid' conv + 2x2 pooling)."""
    size = 1
    for _ in range(blocks):
        size = 2 * size + 2
    return size


def _ints(value, name) -> tuple[int, ...]:
    values = (value,) if isinstance(value, int) else tuple(value)
    if not values or not all(isinstance(v, int) and v > 0 for v in values):
        msg = f"{name} must be positive integers, got {value!r}"
        raise ConfigError(msg)
    return values


def negm2021(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    filters: Sequence[int] = (32, 64, 128),
    dense: int = 128,
    dropout: float = 0.0,
    conv_dropout: float = 0.0,
    mean=None,
    variance=None,
):
    """Negm (2021) initial CNN: 3x3 ReLU convs, each followed by 2x2 max-pooling; dense; output."""
    filters = _ints(filters, "filters")
    _check_size(input_shape, _valid_min_size(len(filters)), "negm2021")
    inputs, x = stem(input_shape, mean, variance)
    for i, f in enumerate(filters, 1):
        x = layers.Conv2D(f, 3, activation="relu", name=f"block{i}_conv")(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
        if conv_dropout:
            x = layers.Dropout(conv_dropout, name=f"block{i}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense, activation="relu", name="dense")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dense_dropout")(x)
    return keras.Model(inputs, head(x, n_classes), name="negm2021")


def negm2021_refined(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    filters: Sequence[int] = (32, 64, 128, 128),
    dense: int = 256,
    dropout: float = 0.5,
    conv_dropout: float = 0.25,
    mean=None,
    variance=None,
):
    """Negm (2021) final CNN: a fourth conv block and dropout (train with augmentation, Adam)."""
    model = negm2021(
        input_shape,
        n_classes,
        filters=filters,
        dense=dense,
        dropout=dropout,
        conv_dropout=conv_dropout,
        mean=mean,
        variance=variance,
    )
    model.name = "negm2021_refined"
    return model


def nightskynet(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    crop: int | None = None,
    filters: Sequence[int] = (32, 64, 64, 128),
    pool_after: Sequence[int] = (1, 2, 4),
    dense: Sequence[int] = (256, 128, 128, 64),
    pieces: int = 4,
    dropout: float = 0.5,
    mean=None,
    variance=None,
):
    """Night Sky Net (seed 002): conv 32, 64, 64, 128 (pool after 1st, 2nd, 4th); dense ReLU,
    maxout, maxout, dense ReLU, each with dropout; softmax.

    ``crop`` (default: 60, or the image size if smaller) is a central crop inside the
    model; training translates the images first, which makes it a random crop (seed 002
    fed 60x60 crops of 120x120 images).
    """
    filters = _ints(filters, "filters")
    dense = _ints(dense, "dense")
    if len(dense) != 4:
        msg = f"nightskynet: dense must give 4 widths (dense, maxout, maxout, dense), got {dense}"
        raise ConfigError(msg)
    size = min(input_shape[:2])
    crop = min(60, size) if crop is None else int(crop)
    if not 8 <= crop <= size:
        msg = f"nightskynet: crop must lie in [8, {size}] for {size}-pixel images, got {crop}"
        raise ConfigError(msg)
    inputs, x = stem(input_shape, mean, variance)
    if crop < input_shape[0] or crop < input_shape[1]:
        x = layers.CenterCrop(crop, crop, name="crop")(x)
    for i, f in enumerate(filters, 1):
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"block{i}_conv")(x)
        if i in pool_after:
            x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense[0], activation="relu", name="fc1")(x)
    x = layers.Dropout(dropout, name="fc1_dropout")(x)
    x = Maxout(dense[1], pieces, name="fc2_maxout")(x)
    x = layers.Dropout(dropout, name="fc2_dropout")(x)
    x = Maxout(dense[2], pieces, name="fc3_maxout")(x)
    x = layers.Dropout(dropout, name="fc3_dropout")(x)
    x = layers.Dense(dense[3], activation="relu", name="fc4")(x)
    x = layers.Dropout(dropout, name="fc4_dropout")(x)
    return keras.Model(inputs, head(x, n_classes), name="nightskynet")


def galaxy_cnn(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    filters: Sequence[int] = (32, 32, 64, 64),
    dense: int = 64,
    dropout: float = 0.5,
    conv_dropout: float = 0.1,
    batch_norm: bool = False,
    mean=None,
    variance=None,
):
    """Galaxy Zoo spiral-vs-elliptical CNN (seed 003): ReLU convs with pooling, dropout,
    sigmoid output (trained with SGD + momentum on binary cross-entropy); ``batch_norm``
    adds batch normalisation before each ReLU."""
    filters = _ints(filters, "filters")
    _check_size(input_shape, 2 ** len(filters), "galaxy-cnn")
    inputs, x = stem(input_shape, mean, variance)
    for i, f in enumerate(filters, 1):
        if batch_norm:
            x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"block{i}_conv")(x)
            x = layers.BatchNormalization(name=f"block{i}_bn")(x)
            x = layers.Activation("relu", name=f"block{i}_relu")(x)
        else:
            x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"block{i}_conv")(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
        if conv_dropout:
            x = layers.Dropout(conv_dropout, name=f"block{i}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense, activation="relu", name="dense")(x)
    x = layers.Dropout(dropout, name="dense_dropout")(x)
    return keras.Model(inputs, head(x, n_classes), name="galaxy_cnn")


def simple_cnn(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    filters: Sequence[int] = (32, 64),
    dense: Sequence[int] = (576, 64),
    dropout: float = 0.25,
    weight_decay: float = 1e-4,
    noise: float = 0.2,
    mean=None,
    variance=None,
):
    """Small CNN of seed 004: two conv blocks (ReLU + max-pool), linear layers of decreasing
    width with dropout 0.25 after each, L2 weight decay, and Gaussian input noise.

    ``noise`` is in units of the data's standard deviation (seed 004: 1/5); it acts on the
    normalised input, in training only.
    """
    filters = _ints(filters, "filters")
    dense = _ints(dense, "dense")
    reg = keras.regularizers.L2(weight_decay) if weight_decay else None
    inputs, x = stem(input_shape, mean, variance)
    if noise:
        x = layers.GaussianNoise(noise, name="input_noise")(x)
    for i, f in enumerate(filters, 1):
        x = layers.Conv2D(
            f, 3, padding="same", activation="relu", kernel_regularizer=reg, name=f"block{i}_conv"
        )(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for i, width in enumerate(dense, 1):
        x = layers.Dense(width, activation="relu", kernel_regularizer=reg, name=f"fc{i}")(x)
        x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    return keras.Model(inputs, head(x, n_classes), name="simple_cnn")


def braai_vgg6(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    filters: Sequence[int] = (16, 32),
    pools: Sequence[int] = (2, 4),
    dense: int = 256,
    dropout: Sequence[float] = (0.25, 0.25, 0.5),
    mean=None,
    variance=None,
):
    """ZTF real/bogus VGG6 of Duev et al. (2019, braai): two 3x3 convs per block ('valid'),
    max-pooling 2 then 4, dense 256, sigmoid; 312,337 parameters on 63x63x3 triplets."""
    filters = _ints(filters, "filters")
    pools = _ints(pools, "pools")
    dropout = tuple(dropout)
    if len(pools) != len(filters) or len(dropout) != len(filters) + 1:
        msg = "braai-vgg6: give one pool size per block and one dropout per block plus the dense"
        raise ConfigError(msg)
    inputs, x = stem(input_shape, mean, variance)
    for i, (f, p) in enumerate(zip(filters, pools), 1):
        x = layers.Conv2D(f, 3, activation="relu", name=f"block{i}_conv1")(x)
        x = layers.Conv2D(f, 3, activation="relu", name=f"block{i}_conv2")(x)
        x = layers.MaxPooling2D(p, name=f"block{i}_pool")(x)
        x = layers.Dropout(dropout[i - 1], name=f"block{i}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense, activation="relu", name="dense")(x)
    x = layers.Dropout(dropout[-1], name="dense_dropout")(x)
    return keras.Model(inputs, head(x, n_classes), name="braai_vgg6")


def rotation_invariant(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    backbone: str = "negm2021",
    backbone_params: dict | None = None,
    pool: str = "mean",
    mean=None,
    variance=None,
):
    """Make ``backbone`` invariant to the dihedral group D4 (Dieleman et al. 2015; Deep-HiTS).

    The backbone's feature extractor (shared weights) sees the 8 rotated / flipped
    views of each image; their features are pooled (``mean`` or ``max``) before one
    head, so the output is the same for all 8 views of an image.
    """
    from . import build

    if input_shape[0] != input_shape[1]:
        msg = f"rotation-invariant needs square images, got {input_shape[0]}x{input_shape[1]}"
        raise ShapeMismatchError(msg)
    if backbone == "rotation-invariant":
        msg = "rotation-invariant: the backbone cannot itself be rotation-invariant"
        raise ConfigError(msg)
    if pool not in ("mean", "max"):
        msg = f"rotation-invariant: pool must be 'mean' or 'max', got {pool!r}"
        raise ConfigError(msg)
    inner = build(
        backbone,
        input_shape,
        n_classes,
        param_word="backbone hyperparameter",
        **dict(backbone_params or {}),
    )
    extractor = keras.Model(inner.input, inner.get_layer("features").output, name="backbone")
    inputs, x = stem(input_shape, mean, variance)
    views = [extractor(D4Transform(k, name=f"d4_{k}")(x)) for k in range(8)]
    merge = layers.Average if pool == "mean" else layers.Maximum
    x = merge(name="d4_pool")(views)
    return keras.Model(inputs, head(x, n_classes), name="rotation_invariant")
