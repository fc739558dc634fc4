"""The Method the runner trains for a deep model: fit on images, predict, save, load."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmark._io import atomic_path, read_json, write_json
from benchmark.errors import ConfigError, NonFiniteError, ShapeMismatchError
from benchmark.methods import Method

__all__ = ["DeepMethod"]

log = logging.getLogger(__name__)


def _inputs(batch):
    """The images of a prediction batch (``ImageBatches`` gives ``(images,)``)."""
    return batch[0] if isinstance(batch, tuple) else batch


def _check_images(x, where: str) -> tuple[int, ...]:
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) != 4:
        msg = f"{where}: expected images of shape (N, height, width, channels), got {shape}"
        raise ShapeMismatchError(msg)
    return shape


def _data_digest(x_train, y_train, x_val, y_val) -> str:
    """A digest of the data a CNN is trained and early-stopped on: shapes, every label,
    and 16 images spread over each part. A results folder holds one data set and one
    split (the store checks both), so this tells apart what differs within it (the
    nested training subsets of a sweep) without reading a large lazy array whole."""
    import hashlib

    from .data import _read

    h = hashlib.sha256()
    for x, y in ((x_train, y_train), (x_val, y_val)):
        if x is None or len(x) == 0:
            h.update(b"none")
            continue
        h.update(repr(tuple(x.shape)).encode())
        h.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
        rows = np.unique(np.linspace(0, len(x) - 1, 16).astype(int))
        h.update(np.ascontiguousarray(_read(x, rows), dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


class DeepMethod(Method):
    """A registered Keras model trained on images, scikit-learn style.

    ``__init__`` only stores its arguments; :meth:`fit` sets ``classes_``, ``model_``,
    ``history_``, ``settings_``, ``params_`` and ``threshold_``.

    Parameters
    ----------
    name : str
        A registered deep model (``deep.available()``).
    params : dict, optional
        Training settings (:class:`deep.training.TrainSettings`) and builder
        hyperparameters, mixed.
    seed : int
        Seeds Python, NumPy and the backend (``keras.utils.set_random_seed``) and the
        data order and augmentation.
    work_dir : path, optional
        Where the history CSV, best checkpoint and resumable backup live during
        training; a run interrupted there resumes from its last finished epoch.
        A temporary folder when omitted.
    progress : bool
        Show a progress bar over epochs.
    class_weight : {"balanced", "none"}
        ``balanced`` trains on class-balanced batches (the ``balance`` setting), unless
        ``params`` set ``balance`` themselves.
    n_candidates : int
        Not used: the validation part drives early stopping and the kept epoch.

    Attributes
    ----------
    share_dir : path or None
        Set by the runner to its results folder's ``work/_shared``: a CNN trained there is
        kept under a key of its name, training settings, hyperparameters, seed, class
        treatment and data, and a later fit with the same key (the same CNN as a hybrid's
        backbone or an ensemble's first member, in the same experiment) loads it instead
        of training it again. ``fit_shared_`` says whether a fit was loaded so.
    class_names : tuple of str or None
        Set by the runner to the data's class names (label order), for
        ``pretrain_params``' ``mode = "auto"`` (:func:`deep.pretrain.resolve`).
    """

    share_dir = None
    class_names = None

    kind = "deep"
    input = "images"

    def settings(self):
        """``(TrainSettings, builder hyperparameters)`` from ``params``, validated."""
        import dataclasses

        from . import builder_params
        from .training import split_params

        settings, hparams = split_params(self.name, self.params, builder_params(self.name))
        if self.class_weight == "balanced" and "balance" not in self.params:
            settings = dataclasses.replace(settings, balance=True)
        return settings, hparams

    def validate(self, *, n_train: int, n_classes: int, input_shape: tuple) -> None:
        """Check the settings and build the architecture for ``input_shape`` (no training)."""
        from . import build

        _, hparams = self.settings()
        channels = int(input_shape[-1])
        try:
            build(
                self.name,
                tuple(input_shape),
                n_classes,
                mean=[0.0] * channels,
                variance=[1.0] * channels,
                **hparams,
            )
        except (ValueError, TypeError) as exc:
            if isinstance(exc, ConfigError | ShapeMismatchError):
                raise
            msg = (
                f"deep model {self.name!r} cannot be built for "
                f"{'x'.join(map(str, input_shape))} images: {_keras_reason(exc)}; "
                f"resize the data (dataset parameter resize=...) or change the architecture"
            )
            raise ConfigError(msg) from None

    # ------------------------------------------------------------------ training
    def fit(self, x_train, y_train, x_val=None, y_val=None) -> DeepMethod:
        """Train on ``x_train`` (N, H, W, C) with integer labels; validate on ``x_val``.

        The best epoch on the validation loss is kept (``restore_best``); early
        stopping and plateau schedules watch the validation loss too.
        """
        from . import build
        from ._keras import import_keras
        from .augment import Augment
        from .data import channel_stats

        keras = import_keras()
        settings, hparams = self.settings()
        if settings.pretrain and settings.pretrain != "self":
            from .pretrain import resolve

            settings = resolve(settings, self.class_names, where=self.name)
        shape = _check_images(x_train, f"{self.name}.fit")
        y_train = np.asarray(y_train, dtype=np.int64)
        if len(y_train) != shape[0]:
            msg = f"{self.name}.fit: {shape[0]} images but {len(y_train)} labels"
            raise ShapeMismatchError(msg)
        has_val = x_val is not None and len(x_val) > 0
        if has_val:
            vshape = _check_images(x_val, f"{self.name}.fit (validation)")
            if vshape[1:] != shape[1:]:
                msg = f"{self.name}.fit: validation images are {vshape[1:]}, training {shape[1:]}"
                raise ShapeMismatchError(msg)
            y_val = np.asarray(y_val, dtype=np.int64)
        n_classes = int(y_train.max()) + 1 if len(y_train) else 0
        if n_classes < 2 or y_train.min() < 0:
            msg = f"{self.name}.fit: need labels 0..K-1 with K >= 2, got {np.unique(y_train)}"
            raise ConfigError(msg)
        self.classes_ = np.arange(n_classes)
        share = self._share(settings, hparams, x_train, y_train, x_val, y_val, has_val)
        self.fit_shared_ = share is not None and self._load_shared(share, settings, hparams)
        if self.fit_shared_:
            return self
        keras.utils.set_random_seed(self.seed)
        if settings.deterministic:
            _deterministic_ops(keras)
        mean, var = channel_stats(x_train, seed=self.seed)
        if not (np.isfinite(mean).all() and np.isfinite(var).all()):
            msg = f"{self.name}.fit: training images contain NaN or infinite pixels"
            raise NonFiniteError(msg)
        policy = keras.config.dtype_policy().name
        if settings.mixed_precision:
            keras.config.set_dtype_policy("mixed_float16" if _has_gpu(keras) else "mixed_bfloat16")
        try:
            model = build(
                self.name,
                shape[1:],
                n_classes,
                mean=mean.tolist(),
                variance=var.tolist(),
                **hparams,
            )
        finally:
            keras.config.set_dtype_policy(policy)
        self.pretrained_layers_ = []
        if settings.pretrain:
            from .pretrain import pretrained_model, transfer

            if settings.pretrain == "self":
                from .ssl import self_supervised_model

                source = self_supervised_model(
                    self.name,
                    hparams,
                    shape[1:],
                    settings,
                    self.seed,
                    x_train,
                    mean=mean,
                    variance=var,
                    progress=self.progress,
                )
            else:
                source = pretrained_model(
                    self.name,
                    hparams,
                    shape[1:],
                    settings,
                    self.seed,
                    own_images=x_train,
                    progress=self.progress,
                )
            self.pretrained_layers_ = transfer(source, model)
            if not self.pretrained_layers_:
                msg = f"{self.name}: no layer of the pretrained model fits this one"
                raise ConfigError(msg)
            keras.utils.set_random_seed(self.seed)  # the same state, cached or not
        binary = n_classes == 2
        _compile(model, settings, binary, n_classes)
        augment = Augment.from_names(
            settings.augment,
            translate=settings.translate,
            crop_scale=settings.crop_scale,
            noise=settings.noise,
            channel_std=np.sqrt(var),
        )
        own_dir = self.work_dir is None
        work = Path(tempfile.mkdtemp(prefix="astrobench-")) if own_dir else Path(self.work_dir)
        work.mkdir(parents=True, exist_ok=True)
        head_s = 0.0
        try:
            if settings.head_epochs and self.pretrained_layers_:
                head_s = self._fit_head(model, settings, augment, binary, x_train, y_train)
            self._train(
                model,
                settings,
                augment,
                work,
                binary,
                x_train,
                y_train,
                x_val if has_val else None,
                y_val if has_val else None,
            )
        finally:
            if own_dir:
                shutil.rmtree(work, ignore_errors=True)
        self.fit_s_ += head_s
        self.model_ = model
        self.settings_ = settings
        self.params_ = hparams
        self.input_shape_ = tuple(int(s) for s in shape[1:])
        self.threshold_ = 0.5
        if share is not None:
            self._save_shared(share)
        return self

    # ------------------------------------------------------------- shared fits
    def _share(self, settings, hparams, x_train, y_train, x_val, y_val, has_val):
        """The folder of this fit in ``share_dir`` (None when there is none), keyed like a
        pretrained model (everything that changes the weights) plus the class treatment."""
        from .pretrain import _key

        if not self.share_dir:
            return None
        data = _data_digest(x_train, y_train, x_val if has_val else None, y_val)
        shape = tuple(x_train.shape[1:])
        key = _key(
            self.name, hparams, shape, settings, self.seed, data, class_weight=self.class_weight
        )
        return Path(self.share_dir) / f"{self.name}-seed{self.seed}-{key}"

    def _load_shared(self, folder: Path, settings, hparams) -> bool:
        """Take the fitted model of ``folder`` where an earlier fit finished it; the
        settings stay this method's own (``tta`` and batch sizes are not in the key)."""
        if not ((folder / "method.json").is_file() and (folder / "fit.json").is_file()):
            return False
        try:
            loaded = DeepMethod.load(folder)
            fit = read_json(folder / "fit.json", what="shared CNN fit")
        except Exception as exc:  # noqa: BLE001 - an unreadable copy is trained again
            log.warning("%s: shared fit in %s unreadable (%s); training", self.name, folder, exc)
            return False
        for attr in ("model_", "input_shape_", "best_epoch_", "budget_limited_"):
            setattr(self, attr, getattr(loaded, attr))
        self.settings_, self.params_ = settings, hparams
        self.history_ = fit["history"]
        self.pretrained_layers_ = fit["pretrained_layers"]
        self.fit_s_ = fit["fit_s"]
        self.threshold_ = 0.5
        log.info("%s seed %d: trained earlier in this experiment, loaded", self.name, self.seed)
        return True

    def _save_shared(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fit = {
            "history": self.history_,
            "pretrained_layers": self.pretrained_layers_,
            "fit_s": self.fit_s_,
        }
        write_json(folder / "fit.json", fit)
        self.save(folder)  # method.json last: its presence marks a finished copy

    def _fit_head(self, model, settings, augment, binary, x_train, y_train) -> float:
        """Linear probing: ``head_epochs`` epochs of the layers not copied from the
        pretrained model, the copied ones frozen; then every layer is trainable again and
        the model is compiled afresh for fine-tuning. Returns the seconds it took."""
        t0 = time.perf_counter()
        frozen = [model.get_layer(name) for name in self.pretrained_layers_]
        for layer in frozen:
            layer.trainable = False
        _compile(model, settings, binary, len(self.classes_))
        train = self._batches(settings, augment, binary, x_train, y_train)
        model.fit(train, epochs=settings.head_epochs, verbose=0, shuffle=False)
        for layer in frozen:
            layer.trainable = True
        _compile(model, settings, binary, len(self.classes_))
        return time.perf_counter() - t0

    def _batches(self, settings, augment, binary, x_train, y_train):
        """The training batches: shuffled, augmented, class-balanced as the settings say."""
        from .data import ImageBatches

        return ImageBatches(
            x_train,
            y_train,
            batch_size=settings.batch_size,
            augment=augment,
            shuffle=True,
            balance=settings.balance,
            binary_targets=binary,
            one_hot=_one_hot(settings, len(self.classes_)),
            mixup=settings.mixup,
            epoch_size=settings.min_steps * settings.batch_size,
            seed=self.seed,
            workers=settings.workers,
        )

    def _train(self, model, settings, augment, work, binary, x_train, y_train, x_val, y_val):
        """``model.fit`` with the data feeding and callbacks; sets the history attributes."""
        from .data import ImageBatches
        from .training import make_callbacks, read_history

        has_val = x_val is not None
        history_csv = work / "history.csv"
        train = self._batches(settings, augment, binary, x_train, y_train)
        train.set_epoch(len(read_history(history_csv)))  # a resumed run continues the order
        val = (
            ImageBatches(
                x_val,
                y_val,
                batch_size=settings.predict_batch_size,
                binary_targets=binary,
                one_hot=_one_hot(settings, len(self.classes_)),
                workers=settings.workers,
            )
            if has_val
            else None
        )
        callbacks = make_callbacks(
            settings,
            work,
            has_val=has_val,
            progress=f"{self.name} seed {self.seed}" if self.progress else None,
        )
        t0 = time.perf_counter()
        model.fit(
            train,
            validation_data=val,
            epochs=settings.epochs,
            callbacks=callbacks,
            verbose=0,
            shuffle=False,
        )
        self.fit_s_ = time.perf_counter() - t0
        best = work / "best.weights.h5"
        if settings.restore_best and best.is_file():
            model.load_weights(str(best))
        self.history_ = read_history(history_csv)
        self.best_epoch_ = _best_epoch(self.history_, "val_loss" if has_val else "loss")
        # stopped by its clock, or still improving at its last epoch: the run could have
        # done better with more time (equal effort is then not given; tables say so)
        stopped = any(getattr(cb, "stopped", False) for cb in callbacks)
        last = (
            int(self.history_[-1].get("epoch", len(self.history_) - 1)) if self.history_ else None
        )
        self.budget_limited_ = bool(stopped or (last is not None and self.best_epoch_ == last))

    # ----------------------------------------------------------------- inference
    def predict_proba(self, x, *, batch_size: int | None = None, tta: bool | None = None):
        """Class probabilities (N, K); ``tta`` averages over the 8 D4 views (square images)."""
        from .data import ImageBatches

        shape = _check_images(x, f"{self.name}.predict_proba")
        if shape[1:] != self.input_shape_:
            msg = (
                f"{self.name}: the model was trained on {self.input_shape_} images, got {shape[1:]}"
            )
            raise ShapeMismatchError(msg)
        tta = self.settings_.tta if tta is None else tta
        square = shape[1] == shape[2]
        views = [0] if not tta else list(range(8)) if square else [0, 2, 4, 6]
        size = int(batch_size or self.settings_.predict_batch_size)
        proba = 0.0
        for k in views:
            batches = ImageBatches(
                x, batch_size=size, view=k, pad=True, workers=self.settings_.workers
            )
            if isinstance(x, np.ndarray):
                # batch by batch: Keras' predict on a PyDataset keeps every call's input
                # alive (memory grew by one input per call when scoring a stream of batches)
                out = np.concatenate(
                    [
                        np.asarray(self.model_.predict_on_batch(_inputs(batches[i])))
                        for i in range(len(batches))
                    ]
                    or [np.empty((0, self.model_.output_shape[-1]), np.float32)]
                ).astype(np.float64)
            else:  # lazy arrays: the loader threads read ahead while the model runs
                out = self.model_.predict(batches, verbose=0).astype(np.float64)
            proba = proba + out[: len(x)]
        proba = proba / len(views)
        if proba.shape[1] == 1:
            proba = np.hstack([1.0 - proba, proba])
        return proba

    def summary(self) -> dict:
        import dataclasses

        history = [{k: v for k, v in h.items() if k != "epoch_s"} for h in self.history_]
        return {
            "method_params": {**self.params_, **dataclasses.asdict(self.settings_)},
            "class_weight": self.class_weight,
            "tuning": [],
            "importances": None,
            "history": history,
            "best_epoch": self.best_epoch_,
            "budget_limited": self.budget_limited_,
            "n_parameters": int(self.model_.count_params()),
            "pretrained_layers": list(getattr(self, "pretrained_layers_", [])),
            "fit_shared": bool(getattr(self, "fit_shared_", False)),
            "threshold": self.threshold_,
            "timings": {"epoch_s": [h["epoch_s"] for h in self.history_ if "epoch_s" in h]},
        }

    def explain(self, x, y) -> dict:
        """Activation maps, first-layer filters and occlusion maps (:mod:`deep.explain`)."""
        from .explain import explain

        return explain(self, np.asarray(x), np.asarray(y))

    # ------------------------------------------------------------- persistence
    def save(self, folder) -> None:
        """``model.keras`` (normalisation inside) and ``method.json`` (settings, threshold)."""
        import dataclasses

        folder = Path(folder)
        with atomic_path(folder / "model.keras") as tmp:
            self.model_.save(str(tmp))
        meta = {
            "name": self.name,
            "params": self.params,  # json writes tuples as lists
            "settings": dataclasses.asdict(self.settings_),
            "seed": self.seed,
            "classes": self.classes_.tolist(),
            "threshold": float(self.threshold_),
            "input_shape": list(self.input_shape_),
            "best_epoch": self.best_epoch_,
            "budget_limited": self.budget_limited_,
            "class_weight": self.class_weight,
        }
        write_json(folder / "method.json", meta)

    @classmethod
    def load(cls, folder) -> DeepMethod:
        """A fitted method from :meth:`save`'s folder, ready to predict."""
        from benchmark.errors import MissingPathError

        from . import layers  # noqa: F401 - registers the custom layers
        from ._keras import import_keras
        from .training import TrainSettings

        keras = import_keras()
        folder = Path(folder)
        if not (folder / "model.keras").is_file() or not (folder / "method.json").is_file():
            msg = f"{folder}: no saved deep model (model.keras and method.json) here"
            raise MissingPathError(msg)
        meta = read_json(folder / "method.json", what="saved method description")
        method = cls(
            meta["name"],
            meta["params"],
            seed=meta["seed"],
            class_weight=meta.get("class_weight", "none"),
        )
        settings = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["settings"].items()}
        method.settings_ = TrainSettings(**settings)
        method.params_ = {}
        method.model_ = keras.models.load_model(str(folder / "model.keras"))
        method.classes_ = np.asarray(meta["classes"])
        method.set_threshold(meta["threshold"])
        method.input_shape_ = tuple(meta["input_shape"])
        method.best_epoch_ = meta.get("best_epoch")
        method.budget_limited_ = meta.get("budget_limited", False)
        method.history_ = []
        return method


def _one_hot(settings, n_classes: int) -> int:
    """Classes of the one-hot targets a multi-class softmax trains on with label smoothing
    or mixup (soft targets; Keras' sparse loss takes neither); 0 = integer labels."""
    soft = settings.label_smoothing or settings.mixup
    return int(n_classes) if soft and n_classes > 2 else 0


def _compile(model, settings, binary: bool, n_classes: int) -> None:
    """Compile ``model`` with a fresh optimiser, the settings' loss and its metric."""
    from ._keras import import_keras
    from .training import make_optimizer

    loss, metric = _loss(import_keras(), settings, binary, n_classes)
    model.compile(
        optimizer=make_optimizer(settings),
        loss=loss,
        metrics=[metric],
        jit_compile=settings.jit_compile,
    )


def _loss(keras, settings, binary: bool, n_classes: int):
    """The loss and accuracy metric of a model with a sigmoid (``binary``) or softmax
    output (cross-entropy, or with ``gce`` the generalised cross-entropy); mixup's soft
    targets count for the class that weighs most."""
    from .layers import GeneralizedCrossEntropy, soft_binary_accuracy

    smoothing = float(settings.label_smoothing)
    soft = bool(smoothing or settings.mixup)  # targets in [0, 1], one-hot for a softmax
    if binary:
        if settings.gce:
            loss = GeneralizedCrossEntropy(settings.gce, label_smoothing=smoothing)
        elif soft:
            loss = keras.losses.BinaryCrossentropy(label_smoothing=smoothing)
        else:
            loss = "binary_crossentropy"
        if soft:
            return loss, keras.metrics.MeanMetricWrapper(soft_binary_accuracy, name="accuracy")
        return loss, "accuracy"
    if settings.gce:
        loss = GeneralizedCrossEntropy(
            settings.gce,
            binary=False,
            n_classes=0 if soft else n_classes,
            label_smoothing=smoothing,
        )
    elif soft:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=smoothing)
    else:
        loss = "sparse_categorical_crossentropy"
    return loss, keras.metrics.CategoricalAccuracy(name="accuracy") if soft else "accuracy"


def _keras_reason(exc: Exception) -> str:
    """The informative line of a Keras layer error (without its colour codes and boilerplate)."""
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [
        ln
        for ln in lines
        if not ln.startswith(("Exception encountered", "Arguments received", "•"))
    ]
    return (useful or lines or [exc.__class__.__name__])[0]


def _deterministic_ops(keras) -> None:
    """Ask the backend for deterministic kernels (optional path: imports the backend itself).

    TensorFlow: ``enable_op_determinism``; PyTorch: ``use_deterministic_algorithms``;
    JAX on a CPU is deterministic already.  Recorded as the ``deterministic`` setting.
    """
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # optional path: the backend's own switch

        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)


def _has_gpu(keras) -> bool:
    backend = keras.config.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf  # optional path: only to ask for a GPU

            return bool(tf.config.list_physical_devices("GPU"))
        if backend == "torch":
            import torch

            return torch.cuda.is_available()
        if backend == "jax":
            import jax

            return any(d.platform == "gpu" for d in jax.devices())
    except ImportError:  # pragma: no cover
        return False
    return False


def _best_epoch(history: list[dict], key: str):
    values = [(h[key], int(h.get("epoch", i))) for i, h in enumerate(history) if key in h]
    return min(values)[1] if values else None
