"""ntk-verify: certified high-precision kernels of deep infinite-width ReLU networks.

The engine: kernel recursions (:mod:`verify.kernels`), precision control
(:mod:`verify.precision`), exact datasets (:mod:`verify.dataset`). It knows nothing
of claims or reports.
"""

from .balls import Ball
from .dataset import Dataset
from .errors import InputError, PrecisionNotReached, SingularKernelError
from .kernels import KERNELS, ROUTES, KernelResult, kernel_matrix, kernel_sweep
from .params import DEFAULT, Parameterization

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
]

__version__ = "0.1.0"
