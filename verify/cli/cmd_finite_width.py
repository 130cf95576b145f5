"""``ntk-verify finite-width``: random finite networks against the certified infinite-width kernel."""

from __future__ import annotations

import argparse
from typing import Any

from verify.cli.common import finish_parser, model_from_args, progress_from_args
from verify.cli.output import check_output_path, check_own_files, record_own_files, write_atomic, write_json
from verify.core.errors import InputError
from verify.core.params import KERNELS, exact_integer, quoted
from verify.data.sources import load_dataset
from verify.finite_width.montecarlo import NORMALIZATIONS, PROFILES, run_study

RESULT_FILE = "finite_width.json"
OUTPUT_FILES = [RESULT_FILE, "finite_width_deviation_vs_width.png", "finite_width_deviation_vs_ratio.png"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "finite-width", help="Monte Carlo: finite-width NTK/NNGP vs the infinite-width kernel",
        description="Seeded Monte Carlo over random finite ReLU networks: deviation of the "
        "normalized empirical NTK/NNGP from the certified infinite-width kernel over widths "
        "and depths, the fitted width exponent with a 95% bootstrap interval, and the "
        "depth/width regime. Results are validated statistically, not certified.")
    p.add_argument("--profile", default="quick", choices=sorted(PROFILES),
                   help="quick (about a minute) or full (tens of minutes)")
    p.add_argument("--data", default=None,
                   help="CSV/.npy path or builtin:NAME, 2..64 points (default builtin:sphere-8)")
    p.add_argument("--seed", default="0", help="non-negative integer seed (default 0)")
    p.add_argument("--normalize", default="theory", choices=NORMALIZATIONS,
                   help="divide by the exact infinite-width diagonal (theory) or by the "
                   "empirical diagonal (empirical)")
    p.add_argument("--out", default=None,
                   help=f"folder for the two figures (PNG) and {RESULT_FILE}")
    finish_parser(p, run, render_table)


def _seed(text: str) -> int:
    """A seed: a non-negative ASCII integer below 10^19."""
    seed = exact_integer(text, "--seed", max_magnitude=18)
    if seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {quoted(text)}")
    return seed


def run(args: argparse.Namespace) -> dict[str, Any]:
    profile = PROFILES[args.profile]
    seed = _seed(args.seed)
    param = model_from_args(args)
    out = check_output_path(args.out, "folder") if args.out is not None else None   # before the study
    if out is not None:
        check_own_files(out, OUTPUT_FILES)
    data = load_dataset(args.data or profile.data, args.project)
    payload = run_study(profile, data, param, seed=seed, normalize=args.normalize,
                        progress=progress_from_args(args))
    from proofs_checks.finite_width_claim import theorem1_summary

    payload["theorem1"] = theorem1_summary(payload)
    payload["figures"] = None
    if out is not None:
        from reporting.finite_width_figures import render_figures

        payload["figures"] = {name: str(write_atomic(out / f"finite_width_{name}.png", png))
                              for name, png in render_figures(payload).items()}
        write_json(out / RESULT_FILE, payload)
        record_own_files(out, OUTPUT_FILES)
    return payload


def _ci(pair: list[float] | None, fmt: str = ".4f") -> str:
    return "n/a" if pair is None else f"[{pair[0]:{fmt}}, {pair[1]:{fmt}}]"


def render_table(payload: dict[str, Any], args: argparse.Namespace | None = None) -> str:
    fit, nfit = payload["width_exponent"], payload["width_exponent_nngp"]
    lines = [
        f"finite-width study, profile {payload['profile']}, seed {payload['seed']}, "
        f"data {payload['data']['name']} (n = {payload['data']['n']}, n0 = {payload['data']['n0']})",
        f"model: {payload['parameterization']['name']}; normalization: "
        f"{payload['normalization']['meaning']}",
        f"guarantee: {payload['guarantee'].upper()}",
        f"width exponent (NTK, depth {fit['depth']}): {fit['value']:.4f}, 95% CI "
        f"{_ci(fit['ci'])} (expected -1/2; {fit['method']})",
        f"width exponent (NNGP, depth {nfit['depth']}): {nfit['value']:.4f}, 95% CI {_ci(nfit['ci'])}",
    ]
    ratio = payload.get("ratio_exponent")
    if ratio:
        lines.append(f"depth/width exponent (NTK, L/n <= {ratio['max_ratio']:g}): "
                     f"{ratio['value']:.4f}, 95% CI {_ci(ratio['ci'])}")
    for key, title in (("deviation_vs_width", "deviation vs width"),
                       ("deviation_vs_ratio", "deviation vs depth/width")):
        lines += ["", f"{title}:",
                  f"{'kernel':6} {'width':>6} {'depth':>5} {'L/n':>8} {'seeds':>5} "
                  f"{'mean dev':>9} {'95% CI':>20} {'E log diag':>11} {'exact':>9}"]
        for r in payload["tables"][key]:
            exact = "" if r["log_diag_exact"] is None else f"{r['log_diag_exact']:.4f}"
            logd = "n/a" if r["log_diag_mean"] is None else f"{r['log_diag_mean']:.4f}"
            lines.append(f"{r['kernel']:6} {r['width']:6d} {r['depth']:5d} "
                         f"{r['depth_over_width']:8.4f} {r['seeds']:5d} {r['deviation_mean']:9.4f} "
                         f"{_ci(r['deviation_ci']):>20} {logd:>11} {exact:>9}")
    cc = payload["sampler_crosscheck"]
    lines += ["", f"sampler cross-check at width {cc['width']}, depth {cc['depth']} "
              f"({cc['seeds']} networks each): "
              + "; ".join(f"{k.upper()} dense {cc[k]['dense_mean']:.4f} vs conditional "
                          f"{cc[k]['conditional_mean']:.4f} (z = {cc[k]['z']:.2f})"
                          for k in KERNELS)]
    t1 = payload["theorem1"]
    lines.append(f"Theorem 1 ({t1['claim']}): {t1['verdict'].upper()}")
    if payload.get("figures"):
        lines.append("figures: " + ", ".join(payload["figures"].values()))
    lines.append(f"runtime: {payload['runtime_seconds']} s")
    return "\n".join(lines)
