"""Every loader on small files written in its real format, through the public API."""

import formats
import numpy as np
import pandas as pd
import pytest

from benchmark import datasets, errors
from benchmark.datasets.galaxy_zoo import VOTE_COLUMNS
from benchmark.datasets.taxonomy import GALAXY10_DECALS, GALAXY10_SDSS


def test_galaxy10_sdss(tmp_path):
    path = formats.write_galaxy10(tmp_path / "Galaxy10.h5", n=20)
    assert datasets.detect(path) == "galaxy10"
    ds = datasets.load(path)
    assert ds.shape == (20, 69, 69, 3) and ds.images.dtype == np.float32
    assert ds.classes == GALAXY10_SDSS.classes("original")
    assert ds.counts()["Smooth, Cigar shaped"] == 2
    assert 0.0 <= float(np.min(ds.images)) and float(np.max(ds.images)) <= 1.0
    assert ds.relabel("coarse").classes == ("Smooth", "Disk")


def test_galaxy10_decals_meta_and_lazy(tmp_path, monkeypatch):
    from benchmark.datasets import _build

    monkeypatch.setattr(_build, "EAGER_LIMIT_BYTES", 1000)
    path = formats.write_galaxy10(tmp_path / "Galaxy10_DECals.h5", n=10, size=256, decals=True)
    ds = datasets.load(path)
    assert ds.name == "galaxy10-decals" and ds.classes == GALAXY10_DECALS.classes("original")
    assert ds.shape == (10, 256, 256, 3)
    assert isinstance(ds.images, datasets.arrays.LazyImages)
    assert {"ra", "dec", "redshift", "pxscale"} <= set(ds.meta.columns)
    np.testing.assert_allclose(ds.meta["pxscale"], 0.262)
    small = datasets.load(path, resize=64)
    assert small.shape == (10, 64, 64, 3)


def test_sdss_sn_schemes(tmp_path):
    path = formats.write_sdss_sn(tmp_path / "sdss.h5", n=30)
    assert datasets.detect(path) == "sdss-sn"
    ds = datasets.load(path)
    assert ds.shape == (30, 69, 69, 3) and ds.channels == ("g", "r", "i")
    assert ds.classes[0] == "Artefact" and ds.classes[9] == "SN Gold"
    binary = datasets.load(path, scheme="binary")
    assert binary.counts() == {"Not-Real": 9, "Real": 21}
    visual = datasets.load(path, scheme="visual", loader="sdss-sn")
    assert visual.counts() == {"Artefact": 3, "Dipole/Saturated": 6, "Real": 21}


def test_galaxy_zoo_schemes(tmp_path):
    root = formats.write_galaxy_zoo(tmp_path / "gz", n=12)
    assert datasets.detect(root) == "galaxy-zoo"
    se = datasets.load(root)
    assert se.classes == ("elliptical", "spiral")
    assert se.counts() == {"elliptical": 6, "spiral": 6}  # ambiguous ones go to the larger fraction
    assert list(se.meta.columns) == VOTE_COLUMNS and len(VOTE_COLUMNS) == 37
    assert se.shape == (12, 24, 24, 3)
    gz4 = datasets.load(root, scheme="gz4")
    assert gz4.classes == ("edge-on", "face-on spiral", "elliptical", "merger")
    assert gz4.counts() == {"edge-on": 3, "face-on spiral": 3, "elliptical": 3, "merger": 0}
    assert gz4.provenance["removed"][0]["count"] == 3
    pure = datasets.load(root, scheme="spiral-elliptical", min_fraction=0.9)
    assert len(pure) == 9
    votes = datasets.load(root, scheme="votes")
    assert len(votes) == 12 and votes.meta["Class1.1"].iloc[0] == pytest.approx(0.97)


def test_a_preferred_scheme_applies_where_the_data_have_it(tmp_path):
    """``prefer_scheme`` (a preset's labels for real data) relabels an SDSS-II SN file and a
    store through their taxonomy and a Galaxy Zoo catalogue through its loader; data
    without that scheme keep their own classes; an explicit ``scheme`` wins."""
    sdss = formats.write_sdss_sn(tmp_path / "sdss.h5", n=30)
    assert datasets.load(sdss, prefer_scheme="binary").classes == ("Not-Real", "Real")
    assert datasets.load(sdss, prefer_scheme="binary", scheme="visual").counts()["Real"] == 21
    gz = formats.write_galaxy_zoo(tmp_path / "gz", n=12)
    gz4 = datasets.load(gz, prefer_scheme="gz4")
    assert gz4.classes == ("edge-on", "face-on spiral", "elliptical", "merger")
    assert datasets.load(gz, prefer_scheme="binary").classes == ("elliptical", "spiral")
    g10 = formats.write_galaxy10(tmp_path / "Galaxy10.h5", n=20)
    assert datasets.load(g10, prefer_scheme="coarse").classes == ("Smooth", "Disk")
    folder = formats.write_image_folder(tmp_path / "f", classes=("bogus", "real"), n=3)
    assert datasets.load(folder, prefer_scheme="binary").classes == ("bogus", "real")
    store = datasets.write_store(datasets.load(sdss), tmp_path / "store.h5")
    assert datasets.load(store, prefer_scheme="binary").counts() == {"Not-Real": 9, "Real": 21}


def test_galaxy_zoo_missing_images_are_counted(tmp_path):
    root = formats.write_galaxy_zoo(tmp_path / "gz", n=8, image_folder=False)
    (root / "100001.jpg").unlink()
    ds = datasets.load(root)
    assert len(ds) == 7
    assert any("without an image file" in r["reason"] for r in ds.provenance["removed"])


def test_image_folder_without_splits(tmp_path):
    root = formats.write_image_folder(tmp_path / "imgs", classes=("spiral", "elliptical"), n=3)
    (root / "spiral" / "notes.txt").write_text("not an image")
    assert datasets.detect(root) == "image-folder"
    ds = datasets.load(root)
    assert ds.classes == ("elliptical", "spiral")
    assert ds.counts() == {"elliptical": 3, "spiral": 3}
    assert ds.predefined_split is None
    assert ds.ids[0] == "elliptical/elliptical_0"


def test_image_folder_with_split_folders(tmp_path):
    root = tmp_path / "data"
    formats.write_image_folder(root, n=2, parts=["train"])
    formats.write_image_folder(root, n=1, parts=["valid"])
    formats.write_image_folder(root, n=1, parts=["test"])
    ds = datasets.load(root)
    parts, counts = np.unique(ds.predefined_split, return_counts=True)
    assert dict(zip(parts, counts.tolist())) == {"test": 2, "train": 4, "validation": 2}


def test_image_folder_png_and_fits_are_not_mixed(tmp_path):
    from astropy.io import fits
    from PIL import Image

    for c in "ab":
        (tmp_path / c).mkdir()
        Image.fromarray(np.full((6, 6), 255, np.uint8)).save(tmp_path / c / "x.png")
    ds = datasets.load(tmp_path)
    assert ds.shape == (2, 6, 6, 1)
    np.testing.assert_allclose(ds.images[0], 1.0)  # 8-bit scaled to [0, 1]
    # a FITS (pixel values in their units) beside [0, 1]-scaled PNGs would mix scales
    fits.PrimaryHDU(np.ones((6, 6), np.float32) * 7).writeto(tmp_path / "b" / "y.fits")
    with pytest.raises(errors.ShapeMismatchError, match=r"y.fits: float image \(FITS\) among"):
        datasets.load(tmp_path)


def test_sixteen_bit_png_is_scaled_and_grey_alpha_decodes(tmp_path):
    from PIL import Image

    for c in "ab":
        (tmp_path / c).mkdir()
        Image.fromarray(np.full((6, 6), 65535, np.uint16)).save(tmp_path / c / "x.png")
    ds = datasets.load(tmp_path)
    np.testing.assert_allclose(ds.images[:], 1.0)  # 16-bit scaled to [0, 1] too
    grey_alpha = tmp_path / "la"
    for c in "ab":
        (grey_alpha / c).mkdir(parents=True)
        Image.fromarray(np.full((6, 6, 2), 51, np.uint8), mode="LA").save(grey_alpha / c / "x.png")
    ds = datasets.load(grey_alpha)
    assert ds.shape == (2, 6, 6, 1)  # alpha dropped, grey kept
    np.testing.assert_allclose(ds.images[:], 0.2)


def test_tiff_stamps_keep_their_units_or_scale_by_depth(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    flux = {c: rng.normal(3.0, 1e-3, (2, 8, 8)).astype(np.float32) for c in "ab"}
    for c in "ab":
        (tmp_path / "f" / c).mkdir(parents=True)
        for i in range(2):  # 32-bit float, as reduction pipelines write them
            Image.fromarray(flux[c][i]).save(tmp_path / "f" / c / f"s{i}.tif")
    ds = datasets.load(tmp_path / "f")
    assert ds.shape == (4, 8, 8, 1) and ds.classes == ("a", "b")
    np.testing.assert_allclose(ds.images[:2, ..., 0], flux["a"])  # units kept, like FITS
    for c in "ab":
        (tmp_path / "u" / c).mkdir(parents=True)
        Image.fromarray(np.full((6, 6), 65535, np.uint16)).save(tmp_path / "u" / c / "x.tiff")
        Image.fromarray(np.full((6, 6, 3), 51, np.uint8)).save(tmp_path / "u" / c / "y.tif")
    with pytest.raises(errors.ShapeMismatchError, match=r"y.tif: 8-bit image .* among 16-bit"):
        datasets.load(tmp_path / "u")  # 8-bit RGB beside 16-bit grey: one line naming it
    for c in "ab":
        (tmp_path / "u" / c / "y.tif").unlink()
    np.testing.assert_allclose(datasets.load(tmp_path / "u").images[:], 1.0)  # 16-bit scaled
    # a FITS beside float TIFFs shares their units
    from astropy.io import fits

    fits.PrimaryHDU(np.full((8, 8), 5.0, np.float32)).writeto(tmp_path / "f" / "b" / "z.fits")
    assert datasets.load(tmp_path / "f").images[-1].max() == 5.0
    pages = [Image.fromarray(np.zeros((8, 8), np.float32)) for _ in range(3)]
    pages[0].save(tmp_path / "f" / "a" / "cube.tif", save_all=True, append_images=pages[1:])
    with pytest.raises(errors.CorruptFileError, match=r"cube.tif: a multi-page image \(3 pages\)"):
        datasets.load(tmp_path / "f")


def test_images_of_several_sizes_are_brought_to_one_by_the_preprocessing(tmp_path, monkeypatch):
    from PIL import Image

    from benchmark.datasets import _build

    def framed(side, value):  # a bright central square of half the side, framed alike
        a = np.zeros((side, side), np.uint8)
        a[side // 4 : side // 4 + side // 2, side // 4 : side // 4 + side // 2] = value
        return Image.fromarray(a)

    for c, value in (("a", 255), ("b", 51)):
        (tmp_path / c).mkdir()
        framed(24, value).save(tmp_path / c / "a_small.png")  # the smallest first, then
        framed(40, value).save(tmp_path / c / "b_big.png")  # a larger one
    with pytest.raises(errors.ShapeMismatchError, match="need a size to bring them to: -p resize"):
        datasets.load(tmp_path)
    ds = datasets.load(tmp_path, crop=0.5, resize=8)  # each image's own central half
    assert ds.shape == (4, 8, 8, 1)
    np.testing.assert_allclose(ds.images[:2], 1.0, atol=1e-6)
    np.testing.assert_allclose(ds.images[2:], 0.2, atol=1e-6)
    monkeypatch.setattr(_build, "EAGER_LIMIT_BYTES", 0)  # as a set larger than memory reads
    lazy = datasets.load(tmp_path, crop=0.5, resize=8).images
    assert not isinstance(lazy, np.ndarray)
    np.testing.assert_allclose(lazy.take([3, 0])[:], ds.images[[3, 0]])
    np.testing.assert_allclose(lazy[1], ds.images[1])
    monkeypatch.undo()
    pixels = datasets.load(tmp_path, crop=12)  # a crop in pixels makes one size too
    assert pixels.shape == (4, 12, 12, 1)
    np.testing.assert_allclose(pixels.images[:2], 1.0)  # each image's own centre
    with pytest.raises(errors.ConfigError, match="crop 30x30 is larger than the images"):
        datasets.load(tmp_path, crop=30)  # must fit the smallest image


def test_files_we_do_not_read_are_named_in_a_warning(tmp_path, caplog):
    from PIL import Image

    root = formats.write_image_folder(tmp_path / "imgs", classes=("a", "b"), n=2)
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(root / "a" / "left.bmp")
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(root / "b" / "left.gif")
    (root / "a" / "notes.txt").write_text("not an image")
    with caplog.at_level("INFO", logger="benchmark"):
        ds = datasets.load(root)
    assert ds.counts() == {"a": 2, "b": 2}
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1
    assert "left out 2 files" in warned[0].getMessage()
    assert "(.bmp, .gif;" in warned[0].getMessage()


def test_fpack_compressed_fits_stamps(tmp_path):
    from astropy.io import fits

    data = np.arange(64, dtype=np.float32).reshape(8, 8) / 7
    for c in "ab":
        (tmp_path / c).mkdir()
        hdul = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, compression_type="GZIP_1")])
        hdul.writeto(tmp_path / c / "s.fits.fz")
    ds = datasets.load(tmp_path)
    assert ds.shape == (2, 8, 8, 1)
    np.testing.assert_allclose(ds.images[0, ..., 0], data)
    assert ds.ids[0] == "a/s.fits"


def test_arrays_under_any_names_in_npz_and_hdf5(tmp_path):
    import h5py

    npz = datasets.LOADERS.resolve("arrays", "example")(tmp_path / "stamps.npz")
    ds = datasets.load(npz)
    assert datasets.detect(npz) == "arrays"
    assert ds.shape == (24, 16, 16, 2) and ds.classes == ("0", "1", "2")
    assert ds.counts() == {"0": 8, "1": 8, "2": 8} and ds.ids[1] == "obj001"
    raw = np.load(npz)["x"]
    np.testing.assert_allclose(ds.images[3], raw[3] / 255.0, rtol=1e-6)  # 8-bit scaled
    # HDF5, channels first, float pixels in their units, text labels, a meta column
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 1.0, (12, 3, 10, 10)).astype(np.float32)
    with h5py.File(tmp_path / "g.h5", "w") as f:
        f["X"] = x
        f["Y"] = np.array([b"star", b"galaxy", b"qso"] * 4)
        f["mag"] = np.linspace(18, 22, 12)
    ds = datasets.load(tmp_path / "g.h5")
    assert datasets.detect(tmp_path / "g.h5") == "arrays"
    assert ds.shape == (12, 10, 10, 3) and ds.classes == ("galaxy", "qso", "star")
    np.testing.assert_allclose(ds.images[0], np.moveaxis(x[0], 0, -1))
    assert ds.labels[:3].tolist() == [2, 0, 1] and list(ds.meta.columns) == ["mag"]
    named = datasets.load(npz, class_names="a,b,c", resize=8)
    assert named.classes == ("a", "b", "c") and named.shape == (24, 8, 8, 2)
    # 3-D grey images, read lazily from HDF5 when channels-last
    with h5py.File(tmp_path / "grey.h5", "w") as f:
        f["cutouts"] = np.zeros((6, 9, 9), np.uint16)
        f["target"] = np.array([0, 1] * 3)
    assert datasets.load(tmp_path / "grey.h5").shape == (6, 9, 9, 1)
    # images alone: an error when training, scored unlabelled by predict
    from benchmark.datasets._build import UNLABELLED, for_scoring

    np.savez(tmp_path / "new.npz", stamps=np.ones((3, 16, 16, 2), np.float32))
    with pytest.raises(errors.DataFormatError, match="no labels array of length 3"):
        datasets.load(tmp_path / "new.npz", loader="arrays")
    with for_scoring():
        assert datasets.detect(tmp_path / "new.npz") == "arrays"
        scored = datasets.load(tmp_path / "new.npz")
    assert scored.classes == (UNLABELLED,) and scored.shape == (3, 16, 16, 2)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(errors.DataFormatError, match="bad.npz: not a readable .npz or HDF5"):
        datasets.load(tmp_path / "bad.npz", loader="arrays")


def test_split_arrays_keep_their_parts(tmp_path):
    """Keras' layout (x_train, y_train, x_test, y_test, here with x_val): one data set
    whose parts are its predefined split."""
    rng = np.random.default_rng(0)
    parts = {"train": 12, "val": 6, "test": 8}
    arrays = {}
    for part, n in parts.items():
        arrays[f"x_{part}"] = rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)
        arrays[f"y_{part}"] = np.arange(n) % 2
    np.savez(tmp_path / "mnist.npz", **arrays)
    assert datasets.detect(tmp_path / "mnist.npz") == "arrays"
    ds = datasets.load(tmp_path / "mnist.npz")
    assert ds.shape == (26, 8, 8, 1) and ds.classes == ("0", "1")
    split, counts = np.unique(ds.predefined_split, return_counts=True)
    assert dict(zip(split, counts.tolist())) == {"test": 8, "train": 12, "validation": 6}
    assert ds.ids[12] == "validation/0" and ds.ids[-1] == "test/7"
    np.testing.assert_allclose(ds.images[18, ..., 0], arrays["x_test"][0] / 255.0, rtol=1e-6)
    del arrays["y_val"]  # a part without its labels: not this layout, and not one array
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(errors.DataFormatError, match="several image arrays"):
        datasets.load(tmp_path / "partial.npz", loader="arrays")


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (
            {"x": np.zeros((4, 8, 8)), "notes": np.zeros(4)},
            r"no labels array of length 4 .*-p labels_key",
        ),
        (
            {"a": np.zeros((4, 8, 8)), "b": np.zeros((4, 8, 8)), "y": np.zeros(4)},
            "several image arrays",
        ),
        ({"x": np.zeros((4, 8, 8)), "y": np.array([0.5, 1, 0, 1])}, "non-integer labels"),
        ({"x": np.zeros((4, 8, 8)), "y": np.array([0, -1, 0, 1])}, "negative labels"),
        (
            {"x": np.zeros((4, 8, 8)), "y": np.array(["a", None, "b", "a"], dtype=object)},
            "array 'y' cannot be read without unpickling",
        ),
    ],
)
def test_arrays_that_do_not_make_a_data_set_are_one_line_errors(tmp_path, arrays, message):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(errors.AstrobenchError, match=message):
        datasets.load(tmp_path / "d.npz", loader="arrays")


def test_catalog_loader(tmp_path):
    root = formats.write_catalog(tmp_path / "imgs", n=8)
    ds = datasets.load(
        root,
        loader="catalog",
        catalog=str(root / "labels.csv"),
        id_column="OBJID",
        label_column="CLASS",
        pattern="{id}.jpeg",
    )
    assert ds.classes == ("galaxy", "star")
    assert ds.counts() == {"galaxy": 4, "star": 4}
    assert list(ds.ids[:2]) == ["obj000", "obj001"]
    assert list(ds.meta.columns) == ["MAG"]
    ordered = datasets.load(
        root,
        loader="catalog",
        catalog="labels.csv",
        id_column="OBJID",
        label_column="CLASS",
        pattern="{id}.jpeg",
        class_names=["star", "galaxy"],
    )
    assert ordered.classes == ("star", "galaxy") and ordered.labels[1] == 0


def test_catalog_missing_files(tmp_path):
    root = formats.write_catalog(tmp_path / "imgs", n=6)
    (root / "obj002.jpeg").unlink()
    kw = dict(
        loader="catalog",
        catalog="labels.csv",
        id_column="OBJID",
        label_column="CLASS",
        pattern="{id}.jpeg",
    )
    with pytest.raises(
        errors.MissingPathError, match=r"obj002.jpeg: image file not found \(1 of 6"
    ):
        datasets.load(root, **kw)
    ds = datasets.load(root, missing="skip", **kw)
    assert len(ds) == 5 and ds.provenance["removed"][0]["count"] == 1


def test_fits_stamps_header_labels(tmp_path):
    root = formats.write_fits_stamps(tmp_path / "stamps", n=6)
    assert datasets.detect(root) == "fits-stamps"
    ds = datasets.load(root)
    assert ds.shape == (6, 21, 21, 3)
    assert ds.channels == ("G", "R", "I")
    assert ds.classes == ("bogus", "real") and ds.counts() == {"bogus": 3, "real": 3}
    assert ds.ids[0] == "stamp00"
    only_r = datasets.load(root, channels=["R"])
    assert only_r.shape == (6, 21, 21, 1)


def test_fits_stamps_cube_with_catalog(tmp_path):
    from astropy.io import fits

    root = tmp_path / "cubes"
    root.mkdir()
    for i in range(4):
        fits.PrimaryHDU(np.full((2, 5, 5), i, np.float32)).writeto(root / f"c{i}.fits")
    pd.DataFrame({"name": [f"c{i}" for i in range(4)], "kind": [0, 1, 1, 0]}).to_csv(
        root / "cat.csv", index=False
    )
    ds = datasets.load(
        root,
        loader="fits-stamps",
        catalog="cat.csv",
        id_column="name",
        label_column="kind",
        class_names="bogus,real",
    )
    assert ds.shape == (4, 5, 5, 2)
    assert ds.labels.tolist() == [0, 1, 1, 0] and ds.classes == ("bogus", "real")
    np.testing.assert_allclose(ds.images[3], 3.0)


def test_ztf_parquet(tmp_path):
    path = formats.write_ztf_parquet(tmp_path / "alerts.parquet", n=5, edge=2)
    assert datasets.detect(path) == "ztf-alerts"
    ds = datasets.load(path)
    assert ds.shape == (5, 63, 63, 3)
    assert ds.channels == ("science", "reference", "difference")
    assert ds.counts() == {"unlabelled": 5}
    assert {"magpsf", "fwhm", "rb", "drb", "objectId", "candid"} <= set(ds.meta.columns)
    assert ds.ids[0] == "1000"
    assert np.isfinite(ds.images).all()  # the padded edge cutout was filled
    assert ds.provenance["padded_cutouts"] == 3
    labelled = datasets.load(path, label_from="drb")
    assert labelled.classes == ("bogus", "real") and labelled.labels.tolist() == [0, 1, 0, 1, 0]
    with pytest.raises(errors.NonFiniteError, match="1 image"):
        datasets.load(path, nan_policy="raise")
    assert len(datasets.load(path, nan_policy="drop")) == 4


def test_ztf_avro_with_catalog(tmp_path):
    path = formats.write_ztf_avro(tmp_path / "alerts.avro", n=4)
    pd.DataFrame(
        {"candid": [1000, 1001, 1002, 1003], "label": ["real", "bogus", "real", "real"]}
    ).to_csv(tmp_path / "vetting.csv", index=False)
    assert datasets.detect(path) == "ztf-alerts"
    ds = datasets.load(path, catalog=str(tmp_path / "vetting.csv"))
    assert ds.counts() == {"bogus": 1, "real": 3}
    assert ds.meta["magpsf"].between(18, 19).all()


def test_ztf_cutout_pixels_round_trip(tmp_path):
    alerts = formats.ztf_alerts(1)
    path = tmp_path / "one.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(alerts), path)
    import gzip
    import io

    from astropy.io import fits

    expected = fits.getdata(io.BytesIO(gzip.decompress(alerts[0]["cutoutDifference"]["stampData"])))
    ds = datasets.load(path)
    np.testing.assert_allclose(ds.images[0, :, :, 2], expected)
