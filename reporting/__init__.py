"""Verification reports: Markdown, self-contained HTML, JSON and figures from check results.

The top layer: it formats what the checks computed and holds no mathematics.
"""

from .build import write_report

__all__ = ["write_report"]
