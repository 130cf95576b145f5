"""Write ``docs/models.md``: dual kernel pairs, fixed points, phases and rates of every activation.

Every entry is computed by :mod:`verify.derive.dual_kernels_symbolic` and :mod:`verify.derive.phases`
and checked by the same checks as ``ntk-verify derive --activation ...`` (the "checks" columns say
whether they passed); nothing in the file is typed by hand.

    python scripts/make_models_table.py                 # writes docs/models.md (a few minutes)
    python scripts/make_models_table.py --out -         # prints it
    python scripts/make_models_table.py --no-quadrature # skips the 2-D quadrature of the pairs
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import sympy as sp

from verify.core.model import Activation, Model
from verify.derive import dual_kernels_symbolic as dks
from verify.derive.phase_checks import all_checks
from verify.derive.phases import PhaseAnalysis, analyse, edge_of_chaos_at_zero

ACTIVATIONS = ("relu", "leaky_relu:0.1", "abrelu:-0.5,2", "abs", "sign", "relu^0", "relu^1", "relu^2", "erf", "gelu")
GRID = (("1", "0"), ("1", "0.1"), ("2", "0"), ("2", "0.1"))
RESNETS = (("relu", "resnet:1"), ("relu", "resnet:0.3"), ("abs", "resnet:0.3"))
ROOT = Path(__file__).resolve().parents[1]


def _code(expr: sp.Basic) -> str:
    return "`" + sp.sstr(expr).replace("|", r"\|") + "`"


def _cell(text: str) -> str:
    return text.replace("|", r"\|")


def kernel_rows(quadrature: bool) -> list[str]:
    rows = ["| activation | V(q, c) = E[phi(u) phi(v)] | Vdot(q, c) = E[phi'(u) phi'(v)] | NTK derivative kernel "
            "| checks (a) Hermite, (b) Price, (c) quadrature |", "|---|---|---|---|---|"]
    for spec in ACTIVATIONS:
        k = dks.dual_kernel(Activation.parse(spec))
        checks = [dks.hermite_check(k), dks.price_check(k)] + ([dks.quadrature_check(k)] if quadrature else [])
        res = ", ".join(f"{c.name} {'exact' if c.exact else f'{c.digits:.0f} digits'}"
                        + ("" if c.passed else " FAILED") for c in checks)
        ntk = "0 (neural-tangents drops the delta)" if k.has_delta else "Vdot"
        rows.append(f"| `{spec}` | {_code(k.v)} | {_code(k.vdot)}{' (distributional)' if k.has_delta else ''} "
                    f"| {ntk} | {res} |")
    return rows


def _q_text(a: PhaseAnalysis) -> str:
    if a.q_star is None:
        text = a.q_behaviour
    else:
        text = f"q* = {a.q_star.text(12)}" + ("" if a.q_star.expr is not None else " (v)")
        if " for q_1 < " in a.q_behaviour:
            text += " for q_1 < " + a.q_behaviour.split(" for q_1 < ")[1].split(" (")[0]
    return "; ".join([text, *a.notes[:1]]) if a.notes and "q_l -> oo" in a.notes[0] else text


def _rate(a: PhaseAnalysis) -> str:
    conv = a.convergence
    if conv.kind == "geometric" and conv.rate is not None:
        tail = "" if conv.rate.expr is not None else " (v)"
        return f"geometric to {conv.target.text(10) if conv.target else '?'}, chi_c = {conv.rate.text(10)}{tail}"
    if conv.kind == "algebraic" and conv.constant is not None:
        return f"algebraic: 1 - c_L ~ {conv.constant.text()} / L^2 (= {conv.constant.approx(8)}/L^2)"
    if conv.kind == "none":
        return "none: c_L -> a limit that depends on c_1" if "identity" in conv.text else conv.text
    return "not derived"


def phase_rows(models: list[Model]) -> list[str]:
    rows = ["| activation | sigma_w^2 | sigma_b^2 | variance map | chi_1 | phase | fixed points c* (stability) "
            "| convergence | checks |", "|---|---|---|---|---|---|---|---|---|"]
    for model in models:
        start = time.perf_counter()
        a = analyse(model)
        checks = all_checks(a)
        bad = [name for name, c in checks.items() if not c.passed]
        chi = a.chi_1.text(10) + ("" if a.chi_1.expr is not None or a.phase == "not derived" else " (v)")
        if a.phase == "not derived":
            chi = "-"
        elif a.phase_note.startswith(("chi_1 at the repelling", "no finite q*: chi_1")):
            chi += " (" + a.phase_note.split(":")[0].replace("no finite q*", "slope of h at 1") + ")"
        label = model.activation.spec + ("" if model.architecture.kind == "mlp" else f" {model.architecture.spec}")
        rows.append(f"| `{label}` | {model.sigma_w2} | {model.sigma_b2} | {_cell(_q_text(a))} | {_cell(chi)} "
                    f"| {a.phase} | {_cell(a.fixed_points_text(10))} | {_cell(_rate(a))} "
                    f"| {'passed' if not bad else 'FAILED: ' + ', '.join(bad)} |")
        print(f"{label} {model.sigma_w2} {model.sigma_b2}: {a.phase} ({time.perf_counter() - start:.1f} s)",
              file=sys.stderr, flush=True)
    return rows


def document(quadrature: bool) -> str:
    mlps = [Model.parse(spec, w, b) for spec in ACTIVATIONS for w, b in GRID]
    resnets = [Model.parse(spec, w, b, architecture=arch) for spec, arch in RESNETS for w, b in GRID]
    erf_edge = edge_of_chaos_at_zero(Activation.parse("erf"))
    gelu_edge = edge_of_chaos_at_zero(Activation.parse("gelu"))
    lines = [
        "# Dual kernels, fixed points and phases of every activation",
        "",
        "Generated by `scripts/make_models_table.py` from `verify/derive/dual_kernels_symbolic.py` and",
        "`verify/derive/phases.py`; every entry is checked as `ntk-verify derive --activation NAME` checks it",
        "(the checks columns). Do not edit by hand.",
        "",
        "Conventions: (u, v) centred Gaussian, Var u = Var v = q, Cov(u, v) = q c; theta = acos(c).",
        "MLP NNGP maps: q -> F(q) = sigma_w^2 V(q, 1) + sigma_b^2 and c -> (sigma_w^2 V(q, c) + sigma_b^2)/F(q)",
        "(the same for the ntk and standard parameterizations). chi_1 = sigma_w^2 E[phi'(u)^2] at q*;",
        "chi_c = f'(c*). Symbolic entries are exact (sympy); entries marked (v) are validated numbers",
        "(bisection at 60 digits, checked by iterating the maps in mpmath).",
        "",
        "## Dual kernel pairs",
        "",
        *kernel_rows(quadrature),
        "",
        "Check thresholds: (a) Taylor coefficients of V in c, orders 0..6, equal a_n(q)^2/n! (Hermite coefficients",
        "of phi by sympy Gaussian integrals, q symbolic); (b) dV/dc = q Vdot symbolically; (c) V and Vdot against",
        "a 2-D Gauss-Legendre quadrature at c in {-0.9, -0.3, 0, 0.5, 0.99}, q = 1, > 30 digits.",
        "",
        "## Fixed points, phases and rates (MLP)",
        "",
        "q_1 = sigma_w^2 + sigma_b^2 (|x|^2 = n0) where the orbit of q matters. The phase is read from chi_1.",
        "For the k = 1 activations (relu, leaky_relu, abrelu, abs, relu^1) without bias the correlation map",
        "V(1, c)/V(1, 1) does not depend on sigma_w^2 and c* = 1 is parabolic whatever chi_1: there chi_1 is the",
        "per-layer growth of q (and of the NTK's gradient term), and the correlation converges algebraically.",
        "",
        *phase_rows(mlps),
        "",
        f"Edge of chaos at q* = 0 (no bias): sigma_w^2 = 1/phi'(0)^2, i.e. {sp.sstr(erf_edge)} for erf(x) and",
        f"{sp.sstr(gelu_edge)} for gelu. Below it q -> 0 and c_L tends to an input-dependent limit; above it",
        "q* > 0 and (erf, odd) c* = 0 attracts while c = +-1 repel.",
        "",
        "## ResNet (k = 1 activations)",
        "",
        *phase_rows(resnets),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "models.md"), help="output file, or - for stdout")
    parser.add_argument("--no-quadrature", action="store_true", help="skip check (c) of the dual kernels")
    args = parser.parse_args()
    text = document(not args.no_quadrature)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
