"""Make tests/data/parabolic_reference.json: deep kernels of four non-default models, from an independent route.

Plain mpmath at 50 digits, the textbook raw recursions written from the formulas below
(no import from ``verify``, no normalization tricks, no balls), for two first-layer
cosines and depths up to 10^6. It takes several minutes, so its output is committed and
the test suite compares the certified engine against it (at 20 digits).

Models: no bias, NTK parameterization, first layer Dense with W_std^2 = sigma_w^2 on
inputs of unit norm, phi(x) = a min(x, 0) + b max(x, 0). For u, v centred Gaussian with
Var u = Var v = q and Cov(u, v) = q c:

    E[phi(u) phi(v)]   = q (a b c + (b - a)^2/(2 pi) (sqrt(1 - c^2) + (pi - acos c) c))
    E[phi'(u) phi'(v)] =    a b   + (b - a)^2/(2 pi) (pi - acos c)

Raw state per layer: q = Sigma(x, x) = Sigma(x', x'), S = Sigma(x, x'), P = Theta(x, x),
R = Theta(x, x'). Layer 1: q = P = sigma_w^2, S = R = sigma_w^2 c0. Then L - 1 steps of

    mlp:           q' = w E[phi^2],         S' = w E[phi phi](c),
                   P' = q' + w E[phi'^2] P,  R' = S' + w E[phi' phi'](c) R            (w = sigma_w^2)
    resnet:ALPHA:  q' = q + g E[phi^2],     S' = S + g E[phi phi](c),
                   P' = P + g (E[phi'^2] P + E[phi^2]),  R' = R + g (E[phi' phi'](c) R + E[phi phi](c))
                   (g = ALPHA^2 sigma_w^2: neural-tangents' block x -> x + Dense(W_std = ALPHA sigma_w)(phi(x)))

with c = S / q. Stored: rho_L = S/q, ThetaBar_L = R/P and the gaps 1 - rho_L, 1 - ThetaBar_L.

    python scripts/make_parabolic_reference.py          # from the repository root
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import mpmath

ROOT = Path(__file__).resolve().parents[1]
DPS = 50
DIGITS_WRITTEN = 45
DEPTHS = [10, 1000, 30_000, 1_000_000]
COSINES = ["0", "-0.5"]

# name -> (activation spec, a, b, sigma_w^2, architecture spec, ALPHA or None for an MLP); rationals as (num, den)
CASES: dict[str, tuple[str, tuple[int, int], tuple[int, int], int, str, tuple[int, int] | None]] = {
    "relu resnet:0.3 (1, 0)": ("relu", (0, 1), (1, 1), 1, "resnet:0.3", (3, 10)),
    "leaky_relu:0.1 (2, 0)": ("leaky_relu:0.1", (1, 10), (1, 1), 2, "mlp", None),
    "abs (1, 0)": ("abs", (-1, 1), (1, 1), 1, "mlp", None),
    "abrelu:-0.5,2 resnet:1 (2, 0)": ("abrelu:-0.5,2", (-1, 2), (2, 1), 2, "resnet:1", (1, 1)),
}


def rational(pair: tuple[int, int]) -> mpmath.mpf:
    """num/den as an mpf at the working precision (exact where representable)."""
    return mpmath.mpf(pair[0]) / pair[1]


def sweep(a: mpmath.mpf, b: mpmath.mpf, sigma_w2: int, alpha: tuple[int, int] | None,
          cosines: list[str], depths: list[int], label: str) -> dict[str, dict[int, tuple[mpmath.mpf, ...]]]:
    """{c0: {L: (rho, ThetaBar, 1 - rho, 1 - ThetaBar)}}; both cosines share q and P. Call inside workdps."""
    pi = mpmath.pi + 0                            # evaluate the constant once at the working precision
    ab = a * b
    k2 = (b - a) ** 2 / (2 * pi)
    e2 = (a * a + b * b) / 2                      # E[phi^2] / q = E[phi'^2] (c = 1 of both formulas)
    resnet = alpha is not None
    g = rational((alpha[0] ** 2 * sigma_w2, alpha[1] ** 2)) if alpha is not None else mpmath.mpf(sigma_w2)
    q = mpmath.mpf(sigma_w2)
    p = q
    s = [q * mpmath.mpf(c0) for c0 in cosines]
    r = list(s)
    targets = set(depths)
    out: dict[str, dict[int, tuple[mpmath.mpf, ...]]] = {c0: {} for c0 in cosines}
    report = max(depths) // 10
    for layer in range(1, max(depths) + 1):
        if layer in targets:
            for k, c0 in enumerate(cosines):
                rho, theta = s[k] / q, r[k] / p
                out[c0][layer] = (rho, theta, 1 - rho, 1 - theta)
        if layer == max(depths):
            break
        if report and layer % report == 0:
            print(f"  {label}: layer {layer}", file=sys.stderr, flush=True)
        phi2 = e2 * q                             # E[phi(u)^2]
        for k in range(len(cosines)):
            c = s[k] / q
            arc = pi - mpmath.acos(c)
            cross = q * (ab * c + k2 * (mpmath.sqrt(1 - c * c) + arc * c))     # E[phi(u) phi(v)]
            dot = ab + k2 * arc                                               # E[phi'(u) phi'(v)]
            if resnet:
                s[k] = s[k] + g * cross
                r[k] = r[k] + g * (dot * r[k] + cross)
            else:
                s[k] = g * cross
                r[k] = s[k] + g * dot * r[k]
        if resnet:
            q, p = q + g * phi2, p + g * (e2 * p + phi2)
        else:
            q = g * phi2
            p = q + g * e2 * p
    return out


def main() -> None:
    started = time.time()
    values: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    cases: dict[str, dict[str, object]] = {}
    for name, (activation, a, b, sigma_w2, architecture, alpha) in CASES.items():
        t0 = time.time()
        with mpmath.workdps(DPS):
            ref = sweep(rational(a), rational(b), sigma_w2, alpha, COSINES, DEPTHS, name)
            values[name] = {c0: {str(d): {key: mpmath.nstr(v, DIGITS_WRITTEN)
                                          for key, v in zip(("nngp", "ntk", "nngp_gap", "ntk_gap"), row, strict=True)}
                                 for d, row in by_depth.items()}
                            for c0, by_depth in ref.items()}
        seconds = round(time.time() - t0, 1)
        cases[name] = {"activation": activation, "a": f"{a[0]}/{a[1]}", "b": f"{b[0]}/{b[1]}",
                       "sigma_w2": str(sigma_w2), "sigma_b2": "0", "architecture": architecture,
                       "parameterization": "ntk", "seconds": seconds}
        print(f"{name} done in {seconds} s", file=sys.stderr, flush=True)
    payload = {
        "what": "normalized NNGP (nngp = rho_L) and NTK (ntk = ThetaBar_L) and their gaps 1 - rho_L, 1 - ThetaBar_L "
                "for one pair with first-layer cosine c0, four models without bias",
        "how": "plain mpmath, textbook raw recursions for phi = a min(x,0) + b max(x,0) "
               "(scripts/make_parabolic_reference.py docstring), no import from verify",
        "generator": "scripts/make_parabolic_reference.py",
        "layout": "values[case][c0][depth] -> {nngp, ntk, nngp_gap, ntk_gap}; cases[case] -> model spec",
        "dps": DPS,
        "significant_digits_written": DIGITS_WRITTEN,
        "depths": DEPTHS,
        "cosines": COSINES,
        "mpmath": mpmath.__version__,
        "mpmath_backend": mpmath.libmp.BACKEND,
        "python": platform.python_version(),
        "seconds": round(time.time() - started, 1),
        "cases": cases,
        "values": values,
    }
    (ROOT / "tests" / "data" / "parabolic_reference.json").write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
