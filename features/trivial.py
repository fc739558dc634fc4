"""Feature set ``trivial``: image statistics that carry no morphology (the shortcut detector).

Per channel: mean, standard deviation, minimum, maximum, median, total flux, the
mean and standard deviation of the border (the outermost ``border`` pixels) and
the centre value (mean of the central 3x3 pixels).  A classifier that separates
the classes on these alone has found a shortcut (brightness, noise level,
borders) rather than the shapes the benchmark is about: the runner trains
logistic regression on them in every experiment and warns when it comes close to
the best method.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from benchmark.errors import ConfigError

from ._base import batches, check_images, finite

__all__ = ["STATISTICS", "TrivialFeatures"]

STATISTICS = (
    "mean",
    "std",
    "min",
    "max",
    "median",
    "total_flux",
    "border_mean",
    "border_std",
    "centre",
)


class TrivialFeatures(TransformerMixin, BaseEstimator):
    """Nine image statistics per channel (see the module docstring); nothing is fitted.

    Parameters
    ----------
    border : int, optional
        Width of the border frame in pixels (default: 4, or a quarter of the image
        side for images smaller than 16 pixels).
    channel_names : sequence of str, optional
        Names used in the feature names (default: channel indices).
    batch_size : int
        Images read at a time (lazy datasets are streamed).
    """

    #: ``fit`` only records shapes and names: nothing is learnt from the training images.
    learns_from_data = False

    def __init__(self, border: int | None = None, channel_names=None, batch_size: int = 1024):
        self.border = border
        self.channel_names = channel_names
        self.batch_size = batch_size

    def validate(self, image_shape, n_samples: int) -> None:
        """Check the parameters for images of ``image_shape`` (H, W, C), before fitting."""
        h, w, c = image_shape
        b = self._border(h, w)
        if isinstance(b, bool) or not isinstance(b, int | np.integer) or not 1 <= b < min(h, w) / 2:
            msg = (
                f"feature set 'trivial': border must be an integer in 1..{(min(h, w) - 1) // 2} "
                f"for {h}x{w} images, got {b!r}"
            )
            raise ConfigError(msg)
        if self.channel_names is not None and len(self.channel_names) != c:
            msg = f"feature set 'trivial': channel_names has {len(self.channel_names)} names for {c} channels"  # noqa: E501
            raise ConfigError(msg)

    def _border(self, h: int, w: int):
        return max(1, min(4, min(h, w) // 4)) if self.border is None else self.border

    def fit(self, X, y=None):
        n, h, w, c = check_images(X)
        self.validate((h, w, c), n)
        self.image_shape_ = (h, w, c)
        self.channels_ = tuple(self.channel_names or [str(i) for i in range(c)])
        return self

    def _batch(self, x: np.ndarray) -> np.ndarray:
        n, h, w, _ = x.shape
        b = int(self._border(h, w))
        frame = np.ones((h, w), bool)
        frame[b:-b, b:-b] = False
        cy, cx = h // 2, w // 2
        flat = x.reshape(n, h * w, -1)
        edge = x[:, frame, :]
        stats = [
            flat.mean(axis=1),
            flat.std(axis=1),
            flat.min(axis=1),
            flat.max(axis=1),
            np.median(flat, axis=1),
            flat.sum(axis=1),
            edge.mean(axis=1),
            edge.std(axis=1),
            x[:, cy - 1 : cy + 2, cx - 1 : cx + 2, :].mean(axis=(1, 2)),
        ]
        # (n, statistic, channel) -> columns grouped by channel, as the names are
        return np.stack(stats, axis=1).transpose(0, 2, 1).reshape(n, -1)

    def transform(self, X):
        check_images(X, fitted_shape=self.image_shape_)
        out = np.empty((len(X), len(STATISTICS) * self.image_shape_[2]), np.float32)
        for start, batch in batches(X, int(self.batch_size)):
            out[start : start + len(batch)] = finite(self._batch(batch))
        return out

    def get_feature_names_out(self, input_features=None):
        return np.array([f"{s}_{ch}" for ch in self.channels_ for s in STATISTICS])
