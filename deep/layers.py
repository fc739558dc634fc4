"""Custom Keras layers: maxout dense units and the fixed dihedral (D4) transforms; and
the accuracy of a sigmoid output on soft (mixup) targets.

Backend-agnostic (``keras.ops`` only); each round-trips through ``get_config`` and is
registered for ``.keras`` files under the package name ``astrobench``.
"""

from __future__ import annotations

from ._keras import import_keras

keras = import_keras()
ops = keras.ops

__all__ = ["D4Transform", "Maxout", "soft_binary_accuracy"]


@keras.saving.register_keras_serializable(package="astrobench")
class Maxout(keras.layers.Layer):
    """Maxout dense layer (Goodfellow et al. 2013): the max over ``pieces`` linear units.

    Parameters
    ----------
    units : int
        Output width.
    pieces : int
        Linear pieces per output unit (Keras 1's ``MaxoutDense`` used 4).
    """

    def __init__(self, units: int, pieces: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.pieces = int(pieces)
        self.dense = keras.layers.Dense(self.units * self.pieces, name="linear")

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, x):
        z = self.dense(x)
        z = ops.reshape(z, (-1, self.units, self.pieces))
        return ops.max(z, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "pieces": self.pieces}


@keras.saving.register_keras_serializable(package="astrobench")
class D4Transform(keras.layers.Layer):
    """One fixed element of the dihedral group D4 applied to square NHWC images.

    ``k`` in 0..7: rotation by ``(k % 4) * 90`` degrees, preceded by a left-right
    flip when ``k >= 4``.  Element 0 is the identity.
    """

    def __init__(self, k: int, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= int(k) < 8:
            msg = f"D4Transform: k must be in 0..7, got {k!r}"
            raise ValueError(msg)
        self.k = int(k)

    def call(self, x):
        if self.k >= 4:
            x = ops.flip(x, axis=2)
        for _ in range(self.k % 4):  # rot90 counter-clockwise: transpose then flip rows
            x = ops.flip(ops.transpose(x, (0, 2, 1, 3)), axis=1)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "k": self.k}


@keras.saving.register_keras_serializable(package="astrobench")
def soft_binary_accuracy(y_true, y_pred):
    """Accuracy of a sigmoid output against targets in [0, 1] (mixup's, label-smoothed):
    a target counts for the class it leans to."""
    return ops.cast(ops.equal(y_true > 0.5, y_pred > 0.5), "float32")


@keras.saving.register_keras_serializable(package="astrobench")
class GeneralizedCrossEntropy(keras.losses.Loss):
    """Generalised cross-entropy ``sum_k t_k (1 - p_k**q) / q`` (Zhang & Sabuncu 2018).

    Between cross-entropy (``q -> 0``) and the mean absolute error (``q = 1``), which a
    mislabelled image pulls on less: its gradient is cross-entropy's weighted by
    ``p_y**q``, so training images the model finds implausible weigh less. ``binary``:
    a sigmoid output against 0/1 (or soft) targets; otherwise a softmax against integer
    labels (``n_classes`` wide) or one-hot (soft) targets. ``label_smoothing`` moves the
    targets towards uniform as Keras' cross-entropies do.
    """

    def __init__(
        self,
        q: float = 0.7,
        binary: bool = True,
        n_classes: int = 0,
        label_smoothing: float = 0.0,
        **kwargs,
    ):
        kwargs.setdefault("name", "generalized_cross_entropy")
        super().__init__(**kwargs)
        self.q, self.binary, self.n_classes = float(q), bool(binary), int(n_classes)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        ops = keras.ops
        eps = keras.config.epsilon()
        p = ops.clip(ops.cast(y_pred, "float32"), eps, 1.0 - eps)
        if self.binary:
            t = ops.reshape(ops.cast(y_true, "float32"), ops.shape(p))
            p, t = ops.concatenate([1.0 - p, p], axis=-1), ops.concatenate([1.0 - t, t], axis=-1)
        elif self.n_classes:  # integer labels
            t = ops.one_hot(ops.reshape(ops.cast(y_true, "int32"), (-1,)), self.n_classes)
        else:
            t = ops.cast(y_true, "float32")
        if self.label_smoothing:
            t = t * (1.0 - self.label_smoothing) + self.label_smoothing / ops.shape(t)[-1]
        return ops.sum(t * (1.0 - ops.power(p, self.q)), axis=-1) / self.q

    def get_config(self):
        return {
            **super().get_config(),
            "q": self.q,
            "binary": self.binary,
            "n_classes": self.n_classes,
            "label_smoothing": self.label_smoothing,
        }
