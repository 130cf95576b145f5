"""ntk-verify: certified high-precision kernels of deep infinite-width networks.

The engine: kernel recursions (:mod:`verify.kernel.routes`), precision control
(:mod:`verify.core.precision`), exact datasets (:mod:`verify.data.dataset`), kernel regression
and conditioning (:mod:`verify.api`). It knows nothing of claims or reports: the claim checks
are run by :func:`proofs_checks.api.check`.

The names below load on first use (PEP 562), so ``import verify`` is instant and loads
none of numpy, mpmath, python-flint, sympy or matplotlib; the command line's ``--help``
stays fast for the same reason.

The network is a :class:`~verify.core.model.Model` (``verify.Model.parse(activation="erf",
sigma_w2="1.5", architecture="resnet:0.5", parameterization="standard", width=64)``), passed as
``model=`` to the kernel, solve and condition entry points; the default is the ReLU MLP of MATH.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verify.api import condition, condition_sweep, solve, solve_sweep
    from verify.core.balls import Ball
    from verify.core.errors import InputError, PrecisionNotReached, SingularKernelError
    from verify.core.model import Model
    from verify.core.params import DEFAULT, Parameterization
    from verify.data.dataset import Dataset
    from verify.kernel.routes import KERNELS, ROUTES, KernelResult, kernel_matrix, kernel_sweep, kernels_sweep
    from verify.linalg.ball_matrix import BallMatrix, BallVector
    from verify.linalg.closed_form import SolveResult
    from verify.linalg.conditioning import ConditionResult

LAZY = {
    "Ball": "verify.core.balls",
    "InputError": "verify.core.errors",
    "PrecisionNotReached": "verify.core.errors",
    "SingularKernelError": "verify.core.errors",
    "Model": "verify.core.model",
    "DEFAULT": "verify.core.params",
    "Parameterization": "verify.core.params",
    "Dataset": "verify.data.dataset",
    "KERNELS": "verify.kernel.routes",
    "ROUTES": "verify.kernel.routes",
    "KernelResult": "verify.kernel.routes",
    "kernel_matrix": "verify.kernel.routes",
    "kernel_sweep": "verify.kernel.routes",
    "kernels_sweep": "verify.kernel.routes",
    "BallMatrix": "verify.linalg.ball_matrix",
    "BallVector": "verify.linalg.ball_matrix",
    "SolveResult": "verify.linalg.closed_form",
    "ConditionResult": "verify.linalg.conditioning",
    "solve": "verify.api",
    "solve_sweep": "verify.api",
    "condition": "verify.api",
    "condition_sweep": "verify.api",
}

__all__ = [
    "Ball",
    "BallMatrix",
    "BallVector",
    "ConditionResult",
    "DEFAULT",
    "Dataset",
    "InputError",
    "KERNELS",
    "KernelResult",
    "Model",
    "Parameterization",
    "PrecisionNotReached",
    "ROUTES",
    "SingularKernelError",
    "SolveResult",
    "condition",
    "condition_sweep",
    "kernel_matrix",
    "kernel_sweep",
    "kernels_sweep",
    "solve",
    "solve_sweep",
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
