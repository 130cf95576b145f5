"""The seed's kink family at any depth (:mod:`verify.kernel.model_series`) against independent routes.

* The reduction of every member (relu, leaky_relu, abrelu, abs without a bias, NTK
  parameterization, MLP or resnet) to the seed's map with a weight w and the NTK's theta
  (:mod:`verify.kernel.asymptotic.family`) against the generic model recursion
  (:mod:`verify.kernel.model_recursion`: the dual kernels of each activation, raw diagonals,
  direct iteration) at depths where both run: the certified balls must overlap.
* Depth 3 * 10^4 and 10^6 against a plain-mpmath reference at 50 digits committed in
  tests/data/parabolic_reference.json (``scripts/make_parabolic_reference.py``: neural-tangents'
  raw recursions layer by layer, no normalization, no balls, nothing from ``verify``): every
  certified ball (20 digits asked) contains it.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from flint import arb, ctx

from verify.cli import main
from verify.core.model import Model
from verify.data.pairs import PairCorrelation
from verify.kernel.asymptotic.family import KinkFamily, parabolic_family
from verify.kernel.model_recursion import certified_model_sweep
from verify.kernel.model_series import series_available, series_method

REFERENCE = Path(__file__).parent / "data" / "parabolic_reference.json"
DIGITS = 20
# The reference's own error: 50-digit arithmetic over at most 10^6 layers, each a few roundings of
# relative size 1e-50 carried with slope <= 1 (the gap map's derivative), so below ~1e-43; allowed: 1e-38,
# still 18 orders of magnitude below the 1e-20 asked of the certified balls.
REFERENCE_ERROR = 1e-38
N0 = 3
# (activation, sigma_w^2, architecture): weights 81/101, 2, 25/21 (theta 4/21), 9/209 (theta 200/209)
CASES = {
    "leaky_relu:0.1 (2, 0)": ("leaky_relu:0.1", "2", "mlp"),
    "abs (1, 0)": ("abs", "1", "mlp"),
    "abrelu:-0.5,2 resnet:1 (2, 0)": ("abrelu:-0.5,2", "2", "resnet:1"),
    "relu resnet:0.3 (1, 0)": ("relu", "1", "resnet:0.3"),
}


def _model(name: str) -> Model:
    act, sw, arch = CASES[name]
    return Model.parse(activation=act, sigma_w2=sw, architecture=arch)


def _pair(cosine: str) -> PairCorrelation:
    c = Fraction(cosine)
    return PairCorrelation(1 if c >= 0 else -1, c * c)       # the key is (sign, cos^2)


@pytest.mark.parametrize("name", list(CASES))
def test_series_overlaps_the_model_recursion(name: str) -> None:
    model = _model(name)
    pairs = [_pair("0"), _pair("-0.5")]
    depths = [7, 1500, 2500]
    series = certified_model_sweep(model, pairs, depths, N0, DIGITS)
    direct = certified_model_sweep(model, pairs, depths, N0, DIGITS, box=False)
    family = parabolic_family(model)
    assert family is not None and series.method(2500) == series_method(family)
    assert direct.method(2500) == "direct iteration"
    for d in depths:
        s, r = series.at(d), direct.at(d)
        for got, want in [(s.nngp_diag, r.nngp_diag), (s.ntk_diag, r.ntk_diag),
                          *zip(s.nngp_gap, r.nngp_gap, strict=True), *zip(s.ntk_gap, r.ntk_gap, strict=True)]:
            assert got.to_arb().overlaps(want.to_arb()), (name, d)
        assert all(b.relative_digits() >= DIGITS for b in (*s.nngp_gap, *s.ntk_gap))


def test_family_membership() -> None:
    assert parabolic_family(Model.parse(activation="erf")) is None
    assert parabolic_family(Model.parse(sigma_b2="0.1")) is None
    assert parabolic_family(Model.parse(parameterization="standard", sigma_b2="0.1")) is None
    assert parabolic_family(Model.parse(activation="abrelu:0.5,0.5")) is None       # linear
    # resnet:ALPHA with u = ALPHA^2 sigma_w^2, m = (a^2 + b^2)/2, k = (a - b)^2/2: w = u k/(1 + u m)
    fam = parabolic_family(Model.parse(activation="abrelu:-0.5,2", sigma_w2="2", architecture="resnet:1"))
    u, m, k = 2, Fraction(17, 8), Fraction(25, 8)
    assert fam == KinkFamily(u * k / (1 + u * m), 1 / (1 + u * m))
    assert not series_available(None, 30)


@pytest.mark.skipif(not REFERENCE.exists(), reason="tests/data/parabolic_reference.json not generated")
@pytest.mark.parametrize("name", list(CASES))
def test_deep_enclosures_contain_the_plain_reference(name: str) -> None:
    ref = json.loads(REFERENCE.read_text())["values"][name]
    cosines = sorted(ref)
    depths = [30_000, 1_000_000]
    out = certified_model_sweep(_model(name), [_pair(c) for c in cosines], depths, N0, DIGITS)
    for d in depths:
        got = out.at(d)
        for i, c in enumerate(cosines):
            want = ref[c][str(d)]
            for ball, key in ((got.nngp[i], "nngp"), (got.ntk[i], "ntk"),
                              (got.nngp_gap[i], "nngp_gap"), (got.ntk_gap[i], "ntk_gap")):
                # the ball (radius ~1e-45) is tighter than the reference itself: allow its own error
                with ctx.workprec(300):
                    reference = arb(want[key]) + arb(0, REFERENCE_ERROR)
                    assert ball.to_arb().overlaps(reference), (name, d, c, key)
                assert ball.correct_digits() >= DIGITS


def test_cli_reaches_depth_1e15_for_a_resnet(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["kernel", "--data", "builtin:sphere-4", "--architecture", "resnet:0.3", "--depth", "1e15",
               "--kernel", "both", "--digits", "20", "--quiet", "--format", "json"])
    assert rc == 0
    payload = json.loads(capsys.readouterr().out)
    ntk = payload["ntk"]                        # one depth: the result itself
    assert ntk["method"].startswith("asymptotic series") and ntk["guarantee"] == "certified enclosure"


def test_route_certified_asymptotic_serves_the_family_and_refuses_others() -> None:
    from verify import kernel_sweep
    from verify.core.errors import InputError

    points = [["1", "0"], ["0", "1"]]
    res = kernel_sweep(points, [10**12], "ntk", 20, route="certified-asymptotic",
                       model=Model.parse(activation="leaky_relu:0.1"))[0]
    assert res.method.startswith("asymptotic series")
    with pytest.raises(InputError, match="no asymptotic-series route"):
        kernel_sweep(points, [10**12], route="certified-asymptotic",
                     model=Model.parse(activation="relu", sigma_b2="0.1", architecture="resnet:1"))


@pytest.mark.parametrize("spec", [("relu", "1", "mlp", 64), ("abs", "2", "resnet:0.5", 3),
                                  ("leaky_relu:0.1", "1", "resnet:1", 1)])
def test_standard_parameterization_overlaps_the_model_recursion(spec: tuple[str, str, str, int]) -> None:
    """Standard parameterization: the NTK's offset n0/(sigma_w^2 nu) and scale nu = N/W_std^2."""
    act, sw, arch, width = spec
    model = Model.parse(activation=act, sigma_w2=sw, architecture=arch, parameterization="standard", width=width)
    family = parabolic_family(model, N0)
    alpha = model.architecture.alpha
    hidden_w_std2 = Fraction(sw) * (1 if alpha is None else alpha * alpha)
    assert family is not None and family.scale == width / hidden_w_std2
    pairs = [_pair("0.6"), _pair("-0.5")]
    series = certified_model_sweep(model, pairs, [5, 1200], N0, DIGITS)
    direct = certified_model_sweep(model, pairs, [5, 1200], N0, DIGITS, box=False)
    assert series.method(1200) == series_method(family)
    for d in (5, 1200):
        s, r = series.at(d), direct.at(d)
        for got, want in [(s.nngp_diag, r.nngp_diag), (s.ntk_diag, r.ntk_diag),
                          *zip(s.nngp_gap, r.nngp_gap, strict=True), *zip(s.ntk_gap, r.ntk_gap, strict=True)]:
            assert got.to_arb().overlaps(want.to_arb()), (spec, d)
