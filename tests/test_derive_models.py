"""Dual kernels, fixed points and phases of every activation (verify.derive.dual_kernels_symbolic, .phases).

Independent routes: sympy Gaussian integrals of phi (Hermite coefficients), 2-D quadrature of the
expectations, 1-D quadrature of phi'^2, iteration of the maps, the default model's own asymptotics
(Abel route), derivatives of phi taken directly, and neural-tangents' committed kernels.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import mpmath
import pytest
import sympy as sp

from verify.cli import main
from verify.core.model import ACTIVATION_NAMES, Activation, Model
from verify.derive import dual_kernels_symbolic as dks
from verify.derive.asymptotics import gap_law
from verify.derive.phase_checks import all_checks, check_convergence
from verify.derive.phases import analyse, edge_of_chaos_at_zero

ROOT = Path(__file__).resolve().parents[1]
SPECS = [n.replace(":A,B", ":-0.5,2").replace(":A", ":0.1") for n in ACTIVATION_NAMES]
NT_REFERENCE = ROOT / "tests" / "data" / "nt_models_reference.json"


@pytest.mark.slow                        # gelu's quadrature: about 20 s
@pytest.mark.parametrize("spec", SPECS)
def test_dual_kernel_checks_pass(spec: str) -> None:
    """(a) Hermite, (b) Price, (c) 2-D quadrature, each against its stated threshold."""
    k = dks.dual_kernel(Activation.parse(spec))
    hermite, price, quad = checks = dks.all_checks(k)
    for check in checks:
        assert check.passed, (spec, check)
    assert hermite.exact and price.exact          # sympy proves both identities for every activation
    assert quad.digits is not None and quad.digits > 30


def test_wrong_closed_form_fails_hermite_check() -> None:
    """ReLU's V with a wrong constant (1/(3 pi) for 1/(2 pi) in front of sqrt(1 - c^2)) fails (a)."""
    k = dks.dual_kernel(Activation.parse("relu"))
    wrong = dataclasses.replace(k, v=k.v + dks.Q * sp.sqrt(1 - dks.C**2) * (1 / (3 * sp.pi) - 1 / (2 * sp.pi)))
    check = dks.hermite_check(wrong)
    assert not check.passed and not check.exact
    assert not dks.quadrature_check(wrong, cs=("0.5",)).passed
    # a wrong Vdot (relu's with the angle's sign flipped) fails Price
    assert not dks.price_check(dataclasses.replace(k, vdot=sp.Rational(1, 2) + sp.acos(dks.C) / (2 * sp.pi))).passed


def test_sign_and_step_ntk_derivative_is_zero() -> None:
    """neural-tangents' choice: the NTK drops the delta of sign' and step' (Vdot used by the NTK = 0)."""
    for spec, jump in (("sign", 2), ("relu^0", 1)):
        k = dks.dual_kernel(Activation.parse(spec))
        assert k.ntk_vdot == 0 and k.jump == jump
        # the distributional Vdot is jump^2 times the bivariate normal density at 0 (1/(2 pi q sqrt(1 - c^2)))
        assert sp.simplify(k.vdot - jump**2 / (2 * sp.pi * dks.Q * sp.sqrt(1 - dks.C**2))) == 0


def test_homogeneity_of_the_closed_forms() -> None:
    """V(q, c) = q^k V(1, c) for the positively homogeneous activations (phi(t x) = t^k phi(x))."""
    for spec in SPECS:
        k = dks.dual_kernel(Activation.parse(spec))
        if k.degree is None:
            continue
        t = sp.Symbol("t", positive=True)
        for branch in k.phi:
            assert sp.simplify(branch.subs(dks.X, t * dks.X) - t**k.degree * branch) == 0
        assert sp.simplify(k.v - dks.Q**k.degree * k.v.subs(dks.Q, 1)) == 0


# ---- phases ------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize(("sw2", "sb2"), [("1", "0"), ("2", "0.1")])
def test_phase_checks_pass(spec: str, sw2: str, sb2: str) -> None:
    a = analyse(Model.parse(spec, sw2, sb2))
    for name, check in all_checks(a).items():
        assert check.passed, (spec, sw2, sb2, name, check)


@pytest.mark.parametrize("sw2", ["1", "2", "1.5", "0.7"])
@pytest.mark.parametrize("sb2", ["0", "0.1"])
def test_relu_chi_1_is_half_sigma_w2(sw2: str, sb2: str) -> None:
    a = analyse(Model.parse("relu", sw2, sb2))
    assert a.chi_1.expr == sp.Rational(sw2) / 2
    expected = {-1: "ordered", 0: "edge of chaos", 1: "chaotic"}[sp.sign(sp.Rational(sw2) / 2 - 1)]
    assert a.phase == expected


def test_relu_gap_constant_matches_the_abel_route() -> None:
    """1 - rho ~ 9 pi^2/(2 L^2) without bias: the same constant as verify.derive.asymptotics (Abel coordinate)."""
    law = gap_law(1)
    for sw2 in ("1", "2", "3"):
        a = analyse(Model.parse("relu", sw2, "0"))
        assert a.convergence.kind == "algebraic" and a.convergence.exponent == 2
        assert a.convergence.constant is not None and a.convergence.constant.expr is not None
        assert sp.simplify(a.convergence.constant.expr - law.prefactor) == 0
    # at the edge with bias (sigma_w^2 = 2, sigma_b^2 > 0) q grows linearly and the constant is a quarter
    a = analyse(Model.parse("relu", "2", "0.1"))
    assert a.convergence.constant is not None
    assert sp.simplify(a.convergence.constant.expr - law.prefactor / 4) == 0
    assert check_convergence(a).passed


def test_erf_edge_of_chaos() -> None:
    """phi = erf(x) (neural-tangents' Erf): chi_1 = 1 at q* = 0 for sigma_w^2 = pi/4, not pi/2.

    Independent route: chi_1(q* = 0) = sigma_w^2 phi'(0)^2 with phi'(0) from sympy's derivative of erf.
    pi/2 is the edge of erf(x/sqrt 2) (phi'(0)^2 = 2/pi), a different activation.
    """
    x = sp.Symbol("x")
    for phi, edge in ((sp.erf(x), sp.pi / 4), (sp.erf(x / sp.sqrt(2)), sp.pi / 2)):
        assert sp.simplify(1 / sp.diff(phi, x).subs(x, 0) ** 2 - edge) == 0
    assert edge_of_chaos_at_zero(Activation.parse("erf")) == sp.pi / 4
    below = analyse(Model.parse("erf", "0.785", "0"))          # pi/4 = 0.78539...
    above = analyse(Model.parse("erf", "0.786", "0"))
    assert below.q_star is not None and below.q_star.value == 0 and below.phase == "ordered"
    assert below.chi_1.expr == sp.Rational(785, 1000) * 4 / sp.pi
    assert above.q_star is not None and above.q_star.value > 0 and above.phase == "chaotic"
    assert 1 < above.chi_1.value < 1 + mpmath.mpf(10) ** -5
    half_pi = analyse(Model.parse("erf", "1.5707963267948966", "0"))
    assert half_pi.phase == "chaotic" and half_pi.chi_1.value > mpmath.mpf("1.1")
    # near the edge the orbits converge too slowly to check by iteration (chi_c = 1 - 1e-7); farther away:
    for sw2, phase in (("0.75", "ordered"), ("1.2", "chaotic")):
        a = analyse(Model.parse("erf", sw2, "0"))
        assert a.phase == phase
        assert all(c.passed for c in all_checks(a).values()), sw2


def test_homogeneous_without_bias_has_no_finite_q_star() -> None:
    for spec in ("relu", "abs", "leaky_relu:0.1", "relu^1"):
        a = analyse(Model.parse(spec, "2", "0"))
        assert a.q_star is None and "no finite q*" in a.q_behaviour
    a = analyse(Model.parse("relu^2", "1", "0"))        # the quadratic map's q* = 2/3 repels
    assert a.q_star is None and any(p.at.expr == sp.Rational(2, 3) and p.stability == "repelling"
                                    for p in a.q_fixed_points)


def test_resnet_relu_is_parabolic_for_every_sigma() -> None:
    for arch, sw2 in (("resnet:1", "1"), ("resnet:0.3", "2")):
        a = analyse(Model.parse("relu", sw2, "0", architecture=arch))
        assert a.convergence.kind == "algebraic"
        beta = Model.parse(architecture=arch).architecture.alpha ** 2 * sp.Rational(sw2) / 2
        kappa = 2 * sp.sqrt(2) / (3 * sp.pi)
        assert sp.simplify(a.convergence.constant.expr - 4 * (1 + beta) ** 2 / (beta**2 * kappa**2)) == 0
    assert check_convergence(analyse(Model.parse("relu", "1", "0.1", architecture="resnet:1"))).passed


# ---- neural-tangents' kernels (committed reference data) ---------------------------------

def _nt_configs() -> list[dict]:
    if not NT_REFERENCE.exists():
        return []
    data = json.loads(NT_REFERENCE.read_text())
    return [dict(c, points=data["points"], pairs=data["pairs"]) for c in data["configs"]
            if c["parameterization"] == "ntk" and c["activation"] in SPECS]


def _ours(cfg: dict) -> list[tuple[int, int, object, object, object, object]]:
    """(depth, pair, q, Sigma, Theta, Theta_diag) of the closed-form recursion at 30 digits (Theta: MLP only).

    The inputs are unit vectors, so every layer has one variance q and a pair enters through c = Sigma/q.
    """
    k = dks.dual_kernel(Activation.parse(cfg["activation"]))
    v = sp.lambdify((dks.Q, dks.C), k.v, "mpmath")
    vd = sp.lambdify((dks.Q, dks.C), k.ntk_vdot, "mpmath")
    sw2, sb2 = mpmath.mpf(cfg["sigma_w2"]), mpmath.mpf(cfg["sigma_b2"])
    alpha2 = mpmath.mpf(cfg["architecture"].split(":")[1]) ** 2 if cfg["architecture"] != "mlp" else None
    pts = [[mpmath.mpf(x) for x in p] for p in cfg["points"]]
    out = []
    for col, (i, j) in enumerate(cfg["pairs"]):
        q, s = sw2 / 3 + sb2, sw2 * mpmath.fsum(a * b for a, b in zip(pts[i], pts[j], strict=True)) / 3 + sb2
        theta, theta_d = s, q
        for depth in range(1, len(cfg["nngp"]) + 1):
            if depth > 1:
                c = s / q
                if alpha2 is None:
                    s, q_new = sw2 * v(q, c) + sb2, sw2 * v(q, 1) + sb2
                    theta, theta_d = sw2 * vd(q, c) * theta + s, sw2 * vd(q, 1) * theta_d + q_new
                else:
                    s, q_new = s + alpha2 * (sw2 * v(q, c) + sb2), q + alpha2 * (sw2 * v(q, 1) + sb2)
                q = q_new
            out.append((depth, col, q, s, theta if alpha2 is None else None, theta_d))
    return out


@pytest.mark.skipif(not _nt_configs(), reason="tests/data/nt_models_reference.json not present")
def test_closed_forms_reproduce_neural_tangents() -> None:
    """NNGP (MLP, ResNet) and NTK (MLP) of the closed forms vs neural-tangents 0.6.5 (x64), depths 1..20: 1e-12.

    Errors are relative to the diagonal. Not compared: entries neural-tangents returned as null
    (relu^2 overflows) and its NTK diagonal (off by up to ~1e-9 where its ABRelu takes sqrt of a
    rounding error at c = 1). Its RectifiedMonomial NTK loses digits as c -> 1 (through arccos): relu^1
    is compared with its Relu (the same function; the two disagree by up to 2e-8 at 1 - c = 5e-9),
    relu^2 within 1e-12 + 1e-15/(1 - c) (at 1 - c = 1.6e-12 it is off by 1.4e-5).
    """
    cfgs = {(c["activation"], c["architecture"], c["sigma_w2"], c["sigma_b2"]): c for c in _nt_configs()}
    with mpmath.workdps(30):
        for key, cfg in cfgs.items():
            ntk_ref = cfgs.get(("relu",) + key[1:], cfg) if key[0] == "relu^1" else cfg
            for depth, col, q, s, theta, theta_d in _ours(cfg):
                nt_s, nt_q = cfg["nngp"][depth - 1][col], cfg["nngp_diag"][depth - 1]
                if nt_s is None or nt_q is None:
                    assert cfg["activation"] == "relu^2"
                    continue
                where = (*key, depth, col)
                assert abs(nt_s - s) / q < 1e-12 and abs(nt_q / q - 1) < 1e-12, where
                nt_t = ntk_ref["ntk"][depth - 1][col]
                if theta is not None and (nt_t is not None or key[0] != "relu^2"):
                    # float64 through arccos near c = 1: an error ~ eps/(1 - c) in the derivative kernel
                    tol = 1e-12 + (1e-15 / (1 - s / q) if key[0] == "relu^2" else 0)
                    assert abs(nt_t - theta) / theta_d < tol, where


@pytest.mark.skipif(not _nt_configs(), reason="tests/data/nt_models_reference.json not present")
def test_neural_tangents_relu1_ntk_is_its_own_float_error_near_one() -> None:
    """neural-tangents' Relu and RectifiedMonomial(1) (the same function) disagree near c = 1; we follow Relu."""
    cfgs = {(c["activation"], c["architecture"], c["sigma_w2"], c["sigma_b2"]): c for c in _nt_configs()}
    relu1, relu = cfgs.get(("relu^1", "mlp", "1", "0.1")), cfgs.get(("relu", "mlp", "1", "0.1"))
    if relu1 is None or relu is None:
        pytest.skip("configs not in the reference data")
    with mpmath.workdps(30):
        ours = {(d, col): (s, q, t, td) for d, col, q, s, t, td in _ours(relu)}
    gaps = [(abs(relu1["ntk"][d - 1][col] - relu["ntk"][d - 1][col]) / ours[d, col][3],
             abs(relu["ntk"][d - 1][col] - ours[d, col][2]) / ours[d, col][3])
            for (d, col), (s, q, _, _) in ours.items() if 1 - s / q < 1e-6]
    assert gaps and max(g[0] for g in gaps) > 1e-9 and max(g[1] for g in gaps) < 1e-12


# ---- the CLI and the table -----------------------------------------------------------------

def test_cli_derive_activation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive", "--activation", "leaky_relu:0.1", "--sigma-b2", "0.1", "--quick", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["all_passed"] and payload["model"]["activation"] == "leaky_relu:0.1"
    assert payload["model"]["sigma_b2"] == "1/10"
    assert [it["id"] for it in payload["items"]] == ["dual.V", "dual.Vdot", "phase.variance", "phase.chi_1",
                                                     "phase.fixed_points", "phase.convergence"]
    assert main(["derive", "--activation", "sign", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "neural-tangents" in out and "all checks passed: True" in out
    assert main(["derive", "--activation", "erf", "--architecture", "resnet:0.3", "--quick", "--format", "latex"]) == 0
    assert r"\begin{enumerate}" in capsys.readouterr().out
    for bad in (["--activation", "tanh"], ["--activation", "relu^3"], ["--sigma-w2", "-1"],
                ["--activation", "abrelu:0,0"], ["--architecture", "resnet:0"]):
        assert main(["derive", *bad]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_models_table_rows_are_computed() -> None:
    """docs/models.md holds the rows scripts/make_models_table.py computes (two rows recomputed here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_models_table", ROOT / "scripts" / "make_models_table.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = (ROOT / "docs" / "models.md").read_text()
    for model in (Model.parse("relu", "1", "0"), Model.parse("erf", "2", "0.1")):
        row = mod.phase_rows([model])[-1]
        assert row in text, row
