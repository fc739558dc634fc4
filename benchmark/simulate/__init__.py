"""Simulated survey stamps and galaxy cutouts: the embedded default data.

Registered datasets (``benchmark.datasets.load(name, **params)``):

``sim-sdss-sn``
    SDSS-II SN hand-scanning-like difference stamps, 10 classes (see
    :mod:`benchmark.simulate.stamps`).
``sim-galaxy10``
    Galaxy10-like galaxy cutouts, 10 classes, or the 4 classes of seed 002
    with ``mode="gz4"`` (see :mod:`benchmark.simulate.galaxies`).

Both are generated once per (generator version, parameters, seed), cached as a
canonical HDF5 store and read lazily from there.
"""

from __future__ import annotations

import dataclasses
import inspect

from ..errors import ConfigError

__all__ = ["GENERATORS", "simulate", "load_simulated"]

#: name -> (module, config class, generator version)
GENERATORS = {
    "sim-sdss-sn": ("benchmark.simulate.stamps", "StampConfig", 2),
    "sim-galaxy10": ("benchmark.simulate.galaxies", "GalaxyConfig", 2),
}
_RUN_KEYS = ("seed", "n_jobs", "progress")


def _split_params(name: str, params: dict):
    import importlib

    module_name, config_name, version = GENERATORS[name]
    module = importlib.import_module(module_name)
    config_cls = getattr(module, config_name)
    fields = [f.name for f in dataclasses.fields(config_cls)]
    unknown = [k for k in params if k not in fields]
    if unknown:
        msg = (
            f"unknown parameter {unknown[0]!r} for {name}; valid: {', '.join(fields)}, "
            f"{', '.join(_RUN_KEYS)} and the preprocessing options"
        )
        raise ConfigError(msg)
    try:
        config = config_cls(**params)
    except TypeError as exc:
        msg = f"bad parameters for {name}: {exc}"
        raise ConfigError(msg) from None
    return module, config, version


def simulate(name: str, *, seed: int = 0, n_jobs: int = 1, progress: bool = True, **params):
    """Generate a simulated dataset in memory (no cache)."""
    from .driver import generate

    module, config, version = _split_params(name, params)
    return generate(
        name=name,
        render=module.render_batch,
        config=config,
        counts=config.counts(),
        taxonomy=module.taxonomy(config),
        channels=config.channels,
        seed=seed,
        version=version,
        meta_frame=module.meta_frame,
        n_jobs=n_jobs,
        progress=progress,
    )


def simulated_path(name: str, *, seed: int = 0, n_jobs: int = 1, progress: bool = True, **params):
    """Path of the cached store of a simulation, generating it first if needed."""
    from .driver import cache_path, cached

    _, config, version = _split_params(name, params)
    path = cache_path(name, version, config.as_dict(), seed)
    return cached(
        path, lambda: simulate(name, seed=seed, n_jobs=n_jobs, progress=progress, **params)
    )


def load_simulated(name: str, *, progress: bool = True, **params):
    """Load a simulated dataset from the cache (generating it once), with preprocessing."""
    from ..datasets.preprocess import Preprocess
    from ..datasets.store import load as load_store

    params = dict(params)
    preprocess = Preprocess.pop_from(params)
    path = simulated_path(name, progress=progress, **params)
    ds = load_store(path, preprocess=preprocess, progress=progress)
    ds.provenance.update({"loader": name, "source": str(path)})
    return ds


def _loader(name: str):
    def load(**params):
        return load_simulated(name, **params)

    load.__name__ = name.replace("-", "_")
    load.__doc__ = inspect.getdoc(load_simulated)
    return load


sim_sdss_sn = _loader("sim-sdss-sn")
sim_galaxy10 = _loader("sim-galaxy10")
