"""Independent reference: MATH.md's raw recursions in plain mpmath, written from the formulas.

Nothing here comes from the package under test. Sigma and Theta are carried
unnormalized (with their diagonals), exactly as MATH.md states them, at a working
precision of ``dps`` decimal digits; the normalized values are formed at the end.
"""

from __future__ import annotations

from collections.abc import Sequence

import mpmath


def reference_normalized(rho1: str | mpmath.mpf, depths: Sequence[int], dps: int,
                         n0: int = 3) -> dict[int, tuple[mpmath.mpf, mpmath.mpf]]:
    """{L: (SigmaBar^(L), ThetaBar^(L))} for one pair with cosine ``rho1``, at ``dps`` digits."""
    targets = set(depths)
    out = {}
    with mpmath.workdps(dps):
        rho1 = mpmath.mpf(rho1)
        pi = mpmath.pi
        sig_xx = mpmath.mpf(1) / n0            # Sigma^(1)(x, x) = x.x / n0 on the sphere
        sig_xy = rho1 / n0
        th_xx, th_xy = sig_xx, sig_xy
        for layer in range(1, max(targets) + 1):
            if layer in targets:
                norm_s = sig_xx * n0 * mpmath.mpf(2) ** (layer - 1)
                norm_t = th_xx * n0 * mpmath.mpf(2) ** (layer - 1) / layer
                out[layer] = (sig_xy / sig_xx, th_xy / th_xx, norm_s, norm_t)
            rho = sig_xy / sig_xx                # sqrt(Sigma(x,x) Sigma(x',x')) = sig_xx
            rho = min(max(rho, mpmath.mpf(-1)), mpmath.mpf(1))
            h = rho * mpmath.asin(rho) / pi + mpmath.sqrt(1 - rho * rho) / pi + rho / 2
            dot = (pi - mpmath.acos(rho)) / (2 * pi)
            dot_diag = mpmath.mpf(1) / 2
            new_sig_xy = sig_xx * h / 2
            new_sig_xx = sig_xx / 2
            th_xy = th_xy * dot + new_sig_xy
            th_xx = th_xx * dot_diag + new_sig_xx
            sig_xy, sig_xx = new_sig_xy, new_sig_xx
    return {k: (v[0], v[1]) for k, v in out.items()}


def reference_general(x: list[str], y: list[str], depths: Sequence[int], sigma_w2: str, sigma_b2: str,
                      dps: int) -> dict[int, tuple[mpmath.mpf, mpmath.mpf]]:
    """{L: (SigmaBar, ThetaBar)} for (sigma_w^2, sigma_b^2), NTK parameterization, from the raw recursions.

    Sigma^(1) = w x.x'/n0 + b; Sigma^(l+1) = w/2 sqrt(Sigma(x,x) Sigma(x',x')) h(rho) + b;
    Theta^(l+1) = Sigma^(l+1) + w Theta^(l) (pi - arccos rho)/(2 pi) (neural-tangents' Dense + Relu).
    """
    out = {}
    with mpmath.workdps(dps):
        w, b = mpmath.mpf(sigma_w2), mpmath.mpf(sigma_b2)
        xv, yv = [mpmath.mpf(v) for v in x], [mpmath.mpf(v) for v in y]
        n0 = len(xv)
        xv = [v / mpmath.sqrt(mpmath.fsum(u * u for u in xv)) for v in xv]
        yv = [v / mpmath.sqrt(mpmath.fsum(u * u for u in yv)) for v in yv]
        s = {"xx": w * mpmath.fsum(a * a for a in xv) / n0 + b, "yy": w * mpmath.fsum(a * a for a in yv) / n0 + b,
             "xy": w * mpmath.fsum(a * c for a, c in zip(xv, yv, strict=True)) / n0 + b}
        t = dict(s)
        for layer in range(1, max(depths) + 1):
            if layer in depths:
                out[layer] = (s["xy"] / mpmath.sqrt(s["xx"] * s["yy"]), t["xy"] / mpmath.sqrt(t["xx"] * t["yy"]))
            new_s, new_t = {}, {}
            for key, (p, q) in {"xx": ("xx", "xx"), "yy": ("yy", "yy"), "xy": ("xx", "yy")}.items():
                norm = mpmath.sqrt(s[p] * s[q])
                rho = min(max(s[key] / norm, mpmath.mpf(-1)), mpmath.mpf(1))
                h = rho * mpmath.asin(rho) / mpmath.pi + mpmath.sqrt(1 - rho * rho) / mpmath.pi + rho / 2
                new_s[key] = w * norm * h / 2 + b
                new_t[key] = new_s[key] + w * t[key] * (mpmath.pi - mpmath.acos(rho)) / (2 * mpmath.pi)
            s, t = new_s, new_t
    return out
