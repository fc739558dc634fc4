import numpy as np
import pytest

from features.pca import PCAFeatures
from features.pixels import PixelFeatures


def test_pixels_flatten_and_block_average():
    x = np.arange(2 * 4 * 6 * 1, dtype=np.float32).reshape(2, 4, 6, 1)
    flat = PixelFeatures().fit(x).transform(x)
    np.testing.assert_array_equal(flat, x.reshape(2, -1))
    small = PixelFeatures(downsample=2).fit(x)
    out = small.transform(x)
    assert out.shape == (2, 6)
    assert out[0, 0] == pytest.approx(x[0, :2, :2, 0].mean())
    assert small.get_feature_names_out()[:2].tolist() == ["pix_0_0_0", "pix_0_1_0"]


def test_pca_components_variance_and_eigen_images():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 8, 8, 2))
    coeffs = rng.normal(size=(200, 3)) * [10, 5, 2]
    x = (np.tensordot(coeffs, basis, axes=1) + rng.normal(0, 0.01, (200, 8, 8, 2))).astype(
        np.float32
    )
    pca = PCAFeatures(n_components=5).fit(x)
    assert pca.transform(x).shape == (200, 5)
    assert pca.eigen_images_.shape == (5, 8, 8, 2)
    evr = pca.explained_variance_ratio_
    assert evr[:3].sum() > 0.999 and np.all(np.diff(evr) <= 1e-6)
    by_variance = PCAFeatures(n_components=0.99).fit(x)
    assert by_variance.n_components_ == 3


def test_pca_incremental_when_data_do_not_fit():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 6, 6, 1)).astype(np.float32)
    full = PCAFeatures(n_components=4).fit(x)
    inc = PCAFeatures(n_components=4, max_memory_mb=0.01, batch_size=100).fit(x)
    assert type(inc.pca_).__name__ == "IncrementalPCA"
    np.testing.assert_allclose(
        inc.explained_variance_ratio_, full.explained_variance_ratio_, rtol=0.15
    )


def test_pca_bad_components():
    x = np.zeros((10, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="n_components must be an integer in 1..10"):
        PCAFeatures(n_components=50).fit(x)
