"""Certified enclosures the model recursion steps on: the pair terms DV, DVdot over a ball of gaps, and q'.

Both the direct route (:mod:`verify.kernel.model_recursion`) and the invariant-box route
(:mod:`verify.kernel.invariant_box`) evaluate a layer on balls through these functions; each
returns a ball containing the exact value for *every* point of its input balls, with the proof
in its docstring.

>>> from flint import arb, ctx
>>> from verify.core.model import Model
>>> from verify.kernel.dual_kernels import dual_kernel
>>> k = dual_kernel(Model.parse(activation="erf").activation)
>>> with ctx.workprec(100):                      # gaps 1/2 +- 1e-20 at q = 1
...     dv, dvd = gap_enclosures(k, arb(1), k.Vdot_diag(ARB, arb(1)), arb("0.5", "1e-20"))
>>> dv.rad() < 1e-19                             # it grows by r q |Vdot| < 1e-20, not by dependency
True
"""

from __future__ import annotations

from flint import arb

from verify.kernel.dual_kernels import ARB, ABReluKernel, DualKernel, GapPoint, gap_angle


def _recentred(e: arb) -> tuple[arb, arb]:
    """(m, r): an exact midpoint m in [0, 2] and a radius r with e's ball inside [m - r, m + r].

    The exact gap lies in [0, 2]; a midpoint outside is moved to the nearer end and the
    radius grows by the move, so the new ball still contains the old one.
    """
    m, r = e.mid(), e.rad()
    if m < 0:
        return arb(0), (r - m).upper()
    if m > 2:
        return arb(2), (r + (m - 2)).upper()
    return m, r


def _angle_enclosure(g: GapPoint, r: arb) -> arb:
    """Certified enclosure of theta(E) = arccos(1 - E) for every E in [m - r, m + r] intersected with [0, 2].

    Proof. theta is increasing on [0, 2] with theta'(E) = 1/sqrt(E (2 - E)). If lo = m - r > 0 and
    hi = m + r < 2, every E in the ball has E >= lo and 2 - E >= 2 - hi, so
    theta'(E) <= 1/sqrt(lo (2 - hi)) and, by the mean value theorem,
    |theta(E) - theta(m)| <= r / sqrt(lo (2 - hi)). Otherwise theta(E) lies between theta at the
    ends of the ball clipped to [0, 2] (monotonicity), both evaluated at exact points.
    """
    theta: arb = 2 * g.half
    if r == 0:
        return theta
    m = g.e
    lo, hi = (m - r).lower(), (m + r).upper()
    if lo > 0 and hi < 2:
        return theta + arb(0, (r / (lo * (2 - hi)).sqrt()).upper())
    lo_c = lo if lo > 0 else arb(0)
    hi_c = hi if hi < 2 else arb(2)
    hull: arb = gap_angle(ARB, lo_c).union(gap_angle(ARB, hi_c))
    return hull


def gap_enclosures(kernel: DualKernel, q: arb, vdot_diag: arb, e: arb) -> tuple[arb, arb]:
    """Certified (DV, DVdot) for every gap E in the ball ``e``, the variance in the ball ``q``.

    The functions are evaluated at the exact midpoint m of ``e`` (radius r) and the radius is
    carried by a proven bound on the derivative in E over the ball (mean value theorem):

    * d/dE DV(q, E) = q Vdot(q, q, q(1 - E)) (Price's theorem: d/ds E[phi(u) phi(v)] =
      E[phi'(u) phi'(v)], valid for absolutely continuous phi with phi' of polynomial growth, so
      for every activation but sign and relu^0). The factor Vdot over the ball is the enclosure
      of the next two items, so DV(E) lies in DV(m) +- r q max|Vdot(ball)|.
    * ``smooth`` (erf, gelu, relu^2: phi' absolutely continuous too): d/dE Vdot(q,q,q(1-E)) =
      -q E[phi''(u) phi''(v)], and |E[phi''(u) phi''(v)]| <= E[phi''(u)^2] by Cauchy-Schwarz
      (u, v have the same variance q), so DVdot and Vdot move by at most r q E[phi''^2]
      (:meth:`~verify.kernel.dual_kernels.DualKernel.second_moment`, closed form, evaluated on q).
    * ``kink`` (the ABRelu family): Vdot = m_ab - k theta(E) with k >= 0, so DVdot = k theta(E) and
      the enclosure of theta over the ball (:func:`_angle_enclosure`) is used.
    * ``step`` (sign, relu^0): Vdot = 0 (neural-tangents' convention); DV = const * theta(E) is
      increasing in E, so DV over the ball lies between its values at the two (clipped) ends.
    """
    m, r = _recentred(e)
    if kernel.kind == "step":
        if r == 0:
            return kernel.gap_V(ARB, q, m), arb(0)
        lo, hi = (m - r).lower(), (m + r).upper()
        lo_c = lo if lo > 0 else arb(0)
        hi_c = hi if hi < 2 else arb(2)
        return kernel.gap_V(ARB, q, lo_c).union(kernel.gap_V(ARB, q, hi_c)), arb(0)
    g = GapPoint(ARB, m)
    if isinstance(kernel, ABReluKernel):
        dvd = kernel.k(ARB) * _angle_enclosure(g, r)
    else:
        dvd = kernel.gap_Vdot(ARB, q, g)
        if r != 0:
            dvd = dvd + arb(0, (r * q * kernel.second_moment(ARB, q)).upper())
    dv = kernel.gap_V(ARB, q, g)
    if r != 0:
        dv = dv + arb(0, (r * q * (vdot_diag - dvd).abs_upper()).upper())
    return dv, dvd


def q_image(kernel: DualKernel, a: arb, w: arb, b: arb, q: arb) -> arb:
    """Certified q' = a q + w Vd(q) + b for every q in the ball ``q``, re-centred on its midpoint.

    Proof. For degree 0 or 1 (Vd(q) = const q^degree) the map is affine in q with nonnegative
    slope, so ball arithmetic on q has no dependency effect and is exact up to rounding.
    Otherwise q' = F(m) + [-r, r] F'(xi) for some xi in the ball (mean value theorem), with
    F(q) = a q + w Vd(q) + b evaluated at the exact midpoint m and |F'| = |a + w Vd'| enclosed
    on the whole ball: the radius grows by the true slope, not by dependency effects.
    """
    if kernel.degree in (0, 1):
        affine: arb = a * q + w * kernel.V_diag(ARB, q) + b
        return affine
    m_q, r_q = q.mid(), q.rad()
    q_new: arb = a * m_q + w * kernel.V_diag(ARB, m_q) + b
    if r_q != 0:
        slope = (a + w * kernel.V_diag_prime(ARB, q)).abs_upper()
        q_new = q_new + arb(0, (r_q * slope).upper())
    return q_new


def pair_image(kernel: DualKernel, q: arb, vdd: arb, e: arb, f: arb, e_self: arb, f_self: arb, wt: arb, w: arb,
               n_v: arb, inv_q: arb, inv_t: arb) -> tuple[arb, arb]:
    """One layer of a pair's gaps: (e', f') = (e_self e + w DV/q', f (f_self - wt DVdot) + wt DVdot + n_V DV/t').

    With e_self = a q/q', f_self = (a + w Vdot_d) t/t', wt = w t/t', inv_q = 1/q', inv_t = 1/t' as
    balls over the states stepped, and DV, DVdot from :func:`gap_enclosures` over the ball ``e``,
    every term is an enclosure, so both results hold the exact next gaps; f is written once.
    """
    dv, dvd = gap_enclosures(kernel, q, vdd, e)
    return e_self * e + w * dv * inv_q, f * (f_self - wt * dvd) + wt * dvd + n_v * dv * inv_t
