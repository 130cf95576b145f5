"""Formulas as self-contained inline SVG (matplotlib mathtext; glyphs drawn as paths, no fonts, no network).

mathtext knows a subset of LaTeX: :func:`to_mathtext` rewrites the few macros the checks
use that it lacks (``\\tfrac12``, ``\\le``, ...). A formula it still cannot parse is shown
as its LaTeX source, and :func:`formula_html` says so in a ``title`` attribute.

>>> to_mathtext(r"\\tfrac12\\sqrt{x} \\le \\tfrac z2")
'\\\\frac{1}{2}\\\\sqrt{x} \\\\leq \\\\frac{z}{2}'
"""

from __future__ import annotations

import html
import io
import re
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
from matplotlib import mathtext  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

RENAMED = {r"\le": r"\leq", r"\ge": r"\geq", r"\tfrac": r"\frac", r"\dfrac": r"\frac", r"\lvert": "|",
           r"\rvert": "|", r"\lVert": r"\Vert", r"\rVert": r"\Vert"}
_MACRO = re.compile(r"\\[A-Za-z]+")
FONT_SIZE = 13


def _rename(latex: str) -> str:
    return _MACRO.sub(lambda m: RENAMED.get(m.group(0), m.group(0)), latex)


def _argument(text: str, i: int) -> tuple[str, int]:
    """The TeX argument starting at ``text[i]`` (after spaces): a {group}, a \\macro or one character."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        raise ValueError("\\frac without its arguments")
    if text[i] == "{":
        depth = 0
        for j in range(i, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                return text[i + 1:j], j + 1
        raise ValueError("unbalanced braces")
    m = _MACRO.match(text, i)
    if m:
        return m.group(0), m.end()
    return text[i], i + 1


def _brace_fractions(latex: str) -> str:
    """``\\frac12`` -> ``\\frac{1}{2}`` (mathtext needs braces around both arguments)."""
    out: list[str] = []
    i = 0
    while True:
        j = latex.find(r"\frac", i)
        if j < 0:
            return "".join(out) + latex[i:]
        if latex[j + 5:j + 6].isalpha():           # another macro that starts with \frac
            out.append(latex[i:j + 5])
            i = j + 5
            continue
        num, k = _argument(latex, j + 5)
        den, k = _argument(latex, k)
        out.append(latex[i:j] + r"\frac{" + _brace_fractions(num) + "}{" + _brace_fractions(den) + "}")
        i = k


def to_mathtext(latex: str) -> str:
    """The LaTeX of a claim in the dialect matplotlib's mathtext parses."""
    return _brace_fractions(_rename(latex))


def _unique_ids(svg: str, prefix: str) -> str:
    """Prefix the SVG's ids (glyph definitions) so several formulas can share one HTML page."""
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)


@lru_cache(maxsize=256)
def formula_svg(latex: str) -> str:
    """The formula as an ``<svg>`` element (no XML prolog, no external reference); ValueError if unparsable."""
    buf = io.BytesIO()
    with plt.rc_context({"svg.fonttype": "path", "svg.hashsalt": "ntk-verify", "mathtext.fontset": "dejavusans"}):
        mathtext.math_to_image(f"${to_mathtext(latex)}$", buf, prop=matplotlib.font_manager.FontProperties(
            size=FONT_SIZE), format="svg")
    svg = buf.getvalue().decode()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return svg.strip()


def formula_html(latex: str, key: str) -> str:
    """An inline SVG of ``latex`` (ids prefixed with ``key``), or the escaped source with a title saying why."""
    try:
        svg = formula_svg(latex)
    except (ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()
        why = reason[-1] if reason else type(exc).__name__
        return (f'<code class="tex" title="shown as LaTeX source: matplotlib mathtext cannot render this '
                f'formula ({html.escape(why[:160])})">{html.escape(latex)}</code>')
    svg = _unique_ids(svg, f"{key}-")
    label = html.escape(latex)
    return f'<span class="formula" role="img" aria-label="{label}" title="{label}">{svg}</span>'
