"""Feature extractors with the scikit-learn transformer contract (pixels, PCA, hand-crafted).

``features.get(name, **params)`` returns a new extractor; ``features.available()``
lists names; :func:`extract` fits one on a split's training part and returns the
feature matrices of every part, cached on disk.
"""

from __future__ import annotations

import logging

from benchmark._registry import Registry
from benchmark.errors import ConfigError

__all__ = ["FEATURES", "available", "extract", "get", "learns_from_data", "validate"]

log = logging.getLogger(__name__)

#: Feature sets by name; entries are ``"module:class"`` imported on first use.
FEATURES = Registry("feature set")
FEATURES.add("pixels", "features.pixels:PixelFeatures", help="flattened (block-averaged) pixels")
FEATURES.add("pca", "features.pca:PCAFeatures", help="PCA eigen-image coefficients (20 by default)")
FEATURES.add(
    "handcrafted",
    "features.handcrafted:HandcraftedFeatures",
    help="measured source, neighbourhood, residual and cross-band properties",
)
FEATURES.add(
    "trivial",
    "features.trivial:TrivialFeatures",
    help="image statistics without morphology: the shortcut detector's input",
)
FEATURES.add(
    "morphology",
    "features.morphology:MorphologyFeatures",
    help="galaxy morphology (statmorph): Gini, M20, CAS, MID, Sersic index",
)
FEATURES.add(
    "pca+handcrafted",
    "features.combined:PCAHandcrafted",
    help="PCA coefficients and hand-crafted features together (du Buisson et al. 2015)",
)


def available() -> list[str]:
    """Names of the registered feature sets."""
    return FEATURES.names()


def get(name: str, **params):
    """A new, unfitted extractor registered as ``name``.

    Raises
    ------
    UnknownNameError
        For an unknown name (the message lists the valid ones).
    ConfigError
        For a parameter the extractor does not take.
    """
    return FEATURES.create(name, **params)


def learns_from_data(name: str, params=None) -> bool:
    """Whether feature set ``name`` learns anything from its training images (PCA does;
    pixels, hand-crafted features and trivial statistics do not)."""
    return bool(getattr(get(name, **dict(params or {})), "learns_from_data", True))


def validate(name: str, params: dict, *, image_shape, n_train: int) -> None:
    """Check a feature set's parameters against the data, before anything is fitted.

    Raises
    ------
    UnknownNameError, ConfigError
        Naming the feature set and the parameter.
    """
    get(name, **params).validate(tuple(image_shape), int(n_train))


def extract(name: str, dataset, split, *, params=None, cache=None, n_jobs: int = 1):
    """Fit feature set ``name`` on the split's training part; transform every part.

    Parameters
    ----------
    name : str
    dataset : benchmark.datasets.Dataset
    split : benchmark.splits.Split
        Checked against the dataset; the extractor sees only ``train`` when fitting.
    params : dict, optional
        Extractor parameters (``channel_names`` defaults to the dataset's channels).
    cache : FeatureCache, optional
        Where matrices are cached (default: ``$ASTROBENCH_CACHE/features``).
    n_jobs : int
        Workers for extractors that run in parallel (results do not depend on it).

    Returns
    -------
    parts : dict of str to ndarray (n, f) float32
        ``train``, ``val`` and ``test`` feature matrices.
    names : ndarray of str
    extractor : the fitted extractor (for scree plots, eigen-images, ...).
    """
    from .cache import FeatureCache

    split.check(dataset)
    cache = cache if cache is not None else FeatureCache()
    params = dict(params or {})
    extractor = get(name, **params)
    accepted = extractor.get_params()
    if "channel_names" in accepted and accepted["channel_names"] is None:
        extractor.set_params(channel_names=list(dataset.channels))
    if "n_jobs" in accepted:
        extractor.set_params(n_jobs=n_jobs)
    key_params = {
        k: v for k, v in extractor.get_params().items() if k not in ("n_jobs", "progress")
    }
    base = dict(
        fingerprint=dataset.fingerprint, split=split.id, feature=name, params=key_params, version=1
    )
    if not len(split.train):
        msg = "the split's training part is empty: nothing to fit the features on"
        raise ConfigError(msg)
    parts = ("train", "val", "test")
    images = {part: dataset.subset(getattr(split, part)).images for part in parts}
    fitted = cache.get_or_fit(
        cache.key(**base, part="model"),
        lambda: extractor.fit(images["train"], dataset.labels[split.train]),
    )
    out = {
        part: cache.get_or_compute(
            cache.key(**base, part=part), lambda imgs=images[part]: fitted.transform(imgs)
        )
        for part in parts
    }
    return out, fitted.get_feature_names_out(), fitted
