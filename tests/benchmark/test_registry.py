import sys

import pytest

from benchmark._registry import Registry
from benchmark.errors import MissingDependencyError, UnknownNameError


def test_lazy_import_and_unknown_names():
    reg = Registry("thing")
    reg.add("dec", "json:JSONDecoder", help="a decoder")
    reg.add("gone", "astrobench_no_such_module:thing")
    assert reg.names() == ["dec", "gone"] and "dec" in reg
    assert reg.describe("dec") == "a decoder"
    import json

    assert reg.get("dec") is json.JSONDecoder
    with pytest.raises(UnknownNameError, match="unknown thing 'x'; valid names: dec, gone"):
        reg.get("x")
    with pytest.raises(ModuleNotFoundError, match="astrobench_no_such_module"):
        reg.get("gone")  # not an optional dependency: a bug, raised as it is

    with pytest.raises(ValueError, match="registered twice"):
        reg.add("dec", "json:JSONEncoder")


def test_a_missing_optional_dependency_names_its_extra(tmp_path, monkeypatch):
    plugin = tmp_path / "astrobench_plugin_needing_dask.py"
    plugin.write_text("raise ModuleNotFoundError(\"No module named 'dask'\", name='dask')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("executor")
    reg.add("cluster", "astrobench_plugin_needing_dask:Cluster")
    with pytest.raises(
        MissingDependencyError,
        match=r"executor 'cluster' needs the optional package 'dask'; install it with: "
        r'pip install "astrobench\[distributed\]"',
    ):
        reg.get("cluster")


def test_metadata_without_import():
    reg = Registry("loader")
    reg.add("fmt", "astrobench_no_such_module:load", help="a format", sniff="json:loads", rank=3)
    entry = reg.spec("fmt")
    assert entry["rank"] == 3 and entry.help == "a format" and reg.names(rank=3) == ["fmt"]
    import json

    assert reg.resolve("fmt", "sniff") is json.loads
    assert [e.name for e in reg.entries()] == ["fmt"]


def test_register_decorator():
    reg = Registry("model")

    @reg.register("tiny")
    def build_tiny():
        """A tiny model."""

    assert reg.get("tiny") is build_tiny and reg.describe("tiny") == "A tiny model."


def test_listing_does_not_import_heavy_packages():
    import subprocess

    code = (
        "import sys, baselines, deep, features\n"
        "from benchmark import datasets\n"
        "datasets.available_loaders(), features.available(), baselines.available(), "
        "deep.available()\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # a fresh interpreter: other tests may have imported them


def test_classical_commands_never_import_keras(tmp_path):
    """``list``, ``data ...`` and ``run --methods <classical>`` on a preset with CNNs."""
    import os
    import subprocess

    code = (
        "import sys\n"
        "from benchmark.cli import main\n"
        "assert main(['-q', 'list']) == 0\n"
        "assert main(['-q', 'data', 'info', 'sim-sdss-sn', '-p', 'n=300']) == 0\n"
        "assert main(['-q', 'run', '--quick', '--methods', 'rf', '--features', 'pca',\n"
        f"             '--jobs', '1', '--out', {str(tmp_path / 'res')!r}]) == 0\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax') if m in sys.modules))"
    )
    env = {**os.environ, "ASTROBENCH_CACHE": str(tmp_path / "cache"), "MPLBACKEND": "agg"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
