"""Validated numerical integration of the gradient-flow ODE of kernel regression.

On the training points the squared loss gives df(X)/dt = -eta kappa (f(X) - Y), and on
test points df(Z)/dt = -eta kappa_Z (f(X) - Y). This module integrates that system
with mpmath's Taylor-series ODE solver (``mpmath.odefun``), independently of any
closed form, at two working precisions; the difference is the reported error
estimate (validated, not certified).

>>> import mpmath
>>> K = mpmath.matrix([[1]]); KZ = mpmath.matrix([[mpmath.mpf(1) / 2]])
>>> fx, fz, err = integrate_gradient_flow(K, KZ, mpmath.matrix([[1]]), "1", "1", digits=20)
>>> mpmath.nstr(fx[0, 0], 15), err < 1e-18          # 1 - e^-1
('0.632120558828558', True)
"""

from __future__ import annotations

import mpmath


def _integrate(gram, cross, labels, eta, t, dps):
    with mpmath.workdps(dps):
        n, m, k = gram.rows, cross.rows, labels.cols
        eta = mpmath.mpf(eta)
        t = mpmath.mpf(t)
        fx, fz = mpmath.matrix(n, k), mpmath.matrix(m, k)
        for c in range(k):
            y = [mpmath.mpf(labels[i, c]) for i in range(n)]

            def rhs(_t, f, y=y):
                resid = [f[i] - y[i] for i in range(n)]
                dx = [-eta * mpmath.fsum(gram[i, j] * resid[j] for j in range(n)) for i in range(n)]
                dz = [-eta * mpmath.fsum(cross[i, j] * resid[j] for j in range(n)) for i in range(m)]
                return dx + dz

            sol = mpmath.odefun(rhs, 0, [mpmath.mpf(0)] * (n + m))(t)
            for i in range(n):
                fx[i, c] = sol[i]
            for i in range(m):
                fz[i, c] = sol[n + i]
        return fx, fz


def integrate_gradient_flow(gram: mpmath.matrix, cross: mpmath.matrix, labels: mpmath.matrix,
                            eta: str, t: str, digits: int = 25):
    """Validated (f_t(X), f_t(Z), error estimate) from f_0 = 0 by Taylor-series integration.

    ``gram`` is kappa (n x n), ``cross`` is kappa_Z (m x n), ``labels`` Y (n x k).
    """
    lo = _integrate(gram, cross, labels, eta, t, digits + 10)
    hi = _integrate(gram, cross, labels, eta, t, digits + 25)
    with mpmath.workdps(digits + 25):
        err = max([abs(a - b) for a, b in zip(lo[0], hi[0], strict=True)]
                  + [abs(a - b) for a, b in zip(lo[1], hi[1], strict=True)] + [mpmath.mpf(0)])
    return hi[0], hi[1], float(err)
