"""Each kind of bad input gives one clear message (API exception type and CLI line)."""

import formats
import h5py
import numpy as np
import pytest

from benchmark import datasets
from benchmark.cli import main
from benchmark.errors import (
    ConfigError,
    CorruptFileError,
    DataFormatError,
    EmptyClassError,
    MissingPathError,
    NonFiniteError,
    ShapeMismatchError,
    UnknownNameError,
)


def cli_error(capsys, *argv):
    """Run the CLI, return (exit code, the one stderr line)."""
    capsys.readouterr()
    code = main(["-q", *map(str, argv)])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, no traceback
    return code, err[0]


def test_missing_path(tmp_path, capsys):
    with pytest.raises(MissingPathError, match="nowhere: no such file or folder"):
        datasets.load(tmp_path / "nowhere")
    code, line = cli_error(capsys, "data", "info", tmp_path / "nowhere")
    assert code == 2 and line.startswith("error: ") and "no such file or folder" in line


def test_hdf5_without_expected_keys_names_found_keys(tmp_path, capsys):
    path = tmp_path / "odd.h5"
    with h5py.File(path, "w") as f:
        f["pixels"] = np.zeros((2, 4, 4, 3))
        f["weight"] = [0, 1]  # not a name the arrays loader takes for labels
    with pytest.raises(DataFormatError, match=r"unrecognised keys \(pixels, weight\)"):
        datasets.load(path)
    with pytest.raises(
        DataFormatError, match=r"missing key\(s\) images, ans; keys found: pixels, weight"
    ):
        datasets.load(path, loader="galaxy10")
    code, line = cli_error(capsys, "data", "info", path, "--loader", "sdss-sn")
    assert code == 2 and "keys found: pixels, weight" in line
    code, line = cli_error(capsys, "data", "info", path)
    assert code == 2 and "--loader arrays -p images_key=... -p labels_key=..." in line
    ds = datasets.load(path, loader="arrays", labels_key="weight")  # named: it loads
    assert ds.shape == (2, 4, 4, 3) and ds.classes == ("0", "1")


def test_labels_and_images_of_different_lengths(tmp_path, capsys):
    path = tmp_path / "g10.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((5, 8, 8, 3), np.uint8)
        f["ans"] = [0, 1, 2]
    with pytest.raises(ShapeMismatchError, match="5 images but 3 labels"):
        datasets.load(path)
    code, line = cli_error(capsys, "data", "info", path)
    assert code == 2 and "5 images but 3 labels" in line


def test_mixed_image_sizes_name_the_file(tmp_path, capsys):
    root = formats.write_image_folder(tmp_path / "imgs", n=2, size=(20, 20))
    formats.write_jpeg(root / "spiral" / "big.jpg", (30, 20))
    with pytest.raises(ShapeMismatchError, match=r"big.jpg: image is 30x20x3 but .* is 20x20x3"):
        datasets.load(root)
    code, line = cli_error(capsys, "data", "info", root)
    assert code == 2 and "big.jpg" in line and "resize" in line


def test_corrupt_image_names_the_file(tmp_path, capsys):
    root = formats.write_image_folder(tmp_path / "imgs", n=2)
    (root / "spiral" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    with pytest.raises(CorruptFileError, match="broken.jpg: unreadable or corrupt image"):
        datasets.load(root)
    code, line = cli_error(capsys, "data", "info", root)
    assert code == 2 and "broken.jpg" in line


def test_truncated_image_names_the_file(tmp_path):
    root = formats.write_image_folder(tmp_path / "imgs", n=2, size=(64, 64))
    good = (root / "spiral" / "spiral_0.jpg").read_bytes()
    (root / "spiral" / "spiral_0.jpg").write_bytes(good[: len(good) // 2])
    with pytest.raises(CorruptFileError, match="spiral_0.jpg"):
        datasets.load(root)


def test_nan_pixels_error_by_default_and_policies(tmp_path, capsys):
    root = formats.write_fits_stamps(tmp_path / "stamps", n=4, nan_in=1)
    with pytest.raises(
        NonFiniteError, match=r"1 image\(s\) contain NaN or inf pixels \(first: id 'stamp01'\)"
    ):
        datasets.load(root)
    code, line = cli_error(capsys, "data", "info", root)
    assert code == 2 and "nan_policy=fill" in line
    filled = datasets.load(root, nan_policy="fill", fill_value=-5)
    assert len(filled) == 4 and filled.images[1, 3, 4].tolist() == [-5, -5, -5]
    dropped = datasets.load(root, nan_policy="drop")
    assert list(dropped.ids) == ["stamp00", "stamp02", "stamp03"]
    assert dropped.provenance["removed"][0] == {
        "count": 1,
        "reason": "NaN or inf pixels (nan_policy='drop')",
        "ids": ["stamp01"],  # which ones, so nothing vanishes unnamed
    }


def test_nan_in_hdf5_stamps(tmp_path):
    path = formats.write_sdss_sn(tmp_path / "sdss.h5", n=10)
    with h5py.File(path, "a") as f:
        images = f["images"][()]
        images[4, 0, 0, 1] = np.inf
        f["images"][...] = images
    with pytest.raises(NonFiniteError, match="first: id '4'"):
        datasets.load(path)
    assert len(datasets.load(path, nan_policy="drop")) == 9


def test_empty_class_folder(tmp_path, capsys):
    root = formats.write_image_folder(tmp_path / "imgs", n=2)
    (root / "irregular").mkdir()
    with pytest.raises(EmptyClassError, match="irregular: class folder holds no images"):
        datasets.load(root)
    code, line = cli_error(capsys, "data", "info", root, "--loader", "image-folder")
    assert code == 2 and "irregular" in line


def test_unknown_loader_lists_valid(tmp_path, capsys):
    with pytest.raises(
        UnknownNameError, match="unknown loader 'jpeg'; valid names: arrays, catalog, fits-stamps"
    ):
        datasets.load(tmp_path, loader="jpeg")
    code, line = cli_error(capsys, "data", "info", tmp_path, "--loader", "jpeg")
    assert code == 2 and "valid names:" in line and "ztf-alerts" in line


def test_unknown_scheme_lists_valid(tmp_path, capsys):
    path = formats.write_sdss_sn(tmp_path / "sdss.h5", n=10)
    with pytest.raises(UnknownNameError, match="valid schemes: original, visual, binary"):
        datasets.load(path, scheme="ternary")
    gz = formats.write_galaxy_zoo(tmp_path / "gz", n=4)
    with pytest.raises(UnknownNameError, match="valid schemes: spiral-elliptical, gz4, votes"):
        datasets.load(gz, scheme="hubble")
    code, line = cli_error(capsys, "data", "info", path, "--scheme", "ternary")
    assert code == 2 and "valid schemes" in line


def test_unknown_class_name_lists_valid(tmp_path, capsys):
    root = formats.write_catalog(tmp_path / "imgs", n=4)
    kw = dict(
        loader="catalog",
        catalog="labels.csv",
        id_column="OBJID",
        label_column="CLASS",
        pattern="{id}.jpeg",
    )
    with pytest.raises(
        UnknownNameError, match="unknown class name 'star'; valid classes: galaxy, quasar"
    ):
        datasets.load(root, class_names=["galaxy", "quasar"], **kw)
    with pytest.raises(UnknownNameError, match="unknown class 'comet'"):
        datasets.load(root, drop_classes=["comet"], **kw)
    code, line = cli_error(
        capsys,
        "data",
        "info",
        root,
        "--loader",
        "catalog",
        "-p",
        "catalog=labels.csv",
        "-p",
        "id_column=OBJID",
        "-p",
        "label_column=CLASS",
        "-p",
        "pattern={id}.jpeg",
        "--drop-classes",
        "comet",
    )
    assert code == 2 and "comet" in line


def test_unknown_loader_parameter(tmp_path, capsys):
    root = formats.write_image_folder(tmp_path / "imgs", n=2)
    with pytest.raises(
        ConfigError, match="unknown parameter 'catalogue' for loader 'image-folder'"
    ):
        datasets.load(root, catalogue="x.csv")
    code, line = cli_error(capsys, "data", "info", root, "-p", "catalogue=x.csv")
    assert code == 2 and "catalogue" in line


def test_catalog_without_the_named_column(tmp_path):
    root = formats.write_catalog(tmp_path / "imgs", n=4)
    with pytest.raises(DataFormatError, match="no column 'ID'; columns found: OBJID, CLASS, MAG"):
        datasets.load(
            root, loader="catalog", catalog="labels.csv", id_column="ID", label_column="CLASS"
        )


def test_undetectable_format(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataFormatError, match="cannot tell the data format; pass --loader NAME"):
        datasets.load(tmp_path)


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "alerts.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(CorruptFileError, match="not a readable Parquet file"):
        datasets.load(path, loader="ztf-alerts")


def test_parquet_without_cutouts(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "table.parquet"
    pq.write_table(pa.table({"candid": [1, 2], "ra": [1.0, 2.0]}), path)
    with pytest.raises(DataFormatError, match="missing column\\(s\\) cutoutScience"):
        datasets.load(path, loader="ztf-alerts")
