"""The two figures of the finite-width study, drawn from its JSON payload (matplotlib, Agg canvas).

* ``deviation_vs_width``: mean deviation of the normalized empirical NTK / NNGP from
  the certified infinite-width kernel against the width (log-log, 95% intervals), the
  fitted power law, and the grid's NTK curves at other depths;
* ``deviation_vs_ratio``: the NTK deviation against depth/width for every width of the
  grid, and the drift -E log(Sigma_emp(x,x)/Sigma(x,x)) of the empirical NNGP diagonal
  (exactly sum_l -E log r_l, about 5/2 * depth/width) against its exact value.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas (no pyplot
state, no display needed).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

COLORS = {"ntk": "tab:blue", "nngp": "tab:orange"}


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    return buf.getvalue()


def _rows(payload: dict[str, Any], table: str, kernel: str) -> list[dict[str, Any]]:
    return [r for r in payload["tables"][table] if r["kernel"] == kernel]


def _errorbar(ax: Any, x: np.ndarray, rows: list[dict[str, Any]], mean: str, ci: str,
              **kw: Any) -> None:
    """Positive points with their 95% intervals (for log axes: a lower end <= 0 is drawn at mean/10)."""
    y = np.array([r[mean] for r in rows], dtype=float)
    keep = y > 0
    lo = np.array([r[ci][0] for r in rows], dtype=float)[keep]
    hi = np.array([r[ci][1] for r in rows], dtype=float)[keep]
    x, y = np.asarray(x, dtype=float)[keep], y[keep]
    lo = np.where(lo > 0, lo, y / 10)
    ax.errorbar(x, y, yerr=[y - lo, hi - y], capsize=3, **kw)


def deviation_vs_width(payload: dict[str, Any]) -> bytes:
    """The log-log plot of mean deviation against width with the fitted exponents, as PNG bytes."""
    fig = Figure(figsize=(7, 5))
    ax = fig.add_subplot()
    for kernel, key in (("ntk", "width_exponent"), ("nngp", "width_exponent_nngp")):
        rows = _rows(payload, "deviation_vs_width", kernel)
        w = np.array([r["width"] for r in rows], dtype=float)
        fit = payload[key]
        lo, hi = fit["ci"]
        _errorbar(ax, w, rows, "deviation_mean", "deviation_ci", fmt="o", color=COLORS[kernel],
                  label=f"{kernel.upper()}, depth {fit['depth']} ({fit['sampler']} networks)")
        ax.plot(w, np.exp(fit["intercept"]) * w ** fit["value"], "-", color=COLORS[kernel],
                label=f"fit: exponent {fit['value']:.3f}, 95% CI [{lo:.3f}, {hi:.3f}]")
    grid = _rows(payload, "deviation_vs_ratio", "ntk")
    for k, depth in enumerate(sorted({r["depth"] for r in grid})):
        col = sorted((r for r in grid if r["depth"] == depth), key=lambda r: r["width"])
        ax.plot([r["width"] for r in col], [r["deviation_mean"] for r in col], ":", lw=1,
                color="gray", alpha=0.4 + 0.6 * depth / max(r["depth"] for r in grid),
                label=None if k else "NTK at other depths L (grid, means only)")
        ax.annotate(f"L={depth}", (col[0]["width"], col[0]["deviation_mean"]), fontsize=7,
                    color="gray", ha="right")
    ax.set(xscale="log", yscale="log", xlabel="width n",
           ylabel="mean RMS deviation from the infinite-width kernel",
           title="Finite-width kernels vs certified infinite-width kernel")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig)


def _drift_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """-E log(diag / factor) with its interval (positive: the typical diagonal falls below 1)."""
    return [{"y": -r["log_diag_mean"], "ci": [-r["log_diag_ci"][1], -r["log_diag_ci"][0]],
             "exact": None if r["log_diag_exact"] is None else -r["log_diag_exact"]}
            for r in rows if r["log_diag_mean"] is not None]


def deviation_vs_ratio(payload: dict[str, Any]) -> bytes:
    """NTK deviation and NNGP log-diagonal drift against depth/width (log-log), as PNG bytes."""
    fig = Figure(figsize=(12, 5))
    left, right = fig.subplots(1, 2)
    table = payload["tables"]["deviation_vs_ratio"]
    for width in sorted({r["width"] for r in table}):
        cols = {k: sorted((r for r in _rows(payload, "deviation_vs_ratio", k) if r["width"] == width),
                          key=lambda r: r["depth"]) for k in ("ntk", "nngp")}
        x = np.array([r["depth_over_width"] for r in cols["ntk"]])
        _errorbar(left, x, cols["ntk"], "deviation_mean", "deviation_ci", fmt="o-", ms=4,
                  label=f"width {width}")
        drift = _drift_rows(cols["nngp"])
        if len(drift) == len(x):
            _errorbar(right, x, drift, "y", "ci", fmt="o", ms=4, label=f"width {width}")
            if drift[0]["exact"] is not None:
                right.plot(x, [d["exact"] for d in drift], "k--", lw=0.8)
    left.set(ylabel="mean RMS deviation of the normalized NTK",
             title="NTK: deviation grows with depth/width")
    right.set(ylabel="-E log(Sigma_emp(x,x) / Sigma(x,x))",
              title="NNGP diagonal drift: measured (95% CI), exact (dashed)")
    for ax in (left, right):
        ax.set(xscale="log", yscale="log", xlabel="depth / width  (L / n)")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    return _png(fig)


FIGURES: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "deviation_vs_width": deviation_vs_width,
    "deviation_vs_ratio": deviation_vs_ratio,
}


def render_figures(payload: dict[str, Any]) -> dict[str, bytes]:
    """Both figures as PNG bytes, by name (the caller writes them)."""
    return {name: draw(payload) for name, draw in FIGURES.items()}
