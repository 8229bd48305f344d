"""Which array library and device a stack trains on: numpy on the CPU (the default), or PyTorch on
an NVIDIA GPU, both reached through the Python array API standard (array-api-compat).

The engine's modules take their namespace from the arrays they are given (`namespace`), so one code
path serves every library; numpy keeps its own faster in-place paths where they exist (`is_numpy`),
bit-identical to ENGINE_VERSION's stored runs. A run's backend is part of its identity
(`engine_version`): runs of different backends are never paired in a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

import lossdb.core as core
import numpy as np
from array_api_compat import array_namespace, is_numpy_namespace
from lossdb.core.errors import ConfigError

DEVICES = ("cpu", "cuda", "auto")
CUDA_EXTRA = "pip install 'lossdb[cuda]'"


@dataclass(frozen=True)
class Backend:
    """An array namespace, the device arrays live on, and the name runs record ("numpy", "torch-cuda")."""

    name: str
    xp: Any
    device: Any = None

    @property
    def is_numpy(self) -> bool:
        """Whether this is the default numpy engine."""
        return self.name == "numpy"

    def asarray(self, a: np.ndarray) -> Any:
        """A numpy array as this backend's array on its device (numpy: the array itself)."""
        if self.is_numpy:
            return a
        return self.xp.asarray(a, device=self.device) if self.device is not None else self.xp.asarray(a)

    def describe(self) -> dict[str, str]:
        """Provenance of runs computed here: backend, library version and device name."""
        module = getattr(self.xp, "__name__", "")
        lib = __import__(module.split(".")[-1] if module.startswith("array_api_compat.") else module.split(".")[0])
        out = {"backend": self.name, "library": lib.__name__, "version": str(getattr(lib, "__version__", "?"))}
        if self.name == "torch-cuda":
            out["device"] = lib.cuda.get_device_name(self.device)
        elif self.name == "cupy-cuda":
            out["device"] = lib.cuda.runtime.getDeviceProperties(0)["name"].decode()
        else:
            out["device"] = "cpu"
        return out

    def engine_version(self) -> str:
        """The engine version runs of this backend are stored under: ENGINE_VERSION for numpy,
        ENGINE_VERSION+name otherwise (same numbers only to rounding, so never the same run)."""
        return core.ENGINE_VERSION if self.is_numpy else f"{core.ENGINE_VERSION}+{self.name}"


NUMPY = Backend("numpy", np)


_BY_TYPE: dict[type, Any] = {}  # array type → namespace: array_namespace costs ~20 µs a call


def namespace(*arrays: Any) -> Any:
    """The array-API namespace of the given arrays (numpy's own module for numpy arrays)."""
    kind = type(arrays[0])
    xp = _BY_TYPE.get(kind)
    if xp is None:
        xp = array_namespace(*arrays)
        xp = _BY_TYPE[kind] = np if is_numpy_namespace(xp) else xp
    return xp


def is_numpy(xp: Any) -> bool:
    """Whether xp is numpy (its own module or array-api-compat's wrapper)."""
    return xp is np or is_numpy_namespace(xp)


def to_numpy(a: Any) -> np.ndarray:
    """Any backend's array as a numpy array on the host (one transfer)."""
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "detach"):  # torch
        return a.detach().cpu().numpy()
    if hasattr(a, "get"):  # cupy
        return a.get()
    return np.asarray(a)  # array-api-strict and other CPU libraries


def resolve(device: str = "cpu") -> Backend:
    """The backend for `--device`: cpu → numpy; cuda → PyTorch on the GPU (one clear sentence if
    missing); auto → the GPU when PyTorch sees one, else numpy."""
    if device not in DEVICES:
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cpu":
        return NUMPY
    torch = _torch()
    if torch is not None and torch.cuda.is_available():
        return _cuda_backend(torch)
    if device == "auto":
        return NUMPY
    if torch is None:
        raise ConfigError(f"--device cuda needs PyTorch, which is not installed: {CUDA_EXTRA} "
                          "(or use --device cpu)")
    raise ConfigError("--device cuda: PyTorch is installed but sees no CUDA GPU "
                      f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); use --device cpu")


def by_name(name: str) -> Backend:
    """A backend from the name a stack carries to its worker ("numpy", "torch-cuda", "array-api-strict")."""
    if name == "numpy":
        return NUMPY
    if name == "torch-cuda":
        torch = _torch()
        if torch is None or not torch.cuda.is_available():
            raise ConfigError("this stack was planned for torch-cuda, but this worker has no CUDA GPU")
        return _cuda_backend(torch)
    if name == "torch-cpu":  # the torch code path without a GPU (tests, benchmarks)
        torch = _torch()
        if torch is None:
            raise ConfigError(f"the torch-cpu backend needs PyTorch: {CUDA_EXTRA}")
        from array_api_compat import torch as xp

        return Backend("torch-cpu", xp, "cpu")
    if name == "cupy-cuda":  # the alternative GPU library, measured against torch by bench/accelerator.py
        try:
            import cupy  # noqa: F401
        except ImportError:
            raise ConfigError("the cupy-cuda backend needs CuPy: pip install cupy-cuda12x") from None
        from array_api_compat import cupy as xp

        return Backend("cupy-cuda", xp)
    if name == "array-api-strict":
        import array_api_strict

        return Backend(name, array_api_strict)
    raise ConfigError(f"unknown array backend {name!r}")


@lru_cache(maxsize=1)
def _cuda_backend(torch: ModuleType) -> Backend:
    from array_api_compat import torch as xp

    # float32 matrix products in full float32, as numpy's: no TF32 rounding of the inputs.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return Backend("torch-cuda", xp, torch.device("cuda"))


def _torch() -> ModuleType | None:
    try:
        import torch
    except ImportError:
        return None
    return torch
