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

import re
from dataclasses import dataclass, field
from fractions import Fraction

from verify.core.errors import InputError

# The one grammar for numbers typed by a user (CSV cells, labels, --sigma-w2, --digits, --depth, ...):
# ASCII only. Python's int()/Fraction()/float() also accept full-width and other Unicode digits,
# underscores, "1/3" and "nan"; none of those is a number here.
DECIMAL_GRAMMAR = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
KERNELS = ("ntk", "nngp")      # the two infinite-width kernels: the one tuple every layer uses
MAX_DECIMAL_CHARS = 5000       # longer cells are refused before any arithmetic
MAX_SIGNIFICANT_DIGITS = 4000  # below Python's int-string limit (4300)
MAX_EXPONENT_CHARS = 9         # |exponent| < 10^9 is read; longer exponents are out of range
MAX_DECIMAL_MAGNITUDE = 1000   # values of parse_exact: 10^-1000 <= |x| < 10^1001, or 0
QUOTE_CHARS = 32


def quoted(text: object, limit: int = QUOTE_CHARS) -> str:
    """The user's text for an error line: repr, cut to ``limit`` characters (so a line stays short).

    >>> quoted("1e5")
    "'1e5'"
    >>> quoted("9" * 100)
    "'99999999999999999999999999999999…' (100 characters)"
    """
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}"[:-1] + f"…' ({len(text)} characters)"


@dataclass(frozen=True)
class DecimalText:
    """An ASCII decimal read without computing it: value = (-1)^negative * int(digits) * 10^exponent.

    ``digits`` has no leading or trailing zeros ("" for zero), so the size of the value is
    known (``magnitude``) before a power of ten is ever formed.
    """

    text: str
    negative: bool
    digits: str
    exponent: int

    @property
    def is_zero(self) -> bool:
        return not self.digits

    @property
    def magnitude(self) -> int:
        """floor(log10 |value|) of a non-zero value."""
        return len(self.digits) - 1 + self.exponent

    def fraction(self) -> Fraction:
        """The exact value (call only after bounding ``magnitude``)."""
        if self.is_zero:
            return Fraction(0)
        mant = -int(self.digits) if self.negative else int(self.digits)
        return Fraction(mant * 10**self.exponent) if self.exponent >= 0 else Fraction(mant, 10**-self.exponent)


def split_decimal(value: object, what: str = "value") -> DecimalText:
    """Read ``[+-]digits[.digits][e[+-]digits]`` (ASCII only; ``.5`` and ``5.`` allowed) without computing it.

    >>> d = split_decimal("-12.500e3")
    >>> d.negative, d.digits, d.exponent, d.magnitude
    (True, '125', 2, 4)
    >>> split_decimal("\uff11")
    Traceback (most recent call last):
    verify.core.errors.InputError: value: not a decimal number: '１' (only ASCII digits 0-9 are read)
    """
    text = str(value).strip()
    if len(text) > MAX_DECIMAL_CHARS:
        raise InputError(f"{what}: number too long: {quoted(text)} (at most {MAX_DECIMAL_CHARS} characters)")
    m = DECIMAL_GRAMMAR.fullmatch(text)
    if m is None or not (m.group(2) or m.group(3)):
        raise InputError(f"{what}: {_not_a_number(text)}")
    sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or "", m.group(4) or "0"
    exp_digits = exp.lstrip("+-").lstrip("0")
    if len(exp_digits) > MAX_EXPONENT_CHARS:
        raise InputError(f"{what}: exponent out of range in {quoted(text)}")
    digits = (whole + frac).lstrip("0")
    stripped = digits.rstrip("0")
    exponent = int(exp) - len(frac) + (len(digits) - len(stripped))
    if len(stripped) > MAX_SIGNIFICANT_DIGITS:
        raise InputError(f"{what}: more than {MAX_SIGNIFICANT_DIGITS} significant digits in {quoted(text)}")
    return DecimalText(text, sign == "-" and bool(stripped), stripped, exponent if stripped else 0)


def _not_a_number(text: str) -> str:
    low = text.lower().lstrip("+-")
    if low in {"nan", "inf", "infinity"}:
        return f"not a finite number: {quoted(text)}"
    hint = " (only ASCII digits 0-9 are read)" if not text.isascii() else ""
    return f"not a decimal number: {quoted(text)}{hint}"


def exact_integer(value: object, what: str = "value", max_magnitude: int = 18) -> int:
    """An integer written as an ASCII decimal (``"30"``, ``"1e15"``, ``"1.5e3"``), refused above 10^(max_magnitude+1).

    The size is checked before any power of ten is formed, so ``"1e30000000"`` is refused at once.

    >>> exact_integer("1.5e3"), exact_integer("-7"), exact_integer("10.0")
    (1500, -7, 10)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    d = split_decimal(value, what)
    if d.is_zero:
        return 0
    if d.magnitude > max_magnitude:
        raise InputError(f"{what}: {quoted(d.text)} is too large (at most 10^{max_magnitude})")
    if d.exponent < 0:
        raise InputError(f"{what}: not an integer: {quoted(d.text)}")
    return int(d.fraction())


def parse_exact(value: str | int | Fraction, what: str = "value") -> Fraction:
    """Parse a decimal string (or int/Fraction) exactly, never through float64.

    Strings follow :data:`DECIMAL_GRAMMAR` (ASCII decimals only) and must be 0 or lie
    within 10^-1000 <= |x| < 10^1001.

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
    d = split_decimal(value, what)
    if not d.is_zero and abs(d.magnitude) > MAX_DECIMAL_MAGNITUDE:
        raise InputError(f"{what}: {quoted(d.text)} is out of range "
                         f"(|x| must lie within 10^-{MAX_DECIMAL_MAGNITUDE} .. 10^{MAX_DECIMAL_MAGNITUDE})")
    return d.fraction()


def exact_variances(sigma_w2: str | int | Fraction, sigma_b2: str | int | Fraction) -> tuple[Fraction, Fraction]:
    """(sigma_w^2, sigma_b^2) read exactly and checked: sigma_w^2 > 0, sigma_b^2 >= 0 (InputError otherwise).

    >>> exact_variances("2", "0.1")
    (Fraction(2, 1), Fraction(1, 10))
    """
    w = parse_exact(sigma_w2, "sigma_w^2")
    b = parse_exact(sigma_b2, "sigma_b^2")
    if w <= 0:
        raise InputError(f"sigma_w^2 must be > 0, got {w}")
    if b < 0:
        raise InputError(f"sigma_b^2 must be >= 0, got {b}")
    return w, b


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
        w, b = exact_variances(self.sigma_w2, self.sigma_b2)
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
