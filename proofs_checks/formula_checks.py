"""Shared machinery of proposition-1 and proposition-2: claimed formulas against quadrature and neural-tangents.

A claimed formula is a callable of rho (mpmath numbers). It is compared with

* the Gaussian expectation it claims to equal, by quadrature (``verify.kernel.gaussian_expectations``,
  validated to the digits requested), at a grid of correlations;
* neural-tangents (float64, committed reference data, ``data/nt_reference.json``): the raw
  kernels that the claimed recursion produces from the points, depths 1..50.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import mpmath

from .base import Finding, Table

NT_FILE = Path(__file__).resolve().parent / "data" / "nt_reference.json"
QUAD_GRID = ["-0.99", "-0.5", "0", "0.5", "0.99"]
NT_TOLERANCE = 1e-12


def quadrature_finding(name: str, claimed: Callable[[mpmath.mpf], mpmath.mpf],
                       expectation: Callable[[str], tuple[mpmath.mpf, float]], digits: int) -> tuple[Finding, Table]:
    """Compare ``claimed(rho)`` with the quadrature of the expectation at QUAD_GRID."""
    rows, worst, worst_err = [], 0.0, 0.0
    for rho in QUAD_GRID:
        value, err = expectation(rho)
        with mpmath.workdps(digits + 20):
            claim = claimed(mpmath.mpf(rho))
            diff = float(abs(claim - value))
        worst, worst_err = max(worst, diff), max(worst_err, err)
        rows.append([rho, mpmath.nstr(value, digits), mpmath.nstr(claim, digits), f"{diff:.2e}", f"{err:.1e}"])
    tol = max(10.0 ** -(digits - 2), 100 * worst_err)
    agree = worst <= tol
    finding = Finding(
        f"{name} vs quadrature", agree,
        (f"agrees with the quadrature to {worst:.1e} (tolerance {tol:.0e}) at rho = {', '.join(QUAD_GRID)}" if agree
         else f"differs from the quadrature by up to {worst:.3e}, far beyond its error estimate {worst_err:.1e}"),
        "validated (quadrature at two precisions)")
    table = Table(f"{name}: claimed closed form vs quadrature of the Gaussian expectation",
                  ["rho", "quadrature", "claimed formula", "|difference|", "quadrature error estimate"], rows)
    return finding, table


@lru_cache(maxsize=1)
def nt_reference() -> dict[str, Any]:
    return json.loads(NT_FILE.read_text())


def _parse(obj):
    import ast

    return ast.literal_eval(obj) if isinstance(obj, str) else obj


def claimed_raw_kernels(points: list[list[str]], n0: int, depth: int,
                        h: Callable, sigma_dot: Callable, dps: int = 30) -> dict[int, tuple[list, list]]:
    """Raw (Sigma^(L), Theta^(L)) matrices, L = 1..depth, from a claimed recursion, in plain mpmath."""
    out = {}
    with mpmath.workdps(dps):
        x = [[mpmath.mpf(v) for v in p] for p in points]
        n = len(x)
        sig = [[mpmath.fsum(a * b for a, b in zip(x[i], x[j], strict=True)) / n0 for j in range(n)] for i in range(n)]
        th = [row[:] for row in sig]
        for layer in range(1, depth + 1):
            out[layer] = ([r[:] for r in sig], [r[:] for r in th])
            new_sig = [[None] * n for _ in range(n)]
            new_th = [[None] * n for _ in range(n)]
            for i in range(n):
                for j in range(n):
                    norm = mpmath.sqrt(sig[i][i] * sig[j][j])
                    rho = max(min(sig[i][j] / norm, mpmath.mpf(1)), mpmath.mpf(-1))
                    new_sig[i][j] = norm * h(rho) / 2
                    new_th[i][j] = th[i][j] * sigma_dot(rho) + new_sig[i][j]
            sig, th = new_sig, new_th
    return out


def nt_finding(name: str, which: str, h: Callable, sigma_dot: Callable) -> tuple[Finding, Table]:
    """Compare the claimed recursion's raw kernels with neural-tangents at depths 1..50, all datasets."""
    ref = nt_reference()
    rows, worst = [], 0.0
    for dname, ds in ref["datasets"].items():
        points = _parse(ds["points"])
        n0 = int(ds["n0"])
        depths = {int(k): v for k, v in _parse(ds["depths"]).items()}
        mine = claimed_raw_kernels(points, n0, max(depths), h, sigma_dot)
        dworst = 0.0
        for d, mats in depths.items():
            nt_mat = mats[which]
            our = mine[d][0 if which == "nngp" else 1]
            diag = max(abs(float(our[i][i])) for i in range(len(points)))
            for i, row in enumerate(nt_mat):
                for j, v in enumerate(row):
                    scale = max(abs(v), 1e-3 * diag)
                    dworst = max(dworst, abs(float(our[i][j]) - v) / scale)
        worst = max(worst, dworst)
        rows.append([dname, str(len(points)), f"1..{max(depths)}", f"{dworst:.2e}"])
    agree = worst <= NT_TOLERANCE
    v = ref["provenance"]["versions"]
    finding = Finding(
        f"{name} vs neural-tangents", agree,
        f"raw {which} from the claimed recursion {'agrees with' if agree else 'differs from'} neural-tangents "
        f"{v['neural_tangents']} (float64) to relative {worst:.1e} (tolerance {NT_TOLERANCE:g}) at depths 1..50",
        "validated (external implementation)")
    table = Table(f"{name}: claimed recursion vs neural-tangents {v['neural_tangents']} (raw {which})",
                  ["dataset", "n", "depths", "max relative difference"], rows,
                  note="relative to max(|K|, 1e-3 K(x,x)); neural-tangents values are committed reference data")
    return finding, table
