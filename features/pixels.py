"""Feature set ``pixels``: flattened, optionally block-averaged pixels."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from benchmark.errors import ConfigError

from ._base import batches, check_images

__all__ = ["PixelFeatures"]


class PixelFeatures(TransformerMixin, BaseEstimator):
    """Flattened pixels, block-averaged by ``downsample`` (seed 003's MLP and tree inputs).

    Parameters
    ----------
    downsample : int
        Average ``downsample x downsample`` pixel blocks first (edges that do
        not fill a block are dropped).
    batch_size : int
        Images read at a time (lazy datasets are streamed).
    """

    #: ``fit`` only records shapes and names: nothing is learnt from the training images.
    learns_from_data = False

    def __init__(self, downsample: int = 1, batch_size: int = 1024):
        self.downsample = downsample
        self.batch_size = batch_size

    def validate(self, image_shape, n_samples: int) -> None:
        """Check the parameters for images of ``image_shape`` (H, W, C), before fitting."""
        d = self.downsample
        h, w = image_shape[:2]
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or not 1 <= d <= min(h, w):
            msg = (
                f"feature set 'pixels': downsample must be an integer in 1..{min(h, w)} "
                f"(the image side), got {d!r}"
            )
            raise ConfigError(msg)

    def fit(self, X, y=None):
        n, h, w, c = check_images(X)
        self.validate((h, w, c), n)
        d = int(self.downsample)
        self.image_shape_ = (h, w, c)
        self.out_shape_ = (h // d, w // d, c)
        self.n_features_out_ = int(np.prod(self.out_shape_))
        return self

    def _reduce(self, batch):
        d = int(self.downsample)
        if d == 1:
            return batch.reshape(len(batch), -1)
        h, w, c = self.out_shape_
        blocks = batch[:, : h * d, : w * d].reshape(len(batch), h, d, w, d, c)
        return blocks.mean(axis=(2, 4)).reshape(len(batch), -1)

    def transform(self, X):
        check_images(X, fitted_shape=self.image_shape_)
        out = np.empty((len(X), self.n_features_out_), np.float32)
        for start, batch in batches(X, self.batch_size):
            out[start : start + len(batch)] = self._reduce(batch)
        return out

    def get_feature_names_out(self, input_features=None):
        h, w, c = self.out_shape_
        return np.array([f"pix_{y}_{x}_{k}" for y in range(h) for x in range(w) for k in range(c)])
