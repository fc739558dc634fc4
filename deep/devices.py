"""Which Keras backend and devices the CNNs use, and a warning when a GPU goes unused.

``python -m benchmark info`` prints :func:`backend_info`; every experiment with a CNN
records it in ``metadata.json``; ``run`` warns when the machine has an NVIDIA GPU that
the backend cannot see (e.g. ``tensorflow-cpu`` from ``astrobench[deep]``), saying what
to install instead.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["backend_info", "nvidia_gpu_present", "unused_gpu_warning"]

#: What to install for GPU training, per Keras backend.
GPU_INSTALL = {
    "tensorflow": 'pip install "astrobench[gpu]" (TensorFlow with its CUDA libraries, Linux '
    "x86-64) in place of astrobench[deep]",
    "torch": "a CUDA build of PyTorch (see pytorch.org for the command)",
    "jax": 'pip install "jax[cuda12]"',
}


def nvidia_gpu_present() -> bool:
    """True when the machine has an NVIDIA GPU and driver (whatever Python can use)."""
    gpus = Path("/proc/driver/nvidia/gpus")
    if gpus.is_dir() and any(gpus.iterdir()):
        return True
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def _devices(backend: str) -> list[str]:
    """The backend's devices as ``TYPE:name`` strings."""
    if backend == "tensorflow":
        import tensorflow as tf

        return [f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()]
    if backend == "torch":
        import torch

        found = ["CPU:cpu"]
        if torch.cuda.is_available():
            found += [
                f"GPU:{torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())
            ]
        return found
    if backend == "jax":
        import jax

        return [f"{d.platform.upper()}:{d.device_kind}" for d in jax.devices()]
    return []


def backend_info() -> dict:
    """The Keras backend, its version, its devices, and whether a GPU is used.

    Returns
    -------
    dict
        ``backend``, ``keras``, ``devices`` (``TYPE:name``), ``gpu`` (the backend sees
        one), ``gpu_present`` (the machine has one) and ``warning`` (or ``None``).
    """
    from ._keras import import_keras

    keras = import_keras()
    backend = keras.backend.backend()
    devices = _devices(backend)
    info = {
        "backend": backend,
        "keras": keras.__version__,
        "devices": devices,
        "gpu": any(d.startswith(("GPU", "CUDA")) for d in devices),
        "gpu_present": nvidia_gpu_present(),
    }
    info["warning"] = unused_gpu_warning(info)
    return info


def unused_gpu_warning(info: dict) -> str | None:
    """One line when the machine has a GPU the backend does not use, else ``None``."""
    if info["gpu"] or not info["gpu_present"]:
        return None
    how = GPU_INSTALL.get(info["backend"], "a GPU build of the backend")
    return (
        f"this machine has an NVIDIA GPU but Keras' {info['backend']} backend sees none, so "
        f"the CNNs train on the CPU; for the GPU install {how}"
    )
