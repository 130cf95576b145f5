"""Facts about the activations of :mod:`verify.core.model` shared by the symbolic and the numeric routes.

>>> abrelu_slopes(Activation.parse("leaky_relu:0.1"))
(Fraction(1, 10), Fraction(1, 1))
>>> abrelu_slopes(Activation.parse("erf")) is None
True
"""

from __future__ import annotations

from fractions import Fraction

from verify.core.model import Activation

_FIXED = {"relu": (Fraction(0), Fraction(1)), "relu^1": (Fraction(0), Fraction(1)),
          "abs": (Fraction(-1), Fraction(1))}


def abrelu_slopes(activation: Activation) -> tuple[Fraction, Fraction] | None:
    """(A, B) when phi = A min(x, 0) + B max(x, 0) (relu, relu^1, leaky_relu, abrelu, abs), else None."""
    if activation.name in _FIXED:
        return _FIXED[activation.name]
    if activation.name == "leaky_relu":
        return activation.params[0], Fraction(1)
    if activation.name == "abrelu":
        return activation.params[0], activation.params[1]
    return None
