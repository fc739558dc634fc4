"""The CNNs' backend and devices: `info`, metadata.json, and the unused-GPU warning."""

import pytest

from benchmark.cli import main
from deep import devices

keras = pytest.importorskip("keras")


def test_unused_gpu_warning_says_what_to_install():
    base = {"backend": "tensorflow", "gpu": False, "gpu_present": True}
    text = devices.unused_gpu_warning(base)
    assert "train on the CPU" in text and "astrobench[gpu]" in text
    assert "CUDA build of PyTorch" in devices.unused_gpu_warning({**base, "backend": "torch"})
    assert devices.unused_gpu_warning({**base, "gpu": True}) is None  # the GPU is used
    assert devices.unused_gpu_warning({**base, "gpu_present": False}) is None  # none to use


def test_backend_info_and_the_info_command(monkeypatch, capsys):
    info = devices.backend_info()
    assert info["backend"] == keras.backend.backend() and info["keras"] == keras.__version__
    assert any(d.startswith("CPU") for d in info["devices"])
    monkeypatch.setattr(devices, "nvidia_gpu_present", lambda: True)
    if not info["gpu"]:  # on a CPU-only install the present GPU goes unused: say so
        assert "sees none" in devices.backend_info()["warning"]
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"backend {info['backend']}" in out and "devices: " in out and "CPU" in out
