"""Keras 3 CNN builders and the method that trains them (backend-agnostic).

``deep.build(name, input_shape, n_classes, **hparams)`` returns a ``keras.Model``;
``deep.get(name, **params)`` returns an unfitted :class:`deep.method.DeepMethod`
(architecture hyperparameters and training settings mixed, validated here);
``deep.available()`` lists the names.  Nothing here imports Keras until a model is
asked for.
"""

from __future__ import annotations

import inspect

from benchmark._registry import Registry

__all__ = ["BUILDERS", "MODELS", "available", "build", "builder_params", "get"]

#: Model builders by name; entries are ``"module:builder"`` imported on first use.
BUILDERS = Registry("deep model")
MODELS = BUILDERS
for _name, _target, _help in [
    (
        "negm2021",
        "deep.models:negm2021",
        "Negm 2021 initial CNN (conv 32/64/128 + pooling; RMSprop)",
    ),
    (
        "negm2021-refined",
        "deep.models:negm2021_refined",
        "Negm 2021 final CNN (4 conv blocks, dropout, D4 augmentation, Adam)",
    ),
    (
        "nightskynet",
        "deep.models:nightskynet",
        "Night Sky Net: conv 32/64/64/128, maxout dense layers, random crops",
    ),
    ("galaxy-cnn", "deep.models:galaxy_cnn", "Galaxy Zoo spiral/elliptical CNN (SGD + momentum)"),
    (
        "simple-cnn",
        "deep.models:simple_cnn",
        "seed 004 small CNN: 2 conv blocks, dropout, L2, input noise",
    ),
    ("resnet50", "deep.applications:resnet50", "keras.applications ResNet50 with a new head"),
    (
        "inceptionv3",
        "deep.applications:inceptionv3",
        "keras.applications InceptionV3 with a new head",
    ),
    ("braai-vgg6", "deep.models:braai_vgg6", "ZTF braai VGG6 real/bogus net (Duev et al. 2019)"),
    (
        "rotation-invariant",
        "deep.models:rotation_invariant",
        "D4-invariant wrapper: a backbone on the 8 rotated/flipped views, features pooled",
    ),
]:
    BUILDERS.add(_name, _target, help=_help)

#: Builder arguments set by the method itself, not by experiments.
_INTERNAL = ("input_shape", "n_classes", "mean", "variance")


def available() -> list[str]:
    """Names of the registered deep models."""
    return BUILDERS.names()


def builder_params(name: str) -> tuple[str, ...]:
    """Architecture hyperparameters the builder of ``name`` accepts."""
    signature = inspect.signature(BUILDERS.get(name))
    return tuple(p for p in signature.parameters if p not in _INTERNAL)


def build(name: str, input_shape, n_classes: int, **hparams):
    """A new ``keras.Model`` of the registered architecture ``name``.

    Raises
    ------
    UnknownNameError
        For an unknown name.
    ConfigError
        For a hyperparameter the builder does not take.
    """
    return BUILDERS.create(
        name,
        param_word="hyperparameter",
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

    seed = params.pop("seed", 0)
    method = DeepMethod(name, params, seed=seed)
    method.settings()  # validate now, not at fit time
    return method
