"""Every kernel / solve / condition entry point takes a :class:`~verify.core.model.Model` (issue #12).

References, none of them the code under test:

* ``tests/data/nt_models_reference.json``: neural-tangents 0.6.5 (x64) raw kernels of four exact
  unit vectors of R^3 (see ``tests/test_models_nt.py``). The normalized NNGP is compared as
  neural-tangents' raw value over its own diagonal (accurate to about 1e-12 relative for every
  activation); the NTK as a raw value (entry times the certified diagonal) against
  neural-tangents' raw NTK, relative 1e-12 floored at 1e-3 Theta(x,x) (neural-tangents' NTK
  diagonal is inaccurate for the ABRelu family, see that test's docstring);
* an mpmath quadrature at 40 digits of the GELU NNGP at depth 2, with the inner Gaussian
  expectation in closed form: for v ~ N(m, s^2), E[v Phi(v)] = m Phi(m/r) + (s^2/r) phi(m/r),
  r = sqrt(1 + s^2) (Stein's lemma), so E[gelu(u) gelu(v)] is a 1-D integral over u;
* numpy's float64 condition number of the neural-tangents NNGP matrix (best effort, compared at 1e-6);
* for seed-family models, the same call with ``param=`` (the seed engine, unchanged).
"""

from __future__ import annotations

import functools
import json
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest

from verify import api
from verify.cli import main
from verify.core.errors import InputError, SingularKernelError
from verify.core.model import Model
from verify.core.params import Parameterization
from verify.core.precision import meets_digits
from verify.data.dataset import Dataset
from verify.kernel.routes import kernel_sweep, kernels_sweep
from verify.linalg.conditioning import diagnose_model

ROOT = Path(__file__).resolve().parents[1]
NT_DATA = ROOT / "tests" / "data" / "nt_models_reference.json"
NORM_ATOL = 1e-12
RAW_RTOL = 1e-12
RAW_FLOOR = 1e-3
DEPTHS = [1, 2, 5, 20]
# (activation, sigma_w2, sigma_b2, parameterization, width, architecture): stored neural-tangents configurations
NT_MODELS = [
    ("erf", "2", "0.1", "ntk", 1, "mlp"),
    ("gelu", "1", "0.1", "standard", 64, "resnet:0.3"),
    ("abs", "2", "0", "ntk", 1, "resnet:1"),
    ("leaky_relu:0.1", "1", "0.1", "standard", 1, "mlp"),
    ("abrelu:-0.5,2", "2", "0.1", "standard", 64, "mlp"),
    ("sign", "1", "0.1", "ntk", 1, "mlp"),
]


@functools.cache
def nt_reference() -> dict:
    return json.loads(NT_DATA.read_text())


def nt_config(key: tuple) -> dict:
    return next(c for c in nt_reference()["configs"]
                if (c["activation"], c["sigma_w2"], c["sigma_b2"], c["parameterization"], c["width"],
                    c["architecture"]) == key)


def model_of(key: tuple) -> Model:
    act, w, b, par, width, arch = key
    return Model.parse(activation=act, sigma_w2=w, sigma_b2=b, parameterization=par, width=width, architecture=arch)


@pytest.mark.parametrize("key", NT_MODELS, ids=lambda k: "-".join(map(str, k)))
def test_non_seed_models_match_neural_tangents(key: tuple) -> None:
    ref, cfg = nt_reference(), nt_config(key)
    res = kernels_sweep(ref["points"], DEPTHS, digits=20, model=model_of(key))
    for r in res["nngp"]:
        k = r.depth - 1
        assert r.metadata()["model"] == model_of(key).describe()
        for p, (i, j) in enumerate(ref["pairs"]):
            ball, nt = r.entries[i][j], mpmath.mpf(cfg["nngp"][k][p]) / cfg["nngp_diag"][k]
            assert ball.rad_fraction < Fraction(1, 10**19)
            assert abs(ball.mid_mpf() - nt) <= ball.rad_fraction + NORM_ATOL, (r.depth, i, j)
            assert r.entries[j][i] == ball and r.gaps[i][j] == ball.one_minus()
    for r in res["ntk"]:
        k = r.depth - 1
        diag = r.raw_factor_ball                     # certified Theta^(L)(x,x) of the same sweep
        assert diag is not None
        for p, (i, j) in enumerate(ref["pairs"]):
            ball, nt = r.entries[i][j], mpmath.mpf(cfg["ntk"][k][p])
            raw_mid = ball.mid_mpf() * diag.mid_mpf()
            raw_rad = ball.rad_fraction * abs(diag.mid_fraction) + diag.rad_fraction * (abs(ball.mid_fraction)
                                                                                        + ball.rad_fraction)
            floor = max(abs(nt), RAW_FLOOR * diag.mid_mpf())
            assert abs(raw_mid - nt) <= raw_rad + RAW_RTOL * floor, (r.depth, i, j)


@pytest.mark.parametrize("route", ["mpmath", "float64"])
def test_best_effort_routes_of_a_model_match_neural_tangents(route: str) -> None:
    key = NT_MODELS[0]
    ref, cfg = nt_reference(), nt_config(key)
    res = kernel_sweep(ref["points"], DEPTHS, "nngp", 20, route, model=model_of(key))
    for r in res:
        assert r.guarantee.startswith("best effort") and r.metadata()["model"]["activation"] == "erf"
        for p, (i, j) in enumerate(ref["pairs"]):
            nt = cfg["nngp"][r.depth - 1][p] / cfg["nngp_diag"][r.depth - 1]
            assert abs(float(r.entries[i][j]) - nt) <= 1e-11
        assert abs(float(r.raw_factor) / cfg["nngp_diag"][r.depth - 1] - 1) <= 1e-11


def gelu_nngp_depth2(sw: mpmath.mpf, sb: mpmath.mpf, c: mpmath.mpf, n0: int) -> mpmath.mpf:
    """rho^(2) of the GELU MLP by 1-D quadrature (inner expectation in closed form, see the module docstring)."""
    q, s = sw / n0 + sb, sw * c / n0 + sb

    def gelu(x: mpmath.mpf) -> mpmath.mpf:
        return x * mpmath.ncdf(x)

    def density(u: mpmath.mpf) -> mpmath.mpf:
        return mpmath.npdf(u, 0, mpmath.sqrt(q))

    def inner(u: mpmath.mpf) -> mpmath.mpf:                       # E[gelu(v) | u]
        m, var = s / q * u, q - s * s / q
        r = mpmath.sqrt(1 + var)
        return m * mpmath.ncdf(m / r) + var / r * mpmath.npdf(m / r)

    cross = mpmath.quad(lambda u: gelu(u) * inner(u) * density(u), [-mpmath.inf, 0, mpmath.inf])
    diag = mpmath.quad(lambda u: gelu(u) ** 2 * density(u), [-mpmath.inf, 0, mpmath.inf])
    return (sw * cross + sb) / (sw * diag + sb)


def test_gelu_depth_two_against_quadrature() -> None:
    with mpmath.workdps(40):
        ref = gelu_nngp_depth2(mpmath.mpf("1.5"), mpmath.mpf("0.2"), mpmath.mpf("0.6"), 2)
    model = Model.parse(activation="gelu", sigma_w2="1.5", sigma_b2="0.2", parameterization="standard", width=8)
    ball = kernel_sweep([["1", "0"], ["0.6", "0.8"]], [2], "nngp", 20, model=model)[0].entries[0][1]
    assert ball.rad_fraction < Fraction(1, 10**20)
    with mpmath.workdps(40):
        assert abs(ball.mid_mpf() - ref) <= ball.rad_fraction + mpmath.mpf(10) ** -32


@pytest.mark.parametrize("param", [Parameterization("2", "0.1"), Parameterization()])
def test_seed_models_give_the_same_balls_as_param(param: Parameterization) -> None:
    points = [["1", "0", "0"], ["0.6", "0.8", "0"], ["0", "0.6", "0.8"], ["-1", "0", "0"]]
    model = Model(sigma_w2=param.sigma_w2, sigma_b2=param.sigma_b2)
    depths = [1, 3, 40] if not param.is_default else [2, 1500]       # 1500: the asymptotic series
    via_param = kernels_sweep(points, depths, digits=25, param=param, relative_gap=True)
    via_model = kernels_sweep(points, depths, digits=25, model=model, relative_gap=True)
    for name in ("nngp", "ntk"):
        for a, b in zip(via_param[name], via_model[name], strict=True):
            assert a.entries == b.entries and a.gaps == b.gaps and a.method == b.method
            assert a.raw_factor == b.raw_factor
            assert a.metadata()["model"] == b.metadata()["model"] == model.describe()
            assert a.metadata()["parameterization"] == param.describe()
    if param.is_default:
        assert via_model["ntk"][-1].method == "asymptotic series"


def test_relative_gap_of_a_model() -> None:
    """Near the flat limit (ordered phase, 1 - rho ~ 1e-6) every gap has the digits asked for, relative."""
    model = Model.parse(activation="erf", sigma_w2="1", sigma_b2="0.5")
    res = kernel_sweep([["1", "0"], ["0.6", "0.8"], ["0", "1"]], [30], "nngp", 15, model=model, relative_gap=True)[0]
    gaps = [res.gaps[0][1], res.gaps[0][2], res.gaps[1][2]]
    assert all(g.mid_fraction < Fraction(1, 10**3) for g in gaps)
    assert all(meets_digits(g, 15, relative=True) for g in gaps)


def test_model_errors() -> None:
    erf = Model.parse(activation="erf")
    with pytest.raises(InputError, match="no asymptotic-series route"):
        kernel_sweep([["1", "0"], ["0", "1"]], [3], route="certified-asymptotic", model=erf)
    with pytest.raises(InputError, match="not both"):
        kernel_sweep([["1", "0"], ["0", "1"]], [3], param=Parameterization("2", "0"), model=erf)
    with pytest.raises(InputError, match="beyond direct iteration"):
        kernel_sweep([["1", "0"], ["0", "1"]], [10**10], route="certified-direct", model=erf)


def test_condition_with_a_model_against_numpy_on_neural_tangents() -> None:
    key = ("gelu", "2", "0.1", "ntk", 1, "mlp")
    ref, cfg = nt_reference(), nt_config(key)
    conds = api.condition_sweep(ref["points"], [2, 10], kernel="nngp", digits=12, model=model_of(key))
    for c in conds:
        k = c.depth - 1
        gram = np.eye(4)
        for p, (i, j) in enumerate(ref["pairs"]):
            gram[i, j] = gram[j, i] = cfg["nngp"][k][p] / cfg["nngp_diag"][k]
        cond = c.condition_number
        assert cond is not None and cond.relative_digits() >= 12
        assert abs(float(cond.mid_fraction) / np.linalg.cond(gram) - 1) < 1e-6
        assert c.diagnosis.status == "invertible" and "certified" in c.diagnosis.message
        assert c.metadata()["model"]["activation"] == "gelu"
        assert c.log10_abs_det_raw is not None     # from the certified diagonal Sigma^(L)(x,x)
        raw = float(c.log10_abs_det.mid_fraction) + 4 * np.log10(cfg["nngp_diag"][k])
        assert abs(float(c.log10_abs_det_raw.mid_fraction) - raw) < 1e-9


def test_solve_with_a_model() -> None:
    """relu + bias, standard parameterization: W kappa = kappa_Z on the neural-tangents NNGP matrix."""
    key = ("relu", "1", "0.1", "standard", 64, "mlp")
    ref, cfg = nt_reference(), nt_config(key)
    pts = ref["points"]
    sol = api.solve(pts[:3], [["1"], ["-1"], ["0"]], [pts[3]], 5, kernel="nngp", digits=15, model=model_of(key))
    gram = np.eye(4)
    for p, (i, j) in enumerate(ref["pairs"]):
        gram[i, j] = gram[j, i] = cfg["nngp"][4][p] / cfg["nngp_diag"][4]
    w = np.array([[float(b.mid_fraction) for b in sol.weights[0]]])
    assert all(b.correct_digits() >= 15 for b in sol.weights[0])
    assert np.allclose(w @ gram[:3, :3], gram[3:, :3], rtol=0, atol=1e-9)
    assert sol.metadata()["model"]["parameterization"] == "standard" and sol.metadata()["model"]["width"] == 64
    assert sol.diagnosis.status == "invertible"


@pytest.mark.parametrize(("activation", "architecture", "relation"), [
    ("erf", "resnet:0.5", -1), ("sign", "mlp", -1), ("abs", "mlp", 1), ("abrelu:-2,2", "mlp", 1)])
def test_antipodal_points_with_an_odd_or_even_activation(activation: str, architecture: str, relation: int) -> None:
    """The diagnosis says singular, and the certified kernels show the rows it names: opposite (odd) or equal."""
    points = [["1", "0"], ["-1", "0"], ["0.6", "0.8"]]
    model = Model.parse(activation=activation, architecture=architecture, parameterization="standard", width=3)
    diag = diagnose_model(Dataset.from_rows(points), 4, model)
    assert diag.singular and diag.null_vector[1][1] == -relation
    for (res,) in kernels_sweep(points, [4], digits=20, model=model).values():
        a, b = res.entries[0][2], res.entries[1][2]
        assert abs(b.mid_fraction - relation * a.mid_fraction) <= a.rad_fraction + b.rad_fraction
        assert abs(res.entries[0][1].mid_fraction - relation) <= res.entries[0][1].rad_fraction
    with pytest.raises(SingularKernelError, match="antipodal"):
        api.solve(points, [["1"], ["2"], ["3"]], [["0", "1"]], 4, model=model)
    biased = Model.parse(activation=activation, architecture=architecture, sigma_b2="0.1")
    assert diagnose_model(Dataset.from_rows(points), 4, biased).status == "undecided"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_kernel_with_a_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "kernel", "--data", "builtin:sphere-8", "--activation", "erf", "--sigma-w2",
                             "1.5", "--depth", "5", "--digits", "15", "--format", "json", "--quiet")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["model"]["activation"] == "erf" and payload["model"]["sigma_w2"] == "3/2"
    assert payload["parameterization"] == payload["model"]
    assert payload["guarantee"] == "certified enclosure" and payload["method"] == "direct iteration"   # depth 5
    entry = payload["matrix"][0][1]
    assert entry["rad"] is not None and float(entry["rad"]) < 1e-14
    assert payload["raw_factor"]["enclosure"]["rad"] is not None


def test_cli_kernel_states_the_seed_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "kernel", "--data", "builtin:sphere-8", "--depth", "3", "--digits", "10",
                           "--format", "json", "--quiet")
    payload = json.loads(out)
    assert code == 0 and payload["model"]["name"] == "ntk-mlp-relu(sigma_w^2=1, sigma_b^2=0)"
    assert payload["parameterization"]["name"] == "ntk-relu(sigma_w^2=1, sigma_b^2=0)"


@pytest.mark.parametrize("argv", [
    ["--activation", "foo"], ["--architecture", "resnet:-1"], ["--parameterization", "mup"], ["--width", "0"],
    ["--activation", "erf", "--route", "certified-asymptotic"],
    ["--activation", "erf", "--route", "certified-direct", "--depth", "2e9"],
])
def test_cli_bad_model_options(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    args = ["kernel", "--data", "builtin:sphere-8", *argv]
    if "--depth" not in argv:
        args += ["--depth", "3"]
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("ntk-verify: error:") and "Traceback" not in err


def test_cli_condition_and_solve_with_a_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "condition", "--data", "builtin:sphere-8", "--activation", "gelu",
                             "--architecture", "resnet:0.5", "--depths", "3,10", "--digits", "10", "--format",
                             "json", "--quiet")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["model"]["architecture"] == "resnet:0.5"
    assert [r["singular"] for r in payload["depths"]] == [False, False]
    assert all(float(r["condition_number"]["mid"]) > 1 for r in payload["depths"])
    assert payload["depths"][0]["float64"]["status"].startswith("not computed")
    assert "certified direct iteration" in payload["kernel_method"]
    (tmp_path / "train.csv").write_text("1,0\n0,1\n0.6,0.8\n")
    (tmp_path / "labels.csv").write_text("1\n-1\n0\n")
    (tmp_path / "test.csv").write_text("1,1\n")
    code, out, err = run_cli(capsys, "solve", "--train", str(tmp_path / "train.csv"), "--labels",
                             str(tmp_path / "labels.csv"), "--test", str(tmp_path / "test.csv"), "--depth", "10",
                             "--sigma-b2", "0.1", "--parameterization", "standard", "--width", "4", "--digits", "12",
                             "--format", "json", "--quiet")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["model"]["name"] == "standard-mlp-relu(sigma_w^2=1, sigma_b^2=1/10)"
    assert payload["model"]["width"] == 4 and len(payload["weights"][0]) == 3
    assert payload["diagnosis"]["status"] == "invertible"
