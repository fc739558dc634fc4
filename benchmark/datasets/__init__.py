"""Datasets: the container, the canonical HDF5 store, loaders and taxonomies.

Public calls::

    from benchmark import datasets
    ds = datasets.load("imgs/", loader="catalog", catalog="labels.csv", pattern="{id}.jpeg")
    ds = datasets.load("Galaxy10_DECals.h5")              # format detected from the file
    datasets.available(), datasets.available_loaders()

Every loader accepts the shared preprocessing options (``crop``, ``resize``,
``channels``, ``normalize``, ``nan_policy``, ``fill_value``; see
:class:`~benchmark.datasets.preprocess.Preprocess`) and ``scheme`` /
``drop_classes`` to pick labels.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

from .._registry import Registry
from ..errors import ConfigError, DataFormatError, MissingPathError
from .container import Dataset
from .preprocess import Preprocess
from .store import read_store, write_store
from .taxonomy import SCHEMES, Taxonomy

__all__ = [
    "DATASETS",
    "LOADERS",
    "SCHEMES",
    "Dataset",
    "Preprocess",
    "Taxonomy",
    "available",
    "available_loaders",
    "detect",
    "load",
    "read_store",
    "write_store",
]

log = logging.getLogger(__name__)

#: File formats, by loader name.
LOADERS = Registry("loader")
LOADERS.add("hdf5", "benchmark.datasets.store:load", help="astrobench canonical HDF5 store")
LOADERS.add(
    "galaxy10", "benchmark.datasets.galaxy10:load", help="astroNN Galaxy10 SDSS / DECaLS HDF5"
)
LOADERS.add(
    "sdss-sn", "benchmark.datasets.sdss_sn:load", help="SDSS-II SN hand-scanning stamps HDF5"
)
LOADERS.add(
    "galaxy-zoo",
    "benchmark.datasets.galaxy_zoo:load",
    help="Kaggle Galaxy Challenge JPEGs + vote CSV",
)
LOADERS.add(
    "image-folder", "benchmark.datasets.image_folder:load", help="class-per-subfolder JPEG/PNG/FITS"
)
LOADERS.add(
    "catalog", "benchmark.datasets.catalog:load", help="CSV of id + label and an image folder"
)
LOADERS.add("fits-stamps", "benchmark.datasets.fits_stamps:load", help="one FITS cutout per stamp")
LOADERS.add(
    "ztf-alerts", "benchmark.datasets.ztf_alerts:load", help="ZTF alert packets (Parquet/Avro)"
)

#: Per-loader defaults of the shared preprocessing options.
PREPROCESS_DEFAULTS = {"ztf-alerts": {"nan_policy": "fill"}}

#: Named datasets (simulated presets); each entry is a callable ``(**params) -> Dataset``.
DATASETS = Registry("dataset")
DATASETS.add(
    "sim-sdss-sn",
    "benchmark.simulate:sim_sdss_sn",
    help="simulated SDSS-II SN difference stamps, 10 classes -> visual -> binary (default data)",
)
DATASETS.add(
    "sim-galaxy10",
    "benchmark.simulate:sim_galaxy10",
    help="simulated Galaxy10-like galaxy cutouts, 10 classes (mode=gz4: 4 classes)",
)


def available() -> list[str]:
    """Names of the registered (named) datasets."""
    return DATASETS.names()


def available_loaders() -> list[str]:
    """Names of the registered file-format loaders."""
    return LOADERS.names()


def detect(path) -> str:
    """Name of the loader for ``path``, told from the file or folder layout.

    Raises
    ------
    MissingPathError
        If ``path`` does not exist.
    DataFormatError
        If no loader recognises it (the message says how to name one).
    """
    from . import image_folder, ztf_alerts
    from ._hdf5 import hdf5_keys
    from ._imageio import is_fits
    from .galaxy_zoo import SOLUTIONS
    from .store import is_store

    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file or folder; check the path"
        raise MissingPathError(msg)
    hint = f"pass --loader NAME (one of {', '.join(available_loaders())})"
    if path.is_file() and path.suffix.lower() in (".h5", ".hdf5", ".hdf", ".he5"):
        keys = hdf5_keys(path)
        if is_store(path):
            return "hdf5"
        if "images" in keys and "ans" in keys:
            return "galaxy10"
        if "images" in keys and "classes" in keys:
            return "sdss-sn"
        msg = f"{path}: HDF5 file with unrecognised keys ({', '.join(keys) or 'none'}); {hint}"
        raise DataFormatError(msg)
    if ztf_alerts.looks_like(path):
        return "ztf-alerts"
    if path.is_dir():
        if (path / SOLUTIONS).is_file():
            return "galaxy-zoo"
        if image_folder.looks_like(path):
            return "image-folder"
        if any(is_fits(p) for p in path.iterdir()):
            return "fits-stamps"
    msg = f"{path}: cannot tell the data format; {hint}"
    raise DataFormatError(msg)


def _check_params(loader: str, func, params: dict) -> None:
    accepted = [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in ("preprocess", "progress")
    ]
    unknown = [k for k in params if k not in accepted]
    if unknown:
        shared = "crop, resize, channels, normalize, nan_policy, fill_value, scheme, drop_classes"
        msg = (
            f"unknown parameter {unknown[0]!r} for loader {loader!r}; "
            f"valid: {', '.join(accepted) or '(none)'}; shared: {shared}"
        )
        raise ConfigError(msg)


def load(
    name_or_path,
    *,
    loader: str | None = None,
    scheme: str | None = None,
    drop_classes=None,
    progress: bool = True,
    **params,
) -> Dataset:
    """Load a dataset by registered name or from a path.

    Parameters
    ----------
    name_or_path : str or Path
        A name from :func:`available` or a file/folder.
    loader : str, optional
        Loader name (see :func:`available_loaders`); detected from the path if omitted.
    scheme : str, optional
        Label scheme to express labels in (e.g. ``binary``; for ``galaxy-zoo``,
        ``spiral-elliptical``, ``gz4`` or ``votes``).
    drop_classes : list of str, optional
        Classes (of ``scheme``) whose samples are removed, with a report.
    progress : bool
        Show progress bars.
    **params
        Loader parameters and the shared preprocessing options.

    Returns
    -------
    Dataset
    """
    name = str(name_or_path)
    if loader is None and name in DATASETS:
        ds = DATASETS.get(name)(progress=progress, **params)
    else:
        if loader is None:
            loader = detect(name_or_path)
            log.info("format detected: %s (override with --loader)", loader)
        func = LOADERS.get(loader)
        params = dict(params)
        preprocess = Preprocess.pop_from(params, **PREPROCESS_DEFAULTS.get(loader, {}))
        takes_scheme = "scheme" in inspect.signature(func).parameters
        if takes_scheme and scheme is not None:
            params["scheme"] = scheme
        _check_params(loader, func, params)
        ds = func(name_or_path, preprocess=preprocess, progress=progress, **params)
        ds.provenance.update(
            {"loader": loader, "source": str(Path(name_or_path).resolve()), "params": params}
        )
        if takes_scheme:
            scheme = None
    if scheme is not None:
        ds = ds.relabel(scheme)
    if drop_classes:
        if isinstance(drop_classes, str):
            drop_classes = [c.strip() for c in drop_classes.split(",")]
        ds = ds.drop_classes(drop_classes)
    return ds
