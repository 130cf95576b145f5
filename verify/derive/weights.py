"""The weights kappa_x kappa^-1 at great depth: limits, first-order laws, certified values.

Default model (sigma_w^2 = 1, sigma_b^2 = 0); n distinct training points and a test
point distinct from all of them. With the depth laws of :mod:`.asymptotics`, pair
constants ``tau_ij`` (training pairs) and ``c_i`` (test point with x_i),
``v_i = sum_{j != i} tau_ij``, ``V = sum_i v_i``, ``S = sum_i c_i`` and ``u = (1, ..., 1)``:

* NTK: ``ThetaBar_ij = b_L + tau_ij/(4L) + O(log^2 L / L^2)``, ``b_L = 1/4 + ((3/8) log L - 1/8)/L``;
  ``(a I + b J)^-1 = (I - b J/(a + n b))/a`` gives
  ``W = u/(n + 3) + [ (6 log L - 2)/(n + 3)^2 u + (c - v/(n + 3) + (V/(n + 3)^2 - S/(n + 3)) u)/3 ] / L``.
* NNGP: the kernel ``J - E`` tends to the singular J; exactly
  ``W = ((q - 1)/(1 - p)) u^T E^-1 + eps^T E^-1`` with ``p = u^T E^-1 u``, ``q = eps^T E^-1 u``,
  and with ``E_ij = F(L + tau_ij)``, ``F(t) ~ 9 pi^2/(2 t^2)``:
  ``W = u/n + 2 (c - v/n - (S/n - V/n^2) u) / L + O(log L / L^2)``.

>>> print(limit_expr("ntk"), limit_expr("nngp"))
1/(n + 3) 1/n
"""

from __future__ import annotations

from collections.abc import Sequence

import mpmath
import sympy as sp
from flint import arb, arb_mat, ctx

from verify.derive.asymptotics import N_SYM, inverse_of_equicorrelation


def limit_expr(kernel: str) -> sp.Expr:
    """Each entry of lim_{L -> oo} kappa_x kappa^-1 as a closed form in n (sympy)."""
    if kernel == "ntk":
        x, y = inverse_of_equicorrelation()
        a, b = sp.symbols("a b")
        beta = sp.Rational(1, 4)
        # W = beta u^T (x I + y J) with a = 1 - beta, b = beta
        return sp.simplify((beta * (x + N_SYM * y)).subs({a: 1 - beta, b: beta}))
    return 1 / N_SYM


def first_order_weights(kernel: str, tau_train: Sequence[Sequence[object]],
                        tau_test: Sequence[object], depth: int) -> list[mpmath.mpf]:
    """Best effort (the law truncated after 1/L, mpmath): the weights at depth L."""
    n = len(tau_test)
    L = mpmath.mpf(depth)
    c = [mpmath.mpf(x) for x in tau_test]
    v = [mpmath.fsum(mpmath.mpf(tau_train[i][j]) for j in range(n) if j != i) for i in range(n)]
    big_v, big_s = mpmath.fsum(v), mpmath.fsum(c)
    if kernel == "ntk":
        m = n + 3
        common = (6 * mpmath.log(L) - 2) / m**2 + (big_v / m**2 - big_s / m) / 3
        return [1 / mpmath.mpf(m) + (common + (c[i] - v[i] / m) / 3) / L for i in range(n)]
    common = -(big_s / n - big_v / n**2)
    return [1 / mpmath.mpf(n) + 2 * (c[i] - v[i] / n + common) / L for i in range(n)]


def weights_from_gaps(gap_train: Sequence[Sequence[arb]], gap_test: Sequence[arb], *, prec: int) -> list[arb]:
    """Certified enclosure of kappa_x kappa^-1 for kappa = J - E, kappa_x = u - eps, at ``prec`` bits.

    Uses the exact rearrangement ``W = ((q - 1)/(1 - p)) E^-1 u + E^-1 eps`` (E symmetric,
    zero diagonal), which never forms the nearly singular ``J - E``.

    kappa = [[1, 1 - d], [1 - d, 1]] and kappa_x = (1 - d)(1, 1) give W = (1 - d)/(2 - d) (1, 1);
    at d = 2^-70 (det(kappa) ~ 2^-69) that is 1/2 - 2^-72 + ...:

    >>> d = arb(2) ** -70
    >>> w = weights_from_gaps([[arb(0), d], [d, arb(0)]], [d, d], prec=200)
    >>> with ctx.workprec(200):
    ...     print([((x - arb(0.5)) * arb(2) ** 72).str(10) for x in w])
    ['[-1.000000000 +/- 1e-14]', '[-1.000000000 +/- 1e-14]']
    """
    with ctx.workprec(prec):
        return _weights_from_gaps(gap_train, gap_test)


def _weights_from_gaps(gap_train: Sequence[Sequence[arb]], gap_test: Sequence[arb]) -> list[arb]:
    n = len(gap_test)
    e_mat = arb_mat(n, n, [gap_train[i][j] for i in range(n) for j in range(n)])
    rhs = arb_mat(n, 2, [x for i in range(n) for x in (arb(1), gap_test[i])])
    sol = e_mat.solve(rhs)
    e_inv_u = [sol[i, 0] for i in range(n)]
    e_inv_eps = [sol[i, 1] for i in range(n)]
    p = sum(e_inv_u, arb(0))
    q = sum((gap_test[i] * e_inv_u[i] for i in range(n)), arb(0))
    scale = (q - 1) / (1 - p)
    return [scale * e_inv_u[i] + e_inv_eps[i] for i in range(n)]


def symbolic_first_order_check(kernel: str, n: int) -> sp.Expr:
    """Sympy: (exact weights from the first-order kernel) - (first-order law), to O(1/L^2).

    Builds the n x n kernel with symbolic tau's, expands W in eta = 1/L and returns
    the coefficient of eta of the difference (a zero vector when the law is right).
    """
    eta, lam = sp.symbols("eta lambda_", positive=True)
    tau = [[sp.Symbol(f"t{min(i, j)}{max(i, j)}") if i != j else 0 for j in range(n)]
           for i in range(n)]
    c = [sp.Symbol(f"c{i}") for i in range(n)]
    if kernel == "ntk":
        b_l = sp.Rational(1, 4) + (sp.Rational(3, 8) * lam - sp.Rational(1, 8)) * eta
        kmat = sp.Matrix(n, n, lambda i, j: 1 if i == j else b_l + tau[i][j] * eta / 4)
        kx = sp.Matrix(1, n, lambda _, j: b_l + c[j] * eta / 4)
        w = kx * kmat.inv()
    else:
        # E = F Ehat, eps = F epshat with the common gap F = F(L) = O(L^-2) = o(eta):
        # W = ((qhat - 1)/(F - phat)) u^T Ehat^-1 + epshat^T Ehat^-1 -> F = 0
        e_hat = sp.Matrix(n, n, lambda i, j: 0 if i == j else 1 - 2 * tau[i][j] * eta)
        eps_hat = sp.Matrix(n, 1, lambda j, _: 1 - 2 * c[j] * eta)
        u = sp.ones(n, 1)
        e_inv = e_hat.inv()
        p = (u.T * e_inv * u)[0]
        q = (eps_hat.T * e_inv * u)[0]
        w = -((q - 1) / p) * u.T * e_inv + eps_hat.T * e_inv
    v = [sum(tau[i][j] for j in range(n) if j != i) for i in range(n)]
    big_v, big_s = sum(v), sum(c)
    if kernel == "ntk":
        m = n + 3
        law = [sp.Rational(1, m) + eta * ((6 * lam - 2) / m**2 + (big_v / m**2 - big_s / m) / 3
                                          + (c[i] - v[i] / m) / 3) for i in range(n)]
    else:
        law = [sp.Rational(1, n) + 2 * eta * (c[i] - v[i] / n - (big_s / n - big_v / n**2))
               for i in range(n)]
    diff = [sp.series(w[i] - law[i], eta, 0, 2).removeO() for i in range(n)]
    return sp.Matrix([sp.simplify(d) for d in diff])
