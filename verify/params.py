"""The network description every kernel is computed under.

A :class:`Parameterization` feeds the kernel engine and the finite-width networks
alike (one description of the architecture, kernels from it). Variances are kept
as exact rationals parsed from decimal strings, so ``"0.1"`` means 1/10 exactly.

>>> p = Parameterization()
>>> p.describe()["name"]
'ntk-relu(sigma_w^2=1, sigma_b^2=0)'
>>> Parameterization(sigma_w2="2", sigma_b2="0.1").sigma_b2
Fraction(1, 10)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .errors import InputError


def parse_exact(value: str | int | Fraction, what: str = "value") -> Fraction:
    """Parse a decimal string (or int/Fraction) exactly, never through float64.

    >>> parse_exact("0.1")
    Fraction(1, 10)
    >>> parse_exact("1e-3")
    Fraction(1, 1000)
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise InputError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        raise InputError(f"{what}: give decimal strings, not floats ({value!r})")
    text = str(value).strip()
    low = text.lower()
    if low in {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"}:
        raise InputError(f"{what}: not a finite number: {text!r}")
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"{what}: not a decimal number: {text!r}") from None


@dataclass(frozen=True)
class Parameterization:
    """Fully connected ReLU network in NTK parameterization.

    ``Sigma^(1) = sigma_w2 * x.x'/n0 + sigma_b2`` and each further layer applies
    ``Sigma <- sigma_w2 * E[relu(u) relu(v)] + sigma_b2``,
    ``Theta <- Sigma + sigma_w2 * Theta * E[relu'(u) relu'(v)]``
    (the rules of ``neural_tangents.stax.Dense(..., parameterization='ntk')`` and
    ``Relu()``). The default (1, 0) is the model of MATH.md.
    """

    sigma_w2: Fraction = field(default=Fraction(1))
    sigma_b2: Fraction = field(default=Fraction(0))

    def __post_init__(self) -> None:
        w = parse_exact(self.sigma_w2, "sigma_w^2")
        b = parse_exact(self.sigma_b2, "sigma_b^2")
        if w <= 0:
            raise InputError(f"sigma_w^2 must be > 0, got {w}")
        if b < 0:
            raise InputError(f"sigma_b^2 must be >= 0, got {b}")
        object.__setattr__(self, "sigma_w2", w)
        object.__setattr__(self, "sigma_b2", b)

    @property
    def is_default(self) -> bool:
        """True for MATH.md's model (sigma_w^2 = 1, sigma_b^2 = 0)."""
        return self.sigma_w2 == 1 and self.sigma_b2 == 0

    @property
    def name(self) -> str:
        return f"ntk-relu(sigma_w^2={self.sigma_w2}, sigma_b^2={self.sigma_b2})"

    def describe(self) -> dict[str, str]:
        """A JSON-ready description, stated with every output."""
        return {
            "name": self.name,
            "parameterization": "ntk",
            "activation": "relu",
            "sigma_w2": str(self.sigma_w2),
            "sigma_b2": str(self.sigma_b2),
            "bias": "none" if self.sigma_b2 == 0 else "gaussian",
            "layers": "L dense layers, L-1 ReLU nonlinearities",
        }


DEFAULT = Parameterization()
