"""Every claim check can fail: a deliberately false variant of its claim is refuted.

Where the truth is known by an independent route, a true variant is also
confirmed, so the checks are shown to go both ways.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from proofs_checks import CheckContext, Verdict, all_checks, check_by_id
from proofs_checks.slow_convergence import DepthOrderClaim
from proofs_checks.theorem_2 import KernelLimitClaim
from verify.data.sources import load_dataset
from verify.finite_width import montecarlo as mc
from verify.finite_width.lazy_training import LazyProfile, run_lazy_study

TINY_FINITE_WIDTH = mc.Profile("tiny", 2, (16, 32, 64, 128), 12, "dense", (16, 64), (2, 4), 8, "conditional",
                               (32, 2, 8), bootstrap=200, data="builtin:sphere-4")


@pytest.fixture(scope="module")
def ctx() -> CheckContext:
    c = CheckContext(profile="quick", data_spec="builtin:sphere-4", digits=20)
    # a small Monte Carlo study stands in for the quick profile's (same code path, fewer networks)
    c.extras["finite_width"] = mc.run_study(TINY_FINITE_WIDTH, load_dataset("builtin:sphere-4"), seed=1)
    # the lazy-training study at the size tests/test_lazy_training.py verifies (about 10 s)
    c.extras["lazy_training"] = run_lazy_study(LazyProfile("tiny", (64, 256, 1024, 4096), 16, 6, 100,
                                                           bootstrap=1000), seed=3)
    return c


@pytest.mark.parametrize("spec", all_checks(), ids=lambda s: s.id)
def test_false_variant_is_refuted(spec, ctx: CheckContext) -> None:
    assert spec.false_claim is not None, f"{spec.id} has no false variant"
    for kernel in spec.kernels:
        result = spec.evaluate(ctx, kernel, spec.false_claim)
        assert result.verdict is Verdict.REFUTED, (spec.id, kernel, result.certificate)
        assert any(f.supports is False for f in result.findings)


def test_true_variants_are_confirmed(ctx: CheckContext) -> None:
    # K(delta) ~ (3 pi / sqrt 2) delta^(-1/2): an independent asymptotic argument (see verify.derive)
    slow = check_by_id("slow-convergence").evaluate(ctx, None, DepthOrderClaim(Fraction(1, 2)))
    assert slow.verdict is Verdict.CONFIRMED, slow.certificate
    # the normalized NTK tends to 1/4 off the diagonal (Lemma: d_l ~ 3 l / 4), not increasing
    ntk = check_by_id("theorem-2").evaluate(ctx, "ntk", KernelLimitClaim(Fraction(1, 4), False))
    assert ntk.verdict is Verdict.CONFIRMED, ntk.certificate


def test_every_result_carries_its_declarations(ctx: CheckContext) -> None:
    res = check_by_id("lemma-1").evaluate(ctx, None).to_json()
    for key in ("id", "kernel", "claim", "claim_latex", "hypotheses", "parameterization", "method",
                "parameters", "evidence", "verdict", "certificate"):
        assert key in res
    assert res["verdict"] in {"confirmed", "refuted", "inconclusive"}
