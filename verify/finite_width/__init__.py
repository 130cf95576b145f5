"""Finite-width ReLU networks against the certified infinite-width kernels (Theorem 1).

:mod:`.network` builds random networks and their empirical NTK / NNGP from exact
per-layer gradient formulas; :mod:`.montecarlo` runs the seeded Monte Carlo studies
(deviation from the infinite-width kernel over widths and depths, the fitted width
exponent with a bootstrap interval); :mod:`.figures` draws them.
"""

from verify.finite_width.network import (
    SAMPLERS,
    EmpiricalKernels,
    Network,
    init_network,
    layer_widths,
    sample_kernels,
    seed_sequence,
)

__all__ = [
    "SAMPLERS",
    "EmpiricalKernels",
    "Network",
    "init_network",
    "layer_widths",
    "sample_kernels",
    "seed_sequence",
]
