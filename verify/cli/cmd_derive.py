"""``ntk-verify derive``: every symbolic derivation with its numerical check.

JSON (``--format json``): ``items`` holds one object per derived result with ``id``,
``statement``, ``latex``, ``text``, ``value``, ``model`` and ``numeric_check`` (with its pass ``rule``)
(``method``, ``numeric``, ``agreement_digits``, ``passed``); ``all_passed`` is true
when every check passed. ``--format text`` prints a table and the statements,
``--format latex`` a LaTeX fragment. Without model options: the default model (ReLU,
sigma_w^2 = 1, sigma_b^2 = 0) and its full catalogue.

With ``--activation NAME[:PARAMS]`` (or any of ``--sigma-w2``, ``--sigma-b2``, ``--architecture``;
activation default relu): the model's dual kernel pair with its checks (Hermite coefficients,
Price's theorem, 2-D quadrature; ``--quick`` skips the quadrature), the variance map and its
fixed point, chi_1 and the phase, the fixed points of the correlation map and the convergence
type, each with its numeric check (:mod:`verify.derive.model_catalogue`). The JSON then has
``model`` (the full description), ``items``, ``notes`` (those starting "not derived:" name what
is not derived for the model) and ``all_passed``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from verify.cli.common import add_model_arguments, model_options_given, network_from_args
from verify.core.depths import check_depth
from verify.core.errors import InputError
from verify.core.params import exact_integer, quoted

MAX_ORDER = 10


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("derive", help="symbolic derivations (sympy) with their numerical checks",
                       description="Derive the correlation map's properties, its expansions "
                       "near rho = 1, the Abel coordinates, the depth laws of 1 - rho^(L) and "
                       "ThetaBar^(L), the limits of kappa_x kappa^-1 and the depth needed for "
                       "1 - rho^(L) < delta; check each against certified numerics.")
    p.add_argument("--order", default="6",
                   help=f"expansions through eps^(N+1/2), depth laws through L^-N (1..{MAX_ORDER})")
    p.add_argument("--format", default="text", choices=("text", "latex", "json"))
    p.add_argument("--max-direct-depth", default="1e5",
                   help="deepest certified direct iteration used as reference (1e3..1e7; "
                   "about 5 us per layer)")
    p.add_argument("--quick", action="store_true",
                   help="skip the slower checks (weights at depth 1e15, NTK depth search; with --activation: "
                   "the 2-D quadrature)")
    # any of these derives for that model instead of the default one's catalogue
    add_model_arguments(p, parameterization=False, defaults=False)
    p.set_defaults(handler=run, render=render)


def run_model(args: argparse.Namespace) -> dict[str, Any]:
    """``derive --activation ...``: the derivations for one model (see the module docstring)."""
    model = network_from_args(args)
    start = time.perf_counter()
    from verify.derive.model_catalogue import model_catalogue  # sympy: loaded only when derive runs

    out = model_catalogue(model, quadrature=not args.quick)
    return {"command": "derive", "model": model.describe(), "items": out["items"], "notes": out["notes"],
            "all_passed": out["all_passed"], "seconds": round(time.perf_counter() - start, 3)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    if model_options_given(args):
        return run_model(args)
    order = exact_integer(args.order, "--order")
    if not 1 <= order <= MAX_ORDER:
        raise InputError(f"--order must be between 1 and {MAX_ORDER}, got {quoted(args.order)}")
    depth = check_depth(args.max_direct_depth, "--max-direct-depth")
    if not 10**3 <= depth <= 10**7:
        raise InputError(f"--max-direct-depth must be between 1e3 and 1e7, got {quoted(args.max_direct_depth)}")
    start = time.perf_counter()
    from verify.derive import catalogue  # sympy: loaded only when derive runs

    items = catalogue.derivation_catalogue(order, max_direct_depth=depth, quick=args.quick)
    return {"command": "derive", "model": catalogue.DEFAULT_MODEL, "order": order,
            "max_direct_depth": depth, "items": items,
            "all_passed": all(it["numeric_check"]["passed"] for it in items),
            "seconds": round(time.perf_counter() - start, 3)}


SHORT_FORM_CHARS = 110


def short_form(text: str, limit: int = SHORT_FORM_CHARS) -> str:
    """The leading terms of ``lhs = a + b - c ...`` that fit in ``limit`` characters, then ``+ ...``.

    Splits only at top-level ``+``/``-`` (outside parentheses); the full expression stays
    in the JSON and LaTeX output.

    >>> short_form("A(w) = 3*w - 3*log(w)/2 + (25 + 3*pi**2)/(120*w**2) + 7/w**3", 30)
    'A(w) = 3*w - 3*log(w)/2 + ...'
    """
    if len(text) <= limit:
        return text
    cuts, depth = [], 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and text.startswith((" + ", " - "), i):
            cuts.append(i)
    fitting = [i for i in cuts if i <= limit - 6]
    return text[:fitting[-1]] + " + ..." if fitting else text[:limit - 4] + " ..."


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render(p: dict[str, Any], args: argparse.Namespace) -> str:
    if getattr(args, "format", "text") == "latex":
        return render_latex(p)
    if isinstance(p["model"], dict):
        return render_model(p)
    head = (f"{'id':24} {'value':44} {'numeric':34} {'digits':>7}  ok")
    lines = [f"ntk-verify derive: {p['model']}, order {p['order']}, "
             f"reference depth {p['max_direct_depth']:.0e}", head, "-" * len(head)]
    for it in p["items"]:
        c = it["numeric_check"]
        digits = "-" if c["agreement_digits"] is None else f"{c['agreement_digits']:.1f}"
        lines.append(f"{it['id']:24} {_cell(it['value'], 44):44} {_cell(c['numeric'], 34):34} "
                     f"{digits:>7}  {'yes' if c['passed'] else 'NO'}")
    lines.append("digits: agreement of the numeric check with its reference; ok: the item's own pass rule "
                 "(listed below; for some items it is not a digit count)")
    lines.append("")
    for it in p["items"]:
        c = it["numeric_check"]
        lines += [f"[{it['id']}] {it['statement']}", f"    {short_form(it['text'])}",
                  f"    check: {c['method']}", f"    passes if: {c['rule']}"]
    lines.append(f"all checks passed: {p['all_passed']} ({p['seconds']} s)")
    return "\n".join(lines)


def render_model(p: dict[str, Any]) -> str:
    """Text form of ``derive --activation ...``: one line per item, then the statements and checks."""
    m = p["model"]
    head = f"{'id':18} {'value':60} {'digits':>7}  ok"
    lines = [f"ntk-verify derive: {m['name']} ({m['architecture']}; the NNGP maps are the same for both "
             "parameterizations)", head, "-" * len(head)]
    for it in p["items"]:
        c = it["numeric_check"]
        digits = "exact" if c["numeric"] == "symbolic identity" else (
            "-" if c["agreement_digits"] is None else f"{c['agreement_digits']:.1f}")
        lines.append(f"{it['id']:18} {_cell(it['value'], 60):60} {digits:>7}  {'yes' if c['passed'] else 'NO'}")
    lines.append("digits: agreement of the numeric check with the derivation (exact: sympy proved it); "
                 "ok: the item's pass rule")
    lines.append("")
    for it in p["items"]:
        c = it["numeric_check"]
        lines += [f"[{it['id']}] {it['statement']}", f"    {short_form(it['text'])}",
                  f"    {it['value']}", f"    check: {c['method']}", f"    numeric: {c['numeric']}",
                  f"    passes if: {c['rule']}"]
    lines += [f"note: {note}" for note in p["notes"]]
    lines.append(f"all checks passed: {p['all_passed']} ({p['seconds']} s)")
    return "\n".join(lines)


_TEX = {"\\": r"\textbackslash{}", "_": r"\_", "^": r"\^{}", "%": r"\%", "&": r"\&",
        "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\~{}"}


def _tex_escape(text: str) -> str:
    """Plain text for LaTeX (one pass, so replacements are never re-escaped)."""
    return "".join(_TEX.get(ch, ch) for ch in text)


def render_latex(p: dict[str, Any]) -> str:
    head = (f"% ntk-verify derive, {p['model']['name']}" if isinstance(p["model"], dict)
            else f"% ntk-verify derive, {p['model']}, order {p['order']}")
    lines = [head, r"\begin{enumerate}"]
    for it in p["items"]:
        c = it["numeric_check"]
        digits = "--" if c["agreement_digits"] is None else f"{c['agreement_digits']:.1f}"
        lines += [rf"\item \texttt{{{_tex_escape(it['id'])}}}: {_tex_escape(it['statement'])}",
                  r"\[", it["latex"], r"\]",
                  rf"Check: {_tex_escape(c['method'])}; numeric {_tex_escape(c['numeric'])}; "
                  rf"agreement {digits} digits; passes if {_tex_escape(c['rule'])}: "
                  rf"{'passed' if c['passed'] else 'FAILED'}."]
    lines.append(r"\end{enumerate}")
    return "\n".join(lines)
