"""Shared fixtures; the header lists the versions of the libraries under test."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from benchmark.datasets import Dataset
from benchmark.datasets.taxonomy import SDSS_SN

_LIBS = [
    "numpy",
    "scipy",
    "pandas",
    "sklearn",
    "xgboost",
    "astropy",
    "photutils",
    "h5py",
    "PIL",
    "pyarrow",
    "keras",
]


def pytest_report_header(config):
    versions = []
    for name in _LIBS:
        try:
            versions.append(f"{name} {importlib.import_module(name).__version__}")
        except ImportError:
            versions.append(f"{name} (missing)")
    import os

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return "astrobench dependencies: " + ", ".join(versions) + f"; Keras backend {backend}"


@pytest.fixture
def sdss_dataset():
    """A small in-memory dataset with the SDSS-II SN taxonomy: 40 stamps, 4 per class."""
    r = np.random.default_rng(1)
    images = r.normal(size=(40, 8, 8, 3)).astype(np.float32)
    labels = np.arange(40) % 10
    meta = {"snr": r.uniform(3, 100, 40)}
    import pandas as pd

    return Dataset(
        images,
        labels,
        SDSS_SN,
        ids=[f"s{i}" for i in range(40)],
        meta=pd.DataFrame(meta),
        channels=("g", "r", "i"),
        name="tiny-sdss",
    )


@pytest.fixture
def balanced_dataset():
    """200 samples, binary, 60/40 class balance."""
    r = np.random.default_rng(2)
    labels = (np.arange(200) % 5 < 2).astype(int)
    return Dataset(r.normal(size=(200, 4, 4, 1)), labels, ["a", "b"], name="balanced")
