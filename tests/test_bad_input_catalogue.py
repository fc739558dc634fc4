"""The bad-input catalogue: one case per line, each a command on bad input.

Every case runs in a working folder its ``setup`` fills, and must give exactly one
line on stderr (``error: ...`` with the fragment), the exit code, and leave every
file that existed before byte-identical (plus the paths named in ``keep``), with
nothing new written.  Process-level cases (Ctrl-C, internal errors, folders that
would shadow the packages) follow the table.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pytest

from benchmark.cli import main
from benchmark.datasets import examples

EXPERIMENT = """name = "{name}"
published = {published}
[dataset]
source = "{source}"
[split]
test_size = {test_size}
val_size = {val_size}
[features]
{feature} = {{ {feature_params} }}
[methods]
{method} = {{ {method_params} }}
[run]
seeds = {seeds}
n_candidates = 0
n_bootstrap = 0
threshold = "{threshold}"
"""
DEFAULTS = dict(
    name="tiny",
    published='"du-buisson-2015"',
    source="data/tiny.h5",
    test_size=0.25,
    val_size=0.3,
    feature="pca",
    feature_params="n_components = 3",
    method="logreg",
    method_params="",
    seeds=1,
    threshold="fixed",
)


def _exp(path="exp.toml", **changes):
    def setup(w: Path):
        (w / path).parent.mkdir(parents=True, exist_ok=True)
        (w / path).write_text(EXPERIMENT.format(**{**DEFAULTS, **changes}))

    return setup


def _base(w: Path):
    """The tiny store, an experiment on it, and files and a folder of the user's."""
    examples.write_store(w / "data" / "tiny.h5", n=60)
    _exp()(w)
    (w / "notes.txt").write_text("my notes")
    (w / "notes.json").write_text('{"mine": true}')
    (w / "mine").mkdir()
    (w / "mine" / "notes.txt").write_text("mine")
    (w / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a picture of ours")


def _results(w: Path):
    """Everything of ``_base`` and a finished experiment in results/tiny."""
    _base(w)
    shutil.copytree(FINISHED, w / "results" / "tiny")


def _damage(path: str, text: str = "{ not json"):
    def setup(w: Path):
        _results(w)
        target = next(iter(sorted(w.glob(path))))
        target.write_text(text)

    return setup


def _h5(**keys):
    def setup(w: Path):
        _base(w)
        with h5py.File(w / "bad.h5", "w") as f:
            for k, v in keys.items():
                f[k] = v

    return setup


def _store_with_labels(labels):
    def setup(w: Path):
        _base(w)
        examples.write_store(w / "bad.h5", n=len(labels))
        with h5py.File(w / "bad.h5", "a") as f:
            del f["labels"]
            f["labels"] = np.asarray(labels)

    return setup


def _images(*files):
    """An image-folder tree ``imgs/<class>/<file>``: each file (name, size, mode, depth)."""

    def setup(w: Path):
        from PIL import Image

        _base(w)
        for rel, size, mode in files:
            path = w / "imgs" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if mode == "I;16":
                Image.fromarray(np.full(size, 4000, np.uint16)).save(path)
            elif rel.endswith(".fits"):
                examples.write_fits_stamps(path.parent, n=1)
            else:
                shape = (*size, 3) if mode == "RGB" else size
                Image.fromarray(np.full(shape, 100, np.uint8)).save(path)

    return setup


_RGB = [("a/1.png", (8, 8), "RGB"), ("b/2.png", (8, 8), "RGB")]


def _with(setup, extra):
    def both(w: Path):
        setup(w)
        extra(w)

    return both


def _write(rel: str, data: bytes | str):
    def setup(w: Path):
        path = w / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    return setup


def _lock(folder: str):
    """The write lock of a live run (this test process) on ``folder``."""

    def setup(w: Path):
        import json
        import socket

        (w / folder / ".astrobench.lock").write_text(
            json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "now"})
        )

    return setup


def _truncated_fits(w: Path):
    examples.write_fits_stamps(w / "stamps", n=3)
    path = w / "stamps" / "stamp01.fits"
    path.write_bytes(path.read_bytes()[:1000])


def _one_example_class(w: Path):
    from benchmark.datasets import Dataset, write_store

    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(30), np.ones(29), [2]].astype(int)
    ds = Dataset(rng.normal(size=(60, 16, 16, 3)), labels, ["a", "b", "rare"], name="rare")
    write_store(ds, w / "data" / "tiny.h5", overwrite=True)


def _one_class(w: Path):
    from benchmark.datasets import Dataset, write_store

    rng = np.random.default_rng(0)
    ds = Dataset(rng.normal(size=(40, 16, 16, 3)), np.zeros(40, int), ["a", "b"], name="one")
    write_store(ds, w / "data" / "tiny.h5", overwrite=True)


@dataclass(frozen=True)
class Case:
    id: str
    setup: object
    command: str
    code: int
    message: str
    keep: tuple = ()


C = Case
S = _base
R = _results
IMG = "imgs"
# fmt: off
CASES = [
    # the write rule: nothing of the user's is ever deleted or replaced
    C("out-is-the-working-folder", S, "run exp.toml --out . --force", 2, "is the working folder", ("exp.toml",)),  # noqa: E501
    C("out-is-a-parent", S, "run exp.toml --out .. --force", 2, "parent of the working folder"),
    C("out-holds-the-data", S, "run exp.toml --out data --force", 2, "holds the input"),
    C("out-holds-the-experiment", _with(S, _exp("conf/exp.toml")), "run conf/exp.toml --out conf --force", 2, "holds the input"),  # noqa: E501
    C("out-is-a-user-folder", S, "run exp.toml --out mine", 2, "not written by astrobench", ("mine/notes.txt",)),  # noqa: E501
    C("out-is-a-user-folder-force", S, "run exp.toml --out mine --force", 2, "not written by astrobench"),  # noqa: E501
    C("out-is-a-file", S, "run exp.toml --out notes.txt", 2, "is a file, not a folder"),
    C("out-inside-the-data-folder", _with(_images(*_RGB), _exp("img.toml", source="imgs")), "run img.toml --out imgs/results", 2, "inside the input folder"),  # noqa: E501
    C("force-with-a-data-typo", _with(R, _exp("typo.toml", source="data/tny.h5")), "run typo.toml --out results/tiny --force", 2, "no such file", ("results/tiny/runs",)),  # noqa: E501
    C("a-failed-start-creates-nothing", _with(S, _exp("typo.toml", source="data/tny.h5")), "run typo.toml --out res", 2, "no such file"),  # noqa: E501
    C("another-experiment-needs-force", _with(R, _exp("other.toml", seeds=2)), "run other.toml --out results/tiny", 2, "holds results of another experiment"),  # noqa: E501
    C("corrupt-config-json", _damage("results/tiny/config.json"), "run exp.toml --out results/tiny", 2, "corrupt results configuration"),  # noqa: E501
    C("corrupt-record-json", _damage("results/tiny/runs/*/record.json"), "report results/tiny", 2, "corrupt run record"),  # noqa: E501
    C("corrupt-metadata-json", _damage("results/tiny/metadata.json"), "report results/tiny", 2, "corrupt results metadata"),  # noqa: E501
    C("corrupt-label-review", _damage("results/tiny/label_review.csv", "id,what\n1,2\n"), "report results/tiny", 2, "corrupt label review"),  # noqa: E501
    C("report-into-a-user-folder", R, "report results/tiny -o mine", 2, "not written by astrobench"),  # noqa: E501
    C("report-into-its-results", R, "report results/tiny -o results/tiny", 2, "holds the input"),
    C("report-of-no-results", S, "report mine", 2, "no results found"),
    C("landing-over-a-user-page", _with(R, _write("results/index.html", "<p>mine</p>")), "report results", 2, "was not written by astrobench"),  # noqa: E501
    C("out-in-use-by-another-run", _with(R, _lock("results/tiny")), "run exp.toml --out results/tiny", 2, "is being written by run pid"),  # noqa: E501
    C("train-sizes-not-numbers", S, "run exp.toml --train-sizes a,b", 2, "--train-sizes"),
    C("train-sizes-out-of-range", S, "run exp.toml --train-sizes 0.1,3.5", 2, "is not a training-set size"),  # noqa: E501
    C("train-sizes-in-the-config", _with(S, _write("sweep.toml", EXPERIMENT.format(**DEFAULTS) + "train_sizes = [0]\n")), "run sweep.toml", 2, "train_sizes: 0 is not"),  # noqa: E501
    C("gallery-onto-a-file", S, "data gallery data/tiny.h5 -o pic.png", 2, "already exists"),
    C("gallery-force-onto-a-user-file", S, "data gallery data/tiny.h5 -o pic.png --force", 2, "not written by astrobench"),  # noqa: E501
    C("prepare-onto-a-file", _with(S, lambda w: examples.write_galaxy10(w / "g10.h5", n=4)), "data prepare data/tiny.h5 -o g10.h5", 2, "already exists"),  # noqa: E501
    C("prepare-force-onto-user-data", _with(S, lambda w: examples.write_galaxy10(w / "g10.h5", n=4)), "data prepare data/tiny.h5 -o g10.h5 --force", 2, "not written by astrobench"),  # noqa: E501
    C("prepare-onto-its-input", S, "data prepare data/tiny.h5 -o data/tiny.h5 --force", 2, "is an input"),  # noqa: E501
    C("prepare-into-a-folder", S, "data prepare data/tiny.h5 -o mine", 2, "is a folder"),
    C("split-force-onto-a-user-file", S, "data split data/tiny.h5 -o notes.json --force", 2, "not written by astrobench"),  # noqa: E501
    C("simulate-force-onto-a-user-file", S, "data simulate sim-sdss-sn --n 50 -o notes.txt --force", 2, "not written by astrobench"),  # noqa: E501
    # wrong data: refused with a line naming the file and the key
    C("float-labels-in-a-store", _store_with_labels([0.4, 1.6, 9.99, 1.0]), "data info bad.h5", 2, "non-integer labels (0.4 at row 0"),  # noqa: E501
    C("float-labels-sdss", _h5(images=np.zeros((3, 8, 8, 3), np.float32), classes=[0.4, 1.0, 2.5]), "data info bad.h5", 2, "key 'classes' holds non-integer labels"),  # noqa: E501
    C("text-labels-galaxy10", _h5(images=np.zeros((2, 8, 8, 3), np.uint8), ans=np.array([b"spiral", b"smooth"])), "data info bad.h5", 2, "key 'ans' holds text labels"),  # noqa: E501
    C("text-images", _h5(images=np.array([[[[b"x"]]]] * 2), classes=[0, 1]), "data info bad.h5", 2, "holds |S1 data, not pixel values"),  # noqa: E501
    C("16-bit-among-8-bit", _images(*_RGB, ("b/3.png", (8, 8), "I;16")), f"data info {IMG}", 2, "16-bit image (16-bit grayscale) among 8-bit images"),  # noqa: E501
    C("grey-among-colour", _images(*_RGB, ("b/3.png", (8, 8), "L")), f"data info {IMG}", 2, "1-channel image (grayscale) among 3-channel"),  # noqa: E501
    C("mixed-sizes", _images(*_RGB, ("b/3.png", (9, 8), "RGB")), f"data info {IMG}", 2, "images of different sizes need a size to bring them to: -p resize"),  # noqa: E501
    C("fits-among-png", _images(*_RGB, ("b/x.fits", None, "")), f"data info {IMG}", 2, "keep one kind of file"),  # noqa: E501
    C("truncated-fits", _with(S, _truncated_fits), "data info stamps", 2, "stamp01.fits: unreadable or corrupt FITS"),  # noqa: E501
    C("text-named-fits", _with(S, _write("stamps/a.fits", "SIMPLE? no, just text")), "data info stamps", 2, "a.fits: unreadable or corrupt FITS"),  # noqa: E501
    C("corrupt-jpeg", _with(_images(*_RGB), _write("imgs/a/bad.jpg", b"\xff\xd8\xff\xe0 nope")), f"data info {IMG}", 2, "bad.jpg: unreadable or corrupt image"),  # noqa: E501
    C("empty-class-folder", _with(_images(*_RGB), lambda w: (w / "imgs" / "c").mkdir()), f"data info {IMG} --loader image-folder", 2, "class folder holds no images"),  # noqa: E501
    C("nan-pixels", _with(S, lambda w: examples.write_fits_stamps(w / "stamps", n=4, nan_in=1)), "data info stamps", 2, "nan_policy=fill"),  # noqa: E501
    C("missing-path", S, "data info nowhere", 2, "no such file or folder"),
    C("unknown-loader", S, "data info data/tiny.h5 --loader jpeg", 2, "unknown loader 'jpeg'; valid names"),  # noqa: E501
    C("unknown-scheme", S, "data info data/tiny.h5 --scheme ternary", 2, "valid schemes"),
    C("unknown-loader-parameter", _images(*_RGB), f"data info {IMG} -p catalogue=x.csv", 2, "unknown parameter 'catalogue'"),  # noqa: E501
    C("missing-catalog-parameter", _images(*_RGB), f"data info {IMG} --loader catalog", 2, "needs the parameter 'catalog'"),  # noqa: E501
    C("catalog-is-a-folder", _images(*_RGB), f"data info {IMG} --loader catalog -p catalog=imgs/a", 2, "is a folder; catalog= must name a CSV"),  # noqa: E501
    C("catalog-without-the-column", _with(S, lambda w: examples.write_catalog(w / "cat")), "data info cat --loader catalog -p catalog=labels.csv -p id_column=ID", 2, "no column 'ID'"),  # noqa: E501
    C("hdf5-with-other-keys", _h5(pixels=np.zeros((2, 4, 4, 3)), weight=[0, 1]), "data info bad.h5", 2, "unrecognised keys (pixels, weight)"),  # noqa: E501
    C("labels-and-images-differ", _h5(images=np.zeros((5, 8, 8, 3), np.uint8), ans=[0, 1, 2]), "data info bad.h5", 2, "5 images but 3 labels"),  # noqa: E501
    C("corrupt-parquet", _with(S, _write("alerts.parquet", b"PAR1 not really")), "data info alerts.parquet --loader ztf-alerts", 2, "not a readable Parquet file"),  # noqa: E501
    C("undetectable-format", S, "data info mine", 2, "cannot tell the data format"),
    C("unknown-class-to-drop", S, "data info data/tiny.h5 --drop-classes comet", 2, "unknown class 'comet'"),  # noqa: E501
    C("crop-larger-than-images", S, "data info data/tiny.h5 -p crop=100", 2, "larger than the images"),  # noqa: E501
    C("unknown-normalisation", S, "data info data/tiny.h5 -p normalize=zscore", 2, "unknown normalize 'zscore'"),  # noqa: E501
    C("crop-fraction-above-one", S, "run exp.toml -p crop=1.5", 2, "crop fraction must be in (0, 1]"),  # noqa: E501
    C("run-crop-larger-than-images", S, "run exp.toml -p crop=100", 2, "larger than the images"),  # noqa: E501
    C("unknown-channel", S, "data info data/tiny.h5 -p channels=u", 2, "unknown channel 'u'"),
    # configurations that used to pass validation and crash mid-run
    C("test-size-zero", _with(S, _exp(test_size=0)), "run exp.toml", 2, "leaves no test part"),
    C("val-size-zero", _with(S, _exp(val_size=0)), "run exp.toml", 2, "leaves no validation part"),
    C("bad-estimator-value", _with(S, _exp(method="svm", method_params='C = "big"')), "run exp.toml", 2, "bad hyperparameter value"),  # noqa: E501
    C("negative-downsample", _with(S, _exp(feature="pixels", feature_params="downsample = -2")), "run exp.toml", 2, "downsample must be an integer"),  # noqa: E501
    C("too-many-components", _with(S, _exp(feature_params="n_components = 500")), "run exp.toml", 2, "n_components must be an integer in 1..31"),  # noqa: E501
    C("zero-seeds", S, "run exp.toml --seeds 0", 2, "--seeds: must be a positive integer"),
    C("zero-jobs", S, "run exp.toml --jobs 0", 2, "--jobs: must be a positive integer or -1"),
    C("a-class-with-one-example", _with(S, _one_example_class), "run exp.toml", 2, "class 'rare' has 1 example(s)"),  # noqa: E501
    C("one-class-only", _with(S, _one_class), "run exp.toml", 2, "holds one class only"),
    C("more-neighbours-than-samples", _with(S, _exp(method="knn", method_params="n_neighbors = 500")), "run exp.toml", 2, "n_neighbors = 500 exceeds the 31 training samples"),  # noqa: E501
    C("unknown-published-benchmark", _with(S, _exp(published='"no-such-paper"')), "run exp.toml", 2, "unknown published benchmark 'no-such-paper'"),  # noqa: E501
    C("name-escapes-results", _with(S, _exp(name="../../escape")), "run exp.toml", 2, "must start with a letter or digit"),  # noqa: E501
    C("unknown-method", _with(S, _exp(method="cnn")), "run exp.toml", 2, "unknown name 'cnn'"),
    C("unknown-hyperparameter", _with(S, _exp(method="rf", method_params="depth = 3")), "run exp.toml", 2, "unknown hyperparameter 'depth' for baseline 'rf'"),  # noqa: E501
    C("unknown-feature-set", _with(S, _exp(feature="hog", feature_params="")), "run exp.toml", 2, "unknown name 'hog'"),  # noqa: E501
    C("unknown-threshold", _with(S, _exp(threshold="youden")), "run exp.toml", 2, "unknown strategy 'youden'"),  # noqa: E501
    C("methods-option-unknown", S, "run exp.toml --methods cnn", 2, "unknown method 'cnn'"),
    C("unknown-key", _with(S, _write("key.toml", 'name = "k"\ncolour = "red"\n')), "run key.toml", 2, "unknown key 'colour'"),  # noqa: E501
    C("toml-not-utf8", _with(S, _write("latin.toml", 'name = "caf\xe9"\n'.encode("latin-1"))), "run latin.toml", 2, "not UTF-8 text"),  # noqa: E501
    C("toml-syntax", _with(S, _write("broken.toml", "name = \n")), "run broken.toml", 2, "invalid TOML"),  # noqa: E501
    C("experiment-is-a-folder", _with(S, lambda w: (w / "exp.d.toml").mkdir()), "run exp.d.toml", 2, "is a folder, not an experiment file"),  # noqa: E501
    C("unknown-preset", S, "run hubble", 2, "valid presets"),
    C("unlabelled-alerts", _with(_with(S, lambda w: examples.write_ztf_parquet(w / "alerts.parquet")), _exp("alerts.toml", source="alerts.parquet")), "run alerts.toml", 2, "has unlabelled samples"),  # noqa: E501
    C("real-data-typo", S, "run galaxy-zoo-binary --data nowhere --quick --methods rf", 2, "no such file or folder"),  # noqa: E501
    C("unknown-simulation", S, "data simulate sim-sky --n 8 -o sky.h5", 2, "unknown simulation 'sim-sky'"),  # noqa: E501
    C("negative-simulation-size", S, "data simulate sim-sdss-sn --n -3 -o sky.h5", 2, "--n: must be a positive integer"),  # noqa: E501
]
# fmt: on


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module", autouse=True)
def finished(tmp_path_factory, cache):
    """A finished tiny experiment, copied into the cases that need previous results."""
    global FINISHED
    work = tmp_path_factory.mktemp("finished")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        mp.setenv("ASTROBENCH_CACHE", str(cache))
        _base(work)
        assert main(["-q", "run", "exp.toml", "--out", "results/tiny", "--jobs", "1"]) == 0
    FINISHED = work / "results" / "tiny"
    return FINISHED


FINISHED: Path


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path, monkeypatch, capsys, cache):
    work = tmp_path / "work"
    work.mkdir()
    case.setup(work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("ASTROBENCH_CACHE", str(cache))
    before = _snapshot(tmp_path)
    capsys.readouterr()
    code = main(["-q", *shlex.split(case.command)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == case.code, err
    assert len(err) == 1 and err[0].startswith("error: "), err  # one line, no traceback
    assert case.message in err[0]
    assert _snapshot(tmp_path) == before  # every file byte-identical, nothing new
    for path in case.keep:
        assert (work / path).exists()


# ---------------------------------------------------------------- process-level cases
def _cli(*args, cwd, env=None, **kw):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "benchmark", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        **kw,
    )


def test_internal_error_is_one_line(tmp_path, monkeypatch, capsys, cache):
    import benchmark.runner

    def broken(config):
        raise RuntimeError("boom\nsecond line")

    _base(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASTROBENCH_CACHE", str(cache))
    monkeypatch.setattr(benchmark.runner, "plan", broken)
    capsys.readouterr()
    assert main(["-q", "run", "exp.toml", "--out", "res"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: internal error in run (RuntimeError: boom); rerun with --debug and report it"
    ]


def test_folders_named_like_the_packages_do_not_shadow_them(tmp_path):
    for name in ("features", "reports", "deep", "baselines", "benchmark"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "data.txt").write_text("a folder of the user's")
    (tmp_path / "features" / "__init__.py").write_text("raise SystemExit('wrong package')\n")
    out = _cli("list", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "feature sets:" in out.stdout and "pca" in out.stdout


def test_a_shadowing_package_on_the_path_is_named(tmp_path):
    (tmp_path / "shadow" / "reports").mkdir(parents=True)
    (tmp_path / "shadow" / "reports" / "__init__.py").write_text("")
    out = _cli("list", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "shadow")})
    err = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(err) == 1
    assert "shadows astrobench's 'reports' package" in err[0] and "shadow/reports" in err[0]


def test_results_run_twice_from_the_working_folder(tmp_path, cache):
    """The store's own folders no longer take package names (it used to create features/)."""
    _base(tmp_path)
    env = {"ASTROBENCH_CACHE": str(cache)}
    for _ in range(2):
        out = _cli("-q", "run", "exp.toml", "--out", "res", "--jobs", "1", cwd=tmp_path, env=env)
        assert out.returncode == 0, out.stderr
    assert not {"features", "reports", "deep", "baselines"} & {
        p.name for p in (tmp_path / "res").iterdir()
    }  # noqa: E501


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_says_how_to_resume_and_leaves_no_workers(tmp_path, cache):
    _base(tmp_path)
    _exp("big.toml", feature="pca", method="rf", seeds=6)(tmp_path)
    env = {**os.environ, "ASTROBENCH_CACHE": str(cache), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "benchmark", "-q", "run", "big.toml", "--out", "res"]
    proc = subprocess.Popen(
        [*cmd, "--jobs", "2"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # as from a terminal: a shell's background job (`cmd &` without job control, so
        # CI launched so) ignores SIGINT, and a child inherits that, so Ctrl-C did nothing
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "res").glob("runs/*/record.json")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the whole group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted; run the same command again to resume"
    deadline = time.time() + 20
    while time.time() < deadline and _group_alive(proc.pid):
        time.sleep(0.2)
    assert not _group_alive(proc.pid)  # no orphaned worker processes
    done = subprocess.run([*cmd, "--jobs", "1"], cwd=tmp_path, env=env, capture_output=True)
    finished = list((tmp_path / "res").glob("runs/*/record.json"))
    assert done.returncode == 0 and len(finished) == 12  # rf and the shortcut check, 6 seeds
