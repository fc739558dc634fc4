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


def _register(name: str, target: str, help: str, **meta) -> None:
    """Add an image method of the ``deep`` kind to the one method registry."""
    METHODS.add(name, target, help=help, kind="deep", input="images", **meta)


def _model(name: str, target: str, help: str, *, train_defaults=None, **meta) -> None:
    """Register a CNN: ``target`` is its builder, ``"module:function"``."""
    _register(
        name,
        target,
        help,
        method_class="deep.method:DeepMethod",
        save_format="keras",
        train_defaults=dict(train_defaults or {}),
        **meta,
    )


# Each line: the builder, a one-line description and the training defaults of the model's
# write-up (any TrainSettings field; an experiment's parameters override them).
_model(
    "negm2021",
    "deep.models:negm2021",
    "Negm 2021 initial CNN (conv 32/64/128 + pooling; RMSprop)",
    # seed 001: RMSprop, batch 64, 50 epochs, no augmentation
    train_defaults={"optimizer": "rmsprop", "learning_rate": 1e-3, "batch_size": 64, "epochs": 50},
)
_model(
    "negm2021-refined",
    "deep.models:negm2021_refined",
    "Negm 2021 final CNN (4 conv blocks, dropout, D4 augmentation, Adam)",
    # seed 001 refined: Adam, batch 128, up to 200 epochs, dropout and augmentation
    train_defaults={
        "optimizer": "adam",
        "batch_size": 128,
        "epochs": 200,
        "patience": 15,
        "augment": ("d4",),
    },
)
_model(
    "nightskynet",
    "deep.models:nightskynet",
    "Night Sky Net: conv 32/64/64/128, maxout dense layers, random crops",
    # seed 002: random rotations / flips / transposes and a few pixels' translation, crop in
    # the model; classes re-balanced by augmented over-sampling
    train_defaults={
        "optimizer": "adam",
        "batch_size": 64,
        "epochs": 50,
        "patience": 10,
        "augment": ("d4", "translate"),
        "translate": 5,
        "balance": True,
    },
)
_model(
    "galaxy-cnn",
    "deep.models:galaxy_cnn",
    "Galaxy Zoo spiral/elliptical CNN (SGD + momentum)",
    # seed 003: SGD with momentum, binary cross-entropy, augmentation
    train_defaults={
        "optimizer": "sgd",
        "learning_rate": 0.01,
        "momentum": 0.9,
        "batch_size": 64,
        "epochs": 50,
        "patience": 10,
        "augment": ("d4", "translate"),
        "translate": 3,
    },
)
_model(
    "simple-cnn",
    "deep.models:simple_cnn",
    "seed 004 small CNN: 2 conv blocks, dropout, L2, input noise",
    # seed 004: flips / rotations for the rare classes, Gaussian noise inside the model
    train_defaults={
        "optimizer": "sgd",
        "learning_rate": 0.01,
        "momentum": 0.9,
        "batch_size": 64,
        "epochs": 30,
        "patience": 8,
        "augment": ("d4",),
        "balance": True,
    },
)
# seed 004 transfer learning: SGD lr 0.001, momentum 0.9, x0.1 every 5 epochs, batch 32,
# 20 epochs, random resized crop + horizontal flip
_TRANSFER = {
    "optimizer": "sgd",
    "learning_rate": 1e-3,
    "momentum": 0.9,
    "schedule": "step",
    "step_every": 5,
    "step_gamma": 0.1,
    "batch_size": 32,
    "epochs": 20,
    "augment": ("resized-crop", "flip"),
}
# heavy: minutes to build and train on a CPU (the common tests mark them slow)
_model(
    "resnet50",
    "deep.applications:resnet50",
    "keras.applications ResNet50 with a new head",
    train_defaults=_TRANSFER,
    heavy=True,
)
_model(
    "inceptionv3",
    "deep.applications:inceptionv3",
    "keras.applications InceptionV3 with a new head",
    train_defaults=_TRANSFER,
    heavy=True,
)
_model(
    "braai-vgg6",
    "deep.models:braai_vgg6",
    "ZTF braai VGG6 real/bogus net (Duev et al. 2019)",
    # Duev et al. 2019: Adam 3e-4, batch 64, flips, early stopping
    train_defaults={
        "optimizer": "adam",
        "learning_rate": 3e-4,
        "batch_size": 64,
        "epochs": 50,
        "patience": 10,
        "augment": ("d4",),
    },
)
_model(
    "rotation-invariant",
    "deep.models:rotation_invariant",
    "D4-invariant wrapper: a backbone on the 8 rotated/flipped views, features pooled",
    train_defaults={"optimizer": "adam", "batch_size": 64, "epochs": 30, "patience": 8},
)


def _combined(name: str, target: str, help: str, **meta) -> None:
    """Register a method made of trained CNNs (:mod:`deep.combined`)."""
    _register(name, target, help, method_class=target, save_format="folder", combined=True, **meta)


_combined(
    "cnn-ensemble",
    "deep.combined:EnsembleMethod",
    "average of CNNs (architectures x seeds), each with test-time D4 averaging",
)
_combined(
    "hybrid",
    "deep.combined:HybridMethod",
    "a CNN's embedding + hand-crafted features into a tuned classical head",
    hybrid=True,
)

#: Builder arguments set by the method itself, not by experiments.
_INTERNAL = ("input_shape", "n_classes", "mean", "variance")


def available() -> list[str]:
    """Names of the registered CNN architectures (trained by :class:`deep.method.DeepMethod`)."""
    return METHODS.names(kind="deep", method_class="deep.method:DeepMethod")


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
