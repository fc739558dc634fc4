"""Writers of small files in the real formats the loaders read (used by the tests)."""

from __future__ import annotations

from pathlib import Path

from benchmark.datasets.examples import (  # noqa: F401 - re-exported for the tests
    rng,
    write_catalog,
    write_fits_stamps,
    write_galaxy10,
    write_galaxy_zoo,
    write_image_folder,
    write_jpeg,
    write_sdss_sn,
    write_store,
    write_ztf_avro,
    write_ztf_parquet,
    ztf_alerts,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
