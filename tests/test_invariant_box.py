"""The invariant-box route (:mod:`verify.kernel.invariant_box`) against independent plain iterations.

References: the plain-mpmath route of the model recursion (:func:`mpmath_model_sweep`: no balls,
no boxes, layer by layer at twice the digits and more), and for depths no iteration reaches
(10^6, 10^15) the same plain orbit once it has converged. Justification of the latter reference:
the models below contract at rate kappa <= 0.985 near their fixed point, so after 8000 layers
the plain orbit's last step is below 1e-40 (checked here) and its distance to the fixed point
below that step times kappa/(1 - kappa), and every later normalized kernel and variance equals it far beyond the
20 digits compared. The raw NTK diagonal t_L grows like c^L in the chaotic phase; its reference
is t_N c^(L - N) with c = t_N / t_(N-1) of the converged plain orbit.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
from flint import arb, ctx

from verify import kernels_sweep
from verify.core.errors import InputError
from verify.core.model import Model
from verify.data.pairs import PairCorrelation
from verify.kernel.dual_kernels import dual_kernel
from verify.kernel.invariant_box import box_image, find_invariant_box
from verify.kernel.model_recursion import (
    BOX_METHOD,
    LayerCoefficients,
    _DirectState,
    certified_model_sweep,
    mpmath_model_sweep,
)

DIGITS = 20
N0 = 3
PAIRS = [PairCorrelation(1, Fraction(1, 4)), PairCorrelation(-1, Fraction(1, 9))]
# (activation, sigma_w^2, sigma_b^2): ordered (rho -> 1) and chaotic (rho* < 1) phases, smooth, kinked and step
MODELS = [
    ("relu", "1", "0.1"),       # ordered, kink: rho -> 1, t -> t*
    ("erf", "3", "0"),          # chaotic: rho -> 0, t grows like c^L
    ("erf", "1.5", "0.1"),      # ordered, smooth
    ("gelu", "2", "0.1"),
    ("sign", "2", "0.1"),       # step: Vdot = 0 (neural-tangents' convention)
    ("relu^2", "0.5", "0.1"),
]
CONVERGED = 8000


def _model(spec: tuple[str, str, str]) -> Model:
    act, sw, sb = spec
    return Model.parse(activation=act, sigma_w2=sw, sigma_b2=sb)


def _plain(model: Model, depths: list[int]):
    return mpmath_model_sweep(model, PAIRS, depths, N0, 400)      # 120 digits: the deep t is tight


def _values(r, i: int) -> tuple:
    return r.nngp[i], r.ntk[i]


@pytest.mark.parametrize("spec", MODELS)
def test_box_route_contains_the_plain_orbit_at_every_depth(spec: tuple[str, str, str]) -> None:
    model = _model(spec)
    shallow = [100, 700, CONVERGED]
    ref = _plain(model, [*shallow, CONVERGED - 1])
    last, before = ref.at(CONVERGED), ref.at(CONVERGED - 1)
    step = max(abs(a - b) for i in range(len(PAIRS)) for a, b in zip(_values(last, i), _values(before, i), strict=True))
    assert step < mpmath.mpf(10) ** (-2 * DIGITS), "the reference orbit has not converged"
    deep = [10**6, 10**15]
    out = certified_model_sweep(model, PAIRS, shallow + deep, N0, DIGITS)
    assert all(out.method(d) == BOX_METHOD for d in deep)
    for d in shallow + deep:
        want = ref.at(min(d, CONVERGED))
        with mpmath.workprec(400):      # log t_L = log t_N + (L - N) log c, c = t_N / t_(N-1) of the converged orbit
            log_t = mpmath.log(want.ntk_diag) + max(0, d - CONVERGED) * mpmath.log(last.ntk_diag / before.ntk_diag)
        got = out.at(d)
        with ctx.workprec(400):         # t_L itself may be ~10^(10^14): compare logarithms
            assert got.ntk_diag.to_arb().log().contains(_arb(log_t)), (spec, d)
        assert got.nngp_diag.contains(want.nngp_diag), (spec, d)
        for i in range(len(PAIRS)):
            for ball, value in zip(_values(got, i), _values(want, i), strict=True):
                assert ball.contains(value), (spec, d, i, ball.to_json(DIGITS), mpmath.nstr(value, 30))
                assert ball.correct_digits() >= DIGITS


def test_the_returned_box_traps_its_image() -> None:
    """The certificate itself: Phi(X) inside X, and the exact orbit stays in X for hundreds of layers."""
    model = _model(("erf", "3", "0"))
    kernel = dual_kernel(model.activation)
    with ctx.workprec(120):
        state = _DirectState(kernel, LayerCoefficients.of(model, N0), PAIRS[:1])
        while state.layer < 200:
            state.step()
        box = find_invariant_box(kernel, state.coefficients(), state.box())
        assert box is not None and box.contains(box_image(kernel, state.coefficients(), box))
    ref = mpmath_model_sweep(model, PAIRS[:1], list(range(200, 600, 50)), N0, 200)
    for d in range(200, 600, 50):
        r = ref.at(d)
        assert box.e[0].contains(_arb(r.nngp_gap[0])) and box.f[0].contains(_arb(r.ntk_gap[0]))
        assert box.q.contains(_arb(r.nngp_diag)) and box.s.contains(_arb(1 / r.ntk_diag))


def _arb(x: mpmath.mpf) -> arb:
    with ctx.workprec(400):
        return arb(mpmath.nstr(x, 110, strip_zeros=False))


def test_parabolic_model_keeps_direct_iteration_and_refuses_beyond_it() -> None:
    """relu on the critical line sigma_w^2 = 2 with a bias: rho -> 1 algebraically, no box certifies the digits."""
    model = _model(("relu", "2", "0.1"))
    out = certified_model_sweep(model, PAIRS[:1], [2000], N0, DIGITS)
    assert "no invariant box" in out.method(2000)
    ref = _plain(model, [2000]).at(2000)
    assert out.at(2000).nngp[0].contains(ref.nngp[0]) and out.at(2000).ntk[0].contains(ref.ntk[0])
    with pytest.raises(InputError, match="no invariant box"):
        certified_model_sweep(model, PAIRS[:1], [10**12], N0, DIGITS)


def test_kernel_sweep_reads_deep_layers_off_the_box() -> None:
    """The public entry point: models outside the seed family at depth 10^12."""
    points = [["1", "0", "0"], ["0.6", "0.8", "0"], ["0", "0", "1"]]
    for model in (_model(("gelu", "2", "0.1")), _model(("erf", "3", "0"))):
        res = kernels_sweep(points, [10, 10**12], digits=DIGITS, model=model, progress=False)
        for name in ("nngp", "ntk"):
            shallow, deep = res[name]
            assert shallow.method == "direct iteration" and deep.method == BOX_METHOD
            assert deep.model == model


def test_seed_family_relu_with_a_bias_reads_deep_layers_off_the_box() -> None:
    """ReLU with a bias, sigma_w^2 < 2, given as param=: past depth 1000 the route certified uses the
    box (chi_c = sigma_w^2/2 = 3/4); the references are the converged plain orbit of the model
    recursion after 1500 layers (its last step below 1e-40, checked) and, at depth 2000, the seed
    engine's own direct iteration."""
    from verify.core.params import Parameterization

    param, model = Parameterization("1.5", "0.3"), _model(("relu", "1.5", "0.3"))
    points = [["1", "0", "0"], ["0.6", "0.8", "0"], ["-0.6", "0", "0.8"]]
    res = kernels_sweep(points, [10, 2000, 10**12], digits=DIGITS, param=param, progress=False)
    seed = kernels_sweep(points, [2000], digits=DIGITS, param=param, route="certified-direct", progress=False)
    kept = kernels_sweep(points, [2000], digits=DIGITS, param=param, relative_gap=True, progress=False)
    pairs = [PairCorrelation(1, Fraction(9, 25)), PairCorrelation(-1, Fraction(9, 25))]   # cos 0.6 and -0.6
    ref = mpmath_model_sweep(model, pairs, [1499, 1500], N0, 400)
    last, before = ref.at(1500), ref.at(1499)
    assert max(abs(a - b) for i in range(2) for a, b in zip(_values(last, i), _values(before, i), strict=True)) \
        < mpmath.mpf(10) ** -40
    for k, name in enumerate(("nngp", "ntk")):
        shallow, middle, deep = res[name]
        assert middle.method == deep.method == BOX_METHOD
        assert kept[name][0].method == "direct iteration"         # relative gaps: the seed engine
        for i, j in ((0, 1), (0, 2), (1, 2)):
            assert middle.entries[i][j].to_arb().overlaps(seed[name][0].entries[i][j].to_arb())
        for (i, j), u in (((0, 1), 0), ((0, 2), 1)):                # cos 0.6 and -0.6: the two reference pairs
            want = _values(last, u)[k]
            assert deep.entries[i][j].contains(want) and deep.entries[i][j].correct_digits() >= DIGITS
