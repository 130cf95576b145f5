"""The trainability check (Xiao, Pennington and Schoenholz 2020): verdicts, chi_1 and cond_2 by independent routes.

* The stated claim (erf with bias 0.1: ordered at sigma_w^2 = 1, 1.25, chaotic at 2, and erf without bias at 2)
  is confirmed, as derived in the module docstring (cond_2 ~ 1/(L chi_1^L), cond_2 -> 1); the deliberately
  false rate 1/chi_1^(2L) is refuted, and so are a wrong chaotic limit and the law for ReLU with bias, whose
  NTK grows like chi_1^(-L/2) (kink of ReLU's derivative at c = 1: that variant is confirmed).
* chi_1 against independent routes: sigma_w^2/2 for ReLU (phi' is the Heaviside step, E[phi'(u)^2] = 1/2 by
  quadrature of the Gaussian density), and for erf q* and E[phi'(u)^2] by mpmath quadrature of the Gaussian
  expectations (q* a root of the quadrature variance map by the secant method).
* cond_2 of the NTK Gram matrix against a plain mpmath recursion written here from the closed-form erf kernels
  (Williams 1997: E[erf(u) erf(v)] = (2/pi) asin(2s/sqrt((1+2q1)(1+2q2))), E[erf'(u) erf'(v)] =
  (4/pi)/sqrt((1+2q1)(1+2q2) - 4s^2), checked against quadrature in tests/test_models_certified.py) and
  mpmath's symmetric eigensolver, at 60 digits.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest

from proofs_checks import CheckContext, Verdict
from proofs_checks.trainability import (
    CHECK,
    ERF_CHAOTIC,
    ERF_ORDERED,
    Net,
    TrainabilityClaim,
    certified_chi_1,
    study,
    usable_points,
)
from verify.derive.phases import analyse

RELU_ORDERED = (Net("relu", "1", "0.1"), Net("relu", "1.5", "0.1"))


@pytest.fixture(scope="module")
def ctx() -> CheckContext:
    return CheckContext(profile="quick", data_spec="builtin:sphere-8")


def test_stated_claim_is_confirmed(ctx: CheckContext) -> None:
    result = CHECK.evaluate(ctx, "ntk")
    assert result.verdict is Verdict.CONFIRMED, result.certificate
    assert len(result.findings) == 2 * (len(ERF_ORDERED) + len(ERF_CHAOTIC))
    assert {f.name.split(",")[0] for f in result.findings} == {"phase of erf(sw2=1", "phase of erf(sw2=1.25",
                                                              "phase of erf(sw2=2", "ordered-phase rate",
                                                              "limit of cond_2 - 1"}
    assert [g.name for g in result.evidence.figures] == ["trainability_ordered", "trainability_chaotic"]


def test_false_rate_is_refuted(ctx: CheckContext) -> None:
    result = CHECK.evaluate(ctx, "ntk", CHECK.false_claim)
    assert result.verdict is Verdict.REFUTED
    assert [f.supports for f in result.findings if f.name.startswith("ordered-phase rate")] == [False, False]


def test_wrong_chaotic_limit_is_refuted(ctx: CheckContext) -> None:
    result = CHECK.evaluate(ctx, "ntk", TrainabilityClaim(ordered=(), chaotic_limit=Fraction(2)))
    assert result.verdict is Verdict.REFUTED, result.certificate


def test_relu_with_bias_follows_the_square_root_law(ctx: CheckContext) -> None:
    xiao = CHECK.evaluate(ctx, "ntk", TrainabilityClaim(ordered=RELU_ORDERED, chaotic=()))
    assert xiao.verdict is Verdict.REFUTED
    assert all(f.supports is True for f in xiao.findings if f.name.startswith("phase"))   # ordered, c* = 1
    half = TrainabilityClaim(ordered=RELU_ORDERED, chaotic=(), depth_power=0, rate=Fraction(1, 2))
    assert CHECK.evaluate(ctx, "ntk", half).verdict is Verdict.CONFIRMED
    # "for ReLU chi_1 = sigma_w^2": refuted by the certified chi_1 and by the rate
    wrong_chi = TrainabilityClaim(ordered=RELU_ORDERED, chaotic=(), depth_power=0, rate=Fraction(1, 2),
                                  chi_rule="sigma_w2")
    result = CHECK.evaluate(ctx, "ntk", wrong_chi)
    assert result.verdict is Verdict.REFUTED
    assert [f.supports for f in result.findings] == [False, False, False, False]


def test_claimed_ordered_but_chaotic_is_refuted(ctx: CheckContext) -> None:
    result = CHECK.evaluate(ctx, "ntk", TrainabilityClaim(ordered=(Net("erf", "2", "0.1"),), chaotic=()))
    assert result.verdict is Verdict.REFUTED
    assert result.findings[0].supports is False


# ---------------------------------------------------------------- chi_1 by independent routes

def _gauss(f, q) -> mpmath.mpf:
    """E[f(u)], u ~ N(0, q), by quadrature."""
    s = mpmath.sqrt(q)
    return mpmath.quad(lambda z: f(s * z) * mpmath.exp(-z * z / 2), [-mpmath.inf, 0, mpmath.inf]) / mpmath.sqrt(
        2 * mpmath.pi)


@pytest.mark.parametrize("sw2", ["1", "1.5", "2"])
def test_relu_chi_1_is_half_sigma_w2(sw2: str) -> None:
    with mpmath.workdps(30):
        step_moment = _gauss(lambda u: 1 if u > 0 else 0, 1)        # E[phi'(u)^2] for phi' = 1{u > 0}
    assert abs(step_moment - mpmath.mpf(1) / 2) < mpmath.mpf(10) ** -25
    model = Net("relu", sw2, "0.1").model
    chi = certified_chi_1(model, analyse(model))
    assert chi.rad_fraction == 0 and chi.mid_fraction == Fraction(sw2) / 2


@pytest.mark.parametrize("net", ERF_ORDERED + ERF_CHAOTIC, ids=str)
def test_erf_chi_1_matches_quadrature(net: Net) -> None:
    model = net.model
    chi = certified_chi_1(model, analyse(model))
    with mpmath.workdps(30):
        sw, sb = mpmath.mpf(net.sigma_w2), mpmath.mpf(net.sigma_b2)
        # q* > 0: the fixed point of the quadrature variance map reached from q_1 = sigma_w^2 + sigma_b^2
        q = mpmath.findroot(lambda v: sw * _gauss(lambda u: mpmath.erf(u) ** 2, v) + sb - v, sw + sb)
        assert q > mpmath.mpf(1) / 10
        reference = sw * _gauss(lambda u: (2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-u * u)) ** 2, q)
    assert chi.rad_fraction < Fraction(1, 10**20)
    assert abs(chi.mid_mpf() - reference) < mpmath.mpf(10) ** -20, (net, chi.mid_mpf(), reference)


# ---------------------------------------------------------------- cond_2 by an independent recursion

def _erf_ntk_gram(points, sw2: str, sb2: str, depths: list[int]) -> dict[int, mpmath.matrix]:
    """The raw NTK Gram matrices of an erf MLP (NTK parameterization) at ``depths``, plain mpmath."""
    sw, sb = mpmath.mpf(sw2), mpmath.mpf(sb2)
    n, n0 = len(points), len(points[0])
    x = [[mpmath.mpf(v.numerator) / v.denominator for v in p] for p in points]
    norms = [mpmath.sqrt(mpmath.fsum(v * v for v in p)) for p in x]
    sigma = mpmath.matrix(n, n)
    for i in range(n):
        for j in range(n):
            cos = mpmath.fsum(a * b for a, b in zip(x[i], x[j], strict=True)) / (norms[i] * norms[j])
            sigma[i, j] = sw * cos / n0 + sb
    theta = sigma.copy()
    out = {}
    for layer in range(1, max(depths) + 1):
        if layer in depths:
            out[layer] = theta.copy()
        new_sigma, new_theta = mpmath.matrix(n, n), mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                d = (1 + 2 * sigma[i, i]) * (1 + 2 * sigma[j, j])
                new_sigma[i, j] = sw * 2 / mpmath.pi * mpmath.asin(2 * sigma[i, j] / mpmath.sqrt(d)) + sb
                vdot = 4 / mpmath.pi / mpmath.sqrt(d - 4 * sigma[i, j] ** 2)
                new_theta[i, j] = new_sigma[i, j] + sw * vdot * theta[i, j]
        sigma, theta = new_sigma, new_theta
    return out


def test_cond_matches_an_independent_recursion(ctx: CheckContext) -> None:
    net = ERF_ORDERED[0]
    found = study(ctx, net)
    points = usable_points(ctx.data).points
    with mpmath.workdps(60):
        grams = _erf_ntk_gram(points, net.sigma_w2, net.sigma_b2, found.depths)
        for k, depth in enumerate(found.depths):
            values = sorted(mpmath.eigsy(grams[depth], eigvals_only=True))
            cond = values[-1] / values[0]
            certified = found.cond(k)
            assert abs(cond / certified.mid_mpf() - 1) < mpmath.mpf(10) ** -15, (depth, cond, certified)
