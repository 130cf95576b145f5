"""Make tests/data/deep_reference.json: depth-10^6 kernel values from an independent route.

Runs the plain-mpmath reference of tests/reference.py (MATH.md's raw recursions,
no normalization tricks, no balls) at 60 significant digits for rho^(1) in
{-0.99, 0, 0.9} to depth 10^6. It takes a few minutes, so its output is
committed and the test suite compares the certified engine against it.

    python scripts/make_deep_reference.py          # from the repository root
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import mpmath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from reference import reference_normalized  # noqa: E402

DEPTHS = [10, 1000, 100_000, 1_000_000]
RHOS = ["-0.99", "0", "0.9"]
DPS = 60


def main() -> None:
    started = time.time()
    values = {}
    for rho in RHOS:
        ref = reference_normalized(rho, DEPTHS, DPS)
        values[rho] = {str(d): {"nngp": mpmath.nstr(s, DPS - 5), "ntk": mpmath.nstr(t, DPS - 5)}
                       for d, (s, t) in ref.items()}
        print(rho, "done", file=sys.stderr)
    payload = {
        "what": "normalized NNGP (rho) and NTK (ThetaBar) for one pair, default model",
        "method": "plain mpmath, MATH.md raw recursions (tests/reference.py)",
        "dps": DPS,
        "significant_digits_written": DPS - 5,
        "mpmath": mpmath.__version__,
        "python": platform.python_version(),
        "seconds": round(time.time() - started, 1),
        "values": values,
    }
    (ROOT / "tests" / "data" / "deep_reference.json").write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
