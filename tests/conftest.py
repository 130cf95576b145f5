"""Shared test fixtures and the path to the independent references."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
sys.path.insert(0, str(TESTS))


def without_timing(value: Any) -> Any:
    """A JSON payload with every wall-clock field (``seconds``, ``seconds_kernels``, ...) removed:
    all else must be reproducible."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files holding a ``slow`` test run first.

    The suite runs on all cores (``-n auto --dist loadfile`` in pyproject.toml: a file's
    tests, and its module fixtures, stay on one worker). Handing out the long files first
    lets the short ones fill in around them, so the workers finish together. The sort is
    stable and the same in every worker, as xdist requires.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
