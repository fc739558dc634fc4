import h5py
import numpy as np
import pandas as pd
import pytest

from benchmark import datasets
from benchmark.datasets import Dataset, read_store, write_store
from benchmark.datasets.arrays import HDF5Images
from benchmark.datasets.taxonomy import SDSS_SN
from benchmark.errors import DataFormatError, MissingPathError


@pytest.fixture
def rich_dataset():
    r = np.random.default_rng(3)
    meta = pd.DataFrame(
        {
            "snr": r.uniform(3, 100, 12),
            "n_obs": np.arange(12, dtype=np.int64),
            "hostless": np.arange(12) % 2 == 0,
            "field": [f"f{i % 3}" for i in range(12)],
        }
    )
    return Dataset(
        r.normal(size=(12, 9, 7, 3)).astype(np.float32),
        np.arange(12) % 10,
        SDSS_SN,
        ids=[f"id-{i}" for i in range(12)],
        meta=meta,
        scheme="visual",
        channels=("g", "r", "i"),
        name="rich",
        provenance={"loader": "test"},
    )


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_round_trip_is_exact(tmp_path, rich_dataset, compression):
    path = write_store(rich_dataset, tmp_path / "rich.h5", compression=compression)
    back = read_store(path, lazy=False)
    np.testing.assert_array_equal(back.images, rich_dataset.images)
    np.testing.assert_array_equal(back.base_labels, rich_dataset.base_labels)
    assert list(back.ids) == list(rich_dataset.ids)
    assert back.taxonomy == rich_dataset.taxonomy
    assert back.scheme == "visual" and back.classes == rich_dataset.classes
    assert back.channels == ("g", "r", "i") and back.name == "rich"
    pd.testing.assert_frame_equal(back.meta, rich_dataset.meta, check_dtype=False)
    assert back.meta["hostless"].dtype == bool
    assert back.meta["n_obs"].dtype == np.int64
    assert back.fingerprint == rich_dataset.fingerprint
    assert back.provenance["loader"] == "test"
    # recomputing the fingerprint from the stored pixels gives the same value
    back._fingerprint = None
    assert back.fingerprint == rich_dataset.fingerprint


def test_layout_is_readable_with_h5py_alone(tmp_path, rich_dataset):
    path = write_store(rich_dataset, tmp_path / "rich.h5")
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "astrobench-dataset"
        assert f["images"].dtype == np.float32 and f["images"].shape == (12, 9, 7, 3)
        assert f["labels"][()].tolist() == (np.arange(12) % 10).tolist()
        assert f["ids"][0].decode() == "id-0"
        assert sorted(f["meta"].keys()) == ["field", "hostless", "n_obs", "snr"]


def test_lazy_read_indexing(tmp_path, rich_dataset):
    path = write_store(rich_dataset, tmp_path / "rich.h5")
    lazy = read_store(path)
    assert isinstance(lazy.images, HDF5Images)
    ref = rich_dataset.images
    np.testing.assert_array_equal(lazy.images[3], ref[3])
    np.testing.assert_array_equal(lazy.images[-1], ref[-1])
    np.testing.assert_array_equal(lazy.images[2:6], ref[2:6])
    np.testing.assert_array_equal(lazy.images[[7, 1, 7, 4]], ref[[7, 1, 7, 4]])
    mask = np.arange(12) % 3 == 0
    np.testing.assert_array_equal(lazy.images[mask], ref[mask])
    sub = lazy.subset([9, 0, 5])
    assert isinstance(sub.images, HDF5Images)
    np.testing.assert_array_equal(np.asarray(sub.images), ref[[9, 0, 5]])
    np.testing.assert_array_equal(sub.subset([2]).images[0], ref[5])
    with pytest.raises(IndexError):
        lazy.images[12]
    with pytest.raises(IndexError):
        lazy.images[[0, 12]]
    with pytest.raises(IndexError):
        lazy.images[np.ones(5, dtype=bool)]


def test_lazy_images_pickle(tmp_path, rich_dataset):
    import pickle

    lazy = read_store(write_store(rich_dataset, tmp_path / "rich.h5")).images
    lazy[0]  # opens the file handle
    clone = pickle.loads(pickle.dumps(lazy))
    np.testing.assert_array_equal(clone[1], rich_dataset.images[1])


def test_existing_file_is_not_overwritten(tmp_path, rich_dataset):
    path = write_store(rich_dataset, tmp_path / "rich.h5")
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        write_store(rich_dataset.subset([0]), path)
    assert path.read_bytes() == before
    write_store(rich_dataset.subset([0, 1]), path, overwrite=True)
    assert len(read_store(path)) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["rich.h5"]  # no temporary files left


def test_store_loader_applies_preprocessing(tmp_path, rich_dataset):
    path = write_store(rich_dataset, tmp_path / "rich.h5")
    assert datasets.detect(path) == "hdf5"
    ds = datasets.load(path, crop=5, channels=["r"])
    assert ds.shape == (12, 5, 5, 1) and ds.channels == ("r",)
    np.testing.assert_array_equal(ds.images[:, :, :, 0], rich_dataset.images[:, 2:7, 1:6, 1])
    assert ds.scheme == "visual"
    plain = datasets.load(path)
    assert plain.provenance["loader"] == "hdf5"
    assert plain.provenance["parent"]["loader"] == "test"  # the stored provenance is kept


def test_missing_keys_name_the_keys_found(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["pixels"] = np.zeros((2, 3, 3, 1))
        f["y"] = [0, 1]
    with pytest.raises(DataFormatError, match="missing images, labels, ids; keys found: pixels, y"):
        read_store(path)


def test_missing_store(tmp_path):
    with pytest.raises(MissingPathError, match="no such file"):
        read_store(tmp_path / "nope.h5")


def test_bad_compression_leaves_nothing(tmp_path, rich_dataset):
    with pytest.raises(ValueError, match="compression must be None or 'gzip'"):
        write_store(rich_dataset, tmp_path / "x.h5", compression="zstd")
    assert list(tmp_path.iterdir()) == []


def test_not_hdf5(tmp_path):
    path = tmp_path / "text.h5"
    path.write_text("hello")
    with pytest.raises(DataFormatError, match="not a readable HDF5 file"):
        read_store(path)
