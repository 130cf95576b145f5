"""The derivations for one :class:`~verify.core.model.Model`, as ``ntk-verify derive --activation ...`` prints them.

``model_catalogue(model)`` returns items of the same shape as :mod:`.catalogue`'s (``id``,
``statement``, ``latex``, ``text``, ``value``, ``model``, ``numeric_check`` with ``method``,
``numeric``, ``agreement_digits``, ``rule``, ``passed``): the dual kernel pair with its three
checks (:mod:`.dual_kernels_symbolic`), then the variance map, chi_1 and the phase, the fixed
points of the correlation map and the convergence type (:mod:`.phases`), each with its
numeric check (:mod:`.phase_checks`). What is not derived for the model is a note
("not derived: ...") in ``notes`` instead of an item.

>>> out = model_catalogue(Model.parse("relu", sigma_w2="2"), quadrature=False)
>>> [it["id"] for it in out["items"]][:3]
['dual.V', 'dual.Vdot', 'phase.variance']
>>> out["all_passed"]
True
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from verify.core.model import Model
from verify.derive import dual_kernels_symbolic as dks
from verify.derive import phase_checks as pc
from verify.derive.phases import PhaseAnalysis, analyse


def _item(model: Model, id_: str, statement: str, lhs: tuple[str, str], rhs: sp.Basic | str, value: str,
          method: str, numeric: str, digits: float | None, passed: bool, rule: str) -> dict[str, Any]:
    lhs_text, lhs_latex = lhs
    rhs_text = rhs if isinstance(rhs, str) else sp.sstr(rhs)
    rhs_latex = r"\text{" + rhs.replace("_", r"\_") + "}" if isinstance(rhs, str) else sp.latex(rhs)
    return {"id": id_, "statement": statement, "latex": f"{lhs_latex} = {rhs_latex}",
            "text": f"{lhs_text} = {rhs_text}", "value": value, "model": model.name,
            "numeric_check": {"method": method, "numeric": numeric,
                              "agreement_digits": None if digits is None else round(digits, 2),
                              "rule": rule, "passed": bool(passed)}}


def _kernel_check(model: Model, id_: str, statement: str, lhs: tuple[str, str], rhs: sp.Basic, value: str,
                  checks: list[dks.KernelCheck]) -> dict[str, Any]:
    """An item whose check is one or more :class:`KernelCheck` (all must pass)."""
    method = "; ".join(c.detail for c in checks)
    digits = [c.digits for c in checks if c.digits is not None]
    exact = all(c.exact for c in checks)
    return _item(model, id_, statement, lhs, rhs, value, method, "symbolic identity" if exact else
                 ", ".join(f"{c.name}: {'exact' if c.exact else f'{c.digits:.1f} digits'}" for c in checks),
                 min(digits) if digits else None, all(c.passed for c in checks),
                 " and ".join(f"{c.name}: {c.rule}" for c in checks))


def dual_kernel_items(model: Model, quadrature: bool = True) -> list[dict[str, Any]]:
    """The pair (V, Vdot) with checks (a) Hermite on V, (b) Price on Vdot, (c) quadrature on both."""
    k = dks.dual_kernel(model.activation)
    if k.degree is not None:
        h, _ = k.normalized()
        norm = f"homogeneous of degree {k.degree}: V(q, c) = q^{k.degree} V(1, c); V(1, c)/V(1, 1) = {sp.sstr(h)}"
    else:
        norm = f"not homogeneous: V depends on q and c; V(q, 1) = {sp.sstr(k.v_diag)}"
    items = [_kernel_check(model, "dual.V", f"V(q, c) = E[phi(u) phi(v)], Var u = Var v = q, Cov = q c "
                           f"({k.source})", ("V(q, c)", "V(q, c)"), k.v, norm, [dks.hermite_check(k)])]
    if k.has_delta:
        ntk = ("phi' = 0 a.e. plus a delta of weight "
               f"{sp.sstr(k.jump)} at 0: Vdot is the distributional E[phi'(u) phi'(v)] (infinite at c = 1); "
               "the NTK uses Vdot = 0, neural-tangents' choice (its NTK after this layer is the NNGP kernel)")
    else:
        ntk = "the NTK uses this Vdot"
    items.append(_kernel_check(model, "dual.Vdot", "Vdot(q, c) = E[phi'(u) phi'(v)]; Price: dV/ds = Vdot, s = q c",
                               ("Vdot(q, c)", r"\dot V(q, c)"), k.vdot, ntk, [dks.price_check(k)]))
    if quadrature:
        items.append(_kernel_check(model, "dual.quadrature", "V and Vdot against an independent 2-D quadrature "
                                   "of the Gaussian expectations (phi and phi' evaluated from their definitions)",
                                   ("(V, Vdot)", r"(V, \dot V)"), sp.Tuple(k.v, k.vdot),
                                   f"validated at c = {', '.join(dks.QUAD_CS)} (q = {dks.QUAD_Q})",
                                   [dks.quadrature_check(k)]))
    return items


def _check_fields(c: pc.NumericCheck) -> tuple[str, str, float | None, bool, str]:
    return c.method, c.numeric, c.digits, c.passed, c.rule


def phase_items(model: Model, a: PhaseAnalysis | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """(items, notes) for the variance map, chi_1 and phase, fixed points, convergence; a note that
    starts with "not derived:" names what is not derived for this model."""
    a = analyse(model) if a is None else a
    checks = pc.all_checks(a)
    items, missing = [], []
    qfp = "; ".join(p.text() for p in a.q_fixed_points) or "none"
    value = a.q_behaviour + (f"; q* = {a.q_star.text(25)} ({a.q_star.label})" if a.q_star is not None else "")
    items.append(_item(model, "phase.variance", f"variance map q -> F(q); fixed points: {qfp}",
                       ("F(q)", "F(q)"), a.variance_map, value, *_check_fields(checks["variance"])))
    if a.phase == "not derived":
        missing.append(f"not derived: {a.phase_note}")
    else:
        chi_text = a.chi_1.text(25) + (f" ({a.chi_1.label})" if a.chi_1.expr is None else "")
        ntk = a.chi_1_ntk
        statement = ("chi_1 = sigma_w^2 E[phi'(u)^2] at Var u = q* (the slope of the correlation map at c = 1); "
                     "phase: ordered chi_1 < 1, chaotic chi_1 > 1, edge of chaos chi_1 = 1"
                     + (f"; {a.phase_note}" if a.phase_note else ""))
        value = f"chi_1 = {chi_text}: {a.phase}" + (f"; NTK gradient factor {ntk.text()} (neural-tangents)"
                                                    if ntk is not None else "")
        chi_rhs = a.chi_1.expr if a.chi_1.expr not in (None, sp.oo) else a.chi_1.text(25)
        items.append(_item(model, "phase.chi_1", statement, ("chi_1", r"\chi_1"), chi_rhs, value,
                           *_check_fields(checks["chi_1"])))
    if a.cmap is not None and a.c_fixed_points:
        pts = "; ".join(f"c* = {p.text()}" for p in a.c_fixed_points)
        items.append(_item(model, "phase.fixed_points",
                           f"fixed points of the correlation map {a.cmap.what} on [-1, 1] with chi_c = f'(c*)",
                           ("c*", "c^*"), ", ".join(p.at.text(15) for p in a.c_fixed_points), pts,
                           *_check_fields(checks["fixed_points"])))
    conv = a.convergence
    if conv.kind == "not derived":
        missing.append(f"not derived: convergence ({conv.text})")
    else:
        if conv.kind == "algebraic" and conv.constant is not None and conv.constant.expr is not None:
            rhs: sp.Basic | str = conv.constant.expr / sp.Symbol("L", positive=True) ** 2
            lhs = ("1 - c_L", "1 - c_L")
        elif conv.kind == "geometric" and conv.rate is not None:
            rhs, lhs = conv.rate.expr if conv.rate.expr is not None else conv.rate.text(20), ("chi_c", r"\chi_c")
        else:
            rhs, lhs = conv.kind, ("convergence", r"\text{convergence}")
        items.append(_item(model, "phase.convergence", f"convergence type: {conv.kind}", lhs, rhs, conv.text,
                           *_check_fields(checks["convergence"])))
    return items, missing + a.notes


def model_catalogue(model: Model, quadrature: bool = True) -> dict[str, Any]:
    """Every derivation for ``model`` with its check; ``quadrature=False`` skips check (c) (a few seconds)."""
    items = dual_kernel_items(model, quadrature)
    more, notes = phase_items(model)
    items += more
    return {"items": items, "notes": notes, "all_passed": all(it["numeric_check"]["passed"] for it in items)}
