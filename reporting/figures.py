"""Draw the checks' figure specifications as PNG files (matplotlib, Agg backend)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def render_png(fig_spec: dict[str, Any]) -> bytes:
    """PNG bytes of one figure spec ({name, title, xlabel, ylabel, series, xscale, yscale})."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    for s in fig_spec["series"]:
        xs, ys = s["x"], s["y"]
        pts = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None and
               (fig_spec.get("yscale") != "log" or y > 0) and (fig_spec.get("xscale") != "log" or x > 0)]
        if not pts:
            continue
        style = "--" if s.get("reference") or "pi" in s["label"] or s["label"].startswith("1/") else "-"
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", markersize=2.5, label=s["label"])
    ax.set_xscale(fig_spec.get("xscale", "linear"))
    ax.set_yscale(fig_spec.get("yscale", "linear"))
    ax.set_title(fig_spec["title"], fontsize=10)
    ax.set_xlabel(fig_spec["xlabel"])
    ax.set_ylabel(fig_spec["ylabel"])
    ax.grid(True, which="both", alpha=0.3)
    if len(fig_spec["series"]) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
