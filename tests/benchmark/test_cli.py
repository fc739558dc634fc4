import subprocess
import sys

import formats
import h5py
import numpy as np
import pytest

from benchmark.cli import main, parse_param
from benchmark.datasets import read_store


def test_help_runs_as_module():
    out = subprocess.run(
        [sys.executable, "-m", "benchmark", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for word in ("list", "run", "report", "data"):
        assert word in out.stdout


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for line in (
        "loaders:",
        "galaxy10",
        "ztf-alerts",
        "label schemes:",
        "sdss-sn",
        "visual (3)",
        "galaxy-zoo:gz4",
        "feature sets:",
        "baselines:",
        "deep models:",
        "presets:",
    ):
        assert line in out


@pytest.mark.parametrize(
    "text, expected",
    [
        ("catalog=labels.csv", ("catalog", "labels.csv")),
        ("pattern={id}.jpeg", ("pattern", "{id}.jpeg")),
        ("crop=64", ("crop", 64)),
        ("threshold=0.5", ("threshold", 0.5)),
        ("resize=32,48", ("resize", [32, 48])),
        ("channels=g,r", ("channels", ["g", "r"])),
        ("missing=skip", ("missing", "skip")),
        ("flag=true", ("flag", True)),
    ],
)
def test_parse_param(text, expected):
    assert parse_param(text) == expected


def test_data_info_catalog_example(tmp_path, capsys):
    root = formats.write_catalog(tmp_path / "imgs", n=6)
    code = main(
        [
            "-q",
            "data",
            "info",
            str(root),
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
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "6 x 16 x 16 x 3 float32" in out
    assert "galaxy: 3, star: 3" in out


def test_data_info_prints_detected_format(tmp_path, capsys):
    path = formats.write_sdss_sn(tmp_path / "sdss.h5", n=20)
    assert main(["data", "info", str(path), "--scheme", "binary"]) == 0
    captured = capsys.readouterr()
    assert "format: sdss-sn (detected; override with --loader)" in captured.err
    assert "binary     2 classes: Not-Real: 6, Real: 14" in captured.out
    assert "visual     3 classes: Artefact: 2, Dipole/Saturated: 4, Real: 14" in captured.out


def test_prepare_writes_store_and_refuses_overwrite(tmp_path, capsys):
    root = formats.write_galaxy_zoo(tmp_path / "gz", n=8)
    out = tmp_path / "gz4.h5"
    assert (
        main(
            [
                "-q",
                "data",
                "prepare",
                str(root),
                "-p",
                "resize=12",
                "--scheme",
                "gz4",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    ds = read_store(out)
    assert ds.shape == (6, 12, 12, 3) and ds.classes[0] == "edge-on"
    assert ds.provenance["loader"] == "galaxy-zoo"
    assert ds.provenance["preprocess"]["resize"] == [12, 12]
    with h5py.File(out) as f:
        stored = f["images"][()]
    before = out.read_bytes()
    capsys.readouterr()
    assert main(["-q", "data", "prepare", str(root), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before
    # the store loads back through the generic entry point with the same pixels
    assert main(["-q", "data", "info", str(out)]) == 0
    np.testing.assert_array_equal(np.asarray(read_store(out).images), stored)


def test_split_command(tmp_path, capsys):
    path = formats.write_sdss_sn(tmp_path / "sdss.h5", n=40)
    out = tmp_path / "split.json"
    assert (
        main(
            ["-q", "data", "split", str(path), "--scheme", "binary", "--seed", "3", "-o", str(out)]
        )
        == 0
    )
    assert "stratified split" in capsys.readouterr().out
    from benchmark import datasets
    from benchmark.splits import Split

    split = Split.load(out, datasets.load(path, scheme="binary"))
    assert split.seed == 3 and sum(split.sizes().values()) == 40


def test_report_of_a_missing_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no results found" in err[0]
