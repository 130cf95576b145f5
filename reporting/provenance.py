"""Provenance of a report: versions, git commit, command line, timings."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ["ntk-verify", "mpmath", "gmpy2", "python-flint", "sympy", "numpy", "matplotlib"]


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(root: Path | None = None) -> str | None:
    root = root or Path(__file__).resolve().parents[1]
    try:
        proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    return proc.stdout.strip() + ("+dirty" if dirty else "")


def provenance(settings: dict[str, Any], seconds: float, argv: list[str] | None = None) -> dict[str, Any]:
    return {
        "generated_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command_line": " ".join(argv if argv is not None else sys.argv),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "platform": platform.platform(),
        "settings": settings,
        "total_seconds": round(seconds, 1),
    }
