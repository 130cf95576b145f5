"""Independent references for the closed form and the conditioning: plain mpmath, written here.

Kernels come from ``reference.py`` (MATH.md's raw recursions in mpmath) with the
cosines computed from the exact points; the linear algebra is mpmath's LU
(``lu_solve``, ``det``), its symmetric eigensolver (``eigsy``) and its ODE solver
(``odefun``, a Taylor method), all at the precision the caller asks for. Nothing
here calls the package under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import mpmath
from reference import reference_normalized

Point = Sequence[Fraction]


def _mpf(q: Fraction) -> mpmath.mpf:
    return mpmath.mpf(q.numerator) / q.denominator


def cosine(x: Point, y: Point) -> mpmath.mpf:
    """x.y / (|x| |y|) at the current precision (from the exact coordinates)."""
    xy = sum((a * b for a, b in zip(x, y, strict=True)), Fraction(0))
    nx = sum((a * a for a in x), Fraction(0))
    ny = sum((b * b for b in y), Fraction(0))
    value = _mpf(xy) / mpmath.sqrt(_mpf(nx) * _mpf(ny))
    return max(min(value, mpmath.mpf(1)), mpmath.mpf(-1))


def kernel_matrices(rows: Sequence[Point], cols: Sequence[Point], depths: Sequence[int],
                    kernel: str, dps: int) -> dict[int, mpmath.matrix]:
    """{L: K(rows, cols)} of the normalized kernel, one reference recursion per pair."""
    which = 0 if kernel == "nngp" else 1
    out = {d: mpmath.matrix(len(rows), len(cols)) for d in depths}
    with mpmath.workdps(dps + 10):
        for i, x in enumerate(rows):
            for j, y in enumerate(cols):
                if x == y:
                    for d in depths:
                        out[d][i, j] = mpmath.mpf(1)
                    continue
                ref = reference_normalized(cosine(x, y), depths, dps + 10)
                for d in depths:
                    out[d][i, j] = ref[d][which]
    return out


def lu_closed_form(gram: mpmath.matrix, cross: mpmath.matrix, labels: Sequence[Sequence[Fraction]],
                   dps: int, f0_train=None, f0_test=None) -> tuple[list[list], list[list]]:
    """(W, f_inf(Z)) by mpmath LU solves at ``dps`` digits."""
    n, m, k = gram.rows, cross.rows, len(labels[0])
    with mpmath.workdps(dps):
        weights = []
        for i in range(m):
            w = mpmath.lu_solve(gram, mpmath.matrix([cross[i, j] for j in range(n)]))
            weights.append([w[j] for j in range(n)])
        preds = []
        for i in range(m):
            row = []
            for c in range(k):
                resid = [_mpf(labels[j][c]) - (_mpf(f0_train[j][c]) if f0_train else 0)
                         for j in range(n)]
                val = mpmath.fsum(weights[i][j] * resid[j] for j in range(n))
                row.append(val + (_mpf(f0_test[i][c]) if f0_test else 0))
            preds.append(row)
    return weights, preds


def gradient_flow(gram: mpmath.matrix, cross: mpmath.matrix, labels: Sequence[Sequence[Fraction]],
                  lr: Fraction, t: Fraction, dps: int) -> tuple[list[list], list[list]]:
    """(f_t(X), f_t(Z)) by integrating df/dt = -eta K(., X) (f(X) - Y), f(0) = 0, with mpmath.odefun."""
    n, m, k = gram.rows, cross.rows, len(labels[0])
    out_x, out_z = [[None] * k for _ in range(n)], [[None] * k for _ in range(m)]
    with mpmath.workdps(dps):
        eta = _mpf(lr)
        for c in range(k):
            y = [_mpf(labels[j][c]) for j in range(n)]

            def rhs(_t, f, y=y):
                r = [f[j] - y[j] for j in range(n)]
                dx = [-eta * mpmath.fsum(gram[i, j] * r[j] for j in range(n)) for i in range(n)]
                dz = [-eta * mpmath.fsum(cross[i, j] * r[j] for j in range(n)) for i in range(m)]
                return dx + dz

            sol = mpmath.odefun(rhs, 0, [mpmath.mpf(0)] * (n + m))
            vals = sol(_mpf(t))
            for i in range(n):
                out_x[i][c] = vals[i]
            for i in range(m):
                out_z[i][c] = vals[n + i]
    return out_x, out_z


def exact(value: mpmath.mpf | int | Fraction) -> Fraction:
    """The exact binary value of an mpf (no rounding); ints and Fractions as they are."""
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    man, exp = value.man_exp        # the mantissa comes without its sign
    out = Fraction(int(man)) * Fraction(2) ** int(exp) if man else Fraction(0)
    return -out if value < 0 else out


def assert_inside(balls, values, slack: Fraction = Fraction(0), what: str = "value") -> None:
    """Every reference value lies in its enclosure (widened by ``slack`` for its own error)."""
    for i, (brow, vrow) in enumerate(zip(balls, values, strict=True)):
        for j, (b, v) in enumerate(zip(brow, vrow, strict=True)):
            diff = abs(exact(v) - b.mid_fraction)
            assert diff <= b.rad_fraction + slack, (
                f"{what}[{i}][{j}]: reference {mpmath.nstr(v, 30)} outside "
                f"{b.to_json(30)} (off by {float(diff):.3e})")
