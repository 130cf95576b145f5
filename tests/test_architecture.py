"""Imports point one way: engine (verify/) <- claim checks (proofs_checks/) <- report and CLI."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(folder: str, exclude: str | None = None) -> list[Path]:
    return [p for p in (ROOT / folder).rglob("*.py") if not (exclude and exclude in p.parts)]


def test_engine_knows_nothing_of_claims_or_reports() -> None:
    for path in _modules("verify", exclude="cli"):
        bad = {m for m in _imports(path) if m.split(".")[0] in {"proofs_checks", "reporting"}}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_claim_checks_do_not_import_the_top_layer() -> None:
    for path in _modules("proofs_checks"):
        bad = {m for m in _imports(path) if m.startswith(("verify.cli", "reporting"))}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_report_holds_no_engine_mathematics() -> None:
    for path in _modules("reporting"):
        bad = {m for m in _imports(path) if m.split(".")[0] in {"verify", "proofs_checks", "flint", "mpmath",
                                                                  "sympy"}}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
