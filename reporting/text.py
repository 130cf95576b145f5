"""Words and number display shared by the Markdown and HTML renderers (no mathematics, display only).

>>> pretty_integers("depths [1, 10, 1000000000000000] and seed 20261123")
'depths [1, 10, 1e15] and seed 20261123'
>>> cell_text({"text": "0.25 ± 1.6e-14", "mid": "0.25000000000000000000000000000", "rad": "1.1e-31"})
'0.25 ± 1.6e-14'
>>> anchor({"id": "proposition-1", "kernel": None}), anchor({"id": "theorem-1", "kernel": "ntk"})
('proposition-1', 'theorem-1-ntk')
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

TITLE = "Verification report: depth in the neural tangent kernel of deep ReLU networks"
ABOUT = ("Claims of the summary of arXiv 2511.07272, of neighbouring papers and of users' claim files, grouped by "
         "source (each source with the version its claims were read from), each checked per kernel (NTK and NNGP) "
         "or once when it does not depend on the kernel. Verdicts are computed from findings, never written by hand.")
GUARANTEES = [
    ("certified", "an Arb ball enclosure [mid - rad, mid + rad] that provably contains the exact value "
                  "(interval arithmetic with rigorous error bounds; exact rational arithmetic where stated)."),
    ("validated", "agreement of independent routes (a high-precision quadrature at two precisions, an external "
                  "implementation such as neural-tangents) within a stated tolerance: strong evidence, not a proof."),
    ("statistical", "Monte Carlo over seeded finite networks, with 95% confidence intervals (bootstrap over seeds): "
                    "a claim is supported when the interval lies on its side."),
    ("best effort", "plain float64 results (numpy/LAPACK), shown beside certified ones for comparison only; they "
                    "may differ in their last bits between machines and never decide a verdict alone."),
]
VERDICT_RULE = [
    ("refuted", "at least one finding contradicts the claim (its certificate gives the numbers behind it)."),
    ("confirmed", "every finding supports the claim."),
    ("inconclusive", "nothing contradicts the claim but at least one finding is open (neither supports nor "
                     "contradicts it)."),
    ("error", "the check crashed: there is no verdict on the claim, the exception is shown as its certificate."),
]
DIGITS_NOTE = ("Digits: the certified checks compute at the requested working precision (settings.digits, or the "
               "digits listed in a check's parameters). Tables round midpoints for display; a cell 'mid ± rad' is "
               "still a rigorous enclosure because its ± includes that rounding. Each table's note says to how many "
               "digits it rounds and how many digits were certified; results.json keeps every certified cell as a "
               "{mid, rad} object to the digits certified.")
DATA_NOTE = ("Data: each check states the data it used (its parameters); settings.data is the default for the "
             "certified checks, while the Monte Carlo study of theorem-1 uses its profile's own dataset.")
SUMMARY_EXPERIMENTS = [
    ("Experiment 1 (kernel convergence)", "experiment1_", "theorem-2"),
    ("Experiment 2 (correlation tracking through L = 50)", "experiment2_", "lemma-1"),
    ("Experiment 3 (solution stability: kappa_x kappa^-1 and det along depth)", "experiment3_", "det-to-zero"),
    ("Next check 1 (convergence rate of rho^(L))", "lemma1_gap", "lemma-1"),
    ("Next check 2 (invertibility on small datasets)", "invertibility_", "invertibility"),
    ("Next check 3 (closed-form stability with synthetic labels)", "theorem3_", "theorem-3"),
]
_BIG_INTEGER = re.compile(r"(?<![\w.+-])(\d{7,})(?![\w.])")
MARKS = {True: "supports", False: "contradicts", None: "open"}


def _short_integer(m: re.Match[str]) -> str:
    digits = m.group(1)
    core = digits.rstrip("0")
    zeros = len(digits) - len(core)
    if zeros < 6 or len(core) > 3:
        return digits
    mantissa = core if len(core) == 1 else f"{core[0]}.{core[1:]}"
    return f"{mantissa}e{zeros + len(core) - 1}"


def pretty_integers(text: str) -> str:
    """Long round integers written as powers of ten (1000000000000000 -> 1e15); other text unchanged."""
    return _BIG_INTEGER.sub(_short_integer, text)


def cell_text(cell: Any) -> str:
    """What a table cell shows: a string as is, a ball cell ({text, mid, rad}) by its display text."""
    if isinstance(cell, dict):
        return str(cell.get("text", f"{cell.get('mid')} ± {cell.get('rad')}"))
    return str(cell)


def display_cell(cell: Any) -> str:
    return pretty_integers(cell_text(cell))


def anchor(result: dict[str, Any]) -> str:
    """The fragment id of a check's section: 'theorem-1-ntk', or 'lemma-1' for a kernel-independent check."""
    return f"{result['id']}-{result['kernel']}" if result.get("kernel") else str(result["id"])


def kernel_label(result: dict[str, Any]) -> str:
    return str(result["kernel"]) if result.get("kernel") else "kernel-independent"


def parameters_text(parameters: dict[str, Any]) -> str:
    return pretty_integers(json.dumps(parameters))


def data_used(result: dict[str, Any]) -> str | None:
    """The data a check states it used (its ``data`` parameter), if any."""
    data = result.get("parameters", {}).get("data")
    if isinstance(data, dict):
        return str(data.get("name", data))
    if isinstance(data, list):
        return ", ".join(map(str, data))
    return None if data is None else str(data)


UNRECORDED_SOURCE = {"id": "unrecorded", "short": "Source not recorded",
                     "title": "results written before each claim named its source", "version": "unknown"}


def source_of(result: dict[str, Any]) -> dict[str, Any]:
    """The source a result names ({id, short, title, version}); older results name none."""
    source = result.get("source")
    return source if isinstance(source, dict) and "id" in source else UNRECORDED_SOURCE


def by_source(results: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The results grouped by source, sources in order of first appearance (the checks run grouped by source).

    >>> rs = [{"id": "a", "source": {"id": "s1"}}, {"id": "b"}, {"id": "c", "source": {"id": "s1"}}]
    >>> [(s["id"], [r["id"] for r in group]) for s, group in by_source(rs)]
    [('s1', ['a', 'c']), ('unrecorded', ['b'])]
    """
    groups: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for r in results:
        source = source_of(r)
        groups.setdefault(str(source["id"]), (source, []))[1].append(r)
    return list(groups.values())


def source_anchor(source: dict[str, Any]) -> str:
    """The fragment id of a source's group: 'source-' and its id with anything but [a-z0-9-] as '-'.

    >>> source_anchor({"id": "user-file:examples/my_claims.py"})
    'source-user-file-examples-my-claims-py'
    """
    return "source-" + re.sub(r"[^a-z0-9-]+", "-", str(source["id"]).lower()).strip("-")


def sources_json(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """results.json's ``sources``: each source once, with the anchors of its checks."""
    return [{**source, "checks": [anchor(r) for r in group]} for source, group in by_source(results)]


def verdict_counts(results: list[dict[str, Any]]) -> dict[str, int]:
    """How many results have each verdict (verdict words as the checks gave them, sorted)."""
    return dict(sorted(Counter(r["verdict"] for r in results).items()))


def counts_line(results: list[dict[str, Any]]) -> str:
    """'12 confirmed, 1 error, 2 refuted' for the summary."""
    return ", ".join(f"{n} {verdict}" for verdict, n in verdict_counts(results).items()) or "no checks"


def figures_by_prefix(results: list[dict[str, Any]], prefix: str) -> list[str]:
    return sorted({f["name"] for r in results for f in r["evidence"]["figures"] if f["name"].startswith(prefix)})


def sections_of(results: list[dict[str, Any]], check_id: str) -> list[dict[str, Any]]:
    return [r for r in results if r["id"] == check_id]


def time_text(result: dict[str, Any]) -> str:
    return f"{result['seconds']} s"
