"""Feature extraction on a data set larger than memory: read from the HDF5 store in chunks."""

import numpy as np

import features
from benchmark import datasets
from benchmark.datasets.arrays import HDF5Images
from benchmark.simulate import simulate
from benchmark.splits import make_split
from features.cache import FeatureCache


def test_features_of_a_lazy_store_are_read_in_chunks_and_match_in_memory(tmp_path, monkeypatch):
    path = datasets.write_store(
        simulate("sim-sdss-sn", n=400, seed=3, progress=False), tmp_path / "s.h5"
    )
    lazy = datasets.load(str(path), scheme="binary", progress=False)
    assert isinstance(lazy.images, HDF5Images)  # a store is read on demand, never whole
    eager = datasets.load(str(path), scheme="binary", progress=False)
    eager.images = np.asarray(eager.images)
    split = make_split(lazy, seed=0)
    reads = []
    read = HDF5Images._read

    def counting(self, rows):
        reads.append(len(rows))
        return read(self, rows)

    monkeypatch.setattr(HDF5Images, "_read", counting)
    monkeypatch.setattr(HDF5Images, "__array__", None)  # never materialised as one array
    params = {
        # 400 stamps are far below the limit; 0.01 MB forces the incremental (chunked) fit
        "pca": {"n_components": 6, "max_memory_mb": 0.01, "batch_size": 50},
        "handcrafted": {"batch_size": 50},
        "trivial": {"batch_size": 50},
    }
    for name, p in params.items():
        got, names, _ = features.extract(
            name, lazy, split, params=p, cache=FeatureCache(enabled=False)
        )
        assert reads and max(reads) <= 50, name  # no read larger than one batch
        reads.clear()
        want, want_names, _ = features.extract(
            name, eager, split, params=p, cache=FeatureCache(enabled=False)
        )
        assert not reads  # the in-memory copy never touches the file
        assert list(names) == list(want_names)
        for part in ("train", "val", "test"):
            assert got[part].shape == (len(getattr(split, part)), len(names))
            np.testing.assert_allclose(got[part], want[part], rtol=1e-5, atol=1e-5)


def test_incremental_pca_fits_every_training_image(tmp_path):
    """The last batch, smaller than n_components, joins the one before instead of being
    dropped: the fitted mean is the mean of all training images."""
    from features.pca import PCAFeatures

    rng = np.random.default_rng(0)
    x = rng.normal(size=(105, 8, 8, 1)).astype(np.float32)
    pca = PCAFeatures(n_components=10, max_memory_mb=0.0001, batch_size=50).fit(x)
    assert pca.pca_.n_samples_seen_ == 105
    np.testing.assert_allclose(pca.mean_image_, x.mean(axis=0), atol=1e-5)
