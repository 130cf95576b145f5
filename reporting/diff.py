"""What changed between two reports' results.json: checks added or removed, verdicts, certificates, numbers.

Numbers are compared as balls: two enclosures of the same quantity that do not overlap
(``|mid_a - mid_b| > rad_a + rad_b``, in exact decimal arithmetic) mean the value changed
beyond what either report certified; overlapping balls are the same number as far as the
reports can tell. Ball cells are ``{mid, rad}`` objects (or, in older reports, 'mid ± rad'
strings); evidence ``numbers`` are ``{mid, rad, ...}`` objects.

>>> balls_apart({"mid": "0.25", "rad": "1e-14"}, {"mid": "0.2500000000001", "rad": "1e-14"})
True
>>> balls_apart({"mid": "0.25", "rad": "1e-12"}, {"mid": "0.2500000000001", "rad": "1e-14"})
False
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

_BALL_TEXT = re.compile(r"^\s*(?P<mid>[-+]?[\d.]+(?:e[-+]?\d+)?)\s*±\s*(?P<rad>[\d.]+(?:e[-+]?\d+)?)\s*$")


def as_ball(value: Any) -> dict[str, str] | None:
    """A ball {mid, rad} from a cell or number (object or 'mid ± rad' text), None if it is not one."""
    if isinstance(value, dict) and "mid" in value and "rad" in value:
        return {"mid": str(value["mid"]), "rad": str(value["rad"])}
    if isinstance(value, str):
        m = _BALL_TEXT.match(value)
        if m:
            return {"mid": m["mid"], "rad": m["rad"]}
    return None


def balls_apart(a: dict[str, str], b: dict[str, str]) -> bool:
    """Whether two balls are disjoint (exact decimal arithmetic)."""
    return abs(Fraction(a["mid"]) - Fraction(b["mid"])) > Fraction(a["rad"]) + Fraction(b["rad"])


def _key(check: dict[str, Any]) -> str:
    return f"{check['id']} ({check['kernel']})" if check.get("kernel") else str(check["id"])


def _numbers(check: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(where, value) for every evidence number and every table cell of a check."""
    for name, value in check.get("evidence", {}).get("numbers", {}).items():
        yield f"numbers.{name}", value
    for t in check.get("evidence", {}).get("tables", []):
        for r, row in enumerate(t.get("rows", [])):
            label = row[0].get("text") if isinstance(row[0], dict) else row[0]
            for i, cell in enumerate(row[1:], start=1):
                column = t["columns"][i] if i < len(t["columns"]) else f"#{i}"
                yield f"{t['title']} / row {label!s} (#{r + 1}) / {column}", cell


def _number_changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    old = dict(_numbers(a))
    out = []
    for where, new in _numbers(b):
        if where not in old:
            continue
        ba, bb = as_ball(old[where]), as_ball(new)
        if ba and bb and balls_apart(ba, bb):
            out.append({"where": where, "old": ba, "new": bb})
    return out


def diff_results(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The differences from report ``a`` to report ``b`` (both parsed results.json)."""
    checks_a = {_key(c): c for c in a.get("checks", [])}
    checks_b = {_key(c): c for c in b.get("checks", [])}
    common = [k for k in checks_a if k in checks_b]
    out: dict[str, Any] = {
        "added": [k for k in checks_b if k not in checks_a],
        "removed": [k for k in checks_a if k not in checks_b],
        "verdicts": [{"check": k, "old": checks_a[k]["verdict"], "new": checks_b[k]["verdict"]}
                     for k in common if checks_a[k]["verdict"] != checks_b[k]["verdict"]],
        "certificates": [{"check": k, "old": checks_a[k]["certificate"], "new": checks_b[k]["certificate"]}
                         for k in common if checks_a[k]["certificate"] != checks_b[k]["certificate"]],
        "numbers": [{"check": k, **change} for k in common for change in _number_changes(checks_a[k], checks_b[k])],
    }
    out["unchanged"] = not any(out[k] for k in ("added", "removed", "verdicts", "certificates", "numbers"))
    return out


def _ball_text(ball: dict[str, str]) -> str:
    return f"{ball['mid']} ± {ball['rad']}"


def render_diff(d: dict[str, Any]) -> str:
    """The differences as text for a reviewer."""
    if d["unchanged"]:
        return "no differences: same checks, verdicts, certificates, and every number within its radius"
    lines = [f"added check: {k}" for k in d["added"]] + [f"removed check: {k}" for k in d["removed"]]
    lines += [f"verdict {v['check']}: {v['old']} -> {v['new']}" for v in d["verdicts"]]
    for c in d["certificates"]:
        lines += [f"certificate {c['check']}:", f"  - {c['old']}", f"  + {c['new']}"]
    for n in d["numbers"]:
        lines += [f"number {n['check']} / {n['where']}: balls do not overlap",
                  f"  - {_ball_text(n['old'])}", f"  + {_ball_text(n['new'])}"]
    return "\n".join(lines)
