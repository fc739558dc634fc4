"""Keras 3 CNN builders and the method that trains them (backend-agnostic).

Each CNN is one registration line below: its builder (``build(input_shape,
n_classes, **hparams) -> keras.Model``) joins the one method registry of
:mod:`benchmark.methods`, where :class:`deep.method.DeepMethod` trains it.
``deep.build(name, input_shape, n_classes, **hparams)`` returns a ``keras.Model``;
``deep.get(name, **params)`` returns an unfitted, validated ``DeepMethod``;
``deep.available()`` lists the names.  Nothing here imports Keras until a model
is asked for.
"""

from __future__ import annotations

import inspect

from benchmark.errors import UnknownNameError
from benchmark.methods import METHODS

__all__ = ["available", "build", "builder_params", "get"]


def _model(name: str, target: str, help: str, **meta) -> None:
    """Register a CNN: ``target`` is its builder, ``"module:function"``."""
    METHODS.add(
        name,
        target,
        help=help,
        kind="deep",
        input="images",
        method_class="deep.method:DeepMethod",
        save_format="keras",
        **meta,
    )


_model(
    "negm2021", "deep.models:negm2021", "Negm 2021 initial CNN (conv 32/64/128 + pooling; RMSprop)"
)
_model(
    "negm2021-refined",
    "deep.models:negm2021_refined",
    "Negm 2021 final CNN (4 conv blocks, dropout, D4 augmentation, Adam)",
)
_model(
    "nightskynet",
    "deep.models:nightskynet",
    "Night Sky Net: conv 32/64/64/128, maxout dense layers, random crops",
)
_model("galaxy-cnn", "deep.models:galaxy_cnn", "Galaxy Zoo spiral/elliptical CNN (SGD + momentum)")
_model(
    "simple-cnn",
    "deep.models:simple_cnn",
    "seed 004 small CNN: 2 conv blocks, dropout, L2, input noise",
)
# heavy: minutes to build and train on a CPU (the common tests mark them slow)
_model(
    "resnet50",
    "deep.applications:resnet50",
    "keras.applications ResNet50 with a new head",
    heavy=True,
)
_model(
    "inceptionv3",
    "deep.applications:inceptionv3",
    "keras.applications InceptionV3 with a new head",
    heavy=True,
)
_model("braai-vgg6", "deep.models:braai_vgg6", "ZTF braai VGG6 real/bogus net (Duev et al. 2019)")
_model(
    "rotation-invariant",
    "deep.models:rotation_invariant",
    "D4-invariant wrapper: a backbone on the 8 rotated/flipped views, features pooled",
)

#: Builder arguments set by the method itself, not by experiments.
_INTERNAL = ("input_shape", "n_classes", "mean", "variance")


def available() -> list[str]:
    """Names of the registered deep models."""
    return METHODS.names(kind="deep")


def _check_name(name: str) -> None:
    if name not in available():
        msg = f"unknown deep model {name!r}; valid names: {', '.join(available())}"
        raise UnknownNameError(msg)


def builder_params(name: str) -> tuple[str, ...]:
    """Architecture hyperparameters the builder of ``name`` accepts."""
    _check_name(name)
    signature = inspect.signature(METHODS.get(name))
    return tuple(p for p in signature.parameters if p not in _INTERNAL)


def build(name: str, input_shape, n_classes: int, *, param_word: str = "hyperparameter", **hparams):
    """A new ``keras.Model`` of the registered architecture ``name``.

    Raises
    ------
    UnknownNameError
        For an unknown name.
    ConfigError
        For a hyperparameter the builder does not take.
    """
    _check_name(name)
    return METHODS.create(
        name,
        param_word=param_word,
        what="deep model",
        input_shape=tuple(input_shape),
        n_classes=int(n_classes),
        **hparams,
    )


def get(name: str, **params):
    """An unfitted :class:`~deep.method.DeepMethod` for ``name``; ``params`` are validated.

    Parameters may be training settings (:class:`deep.training.TrainSettings`: epochs,
    batch_size, augment, ...) or the builder's hyperparameters; ``seed`` sets the seed.
    """
    from .method import DeepMethod

    _check_name(name)
    seed = params.pop("seed", 0)
    method = DeepMethod(name, params, seed=seed)
    method.settings()  # validate now, not at fit time
    return method
