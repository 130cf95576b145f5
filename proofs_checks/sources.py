"""Where a claim comes from: the seed summary, a neighbouring paper, or a user's claim file.

Every :class:`~proofs_checks.base.CheckSpec` names its :class:`Source`; the report groups
the claims by source and states each source's version (a paper's claims can change
between versions, so a verdict is about the version named here).

>>> SEED.id, SEED.short
('arxiv-2511.07272', 'Seed summary (arXiv 2511.07272)')
>>> user_file_source("examples/my_claims.py", b"CHECKS = []\\n").version
'sha256 f5bfdc2de976 (the file as loaded)'
>>> [s.id for s in ordered([HANIN_NICA, SEED])]
['arxiv-2511.07272', 'hanin-nica-2019']
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Source:
    """A source of claims: ``id`` (stable key), ``short`` (a heading), ``title`` (full citation), ``version``."""

    id: str
    short: str
    title: str
    version: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


SEED = Source(
    "arxiv-2511.07272", "Seed summary (arXiv 2511.07272)",
    "The summary of arXiv 2511.07272 (depth in the neural tangent kernel of deep ReLU networks) that seeded "
    "this toolkit",
    "v1, the version the summary describes; v2 (June 2026) is retitled \"Revisiting the Neural Tangent Kernel: "
    "the role of large width and depth\" and is not what these claims were read from")
HANIN_NICA = Source(
    "hanin-nica-2019", "Hanin and Nica (2019)",
    "B. Hanin and M. Nica, \"Finite depth and width corrections to the neural tangent kernel\", arXiv 1909.05989",
    "the ICLR 2020 paper (arXiv 1909.05989), Theorem 1")
HUANG_2020 = Source(
    "huang-2020", "Huang, Wang, Tao and Zhao (2020)",
    "K. Huang, Y. Wang, M. Tao and T. Zhao, \"Why do deep residual networks generalize better than deep "
    "feedforward networks? A neural tangent kernel perspective\", arXiv 2002.06262",
    "the NeurIPS 2020 paper (arXiv 2002.06262 v2, December 2020), as read here: its abstract (the depth "
    "scaling ALPHA = L^(-gamma) is stated as understood, not checked against the body)")
XIAO_2020 = Source(
    "xiao-pennington-schoenholz-2020", "Xiao, Pennington and Schoenholz (2020)",
    "L. Xiao, J. Pennington and S. S. Schoenholz, \"Disentangling trainability and generalization in deep neural "
    "networks\", arXiv 1912.13053",
    "the ICML 2020 paper (arXiv 1912.13053 v2, July 2020; v1 was titled \"Disentangling trainability and "
    "generalization in deep learning\"), as read here: its abstract and the authors' companion notebook "
    "(google/neural-tangents, notebooks/Disentangling_Trainability_and_Generalization.ipynb)")
LAZY_TRAINING = Source(
    "chizat-oyallon-bach-2019", "Chizat, Oyallon and Bach (2019), the lazy-training note",
    "L. Chizat, E. Oyallon and F. Bach, \"On lazy training in differentiable programming\", arXiv 1812.07956",
    "the NeurIPS 2019 paper (arXiv 1812.07956; v1 of December 2018 was the note \"A note on lazy training in "
    "supervised differentiable programming\")")

BUILT_IN = (SEED, HANIN_NICA, HUANG_2020, XIAO_2020, LAZY_TRAINING)
"""The built-in sources in report order; users' files come after them."""

USER_PREFIX = "user-file:"


def user_file_source(path: str, content: bytes) -> Source:
    """The source of claims loaded from a user's file: its path as given and a hash of what was loaded."""
    digest = hashlib.sha256(content).hexdigest()[:12]
    return Source(f"{USER_PREFIX}{path}", f"User file {path}", f"user file {path}",
                  f"sha256 {digest} (the file as loaded)")


def report_rank(source: Source) -> int:
    """The place of a source in the report: its index in :data:`BUILT_IN`; any other source after them."""
    ids = [s.id for s in BUILT_IN]
    return ids.index(source.id) if source.id in ids else len(ids)


def ordered(sources: Iterable[Source]) -> list[Source]:
    """Distinct sources in report order: the built-in ones as listed in :data:`BUILT_IN`, then the rest as met."""
    seen: dict[str, Source] = {}
    for s in sources:
        seen.setdefault(s.id, s)
    return sorted(seen.values(), key=report_rank)
