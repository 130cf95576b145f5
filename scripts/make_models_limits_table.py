"""Write ``docs/models_limits.md``: the depth limits of both normalized kernels, det(kappa) and kappa_x kappa^-1.

For every model of docs/models.md: the fixed points and phase (:func:`verify.derive.phases.analyse`), the
rate of the correlation, the limit of the normalized NTK off the diagonal and the limits of the
normalized det(kappa) and of the weights kappa_x kappa^-1, each cell marked

* [derived]: an exact expression (sympy) from verify.derive or phases.analyse ("(v)": a validated number);
* [derived here]: the leading-order arguments of proofs_checks/other_kernels_laws.py (not proofs);
* [certified]: an Arb enclosure at the depth stated (certified_model_sweep for the entries, the
  model-aware closed_form.solve_sweep for det and weights);
* [observed]: a limit read off certified values (validated, not proved).

Data: builtin:sphere-5, the first 4 points the training set and the 5th the test point (n = 4, n0 = 3,
q_1 = sigma_w^2/3 + sigma_b^2). Entries and rates: the training pairs with the smallest and the largest
|cosine| (the pairs of proofs_checks.other_kernels), at the depths of its ladders (decades 100, 1000,
10^4 for an algebraic law; 10^5, 10^6, 10^7 for the seed's kink family, whose certified series cost the
same at any depth, and its solves at 10^6 and 10^7).

    python scripts/make_models_limits_table.py                # writes docs/models_limits.md (about 6 minutes)
    python scripts/make_models_limits_table.py --out -        # prints it
    python scripts/make_models_limits_table.py --only erf     # the models whose activation starts with 'erf'
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mpmath
import sympy as sp

from proofs_checks.common import ball_text, lower, upper
from proofs_checks.other_kernels import SERIES_DECADES, Observed, certified_study, observe, study_pairs
from proofs_checks.other_kernels_laws import (
    N_SYM,
    Law,
    MatrixLimit,
    ModelLaws,
    catalogue_models,
    kriging_weights,
    label,
    matrix_limit,
)
from verify.core.balls import Ball
from verify.core.model import Model
from verify.data.dataset import Dataset
from verify.data.pairs import pair_correlation
from verify.data.sources import load_dataset
from verify.kernel.model_recursion import certified_model_sweep
from verify.kernel.model_series import parabolic_family
from verify.linalg.closed_form import SolveResult, solve_sweep

ROOT = Path(__file__).resolve().parents[1]
DATA = "builtin:sphere-5"
N_TRAIN = 4
DECADES = (100, 1000, 10**4)
SOLVE_DIGITS = 15
ALGEBRAIC_SOLVE = (1000, 10**4)


def split(data: Dataset) -> tuple[Dataset, Dataset]:
    rows = [list(p) for p in data.points]
    return (Dataset.from_rows(rows[:N_TRAIN], "normalize", f"{data.name}[:{N_TRAIN}]"),
            Dataset.from_rows(rows[N_TRAIN:], "normalize", f"{data.name}[{N_TRAIN}:]"))


def solve_depths(law: Law, ladder: tuple[int, ...], series: bool) -> tuple[int, int]:
    if law.kind == "geometric" or series:
        return ladder[-2], ladder[-1]
    return ALGEBRAIC_SOLVE


def _tag(how: str) -> str:
    if how.startswith("derived here"):
        return "[derived here]"
    if how.startswith(("derived", "exact")):
        return "[derived]"
    return "[observed]"


def _short(b: Ball, digits: int = 8) -> str:
    return str(ball_text(b, digits))


@dataclass
class ModelRow:
    """Everything computed for one model."""

    laws: ModelLaws
    ladders: dict[str, tuple[int, ...]]
    observed: dict[str, list[Observed]]
    solves: dict[str, list[SolveResult]]
    kriging: str
    seconds: float


def _kriging_check(model: Model, laws: ModelLaws, train: Dataset, test: Dataset, ntk: SolveResult) -> str:
    """Best effort: the NTK weights predicted from the certified NNGP gaps (kriging with Psi, or Psi^(1/2)
    entrywise for a kink activation) at the certified NTK weights' depth, and their largest difference."""
    if laws.ntk.limit != "ones" or laws.ntk.kind != "geometric":
        return "-"
    n = train.n
    keys = [(i, j) for i in range(n) for j in range(i + 1, n)]
    pairs = [pair_correlation(train.points[i], train.points[j]) for i, j in keys]
    pairs += [pair_correlation(test.points[0], train.points[i]) for i in range(n)]
    depth = ntk.depth
    sweep = certified_model_sweep(model, pairs, [depth], train.n0, 30)
    gaps = [g.mid_mpf() for g in sweep.at(depth).nngp_gap]
    power = mpmath.mpf(1) / 2 if laws.kernel_kind == "kink" else mpmath.mpf(1)
    with mpmath.workdps(40):
        psi = [[mpmath.mpf(0)] * n for _ in range(n)]
        for (i, j), g in zip(keys, gaps, strict=False):
            psi[i][j] = psi[j][i] = g**power
        predicted = kriging_weights(psi, [g**power for g in gaps[len(keys):]])
        got = [b.mid_mpf() for b in ntk.weights[0]]
        diff = max(abs(p - w) for p, w in zip(predicted, got, strict=True))
    what = "Psi^(1/2)" if laws.kernel_kind == "kink" else "Psi"
    return (f"kriging with {what} from the certified NNGP gaps at L = {depth}: ("
            + ", ".join(mpmath.nstr(p, 6) for p in predicted) + f"); max difference {mpmath.nstr(diff, 2)} [observed]")


def compute(model: Model, data: Dataset, train: Dataset, test: Dataset) -> ModelRow:
    start = time.perf_counter()
    pairs = study_pairs(train)
    series = parabolic_family(model, data.n0) is not None
    laws, sweep, ladders = certified_study(model, pairs, data.n0, SERIES_DECADES if series else DECADES)
    observed = {k: [observe([(sweep.at(d).nngp if k == "nngp" else sweep.at(d).ntk)[i] for d in ladders[k]], ladders[k])
                    for i in range(len(pairs))] for k in ("nngp", "ntk")}
    labels = [[1 if i == j else 0 for j in range(train.n)] for i in range(train.n)]
    solves = {k: solve_sweep(train, labels, test, list(solve_depths(laws.law(k), ladders[k], series)), k,
                             SOLVE_DIGITS, model=model) for k in ("nngp", "ntk")}
    kriging = _kriging_check(model, laws, train, test, solves["ntk"][-1])
    return ModelRow(laws, ladders, observed, solves, kriging, time.perf_counter() - start)


# ---- cells ------------------------------------------------------------------------------------------

def fixed_points_cell(laws: ModelLaws) -> str:
    return laws.analysis.fixed_points_text(8, none="none on (-1, 1]: q_l -> 0 and the maps tend to the identity")


def phase_cell(laws: ModelLaws) -> str:
    a = laws.analysis
    chi = a.chi_1.text(8) + ("" if a.chi_1.expr is not None else " (v)")
    return f"{a.phase}, chi_1 = {chi}"


def observed_rate(law: Law, o: Observed) -> str:
    """The certified rate reading over the last interval of the ladder."""
    la, lb, lc = o.depths[-3:]
    if law.limit == "ones":
        if law.kind == "geometric" and o.gap_rates:
            return f"per-layer gap ratio {_short(o.gap_rates[1], 6)} (L = {lb}..{lc})"
        if o.gap_exponents:
            return f"gap exponent {_short(o.gap_exponents[1], 4)} (L = {lb}..{lc})"
        return "-"
    if law.kind == "geometric":
        r = o.per_layer()
        return "-" if r is None else f"per-layer ratio of differences {_short(r, 6)} (L = {la}..{lc})"
    p = o.exponent()
    return "-" if p is None else f"exponent of differences {_short(p, 4)} (L = {la}..{lc})"


def rate_cell(law: Law, obs: list[Observed]) -> str:
    return f"{law.rate_text()} {_tag(law.rate_how)}; certified: {observed_rate(law, obs[0])}"


def entry_cell(law: Law, obs: list[Observed]) -> str:
    o = obs[0]
    return f"{law.limit_text()} {_tag(law.how)}; L = {o.depths[-1]}: {_short(o.entries[-1], 10)} [certified]"


def _range(balls: list[Ball]) -> str:
    lo, hi = min(lower(b) for b in balls), max(upper(b) for b in balls)
    return f"[{float(lo):.8g}, {float(hi):.8g}]" if len(balls) > 1 else _short(balls[0], 8)


def _derived(lim: MatrixLimit, expr: sp.Expr) -> str:
    """The derived limit at n = N_TRAIN, with its formula in n (and the validated b) when it has one."""
    value = lim.at(expr, N_TRAIN)
    assert value is not None
    parts = [f"{sp.sstr(expr)} at n = {N_TRAIN}"] if expr.has(N_SYM) else []
    if lim.b_value is not None:
        parts.append(f"b = {mpmath.nstr(lim.b_value, 12)} (v)")
    text = mpmath.nstr(mpmath.mpf(sp.N(value, 30)), 12) if lim.b_value is not None else sp.sstr(value)
    return text + (f" ({', '.join(parts)})" if parts else "") + " [derived]"


def det_cell(row: ModelRow, kernel: str) -> str:
    lim = matrix_limit(row.laws, kernel)
    res = row.solves[kernel][-1]
    derived = _derived(lim, lim.det) if lim.det is not None else lim.det_how
    return f"{derived}; L = {res.depth}: {_short(res.det, 6)} [certified]"


def weights_cell(row: ModelRow, kernel: str) -> str:
    lim = matrix_limit(row.laws, kernel)
    first, last = row.solves[kernel]
    w = list(last.weights[0])
    if lim.weight is not None:
        return f"{_derived(lim, lim.weight)} each; L = {last.depth}: {_range(w)} [certified]"
    moved = max(abs(a.mid_fraction - b.mid_fraction) for a, b in zip(first.weights[0], w, strict=True))
    values = ", ".join(f"{float(b.mid_fraction):.6g}" for b in w)
    rad = max(float(b.rad_fraction) for b in w)
    return (f"{lim.weight_how}; L = {last.depth}: ({values}) ± {rad:.1e} [certified]; moved {float(moved):.1e} "
            f"since L = {first.depth} [observed limit]")


# ---- the document -----------------------------------------------------------------------------------

def readme_table(rows: list[ModelRow]) -> list[str]:
    out = ["| model | fixed point(s) | phase | rate | limit of normalized NTK off-diagonal | limit of kappa_x kappa^-1 "
           "weights |", "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(" | ".join(["", f"`{label(r.laws.model)}`", fixed_points_cell(r.laws), phase_cell(r.laws),
                               rate_cell(r.laws.nngp, r.observed["nngp"]),
                               entry_cell(r.laws.ntk, r.observed["ntk"]) + "; "
                               + rate_cell(r.laws.ntk, r.observed["ntk"]).replace("; certified", ", certified"),
                               weights_cell(r, "ntk"), ""]).strip())
    return out


def detail_table(rows: list[ModelRow], kernel: str) -> list[str]:
    head = ["model", "criteria (C1)-(C3)", "limit off the diagonal", "rate", "det(kappa)", "weights kappa_x kappa^-1"]
    if kernel == "ntk":
        head.append("weights predicted by kriging (ordered models)")
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        law, obs = r.laws.law(kernel), r.observed[kernel]
        cells = [f"`{label(r.laws.model)}`", r.laws.criteria.text(), entry_cell(law, obs), rate_cell(law, obs),
                 det_cell(r, kernel), weights_cell(r, kernel)]
        if kernel == "ntk":
            cells.append(r.kriging)
        out.append("| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |")
    return out


HEADER = """# Depth limits of every model: kernels, det(kappa) and kappa_x kappa^-1

Generated by `scripts/make_models_limits_table.py` from `proofs_checks/other_kernels_laws.py` (derivations),
`verify/derive/phases.py` (fixed points, rates) and certified values; do not edit by hand.

Labels: [derived] exact (sympy) from `verify.derive` / `phases.analyse`, "(v)" a validated number;
[derived here] the leading-order arguments in the docstring of `proofs_checks/other_kernels_laws.py`
(not proofs; the certified values check them); [certified] an Arb enclosure at the depth stated;
[observed] a limit read off certified values (validated, not proved).

Conventions: NTK parameterization; data {data}: the first {n} points train, the 5th is the test point;
unit-sphere inputs of dimension n0 = {n0}, q_1 = sigma_w^2/{n0} + sigma_b^2. Entries: the training pair
with the smallest |cosine| ({cos0:.6f}); rates from it over the last two depths of its ladder (gaps 1 - entry
where the limit is 1, successive differences elsewhere). "rate" is the correlation's (NNGP) rate; the NTK
cell states its own. det and weights: the normalized kernel, certified by `verify.linalg.closed_form.solve_sweep`
(model-aware) at the depth stated; for an equicorrelated limit (1 - b) I + b J the weight limit is
b/(1 - b + n b) per training point and det -> (1 - b)^(n-1) (1 - b + n b).
"""


FOOTER = """## What is proved, derived and observed

* NNGP limits and rates: `phases.analyse` (exact where sympy closes the form; validated c*, chi_c
  otherwise). The criteria of the seed summary ((C1) one correlation map h, (C2) h(1) = 1, (C3) h(z) > z on
  (-1, 1)) hold exactly where the NNGP tends to the matrix of ones (`proofs_checks/other_kernels.py`).
* NTK limits: 1 (ordered, c* = 1), 0 (the diagonal outgrows the off-diagonal: chaotic, relu^2), = rho (sign,
  relu^0: Vdot = 0), s/(s + a) for a k = 1 activation at its parabolic c* = 1 (1/4; 4/7 at the edge of chaos
  with a bias, where the variance grows linearly). Only the seed ReLU value 1/4 is proved
  (`verify.derive.asymptotics`); the others are leading-order balances checked by the certified values.
* Weights and det, where the limit matrix is (1 - b) I + b J with b < 1: exact by continuity (the limit is
  invertible). Where the NNGP tends to J algebraically: 1/n per point (the pair enters only through a shift
  of the depth; proved for the seed model in `verify.derive.weights`, the same Fatou-coordinate argument
  otherwise). Where a kernel tends to J geometrically: 1 - rho_L = A chi^L psi(x, x') (1 + o(1)) with psi the
  Koenigs function of the map, so the weights tend to kriging with the variogram Psi = [psi(x_i, x_j)]:
  W = psi_x^T Psi^-1 + (1 - psi_x^T Psi^-1 u)/(u^T Psi^-1 u) u^T Psi^-1 (they sum to 1). The NTK of a kink
  activation has gaps ~ sqrt(psi) (Psi^(1/2) entrywise), a smooth one's ~ L chi^L psi. psi has no closed form:
  the limit is observed (certified weights at two depths), and the kriging column compares the certified NTK
  weights with the kriging formula evaluated on the certified NNGP gaps (best effort).
* gelu without bias: both kernels tend to the same input-dependent matrix (observed).
"""


def document(rows: list[ModelRow], data: Dataset, train: Dataset) -> str:
    pairs = study_pairs(train)
    cos0 = float(pairs[0].sign * mpmath.sqrt(pairs[0].t))
    lines = [HEADER.format(data=DATA, n=N_TRAIN, n0=data.n0, cos0=cos0), "## Summary (the README table)", ""]
    lines += readme_table(rows)
    for kernel in ("nngp", "ntk"):
        lines += ["", f"## {kernel.upper()}: limit, rate, det and weights", ""] + detail_table(rows, kernel)
    lines += ["", "## Variance orbits", ""] + [f"* `{label(r.laws.model)}`: {r.laws.orbit}" for r in rows]
    lines += ["", FOOTER]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "models_limits.md"), help="output file, or - for stdout")
    parser.add_argument("--only", default="", help="only models whose activation spec starts with this")
    args = parser.parse_args(argv)
    data = load_dataset(DATA)
    train, test = split(data)
    rows: list[Any] = []
    total = time.perf_counter()
    for model in catalogue_models():
        if not model.activation.spec.startswith(args.only):
            continue
        row = compute(model, data, train, test)
        rows.append(row)
        print(f"{label(model)}: {row.seconds:.1f} s", file=sys.stderr, flush=True)
    text = document(rows, data, train)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(f"total {time.perf_counter() - total:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
