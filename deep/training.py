"""Training settings per model, optimisers, learning-rate schedules and callbacks.

A model's parameters in an experiment mix architecture hyperparameters (passed to
its builder) and the training settings of :class:`TrainSettings`; :func:`split_params`
separates and validates them.  Each model's defaults follow its write-up and are part
of its registration (``train_defaults`` in :mod:`deep`).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

from benchmark.errors import ConfigError

from ._keras import import_keras
from .augment import AUGMENTATIONS

keras = import_keras()

__all__ = ["TrainSettings", "make_callbacks", "make_optimizer", "split_params"]

OPTIMIZERS = ("adam", "rmsprop", "sgd")
SCHEDULES = ("none", "step", "plateau", "cosine")


@dataclass(frozen=True)
class TrainSettings:
    """How a deep model is trained and applied.

    Parameters
    ----------
    epochs : int
        Largest number of epochs.
    batch_size : int
    optimizer : {"adam", "rmsprop", "sgd"}
    learning_rate : float
    momentum : float
        SGD momentum.
    schedule : {"none", "step", "plateau", "cosine"}
        Learning-rate schedule: ``step`` multiplies by ``step_gamma`` every
        ``step_every`` epochs; ``plateau`` divides by 10 after ``plateau_patience``
        epochs without a better validation loss; ``cosine`` anneals to 0 over ``epochs``.
    step_every, step_gamma, plateau_patience
    patience : int
        Early stopping: epochs without a better validation loss (0 = train every epoch).
    min_steps : int
        Fewest optimiser steps in an epoch: a training part of fewer than ``min_steps *
        batch_size`` images is drawn to that many each epoch (reshuffled, or class-balanced,
        and augmented), so that ``patience`` and the schedules span enough training on
        small sets. At 140 images and batch 64 an epoch was 3 steps, and early stopping
        ended fine-tuning after 30 steps, before the CNN had learnt anything.
    restore_best : bool
        End with the weights of the epoch with the best validation loss.
    augment : list of str
        Training augmentations (``deep.augment.AUGMENTATIONS``).
    translate : int
        Largest shift in pixels for ``translate``.
    crop_scale : list of float
        Side range of ``resized-crop``.
    noise : float
        Standard deviation of the ``noise`` augmentation in units of the data's.
    balance : bool
        Class-balanced over-sampling (with augmentation) in each epoch.
    label_smoothing : float
        Cross-entropy against targets moved this far towards the uniform distribution
        (``y (1 - e) + e / K``; Szegedy et al. 2016), which keeps a model from growing
        over-confident on mislabelled training images; 0 = off.  The validation loss
        (early stopping, the kept epoch) is smoothed the same way.
    gce : float
        Generalised cross-entropy's ``q`` (Zhang & Sabuncu 2018): the loss
        ``(1 - p_y**q) / q`` instead of cross-entropy (its ``q -> 0`` limit), so that
        training images whose label the model finds implausible pull less (their
        gradient is cross-entropy's times ``p_y**q``); 0.7 is the paper's; 0 = off. The
        validation loss (early stopping, the kept epoch) is the same loss.
    ema : float
        Polyak averaging: the momentum of an exponential moving average of the weights,
        updated every optimiser step (e.g. 0.99, about the last 100 steps; 0 = off). The
        average is what is validated, kept as the best epoch and applied; the raw weights
        go on training. It smooths the step-to-step noise of SGD on small, noisily
        labelled sets (Polyak & Juditsky 1992; Izmailov et al. 2018).
    mixup : float
        Mixup's ``alpha``: training images and their targets mixed in pairs with weights
        drawn from ``Beta(alpha, alpha)`` (Zhang et al. 2018; 0.2-0.4 usual); 0 = off.
    head_epochs : int
        With ``pretrain``: first train only the layers the pretrained model did not give
        (the head) for this many epochs, the copied layers frozen, then everything
        (linear probing, then fine-tuning: Kumar et al. 2022), so that the gradients of a
        random head do not distort the pretrained features; 0 = off.
    tta : bool
        Test-time augmentation: average the predictions over the 8 D4 views.
    predict_batch_size : int
    workers : int
        Data-loading threads.
    mixed_precision : bool
        ``mixed_float16`` (or ``mixed_bfloat16`` on CPU) compute; off by default.
    time_budget : float
        Stop after the epoch that passes this many seconds (0 = no limit); a run that
        stops so is recorded as budget-limited.
    deterministic : bool
        Ask the backend for deterministic kernels, so a CPU run repeats exactly.
    jit_compile : {"auto", True, False}
        XLA compilation (TensorFlow, JAX; ``torch.compile`` under PyTorch), as Keras'
        ``Model.compile`` takes it: ``"auto"`` compiles where the model supports it.
    pretrain : str
        A simulation (``sim-galaxy10``, ``sim-sdss-sn``) to pretrain the architecture on
        before training on the data (see :mod:`deep.pretrain`), or ``"self"``:
        self-supervised (SimCLR) on the training images (see :mod:`deep.ssl`); "" = from
        scratch.
    pretrain_params : dict
        The simulation's parameters, plus ``scheme``, ``epochs`` and ``seed``; for
        ``"self"``, :data:`deep.ssl.DEFAULTS`.
    """

    epochs: int = 20
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    schedule: str = "none"
    step_every: int = 5
    step_gamma: float = 0.1
    plateau_patience: int = 3
    patience: int = 0
    min_steps: int = 10
    restore_best: bool = True
    augment: tuple = ()
    translate: int = 4
    crop_scale: tuple = (0.8, 1.0)
    noise: float = 0.2
    balance: bool = False
    label_smoothing: float = 0.0
    gce: float = 0.0
    ema: float = 0.0
    mixup: float = 0.0
    head_epochs: int = 0
    tta: bool = False
    predict_batch_size: int = 512
    workers: int = 2
    mixed_precision: bool = False
    time_budget: float = 0.0
    deterministic: bool = True
    jit_compile: bool | str = "auto"
    pretrain: str = ""
    pretrain_params: dict = dataclasses.field(default_factory=dict)

    def validate(self, name: str, where: str | None = None) -> TrainSettings:
        """Check every setting; errors begin with ``where`` (default: the model's name)."""
        where = where or f"deep model {name!r}"
        positive = ("epochs", "batch_size", "predict_batch_size", "step_every", "workers")
        for key in (*positive, "min_steps"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"{where}: {key} must be a positive integer, got {value!r}"
                raise ConfigError(msg)
        head = self.head_epochs
        if isinstance(head, bool) or not isinstance(head, int) or head < 0:
            msg = f"{where}: head_epochs must be a non-negative integer, got {head!r}"
            raise ConfigError(msg)
        for key in ("learning_rate", "momentum", "step_gamma", "noise", "time_budget", "mixup"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                msg = f"{where}: {key} must be a non-negative number, got {value!r}"
                raise ConfigError(msg)
        for key in ("label_smoothing", "gce", "ema"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
                msg = f"{where}: {key} must be a number in [0, 1), got {value!r}"
                raise ConfigError(msg)
        swap = getattr(keras.callbacks, "SwapEMAWeights", None)
        if self.ema and not hasattr(swap, "_finalize_ema_values"):
            msg = f"{where}: ema needs a newer Keras than {keras.__version__}: pip install -U keras"
            raise ConfigError(msg)
        if self.optimizer not in OPTIMIZERS:
            msg = f"{where}: unknown optimizer {self.optimizer!r}; valid: {', '.join(OPTIMIZERS)}"
            raise ConfigError(msg)
        if self.schedule not in SCHEDULES:
            msg = f"{where}: unknown schedule {self.schedule!r}; valid: {', '.join(SCHEDULES)}"
            raise ConfigError(msg)
        bad = [a for a in self.augment if a not in AUGMENTATIONS]
        if bad:
            msg = f"{where}: unknown augmentation {bad[0]!r}; valid: {', '.join(AUGMENTATIONS)}"
            raise ConfigError(msg)
        if self.jit_compile not in ("auto", True, False):
            msg = f'{where}: jit_compile must be true, false or "auto", got {self.jit_compile!r}'
            raise ConfigError(msg)
        if not isinstance(self.pretrain, str) or not isinstance(self.pretrain_params, dict):
            msg = f"{where}: pretrain must be a simulation name and pretrain_params a table"
            raise ConfigError(msg)
        from .pretrain import check

        check(self, where)
        return self


SETTINGS_KEYS = tuple(f.name for f in dataclasses.fields(TrainSettings))


def as_settings(values: dict) -> dict:
    """Training settings as an experiment file gives them, in TrainSettings' types: lists
    become tuples, one augmentation name a tuple of one."""
    out = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    if isinstance(out.get("augment"), str):
        out["augment"] = (out["augment"],)
    return out


def split_params(name: str, params: dict, builder_params) -> tuple[TrainSettings, dict]:
    """Split an experiment's parameters into training settings and builder hyperparameters.

    Raises
    ------
    ConfigError
        For a key that is neither (the message lists both kinds).
    """
    from benchmark.methods import spec

    settings, hparams = dict(spec(name).get("train_defaults", {})), {}
    for key, value in params.items():
        if key in SETTINGS_KEYS:
            settings[key] = value
        elif key in builder_params:
            hparams[key] = value
        else:
            msg = (
                f"unknown parameter {key!r} for deep model {name!r}; training settings: "
                f"{', '.join(SETTINGS_KEYS)}; architecture: {', '.join(builder_params) or '-'}"
            )
            raise ConfigError(msg)
    return TrainSettings(**as_settings(settings)).validate(name), hparams


def make_optimizer(s: TrainSettings):
    """The optimiser of ``s`` (its learning rate is a variable the schedules can set;
    with ``ema`` it keeps the moving average of the weights)."""
    ema = {"use_ema": True, "ema_momentum": float(s.ema)} if s.ema else {}
    if s.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=s.learning_rate, momentum=s.momentum, **ema)
    if s.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=s.learning_rate, **ema)
    return keras.optimizers.Adam(learning_rate=s.learning_rate, **ema)


def lr_at(s: TrainSettings, epoch: int) -> float:
    """Learning rate of the epoch-wise schedules (``step``, ``cosine``) at ``epoch``."""
    if s.schedule == "step":
        return s.learning_rate * s.step_gamma ** (epoch // s.step_every)
    if s.schedule == "cosine":
        return 0.5 * s.learning_rate * (1 + math.cos(math.pi * epoch / s.epochs))
    return s.learning_rate


class TimeBudget(keras.callbacks.Callback):
    """Stop training after the epoch that passes ``seconds``."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = float(seconds)

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.stopped = False

    def on_epoch_end(self, epoch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True
            self.stopped = True


class KeepEMA(keras.callbacks.Callback):
    """Last callback of a fit with ``ema``: where training stops with the average in the
    model (early stopping, the time budget), keep it there. ``SwapEMAWeights`` does so only
    after the last epoch, and ``fit`` would otherwise put the raw weights back (this uses
    the callback's own state and finalising step; ``validate`` checks that Keras has them)."""

    def __init__(self, swap):
        super().__init__()
        self.swap = swap

    def on_epoch_end(self, epoch, logs=None):
        if self.model.stop_training and self.swap._ema_weights_in_model:
            self.swap._finalize_ema_values()


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_s`` (wall seconds of the epoch, validation included) to the logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_s"] = time.perf_counter() - self.start


class HistoryCSV(keras.callbacks.Callback):
    """Appends each epoch's logs to a CSV file, opened and closed per epoch, so an
    interrupted run leaves a complete file (and no open handle) behind."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
        header = None
        if self.path.is_file():
            with self.path.open() as fh:
                header = next(csv.reader(fh), None)
        with self.path.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header or list(row), extrasaction="ignore")
            if header is None:
                writer.writeheader()
            writer.writerow(row)


class EpochProgress(keras.callbacks.Callback):
    """A tqdm bar over epochs showing the losses."""

    def __init__(self, total: int, desc: str):
        super().__init__()
        self.total, self.desc = total, desc

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.total, desc=self.desc, unit="epoch", leave=False)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.bar.update(1)
        self.bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items() if "loss" in k})

    def on_train_end(self, logs=None):
        self.bar.close()


def read_history(path: Path) -> list[dict]:
    """The epochs :class:`HistoryCSV` wrote (none if the file does not exist)."""
    if not Path(path).is_file():
        return []
    with Path(path).open() as fh:
        return [
            {k: float(v) for k, v in row.items() if v not in ("", "NA", None)}
            for row in csv.DictReader(fh)
        ]


def best_val_loss(history_csv: Path) -> float | None:
    """Lowest ``val_loss`` in a CSV history written by an interrupted run, if any."""
    values = [h["val_loss"] for h in read_history(history_csv) if "val_loss" in h]
    return min(values) if values else None


def make_callbacks(s: TrainSettings, work: Path, *, has_val: bool, progress: str | None):
    """Callbacks: history CSV, resumable backup, best checkpoint, early stopping, schedule."""
    history = work / "history.csv"
    cbs = [
        EpochTimer(),
        HistoryCSV(history),
        keras.callbacks.BackupAndRestore(str(work / "backup")),
    ]
    monitor = "val_loss" if has_val else "loss"
    swap = None
    if s.ema:  # validate and checkpoint the average: before the checkpoint and stopping
        swap = keras.callbacks.SwapEMAWeights(swap_on_epoch=True)
        cbs.append(swap)
    if s.restore_best:
        cbs.append(
            keras.callbacks.ModelCheckpoint(
                str(work / "best.weights.h5"),
                monitor=monitor,
                save_best_only=True,
                save_weights_only=True,
                initial_value_threshold=best_val_loss(history) if has_val else None,
            )
        )
    if s.patience:
        cbs.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=s.patience))
    if s.schedule in ("step", "cosine"):
        cbs.append(keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr_at(s, epoch)))
    elif s.schedule == "plateau":
        cbs.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, factor=0.1, patience=s.plateau_patience
            )
        )
    if s.time_budget:
        cbs.append(TimeBudget(s.time_budget))
    if progress:
        cbs.append(EpochProgress(s.epochs, progress))
    if swap is not None:
        cbs.append(KeepEMA(swap))
    return cbs
