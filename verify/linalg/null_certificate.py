"""Certified upper bounds on lambda_min(kappa) from the exact null vector of a singular training set.

Where :func:`~verify.linalg.singularity.diagnose` finds kappa singular, it gives an exact
certificate u (kappa u = 0 in exact arithmetic). Evaluated on the certified kernel balls,
|kappa u|_2 / |u|_2 is then a certified upper bound on lambda_min(kappa) that is as small
as the kernel's precision allows: an independent numeric confirmation of the diagnosis.
"""

from __future__ import annotations

from flint import arb, arb_mat, ctx

from verify.core.balls import Ball
from verify.core.params import Parameterization
from verify.data.dataset import Dataset
from verify.kernel.routes import kernel_matrix
from verify.linalg.singularity import diagnose


def rayleigh_bound(k: arb_mat, u: list[arb]) -> arb:
    """A certified upper bound of |K u|_2 / |u|_2, which bounds lambda_min(K) of a symmetric K (u != 0).

    Ball arithmetic at the current Arb precision (any precision gives a valid bound).

    Proof: K = Q diag(lambda) Q^T with Q orthogonal, so |K u|_2^2 = sum_i lambda_i^2
    (Q^T u)_i^2 >= min_i lambda_i^2 |u|_2^2, i.e. min_i |lambda_i| <= |K u|_2 / |u|_2;
    for K positive semidefinite (a kernel matrix) min_i |lambda_i| = lambda_min. The
    infinity-norm ratio |K u|_inf / |u|_inf is *not* such a bound (K = [[1, -1], [-1, 2]],
    u = (3, 2): 1/3 < lambda_min = (3 - sqrt 5)/2); it is, times sqrt(n).

    >>> b = rayleigh_bound(arb_mat([[1, -1], [-1, 2]]), [arb(3), arb(2)])   # sqrt(2/13)
    >>> b.contains((arb(2) / 13).sqrt()) or b > (arb(2) / 13).sqrt()
    True
    """
    ku = k * arb_mat([[x] for x in u])
    num = sum((abs(ku[i, 0]).upper() ** 2 for i in range(ku.nrows())), arb(0)).upper().sqrt()
    den = sum((x.abs_lower() ** 2 for x in u), arb(0)).lower().sqrt()
    return (num / den).upper()


def null_residual_bound(data: Dataset, depth: int, kernel: str, *, digits: int = 40, prec: int = 256,
                        param: Parameterization | None = None) -> Ball:
    """Certified: a ball whose upper end bounds |kappa u|_2 / |u|_2 >= lambda_min(kappa).

    u is the exact null-vector certificate of :func:`~verify.linalg.singularity.diagnose` at
    ``depth`` (ValueError if kappa is not singular there); kappa is the certified kernel to
    ``digits`` digits, and the bound is formed in ``prec``-bit ball arithmetic.
    """
    diag = diagnose(data, depth, param)
    if not diag.singular:
        raise ValueError(f"kappa is not singular at depth {depth}: no null vector to certify")
    gram = kernel_matrix(data, depth, kernel, digits=digits, param=param)
    with ctx.workprec(prec):
        k = arb_mat([[e.to_arb() for e in row] for row in gram.entries])
        return Ball.from_arb(rayleigh_bound(k, diag.null_vector_arb(data.n, prec=prec)))
