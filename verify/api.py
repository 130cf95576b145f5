"""Typed notebook entry points for the linear algebra: ``verify.solve`` and ``verify.condition``.

The same certified computations as ``ntk-verify solve`` and ``ntk-verify condition``
(without their float64 columns), with keyword arguments instead of options. Points
and labels go in as rows of exact numbers (decimal strings, ints, Fractions; a
:class:`~verify.data.dataset.Dataset` is used as is); precision is asked in correct
decimal ``digits``; results are :class:`~verify.linalg.closed_form.SolveResult` and
:class:`~verify.linalg.conditioning.ConditionResult`, whose matrices are
:class:`~verify.linalg.ball_matrix.BallMatrix` (``.mid``/``.rad`` numpy arrays,
``.mid_mpmath()``, ``.decimals(digits)``, and ``m[i][j]`` a
:class:`~verify.core.balls.Ball`). Every number is a certified enclosure.

For two orthonormal training points and the test point (1, 1)/sqrt 2 at depth 2, the
NNGP is kappa = [[1, 1/pi], [1/pi, 1]] and kappa_Z = h(1/sqrt 2) (1, 1), so each weight is
h(1/sqrt 2) / (1 + 1/pi), and the eigenvalues of kappa are 1 -+ 1/pi:

>>> s = solve([["1", "0"], ["0", "1"]], [["1"], ["-1"]], [["1", "1"]], 2, kernel="nngp", digits=20)
>>> s.weights.decimals(20)[0][0]["mid"], s.predictions[0][0].contains(0)
('0.57301335053772983099210', True)
>>> c = condition([["1", "0"], ["0", "1"]], 2, kernel="nngp", digits=20)
>>> c.eigenvalues.decimals(10)[0]["mid"], c.log10_cond2               # 1 - 1/pi; log10((pi + 1)/(pi - 1))
('0.6816901138162', 0.29)
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from verify.core.model import Model
from verify.core.params import Parameterization
from verify.data.dataset import Dataset
from verify.linalg import closed_form, conditioning
from verify.linalg.closed_form import SolveResult
from verify.linalg.conditioning import ConditionResult

Points = Dataset | Sequence[Sequence[object]] | np.ndarray
Rows = Sequence[Sequence[object]]
Exact = str | int | Fraction
Scheduler = Any          # None (local processes), a Dask scheduler address, or a dask.distributed.Client


def _dataset(points: Points, project: str, name: str) -> Dataset:
    return points if isinstance(points, Dataset) else Dataset.from_rows(points, project, name)


def solve_sweep(train: Points, labels: Rows, test: Points, depths: Sequence[int], *, kernel: str = "ntk",
                digits: int = 30, time: Exact | None = None, lr: Exact = 1, time_scale: str = "normalized",
                f0_train: Rows | None = None, f0_test: Rows | None = None,
                param: Parameterization | None = None, project: str = "normalize",
                progress: bool | None = None, model: Model | None = None,
                scheduler: Scheduler = None) -> list[SolveResult]:
    """Certified closed-form solutions at every depth in ``depths`` (kernels from one sweep); see :func:`solve`."""
    flow = closed_form.flow_time(time, lr, time_scale) if time is not None else None
    return closed_form.solve_sweep(_dataset(train, project, "train"), labels, _dataset(test, project, "test"), depths,
                                   kernel, digits, flow, f0_train, f0_test, param, progress, model=model,
                                   scheduler=scheduler)


def solve(train: Points, labels: Rows, test: Points, depth: int, *, kernel: str = "ntk", digits: int = 30,
          time: Exact | None = None, lr: Exact = 1, time_scale: str = "normalized",
          f0_train: Rows | None = None, f0_test: Rows | None = None, param: Parameterization | None = None,
          project: str = "normalize", progress: bool | None = None, model: Model | None = None,
          scheduler: Scheduler = None) -> SolveResult:
    """Certified kernel regression at one depth: W = kappa_Z kappa^-1, f_inf(Z) and, with ``time``, f_t.

    ``train`` (n points), ``test`` (m points), ``labels`` (n rows of k values) and ``f0_*``
    (f_0 on the points; 0 by default) are exact. ``time`` = t and ``lr`` = eta give
    f_t(Z) = f_0(Z) + kappa_Z kappa^-1 (I - exp(-eta t kappa)) (Y - f_0(X)) and f_t(X),
    with the normalized kernel (``time_scale="normalized"``) or the raw one (``"raw"``).
    Every entry of the result has ``digits`` correct digits (relative to max(1, |value|)).
    The network is ``param`` (seed family: ReLU MLP, NTK parameterization) or ``model``
    (any :class:`~verify.core.model.Model`, e.g. ``Model.parse(activation="erf")``), not both.
    ``scheduler`` (a ``dask.distributed`` address such as ``"tcp://host:8786"``, or a
    ``Client``; extra ``cluster``) computes the kernel blocks on that cluster instead of local
    processes: the result is the same, entry by entry.
    Raises :class:`~verify.core.errors.SingularKernelError` if kappa is singular,
    :class:`~verify.core.errors.InputError` on bad input.
    """
    return solve_sweep(train, labels, test, [depth], kernel=kernel, digits=digits, time=time, lr=lr,
                       time_scale=time_scale, f0_train=f0_train, f0_test=f0_test, param=param,
                       project=project, progress=progress, model=model, scheduler=scheduler)[0]


def condition_sweep(data: Points, depths: Sequence[int], *, kernel: str = "ntk", digits: int = 30,
                    param: Parameterization | None = None, project: str = "normalize",
                    progress: bool | None = None, model: Model | None = None,
                    scheduler: Scheduler = None) -> list[ConditionResult]:
    """Certified conditioning of kappa at every depth in ``depths`` (kernels from one sweep); see :func:`condition`."""
    return conditioning.conditioning_sweep(_dataset(data, project, "data"), depths, kernel, digits, param, progress,
                                           model=model, scheduler=scheduler)


def condition(data: Points, depth: int, *, kernel: str = "ntk", digits: int = 30,
              param: Parameterization | None = None, project: str = "normalize",
              progress: bool | None = None, model: Model | None = None,
              scheduler: Scheduler = None) -> ConditionResult:
    """Certified det(kappa), log10|det|, the ascending eigenvalues and cond_2 of kappa = K(X, X) at one depth.

    Every quantity has ``digits`` relative digits (log10|det|: correct digits). Where the
    data make kappa singular (e.g. antipodal pairs at depth 2, see
    :mod:`verify.linalg.singularity`) the result says so exactly (``singular``, ``diagnosis``,
    det = 0) instead of computing. The network is ``param`` or ``model``, as for :func:`solve`;
    outside the seed family only coinciding points and depth 1 are decided from the data, and
    the certified eigenvalues decide the rest. ``scheduler``: as for :func:`solve`.
    """
    return condition_sweep(data, [depth], kernel=kernel, digits=digits, param=param, project=project,
                           progress=progress, model=model, scheduler=scheduler)[0]
