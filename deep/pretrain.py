"""Pretraining without downloads: a CNN first trained on the embedded simulator.

With the training setting ``pretrain = "<simulation>"`` (``sim-galaxy10`` for galaxy
morphology, ``sim-sdss-sn`` for real/bogus stamps) and ``pretrain_params`` (the
simulation's parameters, e.g. ``n``, ``mode``, ``layout``, the shared preprocessing's
``channels``, ``crop`` and ``normalize`` (to bring the simulated stamps to the data's
look: ``channels = ["i", "r", "g"]`` and ``normalize = "asinh"`` for RGB JPEG composites,
which put i in red and g in blue and are asinh-stretched), plus ``scheme``, ``seed`` and
training settings of the pretraining alone, :data:`TRAIN_KEYS` such as ``epochs``,
``optimizer``, ``learning_rate`` and ``patience``, by default the run's),
:class:`deep.method.DeepMethod` first trains the same architecture on simulated images
brought to the data's stamp size (the shared preprocessing's ``resize``) and band count
(:func:`bands_to_channels`: a single-band data set gets the mean of the simulated bands,
other counts bands interpolated in wavelength order), then copies
every layer's weights but the input normalisation and the classification head into the
model it trains on the real training part.  The simulated set is split 85/15 for early
stopping; no real image, least of all a test image, is seen while pretraining.

``mode = "auto"`` (``sim-galaxy10`` only) pretrains on the simulated classes that match
the data's class names (:func:`benchmark.simulate.galaxies.mode_for`: Galaxy10 DECaLS's
for a DECaLS file, seed 002's four for a Galaxy Zoo 4-class set, Galaxy10 SDSS's
otherwise); the runner gives the CNN its data's class names (``DeepMethod.class_names``),
and the mode chosen is recorded in the run's ``pretrain_params``.

The pretrained model is cached in ``$ASTROBENCH_CACHE/pretrained/``, keyed by the
architecture, its hyperparameters, the stamp shape, the pretraining's settings, the
simulation's content fingerprint and the seed, so every run that asks for the same
pretraining reuses it, however it fine-tunes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from benchmark.errors import ConfigError, UnknownNameError

__all__ = ["RUN_KEYS", "check", "pretrained_model", "resolve", "transfer"]

log = logging.getLogger(__name__)

#: Training settings ``pretrain_params`` may set for the pretraining alone (a large
#: simulated set often wants another optimiser or schedule than a few hundred real images).
TRAIN_KEYS = (
    "epochs",
    "batch_size",
    "optimizer",
    "learning_rate",
    "momentum",
    "schedule",
    "step_every",
    "step_gamma",
    "plateau_patience",
    "patience",
    "augment",
    "translate",
    "crop_scale",
    "noise",
    "label_smoothing",
    "gce",
    "ema",
    "mixup",
)

#: ``pretrain_params`` keys read here; the rest are the simulation's own parameters.
RUN_KEYS = ("scheme", "seed", *TRAIN_KEYS)

#: ``pretrain_params`` mode (``sim-galaxy10``) that follows the data's classes.
AUTO = "auto"

#: Layers never copied: the model's own input normalisation and its classification head.
SKIPPED = ("normalize", "output")

#: Settings that do not change the pretrained weights (left out of the cache key).
_NOT_IN_KEY = ("pretrain", "pretrain_params", "tta", "predict_batch_size", "workers")


def check(settings, where: str) -> None:
    """Check ``pretrain`` and ``pretrain_params`` (no data is generated)."""
    from benchmark import simulate

    if not settings.pretrain:
        if settings.pretrain_params:
            msg = f"{where}: pretrain_params is given but pretrain (a simulation name) is not"
            raise ConfigError(msg)
        return
    if settings.pretrain == "self":
        from .ssl import check as check_self

        check_self(settings, where)
        return
    if settings.pretrain not in simulate.available():
        msg = (
            f"{where}: pretrain must be 'self' (self-supervised on the training images) or "
            f"name a simulation ({', '.join(simulate.available())}), got {settings.pretrain!r}"
        )
        raise ConfigError(msg)
    from benchmark.datasets.preprocess import Preprocess

    params = dict(settings.pretrain_params)
    if params.get("mode") == AUTO:
        if settings.pretrain != "sim-galaxy10":
            msg = f"{where}: pretrain_params mode = 'auto' is for sim-galaxy10 only"
            raise ConfigError(msg)
        params["mode"] = "galaxy10"  # checked as the default it falls back on
    _pretrain_settings(settings).validate("", where=f"{where}: pretrain_params")
    if "resize" in params:
        msg = (
            f"{where}: pretrain_params cannot set resize: the simulated stamps are brought "
            f"to the data's own size"
        )
        raise ConfigError(msg)
    sim = {k: v for k, v in params.items() if k not in RUN_KEYS}
    try:  # the shared preprocessing (channels, crop, normalize) applies to the simulation
        Preprocess.pop_from(sim)
    except (ConfigError, UnknownNameError) as exc:
        raise type(exc)(f"{where}: pretrain_params: {exc}") from None
    simulate._split_params(settings.pretrain, sim)  # unknown keys are errors naming them


def resolve(settings, class_names=None, where: str = "pretrain"):
    """``settings`` with ``pretrain_params``' ``mode = "auto"`` replaced by the simulated
    mode that matches ``class_names`` (unchanged without it)."""
    params = settings.pretrain_params or {}
    if params.get("mode") != AUTO:
        return settings
    from benchmark.simulate.galaxies import mode_for

    mode = mode_for(class_names)
    log.info(
        "%s: pretraining on the simulated %s classes (mode = 'auto', the data's classes: %s)",
        where,
        mode,
        ", ".join(map(str, class_names)) if class_names else "not given",
    )
    return dataclasses.replace(settings, pretrain_params={**params, "mode": mode})


def _pretrain_settings(settings):
    """The training settings of the pretraining: the run's, with ``pretrain_params``'
    training keys (:data:`TRAIN_KEYS`) in their place, no clock (the result is cached)
    and no pretraining of its own."""
    from .training import as_settings

    over = as_settings({k: v for k, v in settings.pretrain_params.items() if k in TRAIN_KEYS})
    return dataclasses.replace(
        settings, **over, time_budget=0.0, head_epochs=0, pretrain="", pretrain_params={}
    )


def _simulated(settings, input_shape, seed: int, progress: bool):
    """Images and labels of the pretraining set, at the data's stamp size."""
    from benchmark import datasets

    height, width, channels = input_shape
    if height != width:
        msg = f"pretraining on {settings.pretrain} needs square stamps, got {height}x{width}"
        raise ConfigError(msg)
    params = dict(settings.pretrain_params)
    run = {k: params.pop(k) for k in RUN_KEYS if k in params}
    ds = datasets.load(
        settings.pretrain,
        scheme=run.get("scheme"),
        seed=seed,
        progress=progress,
        resize=int(height),
        **params,
    )
    images = bands_to_channels(np.asarray(ds.images[:], dtype=np.float32), channels)
    return images, np.asarray(ds.labels, dtype=np.int64), ds.fingerprint


def bands_to_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """Simulated stamps (N, H, W, B), bands blue to red, brought to the data's ``channels``.

    One channel gets the mean of the bands; several are taken as ordered blue to red, as
    survey files list their bands (u, g, r, i, z), and each gets the simulated bands
    interpolated linearly at its place along that order (five channels from g, r, i: g,
    between g and r, r, between r and i, i). The morphology is the simulation's; the
    colours are an approximation that fine-tuning on the data corrects.
    """
    bands = images.shape[-1]
    if channels == bands:
        return images
    if channels == 1:
        return images.mean(axis=-1, keepdims=True)
    if bands == 1:
        return np.ascontiguousarray(np.repeat(images, int(channels), axis=-1))
    where = np.linspace(0.0, bands - 1.0, int(channels))
    lo = np.minimum(np.floor(where).astype(int), bands - 2)
    hi = np.minimum(lo + 1, bands - 1)
    w = (where - lo).astype(np.float32)
    return np.ascontiguousarray(images[..., lo] * (1 - w) + images[..., hi] * w, dtype=np.float32)


def _key(name, hparams, input_shape, settings, seed, fingerprint, **extra) -> str:
    """Cache key of a pretrained model: everything that changes its weights."""
    own = {k: v for k, v in dataclasses.asdict(settings).items() if k not in _NOT_IN_KEY}
    if not own.get("head_epochs"):  # keys from before it existed stay the same
        own.pop("head_epochs", None)
    blob = json.dumps(
        {
            "name": name,
            "hparams": hparams,
            "input_shape": list(input_shape),
            "settings": own,
            "pretrain": settings.pretrain,
            "pretrain_params": settings.pretrain_params,
            "seed": seed,
            "data": fingerprint,
            **extra,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _check_disjoint(images, own, pretrain: str) -> None:
    """Stop when the simulated set holds the data's own images (a simulated data set
    pretrained on its own simulation and seed would see its test images)."""
    import hashlib

    def digests(x):
        return {
            hashlib.blake2b(np.ascontiguousarray(i).tobytes(), digest_size=16).digest() for i in x
        }

    sample = np.asarray(own[: min(len(own), 256)], dtype=np.float32)
    if digests(sample) & digests(images):
        msg = (
            f"the {pretrain} pretraining set contains the data's own images (the same "
            f"simulation and seed); give pretrain_params another seed"
        )
        raise ConfigError(msg)


def pretrained_model(
    name, hparams, input_shape, settings, seed: int, *, own_images=None, progress=False
):
    """The architecture ``name`` trained on the simulation of ``settings`` (cached).

    ``own_images`` (some of the data's training images) are checked to be absent from
    the simulated set.
    """
    from benchmark._io import atomic_path, cache_root

    from ._keras import import_keras
    from .method import DeepMethod

    keras = import_keras()
    # pretrain_params.seed fixes the pretraining (simulation, split, weights) for every run
    # seed, so seeds then differ only in the fine-tuning; by default it follows the run
    seed = int(settings.pretrain_params.get("seed", seed))
    images, labels, fingerprint = _simulated(settings, input_shape, seed, progress)
    if own_images is not None:
        _check_disjoint(images, own_images, settings.pretrain)
    # keyed by the pretraining's own settings: runs that fine-tune differently share it
    pre = _pretrain_settings(settings)
    key = _key(
        name,
        hparams,
        input_shape,
        pre,
        seed,
        fingerprint,
        pretrain=settings.pretrain,
        pretrain_params=settings.pretrain_params,
    )
    path = Path(cache_root()) / "pretrained" / f"{name}-{settings.pretrain}-{key}.keras"
    if not path.is_file():
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(labels))
        n_val = max(1, int(round(0.15 * len(labels))))
        val, train = order[:n_val], order[n_val:]
        own = {k: v for k, v in dataclasses.asdict(pre).items() if k not in _NOT_IN_KEY}
        log.info(
            "pretraining %s on %d simulated %s stamps (%d epochs at most)",
            name,
            len(train),
            settings.pretrain,
            own["epochs"],
        )
        method = DeepMethod(
            name, {**own, **hparams}, seed=seed, class_weight="none", progress=progress
        )
        method.fit(images[train], labels[train], images[val], labels[val])
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            method.model_.save(str(tmp))
    from . import layers  # noqa: F401 - registers the custom layers

    return keras.models.load_model(str(path))


def transfer(source, target) -> list[str]:
    """Copy the weights of ``source``'s layers into ``target``'s layers of the same name
    and shapes, except the normalisation and the head; returns the layers copied."""
    copied = []
    for layer in target.layers:
        if layer.name in SKIPPED or not layer.weights:
            continue
        try:
            other = source.get_layer(layer.name)
        except ValueError:
            continue
        weights = other.get_weights()
        if [w.shape for w in weights] != [tuple(w.shape) for w in layer.weights]:
            continue
        layer.set_weights(weights)
        copied.append(layer.name)
    return copied
