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
    with pytest.raises(MissingDependencyError, match=r'pip install "astrobench\[all\]"'):
        reg.get("gone")
    with pytest.raises(ValueError, match="registered twice"):
        reg.add("dec", "json:JSONEncoder")


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
