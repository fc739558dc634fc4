"""Feature set ``pca``: PCA eigen-image coefficients (du Buisson et al. 2015; seed 004).

Fitted on the training images only (the runner passes the training part to
``fit``).  The number of components is fixed (``n_components=20``, seed 004's
choice from its scree plot) or chosen by explained variance
(``n_components=0.95``).  Data that do not fit in memory (more than
``max_memory_mb`` of pixels) are fitted with incremental PCA in batches.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from benchmark.errors import ConfigError

from ._base import batches, check_images

__all__ = ["PCAFeatures"]


class PCAFeatures(TransformerMixin, BaseEstimator):
    """PCA of flattened pixels.

    Parameters
    ----------
    n_components : int or float
        Number of components, or the fraction of variance to explain (0 < f < 1).
    whiten : bool
        Scale the coefficients to unit variance.
    random_state : int
        Seed of the randomised SVD.
    max_memory_mb : float
        Above this many MB of pixels the fit is incremental (in batches).
    batch_size : int
    """

    def __init__(
        self,
        n_components=20,
        whiten: bool = False,
        random_state: int = 0,
        max_memory_mb: float = 2048,
        batch_size: int = 2048,
    ):
        self.n_components = n_components
        self.whiten = whiten
        self.random_state = random_state
        self.max_memory_mb = max_memory_mb
        self.batch_size = batch_size

    def _check_components(self, n, d):
        k = self.n_components
        if isinstance(k, float) and not isinstance(k, bool) and 0 < k < 1:
            return k
        if isinstance(k, int | np.integer) and not isinstance(k, bool) and 1 <= k <= min(n, d):
            return int(k)
        msg = (
            f"feature set 'pca': n_components must be an integer in 1..{min(n, d)} (training "
            f"samples, pixels) or a variance fraction in (0, 1), got {k!r}; set it in the "
            f"experiment file ([features] pca = {{ n_components = ... }}) or leave PCA out "
            f"(--features handcrafted)"
        )
        raise ConfigError(msg)

    def validate(self, image_shape, n_samples: int) -> None:
        """Check the parameters for ``n_samples`` images of ``image_shape``, before fitting."""
        self._check_components(n_samples, int(np.prod(image_shape)))
        for key in ("batch_size", "max_memory_mb"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                msg = f"feature set 'pca': {key} must be a positive number, got {value!r}"
                raise ConfigError(msg)

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA, IncrementalPCA

        n, h, w, c = check_images(X)
        d = h * w * c
        k = self._check_components(n, d)
        self.image_shape_ = (h, w, c)
        if n * d * 4 / 1e6 <= self.max_memory_mb:
            flat = np.concatenate([b.reshape(len(b), -1) for _, b in batches(X, self.batch_size)])
            solver = "randomized" if isinstance(k, int) and k < 0.8 * min(n, d) else "full"
            self.pca_ = PCA(
                n_components=k,
                whiten=self.whiten,
                svd_solver=solver,
                random_state=self.random_state,
            ).fit(flat)
        else:
            if not isinstance(k, int):
                msg = "a variance fraction needs an in-memory fit; give an integer n_components"
                raise ValueError(msg)
            self.pca_ = IncrementalPCA(n_components=k, whiten=self.whiten)
            held = None  # one batch behind, so a last batch smaller than k joins it
            for _, b in batches(X, max(self.batch_size, k)):
                b = b.reshape(len(b), -1)
                if held is not None and len(b) < k:
                    held = np.concatenate([held, b])
                    continue
                if held is not None:
                    self.pca_.partial_fit(held)
                held = b
            self.pca_.partial_fit(held)
        self.n_components_ = int(self.pca_.n_components_)
        self.explained_variance_ratio_ = self.pca_.explained_variance_ratio_.astype(np.float32)
        return self

    @property
    def eigen_images_(self) -> np.ndarray:
        """The principal components as images, shape (n_components, H, W, C)."""
        return self.pca_.components_.reshape(-1, *self.image_shape_).astype(np.float32)

    @property
    def mean_image_(self) -> np.ndarray:
        return self.pca_.mean_.reshape(self.image_shape_).astype(np.float32)

    def transform(self, X):
        check_images(X, fitted_shape=self.image_shape_)
        out = np.empty((len(X), self.n_components_), np.float32)
        for start, b in batches(X, self.batch_size):
            out[start : start + len(b)] = self.pca_.transform(b.reshape(len(b), -1))
        return out

    def get_feature_names_out(self, input_features=None):
        return np.array([f"pca_{i}" for i in range(self.n_components_)])
