"""ntk-verify: certified high-precision kernels of deep infinite-width ReLU networks.

The engine: kernel recursions (:mod:`verify.kernel.routes`), precision control
(:mod:`verify.core.precision`), exact datasets (:mod:`verify.data.dataset`). It knows nothing
of claims or reports.

The names below load on first use (PEP 562), so ``import verify`` is instant and loads
none of numpy, mpmath, python-flint, sympy or matplotlib; the command line's ``--help``
stays fast for the same reason.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verify.core.balls import Ball
    from verify.core.errors import InputError, PrecisionNotReached, SingularKernelError
    from verify.core.params import DEFAULT, Parameterization
    from verify.data.dataset import Dataset
    from verify.kernel.routes import KERNELS, ROUTES, KernelResult, kernel_matrix, kernel_sweep, kernels_sweep

LAZY = {
    "Ball": "verify.core.balls",
    "InputError": "verify.core.errors",
    "PrecisionNotReached": "verify.core.errors",
    "SingularKernelError": "verify.core.errors",
    "DEFAULT": "verify.core.params",
    "Parameterization": "verify.core.params",
    "Dataset": "verify.data.dataset",
    "KERNELS": "verify.kernel.routes",
    "ROUTES": "verify.kernel.routes",
    "KernelResult": "verify.kernel.routes",
    "kernel_matrix": "verify.kernel.routes",
    "kernel_sweep": "verify.kernel.routes",
    "kernels_sweep": "verify.kernel.routes",
}

__all__ = [
    "Ball",
    "DEFAULT",
    "Dataset",
    "InputError",
    "KERNELS",
    "KernelResult",
    "Parameterization",
    "PrecisionNotReached",
    "ROUTES",
    "SingularKernelError",
    "kernel_matrix",
    "kernel_sweep",
    "kernels_sweep",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in LAZY:
        value = getattr(importlib.import_module(LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'verify' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *LAZY])
