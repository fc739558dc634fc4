"""Small example files in each format the loaders read.

For trying a loader, for seeing exactly what a format looks like, and for the
tests: every loader's registration names its example writer (``example``), the
file or folder name it writes (``example_name``) and the loader parameters it
needs (``example_params``), so the common tests cover every registered loader.
Pixel values are random; only the layout is real.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "rng",
    "write_catalog",
    "write_fits_stamps",
    "write_galaxy10",
    "write_galaxy_zoo",
    "write_image_folder",
    "write_jpeg",
    "write_sdss_sn",
    "write_store",
    "write_ztf_avro",
    "write_ztf_parquet",
    "ztf_alerts",
]


def rng(seed=0):
    """The random generator of the examples."""
    return np.random.default_rng(seed)


def write_galaxy10(path, n=20, size=69, decals=False, seed=0):
    """astroNN Galaxy10 layout: uint8 images + ans (+ ra, dec, redshift, pxscale for DECaLS)."""
    r = rng(seed)
    import h5py

    with h5py.File(path, "w") as f:
        f["images"] = r.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
        f["ans"] = np.arange(n) % 10
        if decals:
            f["ra"] = r.uniform(0, 360, n)
            f["dec"] = r.uniform(-10, 30, n)
            f["redshift"] = r.uniform(0, 0.3, n)
            f["pxscale"] = np.full(n, 0.262)
    return Path(path)


def write_sdss_sn(path, n=30, seed=0, dtype=np.float32):
    """SDSS-II SN stamps: images (N, 69, 69, 3) and classes 0-9."""
    r = rng(seed)
    import h5py

    with h5py.File(path, "w") as f:
        f["images"] = r.normal(size=(n, 69, 69, 3)).astype(dtype)
        f["classes"] = np.arange(n) % 10
    return Path(path)


def write_arrays(path, n=24, size=16, seed=0):
    """Images and labels as a NumPy .npz with keys of its author's naming (x, y, ids)."""
    r = rng(seed)
    x = r.integers(0, 256, size=(n, size, size, 2), dtype=np.uint8)
    np.savez(path, x=x, y=np.arange(n) % 3, ids=np.array([f"obj{i:03d}" for i in range(n)]))
    return Path(path)


def write_jpeg(path, size=(32, 32), seed=0, mode="RGB"):
    """A JPEG (PNG for a .png name) of random 8-bit pixels."""
    from PIL import Image

    r = rng(seed)
    shape = (size[0], size[1], 3) if mode == "RGB" else size
    Image.fromarray(r.integers(0, 256, size=shape, dtype=np.uint8)).save(path)
    return Path(path)


def write_galaxy_zoo(root, n=12, size=(24, 24), seed=0, image_folder=True):
    """Kaggle Galaxy Challenge layout: <GalaxyID>.jpg + training_solutions_rev1.csv (37 columns)."""
    from .galaxy_zoo import VOTE_COLUMNS

    root = Path(root)
    images = root / "images_training_rev1" if image_folder else root
    images.mkdir(parents=True, exist_ok=True)
    r = rng(seed)
    rows = []
    for i in range(n):
        gid = 100000 + i
        write_jpeg(images / f"{gid}.jpg", size, seed=i)
        votes = dict.fromkeys(VOTE_COLUMNS, 0.0)
        kind = i % 4
        if kind == 0:  # pure elliptical
            votes.update({"Class1.1": 0.97, "Class1.2": 0.03})
        elif kind == 1:  # pure edge-on disk
            votes.update({"Class1.1": 0.02, "Class1.2": 0.98, "Class2.1": 0.98})
        elif kind == 2:  # face-on spiral
            votes.update({"Class1.1": 0.01, "Class1.2": 0.99, "Class2.2": 0.99, "Class4.1": 0.99})
        else:  # ambiguous: fails the 0.95 purity cut
            votes.update({"Class1.1": 0.55, "Class1.2": 0.45, "Class2.1": 0.2})
        votes["Class6.2"] = float(r.uniform())
        rows.append({"GalaxyID": gid, **votes})
    pd.DataFrame(rows).to_csv(root / "training_solutions_rev1.csv", index=False)
    return root


def write_image_folder(root, classes=("elliptical", "spiral"), n=4, parts=None, size=(20, 20)):
    """Class-per-subfolder tree, optionally under split folders."""
    root = Path(root)
    k = 0
    for part in parts or [None]:
        base = root / part if part else root
        for c in classes:
            (base / c).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                write_jpeg(base / c / f"{c}_{i}.jpg", size, seed=k)
                k += 1
    return root


def write_catalog(root, n=8, pattern="{id}.jpeg", size=(16, 16)):
    """A CSV of OBJID, CLASS, MAG and matching JPEG files."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    ids = [f"obj{i:03d}" for i in range(n)]
    for i, oid in enumerate(ids):
        write_jpeg(root / pattern.replace("{id}", oid), size, seed=i)
    table = pd.DataFrame(
        {
            "OBJID": ids,
            "CLASS": ["star" if i % 2 else "galaxy" for i in range(n)],
            "MAG": np.arange(n) + 18.0,
        }
    )
    table.to_csv(root / "labels.csv", index=False)
    return root


def write_fits_stamps(root, n=6, size=21, bands=("G", "R", "I"), seed=0, nan_in=None):
    """One multi-extension FITS per stamp, EXTNAME per band, CLASS in the primary header."""
    from astropy.io import fits

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    r = rng(seed)
    for i in range(n):
        primary = fits.PrimaryHDU()
        primary.header["CLASS"] = "real" if i % 2 else "bogus"
        hdus = [primary]
        for b in bands:
            data = r.normal(size=(size, size)).astype(np.float32)
            if nan_in is not None and i == nan_in:
                data[3, 4] = np.nan
            hdus.append(fits.ImageHDU(data, name=b))
        fits.HDUList(hdus).writeto(root / f"stamp{i:02d}.fits")
    return root


def _gz_fits(data):
    from astropy.io import fits

    buf = io.BytesIO()
    fits.PrimaryHDU(np.asarray(data, dtype=np.float32)).writeto(buf)
    return gzip.compress(buf.getvalue())


def ztf_alerts(n=5, seed=0, edge=None):
    """Alert dicts in the ZTF schema (a subset of the candidate fields)."""
    r = rng(seed)
    alerts = []
    for i in range(n):
        cand = {
            "jd": 2459000.5 + i,
            "fid": 1 + i % 2,
            "magpsf": float(18 + r.uniform()),
            "fwhm": float(2 + r.uniform()),
            "rb": float(r.uniform()),
            "drb": float(i % 2),
        }
        cutouts = {}
        for key in ("cutoutScience", "cutoutTemplate", "cutoutDifference"):
            shape = (63, 62) if edge is not None and i == edge else (63, 63)
            data = r.normal(size=shape)
            cutouts[key] = {"fileName": f"candid{i}_{key}.fits.gz", "stampData": _gz_fits(data)}
        alerts.append(
            {"objectId": f"ZTF20aaa{i:04d}", "candid": 1000 + i, "candidate": cand, **cutouts}
        )
    return alerts


def write_ztf_parquet(path, n=5, **kw):
    """ZTF alert packets in a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(ztf_alerts(n, **kw)), path)
    return Path(path)


def write_ztf_avro(path, n=5, **kw):
    """ZTF alert packets in an Avro file (the stream's own format)."""
    import fastavro

    cutout = {
        "type": "record",
        "name": "cutout",
        "fields": [{"name": "fileName", "type": "string"}, {"name": "stampData", "type": "bytes"}],
    }
    schema = {
        "type": "record",
        "name": "alert",
        "namespace": "ztf",
        "fields": [
            {"name": "objectId", "type": "string"},
            {"name": "candid", "type": "long"},
            {
                "name": "candidate",
                "type": {
                    "type": "record",
                    "name": "candidate",
                    "fields": [
                        {"name": k, "type": t}
                        for k, t in [
                            ("jd", "double"),
                            ("fid", "int"),
                            ("magpsf", "float"),
                            ("fwhm", "float"),
                            ("rb", "float"),
                            ("drb", "float"),
                        ]
                    ],
                },
            },
            {"name": "cutoutScience", "type": cutout},
            {"name": "cutoutTemplate", "type": "cutout"},
            {"name": "cutoutDifference", "type": "cutout"},
        ],
    }
    with open(path, "wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(schema), ztf_alerts(n, **kw))
    return Path(path)


def write_store(path, n=12, size=16, seed=0):
    """A canonical store of random 3-channel images in two classes."""
    from .container import Dataset
    from .store import write_store as _write

    r = rng(seed)
    images = r.normal(size=(n, size, size, 3)).astype(np.float32)
    ds = Dataset(images, np.arange(n) % 2, ["a", "b"], channels=("g", "r", "i"), name="example")
    return _write(ds, path)
