"""Feature set ``pca+handcrafted``: eigen-image coefficients beside measured properties.

du Buisson et al. (2015) gave their classifiers both kinds at once.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .handcrafted import HandcraftedFeatures
from .pca import PCAFeatures

__all__ = ["PCAHandcrafted"]


class PCAHandcrafted(TransformerMixin, BaseEstimator):
    """Concatenation of :class:`PCAFeatures` and :class:`HandcraftedFeatures`.

    Parameters are those of the two parts (``n_components``, ``whiten``,
    ``channel_names``, ``threshold``, ...); see them for details.
    """

    def __init__(
        self,
        n_components=20,
        whiten: bool = False,
        random_state: int = 0,
        channel_names=None,
        threshold: float = 3.0,
        search_radius: float = 6.0,
        n_jobs: int = 1,
        progress: bool = False,
    ):
        self.n_components = n_components
        self.whiten = whiten
        self.random_state = random_state
        self.channel_names = channel_names
        self.threshold = threshold
        self.search_radius = search_radius
        self.n_jobs = n_jobs
        self.progress = progress

    def _parts(self):
        pca = PCAFeatures(
            n_components=self.n_components, whiten=self.whiten, random_state=self.random_state
        )
        handcrafted = HandcraftedFeatures(
            channel_names=self.channel_names,
            threshold=self.threshold,
            search_radius=self.search_radius,
            n_jobs=self.n_jobs,
            progress=self.progress,
        )
        return pca, handcrafted

    def validate(self, image_shape, n_samples: int) -> None:
        """Check both parts' parameters, before fitting."""
        for part in self._parts():
            part.validate(image_shape, n_samples)

    def fit(self, X, y=None):
        pca, handcrafted = self._parts()
        self.pca_ = pca.fit(X)
        self.handcrafted_ = handcrafted.fit(X)
        return self

    def transform(self, X):
        return np.concatenate([self.pca_.transform(X), self.handcrafted_.transform(X)], axis=1)

    def get_feature_names_out(self, input_features=None):
        return np.concatenate(
            [self.pca_.get_feature_names_out(), self.handcrafted_.get_feature_names_out()]
        )
