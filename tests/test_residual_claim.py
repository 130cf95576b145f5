"""residual-ntk: the claim goes both ways, and its certified kernels and continuum limit meet independent routes.

* The stated claim (ALPHA = L^(-1/2) does not degenerate) is confirmed and the false variant (fixed
  ALPHA = 3/10 does not degenerate) refuted, for both kernels; the reverse variants go the other way.
* The certified ResNet kernels contain a plain-mpmath reference at twice the digits, iterated here from
  the raw layer formulas (Sigma, Theta and their diagonals, correlation coordinate), not with
  :mod:`verify.kernel.model_recursion`.
* The continuum-limit ODE of :mod:`proofs_checks.residual_ntk` is met by that reference recursion at
  rate 1/L, and its c-component by the quadrature s = int dc/(h(c) - c).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest

from proofs_checks import CheckContext, Verdict
from proofs_checks.residual_ntk import CHECK, FIXED, SCALED, DegeneracyClaim, Family, continuum_kernels
from verify.core.errors import InputError
from verify.core.model import Architecture, Model
from verify.data.pairs import PairCorrelation
from verify.kernel.model_recursion import certified_model_sweep

DIGITS = 20
N0 = 3
PAIRS = [PairCorrelation(1, Fraction(81, 100)), PairCorrelation(-1, Fraction(1, 4))]     # cos = 0.9, -0.5
COSINES = ["0.9", "-0.5"]


@pytest.fixture(scope="module")
def ctx() -> CheckContext:
    return CheckContext(profile="quick", data_spec="builtin:sphere-4", digits=DIGITS)


@pytest.mark.parametrize("kernel", CHECK.kernels)
def test_stated_claim_is_confirmed_and_false_claim_refuted(ctx: CheckContext, kernel: str) -> None:
    stated = CHECK.evaluate(ctx, kernel)
    assert stated.verdict is Verdict.CONFIRMED, stated.certificate
    false = CHECK.evaluate(ctx, kernel, CHECK.false_claim)
    assert false.verdict is Verdict.REFUTED, false.certificate
    assert any(f.supports is False for f in false.findings)
    assert stated.source["id"] == "huang-2020"
    assert stated.parameters["models"]["resnet:ALPHA = L^(-1/2)"][-1]["architecture"] == "resnet:0.01"


@pytest.mark.parametrize("kernel", CHECK.kernels)
def test_reverse_variants_go_the_other_way(ctx: CheckContext, kernel: str) -> None:
    assert CHECK.evaluate(ctx, kernel, DegeneracyClaim(SCALED, degenerates=True)).verdict is Verdict.REFUTED
    assert CHECK.evaluate(ctx, kernel, DegeneracyClaim(FIXED, degenerates=True)).verdict is Verdict.CONFIRMED


def test_scaled_family_needs_square_depths() -> None:
    assert SCALED.alpha_at(900) == Fraction(1, 30)
    with pytest.raises(InputError):
        SCALED.alpha_at(1000)
    with pytest.raises(InputError):
        Family(gamma=Fraction(1, 3))


# ---------------------------------------------------------------- the independent reference


def reference(alpha: Fraction, cosine: str, depth: int, dps: int) -> tuple[mpmath.mpf, ...]:
    """(rho, ThetaBar, Sigma(x,x), Theta(x,x)) of neural-tangents' ReLU ResNet at ``depth``, plain mpmath.

    Raw formulas: Sigma' = Sigma + w V(q, c), Theta' = Theta + w Vdot(c) Theta + w V(q, c) with w = ALPHA^2,
    V(q, c) = q (sin theta + (pi - theta) c)/(2 pi), Vdot(c) = (pi - theta)/(2 pi), theta = arccos c, c = Sigma/q
    (NTK parameterization, sigma_w^2 = 1, no bias; first layer Sigma = Theta = x.x'/n0).
    """
    with mpmath.workdps(dps):
        w = mpmath.mpf(alpha.numerator) ** 2 / alpha.denominator ** 2
        pi = mpmath.pi
        q = t = mpmath.mpf(1) / N0
        s = th = mpmath.mpf(cosine) / N0
        for _ in range(depth - 1):
            c = s / q
            theta = mpmath.acos(c)
            v = q * (mpmath.sin(theta) + (pi - theta) * c) / (2 * pi)
            s, th = s + w * v, th + w * (pi - theta) / (2 * pi) * th + w * v
            q, t = q + w * q / 2, t + w * t / 2 + w * q / 2
        return s / q, th / t, q, t


@pytest.mark.parametrize(("alpha", "depth"), [(Fraction(1, 10), 100), (Fraction(3, 10), 300)])
def test_certified_resnet_kernels_contain_the_reference(alpha: Fraction, depth: int) -> None:
    model = Model(architecture=Architecture("resnet", alpha))
    got = certified_model_sweep(model, PAIRS, [depth], N0, DIGITS).at(depth)
    for i, cosine in enumerate(COSINES):
        rho, theta_bar, q, t = reference(alpha, cosine, depth, 2 * DIGITS)
        assert got.nngp[i].contains(rho) and got.ntk[i].contains(theta_bar), (alpha, cosine)
        assert got.nngp_diag.contains(q) and got.ntk_diag.contains(t)
        assert got.nngp[i].correct_digits() >= DIGITS and got.ntk[i].correct_digits() >= DIGITS


def test_continuum_limit_meets_the_recursion_at_rate_one_over_depth() -> None:
    # ALPHA = L^(-1/2): after L - 1 blocks the ODE time is S_L = (L - 1) beta/(1 + beta), beta = 1/(2L)
    errors = {}
    for m in (20, 40):
        depth = m * m
        beta = Fraction(1, 2 * depth)
        s_l = (depth - 1) * beta / (1 + beta)
        rho, theta_bar, _, _ = reference(Fraction(1, m), "-0.5", depth, 30)
        c, p = continuum_kernels(mpmath.mpf("-0.5"), [mpmath.mpf(s_l.numerator) / s_l.denominator], 15)[0]
        errors[depth] = (abs(rho - c), abs(theta_bar - p))
    for k in (0, 1):
        small, large = errors[400][k], errors[1600][k]
        assert 400 * small < 1                      # O(1/L) with a moderate constant
        assert 3 < small / large < 5                # quadrupling L divides it by about 4


def test_continuum_correlation_matches_the_quadrature() -> None:
    # dc/ds = h(c) - c  <=>  s = int_{c0}^{c(s)} dc / (h(c) - c)
    c, _ = continuum_kernels(mpmath.mpf("-0.5"), [mpmath.mpf("0.5")], 20)[0]
    with mpmath.workdps(30):
        def h(x: mpmath.mpf) -> mpmath.mpf:
            return (mpmath.sqrt(1 - x * x) + x * (mpmath.pi - mpmath.acos(x))) / mpmath.pi
        s = mpmath.quad(lambda x: 1 / (h(x) - x), [mpmath.mpf("-0.5"), c])
    assert abs(s - mpmath.mpf("0.5")) < mpmath.mpf(10) ** -18
