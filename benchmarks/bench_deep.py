"""Deep-model throughput: training images/s and inference stamps/s (figures, no assertions).

``python benchmarks/bench_deep.py [--n 4096] [--epochs 3] [--models negm2021 braai-vgg6]``

For each model it times a bare Keras ``fit`` / ``predict`` on an in-memory array (the
reference) and the harness's :class:`deep.method.DeepMethod` (PyDataset feeding,
shuffling, augmentation, callbacks) on the same simulated 69x69x3 stamps, from the
in-memory array and from the lazy HDF5 store.  The first epoch (graph tracing) is
left out of the rates.  Runs under any Keras backend (``KERAS_BACKEND``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def steady_rate(epoch_s, n):
    """Images per second over the epochs after the first."""
    later = epoch_s[1:] if len(epoch_s) > 1 else epoch_s
    return n / float(np.median(later))


class Timer:
    def __init__(self, keras):
        class _Cb(keras.callbacks.Callback):
            def on_train_begin(cb, logs=None):
                cb.epoch_s = []

            def on_epoch_begin(cb, epoch, logs=None):
                cb.t0 = time.perf_counter()

            def on_epoch_end(cb, epoch, logs=None):
                cb.epoch_s.append(time.perf_counter() - cb.t0)

        self.callback = _Cb()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="training stamps")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["negm2021", "braai-vgg6"])
    parser.add_argument(
        "--mixed-precision", action="store_true", help="the mixed_precision training setting"
    )
    parser.add_argument(
        "--jit-compile",
        choices=["auto", "true", "false"],
        default="auto",
        help="the jit_compile training setting (XLA; torch.compile under PyTorch)",
    )
    args = parser.parse_args(argv)
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    extra = {"mixed_precision": args.mixed_precision, "jit_compile": jit}

    import keras

    import deep
    from benchmark import datasets
    from benchmark.datasets.store import read_store, write_store
    from deep.data import channel_stats
    from deep.method import DeepMethod

    data = datasets.load("sim-sdss-sn", scheme="binary", n=args.n, seed=0, progress=False)
    x = np.asarray(data.images, np.float32)
    y = data.labels.astype(np.int64)
    store = Path(tempfile.mkdtemp()) / "stamps.h5"
    write_store(data, store)
    lazy = read_store(store, lazy=True).images
    print(
        f"backend {keras.config.backend()}, {os.cpu_count()} cores, {len(x)} stamps "
        f"{x.shape[1:]}; DeepMethod with mixed_precision={args.mixed_precision}, jit_compile={jit}"
    )
    print(f"{'model':<12s} {'path':<44s} {'train img/s':>12s} {'infer img/s':>12s}")
    for name in args.models:
        settings, _ = DeepMethod(name).settings()
        batch = settings.batch_size
        # bare Keras on an in-memory array
        keras.utils.set_random_seed(0)
        mean, var = channel_stats(x)
        model = deep.build(name, x.shape[1:], 2, mean=mean.tolist(), variance=var.tolist())
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        timer = Timer(keras)
        model.fit(
            x,
            y[:, None].astype("float32"),
            batch_size=batch,
            epochs=args.epochs,
            verbose=0,
            callbacks=[timer.callback],
        )
        model.predict(x[:1024], batch_size=512, verbose=0)
        t0 = time.perf_counter()
        model.predict(x, batch_size=512, verbose=0)
        bare_infer = len(x) / (time.perf_counter() - t0)
        bare_train = steady_rate(timer.callback.epoch_s, len(x))
        print(
            f"{name:<12s} {'bare keras fit/predict (numpy array)':<44s} "
            f"{bare_train:12.0f} {bare_infer:12.0f}"
        )
        # the harness: as configured (its augmentation), then without augmentation
        for label, images, params in [
            (f"DeepMethod, augment={list(settings.augment)}", x, {}),
            ("DeepMethod, no augmentation", x, {"augment": []}),
            ("DeepMethod, lazy HDF5 store", lazy, {}),
        ]:
            method = DeepMethod(
                name, {"epochs": args.epochs, "patience": 0, **extra, **params}, seed=0
            )
            method.fit(images, y)
            train = steady_rate([h["epoch_s"] for h in method.history_], len(x))
            method.predict_proba(images[:1024] if isinstance(images, np.ndarray) else x[:1024])
            t0 = time.perf_counter()
            method.predict_proba(images)
            infer = len(x) / (time.perf_counter() - t0)
            print(
                f"{name:<12s} {label:<44s} {train:12.0f} {infer:12.0f}"
                f"   ({train / bare_train:.0%} / {infer / bare_infer:.0%} of bare)"
            )


if __name__ == "__main__":
    main()
