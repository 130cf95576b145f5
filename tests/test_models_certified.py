"""The dual kernels and the certified model recursion against independent routes.

* Every dual kernel pair (V, Vdot) of :mod:`verify.kernel.dual_kernels` against mpmath quadrature:
  E[phi(u) phi(v)] conditioned on u (v | u is Gaussian, its conditional expectation of phi and phi' is
  an exact one-dimensional formula written here), integrated over u by tanh-sinh quadrature.
* The cancellation-free gap forms against a plain difference of the general formulas at 250 digits,
  and the certified enclosures over a ball of gaps against that reference at points of the ball.
* Deep certified enclosures (relu with a bias, erf at sigma_w^2 = 1.5, resnet:0.3) containing a
  plain-mpmath reference at twice the digits, iterated here from the textbook formulas in the
  correlation coordinate (not with the module under test).
* The seed engine (``verify.kernels_sweep``, ReLU) and the new certified route agree (balls overlap).

Depth of the deep tests: ``DEEP`` = 3 * 10^4 layers. Measured on the (shared, 2-core) development
machine: a certified layer of one pair costs 80-110 us (relu, resnet:0.3, erf) and the 50-digit
textbook mpmath reference 200-300 us, so 10^6 layers take 5-7 minutes a case, far beyond the
20 s a case this file allows itself; 3 * 10^4 takes 6-9 s a case.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
from flint import arb, ctx

from verify import kernels_sweep
from verify.core.model import ACTIVATION_NAMES, Activation, Model
from verify.core.params import Parameterization
from verify.data.pairs import PairCorrelation, pair_correlation
from verify.kernel.dual_kernels import ARB, FLOAT64, MPMATH, dual_kernel
from verify.kernel.model_recursion import certified_model_sweep, gap_enclosures, mpmath_model_sweep

SPECS = [s.replace("leaky_relu:A", "leaky_relu:0.1").replace("abrelu:A,B", "abrelu:-0.5,2") for s in ACTIVATION_NAMES]
DEEP = 30_000
DIGITS = 20


# ---------------------------------------------------------------- quadrature of the dual kernels


def _conditional(spec: str):
    """(phi, phi', E[phi(v)], E[phi'(v)]) for v ~ N(mu, tau^2), the expectations in exact closed form."""
    big, small = mpmath.ncdf, mpmath.npdf

    def relu_mean(mu, tau):
        return mu * big(mu / tau) + tau * small(mu / tau)

    if spec in ("relu", "relu^1", "leaky_relu:0.1", "abrelu:-0.5,2", "abs"):
        a, b = {"relu": (0, 1), "relu^1": (0, 1), "leaky_relu:0.1": (mpmath.mpf("0.1"), 1),
                "abrelu:-0.5,2": (mpmath.mpf("-0.5"), 2), "abs": (-1, 1)}[spec]
        return (lambda x: a * min(x, 0) + b * max(x, 0), lambda x: b if x > 0 else a,
                lambda mu, tau: a * mu + (b - a) * relu_mean(mu, tau),
                lambda mu, tau: a + (b - a) * big(mu / tau))
    if spec == "sign":
        return (mpmath.sign, None, lambda mu, tau: 2 * big(mu / tau) - 1, None)
    if spec == "relu^0":
        return (lambda x: 1 if x > 0 else 0, None, lambda mu, tau: big(mu / tau), None)
    if spec == "relu^2":
        return (lambda x: max(x, 0) ** 2, lambda x: 2 * max(x, 0),
                lambda mu, tau: (mu * mu + tau * tau) * big(mu / tau) + mu * tau * small(mu / tau),
                lambda mu, tau: 2 * relu_mean(mu, tau))
    if spec == "erf":
        return (mpmath.erf, lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x),
                lambda mu, tau: mpmath.erf(mu / mpmath.sqrt(1 + 2 * tau * tau)),
                lambda mu, tau: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-mu * mu / (1 + 2 * tau * tau))
                / mpmath.sqrt(1 + 2 * tau * tau))
    assert spec == "gelu"

    def gelu_mean(mu, tau):          # E[v Phi(v)] = mu Phi(m) + tau^2 phi(m) / s, m = mu/s, s = sqrt(1 + tau^2)
        s = mpmath.sqrt(1 + tau * tau)
        return mu * big(mu / s) + tau * tau * small(mu / s) / s

    def gelu_prime_mean(mu, tau):    # E[Phi(v)] + E[v phi(v)] = Phi(m) + phi(m)/s * mu/s^2
        s = mpmath.sqrt(1 + tau * tau)
        return big(mu / s) + small(mu / s) / s * mu / (s * s)

    return (lambda x: x * big(x), lambda x: big(x) + x * small(x), gelu_mean, gelu_prime_mean)


def _quad(outer, inner, q1, q2, s):
    """E[outer(u) inner(E | u)] with u = sqrt(q1) z, v | u ~ N(s u / q1, q2 - s^2 / q1)."""
    tau = mpmath.sqrt(q2 - s * s / q1)

    def integrand(z):
        u = mpmath.sqrt(q1) * z
        return outer(u) * inner(s * u / q1, tau) * mpmath.npdf(z)

    return mpmath.quad(integrand, [-mpmath.inf, -4, 0, 4, mpmath.inf])


POINTS = [("0.7", "1.3", "0.4"), ("1", "1", "-0.9"), ("2.5", "0.3", "0.85"), ("0.5", "0.5", "0.499")]


@pytest.mark.parametrize("spec", SPECS)
def test_dual_kernels_match_quadrature(spec: str):
    kernel = dual_kernel(Activation.parse(spec))
    for q1, q2, s in POINTS:
        with mpmath.workdps(30):
            phi, dphi, mean, dmean = _conditional(spec)      # its constants at this precision
            q1m, q2m, sm = mpmath.mpf(q1), mpmath.mpf(q2), mpmath.mpf(s)
            v_quad = _quad(phi, mean, q1m, q2m, sm)
            v = kernel.V(MPMATH, q1m, q2m, sm)
            assert abs(v - v_quad) <= 1e-18 * max(1, abs(v_quad)), (spec, q1, q2, s, v, v_quad)
            vd = kernel.Vdot(MPMATH, q1m, q2m, sm)
            if dphi is None:        # sign, relu^0: neural-tangents drops the delta, Vdot = 0
                assert vd == 0
            else:
                vd_quad = _quad(dphi, dmean, q1m, q2m, sm)
                assert abs(vd - vd_quad) <= 1e-18 * max(1, abs(vd_quad)), (spec, q1, q2, s, vd, vd_quad)
        with ctx.workprec(100):     # Arb encloses the same value
            ball = kernel.V(ARB, arb(q1), arb(q2), arb(s))
            assert abs(float(ball.mid()) - float(v_quad)) < 1e-15 and ball.rad() < 1e-25


@pytest.mark.parametrize("spec", SPECS)
def test_diagonal_forms_are_the_kernels_at_c_1(spec: str):
    kernel = dual_kernel(Activation.parse(spec))
    with mpmath.workdps(40):
        for q in ("0.3", "1", "2.5"):
            qm = mpmath.mpf(q)
            assert abs(kernel.V_diag(MPMATH, qm) - kernel.V(MPMATH, qm, qm, qm)) < 1e-35
            if kernel.kind != "step":
                assert abs(kernel.Vdot_diag(MPMATH, qm) - kernel.Vdot(MPMATH, qm, qm, qm)) < 1e-35
            # d/dq V(q,q,q): against mpmath's numerical derivative of the diagonal form
            slope = mpmath.diff(lambda x: kernel.V_diag(MPMATH, x), qm)
            assert abs(kernel.V_diag_prime(MPMATH, qm) - slope) < 1e-25
            if kernel.kind == "smooth":   # E[phi''^2] by quadrature (the bound behind the certified radii)
                dd = {"erf": lambda x: -4 * x / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x),
                      "gelu": lambda x: mpmath.npdf(x) * (2 - x * x),
                      "relu^2": lambda x: 2 if x > 0 else 0}[spec]
                sq = mpmath.sqrt(qm)
                m2 = mpmath.quad(lambda z, f=dd, sq=sq: f(sq * z) ** 2 * mpmath.npdf(z), [-mpmath.inf, 0, mpmath.inf])
                assert abs(kernel.second_moment(MPMATH, qm) - m2) < 1e-25


GAPS = ["1e-40", "1e-9", "3e-5", "0.3", "1", "1.7", "2"]


def _reference_gaps(kernel, q: str, e: str | Fraction):
    """(V(q,q,q) - V(q,q,q(1-e)), Vdot(q,q,q) - Vdot(q,q,q(1-e))) by plain differences at 250 digits."""
    with mpmath.workdps(250):
        e = Fraction(e)
        qm, em = mpmath.mpf(q), mpmath.mpf(e.numerator) / e.denominator
        s = qm * (1 - em)
        dv = kernel.V(MPMATH, qm, qm, qm) - kernel.V(MPMATH, qm, qm, s)
        dvd = kernel.Vdot(MPMATH, qm, qm, qm) - kernel.Vdot(MPMATH, qm, qm, s)
        return dv, dvd


def _contains(ball: arb, value: mpmath.mpf) -> bool:
    with ctx.workprec(900):
        return ball.contains(arb(mpmath.nstr(value, 250)))


@pytest.mark.parametrize("spec", SPECS)
def test_gap_forms_do_not_cancel(spec: str):
    """Relative accuracy of the gap forms down to e = 1e-40, on every arithmetic."""
    kernel = dual_kernel(Activation.parse(spec))
    for q in ("0.3", "2.5"):
        for e in GAPS:
            dv, dvd = _reference_gaps(kernel, q, e)
            with mpmath.workdps(30):
                got = kernel.gap_V(MPMATH, mpmath.mpf(q), mpmath.mpf(e))
                got_d = kernel.gap_Vdot(MPMATH, mpmath.mpf(q), mpmath.mpf(e))
                assert abs(got - dv) <= 1e-24 * abs(dv) + 1e-28, (spec, q, e)
                assert abs(got_d - dvd) <= 1e-24 * abs(dvd) + 1e-28, (spec, q, e)
            with ctx.workprec(100):
                ball = kernel.gap_V(ARB, arb(q), arb(e))
                ball_d = kernel.gap_Vdot(ARB, arb(q), arb(e))
            assert _contains(ball, dv) and _contains(ball_d, dvd), (spec, q, e, ball, ball_d)
            assert ball.rad() <= 1e-24 * abs(ball.mid()) + 1e-28
            f64 = float(kernel.gap_V(FLOAT64, float(q), float(e)))
            assert abs(f64 - float(dv)) <= 1e-13 * abs(float(dv)) + 1e-16, (spec, q, e, f64)


@pytest.mark.parametrize("spec", SPECS)
def test_gap_enclosures_hold_over_a_ball(spec: str):
    """The certified (DV, DVdot) over a ball of gaps contains the reference at points of the ball."""
    kernel = dual_kernel(Activation.parse(spec))
    for q in ("0.3", "2.5"):
        for mid, rad in (("1e-12", "3e-13"), ("0.25", "0.01"), ("1.0", "0.2"), ("1.99", "0.02"), ("1e-30", "2e-30")):
            with ctx.workprec(120):
                e_ball = arb(mid) + arb(0, arb(rad).upper())
                q_ball = arb(q)
                vdd = kernel.Vdot_diag(ARB, q_ball)
                dv, dvd = gap_enclosures(kernel, q_ball, vdd, e_ball)
            m, r = Fraction(mid), Fraction(rad)
            for t in (-1, Fraction(-1, 2), 0, Fraction(1, 3), 1):
                e = m + t * r
                if not 0 <= e <= 2:
                    continue
                ref_dv, ref_dvd = _reference_gaps(kernel, q, e)
                assert _contains(dv, ref_dv), (spec, q, mid, rad, t, dv)
                assert _contains(dvd, ref_dvd), (spec, q, mid, rad, t, dvd)


# ---------------------------------------------------------------- deep certified vs textbook mpmath


def _textbook(spec: str, c0: str, depth: int, sigma_w2: str, sigma_b2: str, n0: int, alpha: str | None,
              dps: int):
    """Plain mpmath, raw kernels in the correlation coordinate: (rho, ThetaBar, q, t, Sigma, Theta) at ``depth``.

    Sigma' = [Sigma +] s (sigma_w^2 E[phi phi] + sigma_b^2), Theta' = [Theta +] s sigma_w^2 E[phi' phi'] Theta
    + s (sigma_w^2 E[phi phi] + sigma_b^2) with s = alpha^2 for resnet:alpha (the bracket) and 1 for
    an MLP; E[...] from the arc-cosine (relu) and arcsine (erf) kernels in rho = Sigma/q.
    """
    with mpmath.workdps(dps):
        w, b = mpmath.mpf(sigma_w2), mpmath.mpf(sigma_b2)
        q = w / n0 + b
        sig = w * mpmath.mpf(c0) / n0 + b
        theta, t = sig, q
        scale = 1 if alpha is None else mpmath.mpf(alpha) ** 2
        keep = 0 if alpha is None else 1
        pi = mpmath.pi
        for _ in range(depth - 1):
            rho = sig / q
            if spec == "relu":
                ang = mpmath.acos(rho)
                v = q * (mpmath.sqrt(1 - rho * rho) + (pi - ang) * rho) / (2 * pi)
                v_diag, vd, vd_diag = q / 2, (pi - ang) / (2 * pi), mpmath.mpf(1) / 2
            else:
                v = 2 / pi * mpmath.asin(2 * sig / (1 + 2 * q))
                v_diag = 2 / pi * mpmath.asin(2 * q / (1 + 2 * q))
                vd = 4 / pi / mpmath.sqrt((1 + 2 * q) ** 2 - 4 * sig * sig)
                vd_diag = 4 / pi / mpmath.sqrt(1 + 4 * q)
            new_sig = keep * sig + scale * (w * v + b)
            new_q = keep * q + scale * (w * v_diag + b)
            theta = keep * theta + scale * w * vd * theta + scale * (w * v + b)
            t = keep * t + scale * w * vd_diag * t + scale * (w * v_diag + b)
            sig, q = new_sig, new_q
        return sig / q, theta / t, q, t, sig, theta


DEEP_CASES = [
    ("relu", "2", "0.1", "mlp"),          # critical line sigma_w^2 = 2 with a bias: rho -> 1 algebraically
    ("erf", "1.5", "0", "mlp"),           # q* = 1/2, chi_1 = 1.103 > 1, rho -> 0 at rate 0.955
    ("relu", "1", "0", "resnet:0.3"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "sw", "sb", "arch"), DEEP_CASES)
def test_deep_certified_contains_textbook_mpmath(spec: str, sw: str, sb: str, arch: str):
    model = Model.parse(activation=spec, sigma_w2=sw, sigma_b2=sb, architecture=arch)
    pair, c0, n0 = PairCorrelation(1, Fraction(9, 25)), "0.6", 4
    depths = [1, 2, 10, 1000, DEEP]
    out = certified_model_sweep(model, [pair], depths, n0=n0, digits=DIGITS)
    alpha = arch.partition(":")[2] or None
    for depth in depths:
        got = out.at(depth)
        rho, theta_bar, q, t, sig, theta = _textbook(spec, c0, depth, sw, sb, n0, alpha, 2 * DIGITS + 10)
        for ball, ref in ((got.nngp[0], rho), (got.ntk[0], theta_bar)):
            assert ball.contains(ref), (depth, ball.to_json(DIGITS), mpmath.nstr(ref, 2 * DIGITS))
            assert ball.correct_digits() >= DIGITS
        for ball, ref in ((got.nngp_diag, q), (got.ntk_diag, t), (got.raw_nngp[0], sig), (got.raw_ntk[0], theta)):
            assert ball.contains(ref), (depth, ball.to_json(DIGITS), mpmath.nstr(ref, 2 * DIGITS))
    assert out.working_precision_bits is not None


@pytest.mark.parametrize(("spec", "sw", "sb", "arch"), DEEP_CASES)
def test_mpmath_route_matches_textbook(spec: str, sw: str, sb: str, arch: str):
    """The best-effort mpmath route (gap coordinate) against the textbook iteration, 30 digits at L = 300."""
    model = Model.parse(activation=spec, sigma_w2=sw, sigma_b2=sb, architecture=arch)
    out = mpmath_model_sweep(model, [PairCorrelation(1, Fraction(9, 25))], [300], 4, 130)
    rho, theta_bar, q, t, _, _ = _textbook(spec, "0.6", 300, sw, sb, 4, arch.partition(":")[2] or None, 60)
    got = out.at(300)
    for value, ref in ((got.nngp[0], rho), (got.ntk[0], theta_bar)):
        assert abs(value - ref) < 1e-30
    for value, ref in ((got.nngp_diag, q), (got.ntk_diag, t)):
        assert abs(value / ref - 1) < 1e-30


# ---------------------------------------------------------------- the seed engine agrees


SEED_POINTS = [["1", "0", "0"], ["0.9984", "0.024", "0.0512"], ["-0.9984", "0.0512", "0.024"], ["0.36", "0.48", "0.8"]]


@pytest.mark.parametrize(("sw", "sb"), [("1", "0"), ("2", "0.1")])
def test_seed_engine_agrees_with_the_model_route(sw: str, sb: str):
    depths = [1, 2, 5, 50, 500]
    seed = kernels_sweep(SEED_POINTS, depths, digits=DIGITS, param=Parameterization(sw, sb), progress=False)
    pts = [[Fraction(v) for v in p] for p in SEED_POINTS]
    index = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    pairs = [pair_correlation(pts[i], pts[j]) for i, j in index]
    out = certified_model_sweep(Model.parse(sigma_w2=sw, sigma_b2=sb), pairs, depths, n0=3, digits=DIGITS)
    with ctx.workprec(200):
        for k, depth in enumerate(depths):
            mine = out.at(depth)
            for kernel in ("nngp", "ntk"):
                for p, (i, j) in enumerate(index):
                    a = seed[kernel][k].entries[i][j].to_arb()
                    b = getattr(mine, kernel)[p].to_arb()
                    assert a.overlaps(b), (kernel, depth, i, j, a, b)
            assert float(seed["ntk"][k].raw_factor) == pytest.approx(float(mine.ntk_diag), rel=1e-14)


def test_relu_squared_doubly_exponential_diagonal() -> None:
    """relu^2's variance squares every layer: q_(l+1) = (3/2) q_l^2 (E[relu(u)^4] = 3 q^2 / 2), so
    q_L = (3/2)^(2^(L-1) - 1) q_1^(2^(L-1)) with q_1 = 1/n0, about 10^(-1.4e17) at L = 60. The
    certified route, its digit counts and its decimal output must handle such exponents (they
    used to turn them into Fractions of 2^60 bits and hang)."""
    from verify.kernel.model_recursion import certified_model_sweep

    depth, n0 = 60, 3
    out = certified_model_sweep(Model.parse(activation="relu^2"), [PairCorrelation(1, Fraction(1, 4))], [depth],
                                n0=n0, digits=25)
    diag = out.at(depth).nngp_diag
    assert diag.relative_digits() >= 25
    text = diag.to_json(25)
    with mpmath.workdps(60):
        power = mpmath.mpf(2) ** (depth - 1)
        log10_exact = (power - 1) * mpmath.log10(mpmath.mpf(3) / 2) + power * mpmath.log10(mpmath.mpf(1) / n0)
        mant_text, exp_text = text["mid"].split("e")
        log10_shown = mpmath.log10(mpmath.mpf(mant_text)) + int(exp_text)
        assert abs(log10_shown - log10_exact) < mpmath.mpf(10) ** -20     # 10^-20 in log10: ~20 relative digits
    assert float(text["rad"].split("e")[0]) > 0
