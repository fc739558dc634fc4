"""Simulated survey stamps and galaxy cutouts: the embedded default data.

Simulations are data sets like any other source: each is one module
(``CONFIG_CLASS``, ``VERSION``, ``render_batch``, ``taxonomy``, ``meta_frame``)
and one registration line in :mod:`benchmark.datasets` (``DATASETS``):

``sim-sdss-sn``
    SDSS-II SN hand-scanning-like difference stamps, 10 classes (see
    :mod:`benchmark.simulate.stamps`).
``sim-galaxy10``
    Galaxy10-like galaxy cutouts, Galaxy10 SDSS's 10 classes, the 4 classes of
    seed 002 with ``mode="gz4"`` or Galaxy10 DECaLS's 10 with ``mode="decals"``
    (see :mod:`benchmark.simulate.galaxies`).

Both are generated once per (generator version, parameters, seed), cached as a
canonical HDF5 store and read lazily from there.
"""

from __future__ import annotations

import dataclasses

from ..errors import ConfigError

__all__ = ["available", "load_simulated", "simulate", "simulated_path"]

_RUN_KEYS = ("seed", "n_jobs", "progress")


def available() -> list[str]:
    """Names of the registered simulations."""
    from ..datasets import DATASETS

    return DATASETS.names(simulated=True)


def _module(name: str):
    from ..datasets import DATASETS

    if name not in available():
        msg = f"unknown simulation {name!r}; valid: {', '.join(available())}"
        raise ConfigError(msg)
    return DATASETS.get(name)


def _split_params(name: str, params: dict):
    module = _module(name)
    fields = [f.name for f in dataclasses.fields(module.CONFIG_CLASS)]
    unknown = [k for k in params if k not in fields]
    if unknown:
        msg = (
            f"unknown parameter {unknown[0]!r} for {name}; valid: {', '.join(fields)}, "
            f"{', '.join(_RUN_KEYS)} and the preprocessing options"
        )
        raise ConfigError(msg)
    try:
        config = module.CONFIG_CLASS(**params)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        msg = f"bad parameters for {name}: {exc}"
        raise ConfigError(msg) from None
    return module, config


def simulate(name: str, *, seed: int = 0, n_jobs: int = 1, progress: bool = True, **params):
    """Generate a simulated dataset in memory (no cache)."""
    from .driver import generate

    module, config = _split_params(name, params)
    return generate(
        name=name,
        render=module.render_batch,
        config=config,
        counts=config.counts(),
        taxonomy=module.taxonomy(config),
        channels=config.channels,
        seed=seed,
        version=module.VERSION,
        meta_frame=module.meta_frame,
        n_jobs=n_jobs,
        progress=progress,
    )


def simulated_path(name: str, *, seed: int = 0, n_jobs: int = 1, progress: bool = True, **params):
    """Path of the cached store of a simulation, generating it first if needed."""
    from .driver import cache_path, cached

    module, config = _split_params(name, params)
    path = cache_path(name, module.VERSION, config.as_dict(), seed)
    return cached(
        path, lambda: simulate(name, seed=seed, n_jobs=n_jobs, progress=progress, **params)
    )


def load_simulated(name: str, *, progress: bool = True, **params):
    """Load a simulated dataset from the cache (generating it once), with preprocessing."""
    from ..datasets.preprocess import Preprocess
    from ..datasets.store import load as load_store

    params = dict(params)
    # NaN marks pixels without data (ZTF-like edge cutouts), filled as the ztf-alerts
    # loader does unless the caller says otherwise
    preprocess = Preprocess.pop_from(params, nan_policy="fill")
    path = simulated_path(name, progress=progress, **params)
    ds = load_store(path, preprocess=preprocess, progress=progress)
    ds.provenance.update({"loader": name, "source": str(path)})
    return ds
