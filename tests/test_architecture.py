"""Imports point one way, read from every import in the code (relative ones and those inside functions too).

    core <- data <- kernel <- linalg <- {derive, finite_width} <- bench, the ``verify`` API
         <- proofs_checks <- reporting <- cli

A module may import from its own layer or from a layer below it; ``derive`` and
``finite_width`` sit side by side and do not import each other. ``reporting`` holds no
engine mathematics (it imports neither the engine nor the claim checks), and ``import
verify`` loads neither sympy nor matplotlib (sympy is for ``derive`` only).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("verify", "proofs_checks", "reporting")
# (prefix, rank, group): the first matching prefix decides; equal rank and different group = side by side
LAYERS = [
    ("verify.cli", 8, "cli"), ("verify.__main__", 8, "cli"),
    ("reporting", 7, "reporting"),
    ("proofs_checks", 6, "proofs_checks"),
    ("verify.bench", 5, "bench"),
    ("verify.derive", 4, "derive"), ("verify.finite_width", 4, "finite_width"),
    ("verify.linalg", 3, "linalg"),
    ("verify.kernel", 2, "kernel"),
    ("verify.data", 1, "data"),
    ("verify.core", 0, "core"),
    ("verify", 5, "api"),                  # the package itself: the notebook API (verify/__init__.py)
]


def layer(module: str) -> tuple[int, str]:
    for prefix, rank, group in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return rank, group
    raise KeyError(module)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, relative imports resolved (``from pkg import mod`` gives pkg.mod too)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{a.name}" for a in node.names if _is_module(f"{target}.{a.name}")}
    return {m for m in found if m.split(".")[0] in PACKAGES}


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """The imports of ``module`` that point up the layers (or sideways between derive and finite_width)."""
    rank, group = layer(module)
    bad = []
    for target in sorted(imported_modules(source, module, is_package)):
        t_rank, t_group = layer(target)
        if t_rank > rank or (t_rank == rank and t_group != group):
            bad.append(f"{module} ({group}) imports {target} ({t_group})")
        if group == "reporting" and t_group != "reporting":
            bad.append(f"{module} (reporting) imports {target}: the report holds no engine mathematics")
    return bad


def all_modules() -> list[tuple[str, Path]]:
    return [(module_name(p), p) for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


def test_every_import_points_down_the_layers() -> None:
    found = [v for name, path in all_modules()
             for v in violations(name, path.read_text(), path.name == "__init__.py")]
    assert found == []


def test_every_module_has_a_layer() -> None:
    for name, _ in all_modules():
        layer(name)


@pytest.mark.parametrize(("module", "source"), [
    ("verify.kernel.routes", "from verify.linalg import conditioning"),           # engine upwards
    ("verify.kernel.routes", "from ..linalg.conditioning import certify"),       # the same, relative
    ("verify.core.balls", "def f():\n    from verify.kernel.routes import kernel_sweep"),   # inside a function
    ("verify.derive.catalogue", "from verify.finite_width import montecarlo"),  # sideways
    ("verify.finite_width.montecarlo", "import proofs_checks.base"),            # verdict words in the engine
    ("verify.kernel.routes", "from verify import Ball"),                        # the API from below
    ("reporting.build", "from verify.core.balls import Ball"),                  # mathematics in the report
    ("proofs_checks.theorem_1", "from verify.cli.output import write_atomic"),  # claims reaching the CLI
])
def test_a_wrong_import_is_caught(module: str, source: str) -> None:
    assert violations(module, source)


def test_a_right_import_passes() -> None:
    assert violations("verify.linalg.conditioning", "from ..kernel.routes import kernel_sweep\n"
                      "from verify.core import balls") == []


def test_import_verify_loads_neither_sympy_nor_matplotlib() -> None:
    code = ("import sys, verify; heavy = [m for m in ('sympy', 'matplotlib') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""
