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

#: File formats, by loader name.  Registration order is the order in which
#: :func:`detect` asks each loader's ``sniff(path)`` whether it reads ``path``.
LOADERS = Registry("loader")
_CATALOG = {"catalog": "labels.csv", "id_column": "OBJID", "label_column": "CLASS"}
for _name, _module, _help, _example, _meta in [
    ("hdf5", "store", "astrobench canonical HDF5 store", ("store", "store.h5"), {}),
    ("galaxy10", "galaxy10", "astroNN Galaxy10 SDSS / DECaLS HDF5", ("galaxy10", "g10.h5"), {}),
    (
        "sdss-sn",
        "sdss_sn",
        "SDSS-II SN hand-scanning stamps HDF5",
        ("sdss_sn", "sdss.h5"),
        {"schemes": "benchmark.datasets.sdss_sn:SCHEMES"},
    ),
    (
        "ztf-alerts",
        "ztf_alerts",
        "ZTF alert packets (Parquet/Avro)",
        ("ztf_parquet", "alerts.parquet"),
        # NaN marks pixels without data in ZTF cutouts; an object's alerts (several epochs)
        # are kept in one split part; drb >= 0.5 as labels for the example
        {
            "preprocess_defaults": {"nan_policy": "fill"},
            "group_column": "objectId",
            # predict streams alert files chunk by chunk (bounded memory)
            "chunks": "benchmark.datasets.ztf_alerts:iter_load",
            "example_params": {"label_from": "drb"},
        },
    ),
    (
        "galaxy-zoo",
        "galaxy_zoo",
        "Kaggle Galaxy Challenge JPEGs + vote CSV",
        ("galaxy_zoo", "kaggle"),
        {"schemes": "benchmark.datasets.galaxy_zoo:SCHEMES"},
    ),
    (
        "image-folder",
        "image_folder",
        "class-per-subfolder JPEG/PNG/TIFF/FITS",
        ("image_folder", "images"),
        {},
    ),
    ("fits-stamps", "fits_stamps", "one FITS cutout per stamp", ("fits_stamps", "stamps"), {}),
    (
        "catalog",
        "catalog",
        "CSV of id + label and an image folder",
        ("catalog", "catalog"),
        {"example_params": {**_CATALOG, "pattern": "{id}.jpeg"}},
    ),
    # last: any .npz or HDF5 holding one image array and a labels array (the specific
    # HDF5 formats above are recognised first)
    (
        "arrays",
        "numpy_arrays",
        "images + labels arrays under any names (.npz, HDF5)",
        ("arrays", "stamps.npz"),
        {},
    ),
]:
    LOADERS.add(
        _name,
        f"benchmark.datasets.{_module}:load",
        help=_help,
        sniff=f"benchmark.datasets.{_module}:sniff",
        example=f"benchmark.datasets.examples:write_{_example[0]}",
        example_name=_example[1],
        **_meta,
    )

#: Named datasets: the simulations (each entry's target is its generator module).
DATASETS = Registry("dataset")
DATASETS.add(
    "sim-sdss-sn",
    "benchmark.simulate.stamps",
    help="simulated SDSS-II SN difference stamps, 10 classes -> visual -> binary (default data)",
    simulated=True,
)
DATASETS.add(
    "sim-galaxy10",
    "benchmark.simulate.galaxies",
    help="simulated Galaxy10-like galaxy cutouts, 10 classes (mode=gz4: 4; mode=decals: DECaLS's)",
    simulated=True,
)


def available() -> list[str]:
    """Names of the registered (named) datasets."""
    return DATASETS.names()


def available_loaders() -> list[str]:
    """Names of the registered file-format loaders."""
    return LOADERS.names()


def detect(path) -> str:
    """Name of the loader for ``path``: the first whose ``sniff(path)`` recognises it.

    Raises
    ------
    MissingPathError
        If ``path`` does not exist.
    DataFormatError
        If no loader recognises it (the message says how to name one).
    """
    from ._hdf5 import HDF5_SUFFIXES, hdf5_keys

    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file or folder; check the path"
        raise MissingPathError(msg)
    for entry in LOADERS.entries():
        if LOADERS.resolve(entry.name, "sniff")(path):
            return entry.name
    hint = f"pass --loader NAME (one of {', '.join(available_loaders())})"
    if path.is_file() and path.suffix.lower() in (*HDF5_SUFFIXES, ".npz"):
        hint += "; arrays under other names: --loader arrays -p images_key=... -p labels_key=..."
    if path.is_file() and path.suffix.lower() in HDF5_SUFFIXES:
        keys = hdf5_keys(path)
        msg = f"{path}: HDF5 file with unrecognised keys ({', '.join(keys) or 'none'}); {hint}"
        raise DataFormatError(msg)
    msg = f"{path}: cannot tell the data format; {hint}"
    raise DataFormatError(msg)


def _check_params(loader: str, func, params: dict) -> None:
    """Unknown loader parameters, and missing required ones, are one-line errors."""
    keyword = [
        p
        for p in inspect.signature(func).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in ("preprocess", "progress")
    ]
    accepted = [p.name for p in keyword]
    unknown = [k for k in params if k not in accepted]
    if unknown:
        shared = "crop, resize, channels, normalize, nan_policy, fill_value, scheme, drop_classes"
        msg = (
            f"unknown parameter {unknown[0]!r} for loader {loader!r}; "
            f"valid: {', '.join(accepted) or '(none)'}; shared: {shared}"
        )
        raise ConfigError(msg)
    missing = [p.name for p in keyword if p.default is p.empty and p.name not in params]
    if missing:
        msg = (
            f"loader {loader!r} needs the parameter {missing[0]!r}: pass -p {missing[0]}=... "
            f"on the command line, or {missing[0]} = ... in [dataset.params]"
        )
        raise ConfigError(msg)


def load(
    name_or_path,
    *,
    loader: str | None = None,
    scheme: str | None = None,
    prefer_scheme: str | None = None,
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
    prefer_scheme : str, optional
        Without ``scheme``: the label scheme to use where the data have it (a loader that
        lists it in its ``schemes``, or the loaded taxonomy); otherwise the data's own.
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
    preferred = prefer_scheme if scheme is None else None  # not yet applied
    if loader is None and name in DATASETS:
        from ..simulate import load_simulated

        ds = load_simulated(name, progress=progress, **params)
    else:
        if loader is None:
            loader = detect(name_or_path)
            log.info("format detected: %s (override with --loader)", loader)
        func = LOADERS.get(loader)
        params = dict(params)
        defaults = dict(LOADERS.spec(loader).get("preprocess_defaults", {}))
        if loader == "hdf5" and "nan_policy" not in params:
            from .store import read_provenance

            # a store whose NaN pixels mark missing data (ZTF-like edge cutouts)
            if read_provenance(name_or_path).get("nan_means_no_data"):
                defaults["nan_policy"] = "fill"
        preprocess = Preprocess.pop_from(params, **defaults)
        takes_scheme = "scheme" in inspect.signature(func).parameters
        if preferred and LOADERS.spec(loader).get("schemes"):
            if preferred in LOADERS.resolve(loader, "schemes"):
                scheme, preferred = preferred, None  # the loader labels in it
        if takes_scheme and scheme is not None:
            params["scheme"] = scheme
        _check_params(loader, func, params)
        ds = func(name_or_path, preprocess=preprocess, progress=progress, **params)
        ds.provenance.update(
            {"loader": loader, "source": str(Path(name_or_path).resolve()), "params": params}
        )
        if LOADERS.spec(loader).get("group_column"):
            ds.provenance["group_column"] = LOADERS.spec(loader)["group_column"]
        if takes_scheme:
            scheme = None
    if preferred is not None and preferred in ds.taxonomy.schemes:
        scheme = preferred
    elif preferred is not None:
        log.info("labels: the data have no %r scheme; keeping %r", preferred, ds.scheme)
    if scheme is not None:
        ds = ds.relabel(scheme)
    if drop_classes:
        if isinstance(drop_classes, str):
            drop_classes = [c.strip() for c in drop_classes.split(",")]
        ds = ds.drop_classes(drop_classes)
    return ds


def load_chunks(name_or_path, *, chunk_size: int, loader: str | None = None, **params):
    """The data at a path as a stream of Datasets of at most ``chunk_size`` samples.

    For loaders that can stream (``ztf-alerts``: each chunk decoded when it is reached, so
    memory stays bounded); ``None`` for the others, which :func:`load` reads (lazily where
    their format allows).  ``params`` are the preprocessing options.
    """
    if loader is None:
        if str(name_or_path) in DATASETS:
            return None
        loader = detect(name_or_path)
    target = LOADERS.spec(loader).get("chunks")
    if target is None:
        return None
    params = dict(params)
    defaults = dict(LOADERS.spec(loader).get("preprocess_defaults", {}))
    preprocess = Preprocess.pop_from(params, **defaults)
    func = LOADERS.resolve(loader, "chunks")
    _check_params(loader, func, params)
    return func(name_or_path, chunk_size=chunk_size, preprocess=preprocess, **params)
