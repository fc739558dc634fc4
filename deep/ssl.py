"""Self-supervised pretraining on the data's own unlabelled training images (SimCLR).

With the training setting ``pretrain = "self"``, :class:`deep.method.DeepMethod` first
trains the architecture's layers up to its ``features`` layer contrastively (SimCLR,
Chen et al. 2020: two random views of each image, a small projection head and the
NT-Xent loss) on the training part's images, with no label, then copies them into the
model it trains on the labels, as pretraining on the simulator does
(:func:`deep.pretrain.transfer`).  Only the training part is used (and, with
``pretrain_params.unlabelled``, any further unlabelled images the user gives); never
the validation or test part.

The views are astronomical: a random D4 element (orientation is not physical), a shift
of a few pixels, a random crop of 75-100% of the stamp, a Gaussian PSF blur, a flux
scale and Gaussian noise. The model is cached in ``$ASTROBENCH_CACHE/pretrained/``,
keyed by the architecture, its settings and a digest of the images, so seeds and
methods that share a training part and ``pretrain_params.seed`` share one pretraining.

``pretrain_params``: ``epochs`` (default 30), ``batch_size`` (128), ``temperature``
(0.2), ``learning_rate`` (1e-3), ``projection`` (width of the projection head, 128),
``views`` (the transforms of a view, :data:`VIEWS`), ``seed`` (default: the run's),
``unlabelled`` (a ``.npy`` array of stamps or a data
path any loader reads, labels not needed, brought to the stamp size by ``resize``) and
``unlabelled_params`` (its loader parameters, e.g. ``{ crop = 240 }`` as the data's).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from benchmark.errors import ConfigError

__all__ = ["DEFAULTS", "check", "nt_xent", "self_supervised_model", "two_views"]

log = logging.getLogger(__name__)

#: ``pretrain_params`` of self-supervised pretraining and their defaults.
DEFAULTS = {
    "epochs": 30,
    "batch_size": 128,
    "temperature": 0.2,
    "learning_rate": 1e-3,
    "projection": 128,
    "seed": None,
    "unlabelled": "",
    "unlabelled_params": {},
    "views": ("d4", "shift", "crop", "blur", "flux", "noise"),
}

#: The random transforms a view may use.
VIEWS = DEFAULTS["views"]


def check(settings, where: str) -> dict:
    """Checked ``pretrain_params`` with defaults filled in (no data is read)."""
    params = dict(settings.pretrain_params)
    unknown = [k for k in params if k not in DEFAULTS]
    if unknown:
        msg = (
            f"{where}: unknown pretrain_params key {unknown[0]!r} for pretrain = 'self'; "
            f"valid: {', '.join(DEFAULTS)}"
        )
        raise ConfigError(msg)
    out = {**DEFAULTS, **params}
    for key in ("epochs", "batch_size", "projection"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"{where}: pretrain_params.{key} must be a positive integer, got {value!r}"
            raise ConfigError(msg)
    for key in ("temperature", "learning_rate"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            msg = f"{where}: pretrain_params.{key} must be a positive number, got {value!r}"
            raise ConfigError(msg)
    if not isinstance(out["unlabelled"], str):
        msg = f"{where}: pretrain_params.unlabelled must be a data path, got {out['unlabelled']!r}"
        raise ConfigError(msg)
    views = out["views"]
    if isinstance(views, str) or not all(v in VIEWS for v in views):
        msg = (
            f"{where}: pretrain_params.views must be a list from {', '.join(VIEWS)}, got {views!r}"
        )
        raise ConfigError(msg)
    out["views"] = tuple(views)
    if not isinstance(out["unlabelled_params"], dict):
        msg = f"{where}: pretrain_params.unlabelled_params must be a table of loader parameters"
        raise ConfigError(msg)
    if out["unlabelled"] and not Path(out["unlabelled"]).exists():
        msg = f"{where}: pretrain_params.unlabelled: no such path {out['unlabelled']!r}"
        raise ConfigError(msg)
    return out


def two_views(x: np.ndarray, rng: np.random.Generator, channel_std, views=VIEWS) -> tuple:
    """Two random astronomical views of each image of a batch ``(N, H, W, C)``, made by
    the transforms named in ``views`` (:data:`VIEWS`)."""
    from scipy.ndimage import gaussian_filter

    from .augment import Augment

    h = x.shape[1]
    augment = Augment(
        d4="d4" in views,
        translate=max(1, h // 16) if "shift" in views else 0,
        resized_crop=(0.75, 1.0) if "crop" in views else None,
        noise=(0.1 * np.asarray(channel_std, np.float32)).astype(np.float32)
        if "noise" in views
        else None,
    )
    out = []
    for _ in range(2):
        v = np.array(augment(x, rng), dtype=np.float32)
        if "blur" in views:
            blur = rng.uniform(0.0, 1.5, len(v))
            for i in np.flatnonzero(blur > 0.5):  # a PSF a little wider, half of the time
                v[i] = gaussian_filter(v[i], (blur[i], blur[i], 0), mode="reflect")
        if "flux" in views:
            v *= rng.uniform(0.8, 1.25, (len(v), 1, 1, 1)).astype(np.float32)
        out.append(np.ascontiguousarray(v, dtype=np.float32))
    return tuple(out)


def nt_xent(temperature: float):
    """The NT-Xent loss of SimCLR on ``y_pred = [z_a, z_b]`` (concatenated on the last
    axis); ``y_true`` is ignored. Each view's positive is the other view of its image,
    the other ``2N - 2`` views of the batch are its negatives."""
    import keras
    from keras import ops

    def loss(y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        width = y_pred.shape[-1] // 2
        z = ops.concatenate([y_pred[:, :width], y_pred[:, width:]], axis=0)
        z = z / (ops.sqrt(ops.sum(z * z, axis=1, keepdims=True)) + 1e-8)
        n = ops.shape(z)[0]
        half = n // 2
        logits = ops.matmul(z, ops.transpose(z)) / temperature
        logits = logits - 1e9 * ops.eye(n, dtype="float32")  # never one's own view
        targets = ops.concatenate([ops.arange(half) + half, ops.arange(half)], axis=0)
        ce = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        return (ce[:half] + ce[half:]) / 2

    return loss


def _contrastive_model(keras, model, projection: int):
    """Two views through the model's layers up to ``features``, then a projection head."""
    encoder = keras.Model(model.inputs, model.get_layer("features").output, name="encoder")
    shape = tuple(model.inputs[0].shape[1:])
    a = keras.Input(shape, name="view_a")
    b = keras.Input(shape, name="view_b")
    head = keras.Sequential(
        [
            keras.layers.Dense(projection, activation="relu"),
            keras.layers.Dense(projection, dtype="float32"),
        ],
        name="projection",
    )
    out = keras.layers.Concatenate(axis=-1)([head(encoder(a)), head(encoder(b))])
    return keras.Model([a, b], out, name="simclr")


def _batches(keras):
    from .data import _read

    class PairBatches(keras.utils.PyDataset):
        """Pairs of views of a shuffled epoch, full batches only (the loss pairs them)."""

        def __init__(self, images, batch_size, channel_std, seed, views, workers=2):
            super().__init__(workers=int(workers), use_multiprocessing=False, max_queue_size=4)
            self.images, self.batch_size, self.views = images, int(batch_size), tuple(views)
            self.channel_std, self.seed, self.epoch = channel_std, int(seed), 0

        def __len__(self):
            return len(self.images) // self.batch_size

        def on_epoch_end(self):
            self.epoch += 1

        def __getitem__(self, i):
            order = np.random.default_rng([self.seed, self.epoch, 3]).permutation(len(self.images))
            rows = np.sort(order[i * self.batch_size : (i + 1) * self.batch_size])
            x = _read(self.images, rows)
            rng = np.random.default_rng([self.seed, self.epoch, i, 4])
            a, b = two_views(x, rng, self.channel_std, self.views)
            return (a, b), np.zeros(len(x), np.float32)

    return PairBatches


def _digest(images) -> str:
    from .data import _read

    h = hashlib.blake2b(digest_size=16)
    h.update(repr(tuple(images.shape)).encode())
    for start in range(0, len(images), 1024):
        rows = np.arange(start, min(start + 1024, len(images)))
        h.update(np.ascontiguousarray(_read(images, rows)).tobytes())
    return h.hexdigest()


def _unlabelled(path: str, input_shape, params: dict) -> np.ndarray:
    """Extra unlabelled stamps: a ``.npy`` array at the data's stamp size, or any source a
    loader reads (labels not needed), brought to the stamp size by ``resize`` after the
    loader parameters ``params`` (e.g. the data set's ``crop``)."""
    from benchmark import datasets
    from benchmark.datasets._build import for_scoring

    height, _, channels = input_shape
    if str(path).endswith(".npy"):
        try:
            images = np.load(str(path))
        except (OSError, ValueError) as exc:
            msg = f"pretrain_params.unlabelled: {path} is not a readable .npy array ({exc})"
            raise ConfigError(msg) from None
    else:
        with for_scoring():
            ds = datasets.load(str(path), progress=False, **{"resize": int(height), **params})
        images = ds.images[:]
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[-1] != channels and channels == 1:
        images = images.mean(axis=-1, keepdims=True)
    if images.shape[1:] != tuple(input_shape):
        msg = (
            f"pretrain_params.unlabelled: {path} gives {images.shape[1:]} stamps, the data "
            f"has {tuple(input_shape)}"
        )
        raise ConfigError(msg)
    if not np.isfinite(images).all():
        msg = f"pretrain_params.unlabelled: {path} has NaN or infinite pixels"
        raise ConfigError(msg)
    return images


def self_supervised_model(
    name, hparams, input_shape, settings, seed: int, images, *, mean, variance, progress=False
):
    """The architecture ``name`` with its layers up to ``features`` trained by SimCLR on
    ``images`` (the training part, unlabelled), cached; its head is untrained."""
    from benchmark._io import atomic_path, cache_root

    from . import build
    from ._keras import import_keras
    from .pretrain import _key
    from .training import EpochProgress

    keras = import_keras()
    params = check(settings, name)
    seed = int(params["seed"] if params["seed"] is not None else seed)
    if params["unlabelled"]:
        extra = _unlabelled(params["unlabelled"], input_shape, params["unlabelled_params"])
        images = np.concatenate([np.asarray(images[:], np.float32), extra])
    key = _key(
        name,
        hparams,
        input_shape,
        settings,
        seed,
        _digest(images),
        params=params,
        mean=[float(m) for m in mean],
        variance=[float(v) for v in variance],
    )
    path = Path(cache_root()) / "pretrained" / f"{name}-self-{key}.keras"
    from . import layers  # noqa: F401 - registers the custom layers

    if path.is_file():
        return keras.models.load_model(str(path))
    batch = min(int(params["batch_size"]), len(images) // 2)
    if batch < 8:
        msg = (
            f"{name}: self-supervised pretraining needs at least 16 training images, "
            f"got {len(images)}"
        )
        raise ConfigError(msg)
    keras.utils.set_random_seed(seed)
    model = build(
        name,
        input_shape,
        2,
        mean=list(map(float, mean)),
        variance=list(map(float, variance)),
        **hparams,
    )
    simclr = _contrastive_model(keras, model, int(params["projection"]))
    simclr.compile(
        optimizer=keras.optimizers.Adam(float(params["learning_rate"])),
        loss=nt_xent(float(params["temperature"])),
        jit_compile=settings.jit_compile,
    )
    data = _batches(keras)(
        images,
        batch,
        np.sqrt(np.asarray(variance, np.float32)),
        seed,
        params["views"],
        workers=settings.workers,
    )
    log.info(
        "self-supervised pretraining of %s on %d unlabelled images (%d epochs)",
        name,
        len(images),
        params["epochs"],
    )
    callbacks = [EpochProgress(int(params["epochs"]), f"{name} SimCLR")] if progress else []
    history = simclr.fit(data, epochs=int(params["epochs"]), verbose=0, callbacks=callbacks)
    losses = history.history.get("loss", [])
    if not losses or not np.isfinite(losses[-1]):
        msg = (
            f"{name}: self-supervised pretraining diverged (loss {losses[-1:]}); "
            f"lower pretrain_params.learning_rate"
        )
        raise ConfigError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        model.save(str(tmp))
    return model
