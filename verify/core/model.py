"""The full description of an infinite-width network: activation, variances, parameterization, architecture.

One :class:`Model` object is what the engine, the derivations and every output are stated for.
Numbers are exact rationals parsed from ASCII decimals (``"0.1"`` is 1/10), never floats; names
follow neural-tangents' ``stax`` layers, so a model reads the same in both places.

Grammar of ``--activation NAME[:PARAMS]`` (parameters are decimals, comma-separated):

========================  ===============================================  ====================
spec                      phi(x)                                           neural-tangents
========================  ===============================================  ====================
``relu``                  max(x, 0)                                        ``stax.Relu()``
``leaky_relu:A``          x for x > 0, A x otherwise                       ``stax.LeakyRelu(A)``
``abrelu:A,B``            A x for x < 0, B x for x > 0                     ``stax.ABRelu(A, B)``
``abs``                   abs(x)                                           ``stax.Abs()``
``sign``                  sign(x)                                          ``stax.Sign()``
``relu^K`` (K = 0, 1, 2)  max(x, 0)^K (Heaviside step for K = 0)           ``stax.RectifiedMonomial(K)``
``erf``                   erf(x)                                           ``stax.Erf()``
``gelu``                  x Phi(x) = x (1 + erf(x / sqrt 2)) / 2           ``stax.Gelu(approximate=False)``
========================  ===============================================  ====================

``--architecture mlp`` is L Dense layers with phi between them; ``resnet:ALPHA`` is a first
Dense(W_std = sigma_w, b_std = sigma_b) followed by L - 1 blocks
``FanOut(2) >> parallel(serial(phi, Dense(W_std = ALPHA sigma_w, b_std = ALPHA sigma_b)), Identity())
>> FanInSum()`` (the kernel of the last block's output).

>>> m = Model.parse(activation="leaky_relu:0.1", sigma_w2="2", sigma_b2="0.1")
>>> m.activation.spec, m.activation.params, m.sigma_b2
('leaky_relu:0.1', (Fraction(1, 10),), Fraction(1, 10))
>>> m.name
'ntk-mlp-leaky_relu:0.1(sigma_w^2=2, sigma_b^2=1/10)'
>>> Model.parse(architecture="resnet:0.3").architecture.alpha
Fraction(3, 10)
>>> Model.parse(activation="relu^3")
Traceback (most recent call last):
verify.core.errors.InputError: activation: relu^K is defined for K = 0, 1, 2, got 'relu^3'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from verify.core.errors import InputError
from verify.core.params import Parameterization, exact_integer, exact_variances, parse_exact, quoted

# name -> number of parameters; relu^K is listed as "relu^" (K is part of the name)
ACTIVATION_PARAMS: dict[str, int] = {
    "relu": 0, "leaky_relu": 1, "abrelu": 2, "abs": 0, "sign": 0, "relu^": 0, "erf": 0, "gelu": 0,
}
ACTIVATION_NAMES = ("relu", "leaky_relu:A", "abrelu:A,B", "abs", "sign", "relu^0", "relu^1", "relu^2",
                    "erf", "gelu")
PARAMETERIZATIONS = ("ntk", "standard")
MAX_WIDTH_DIGITS = 12


@dataclass(frozen=True)
class Activation:
    """phi by name and exact parameters: ``relu``, ``leaky_relu`` (A), ``abrelu`` (A, B), ``abs``,
    ``sign``, ``relu^0`` / ``relu^1`` / ``relu^2``, ``erf``, ``gelu``."""

    name: str = "relu"
    params: tuple[Fraction, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Activation:
        """Read ``NAME[:PARAMS]`` (see the module docstring); one clear :class:`InputError` otherwise."""
        spec = str(text).strip()
        name, _, rest = spec.partition(":")
        if name.startswith("relu^"):
            k = exact_integer(name[5:] or "x", "activation", max_magnitude=2) if name[5:].isdigit() else -1
            if k not in (0, 1, 2) or rest:
                raise InputError(f"activation: relu^K is defined for K = 0, 1, 2, got {quoted(spec)}")
            return cls(f"relu^{k}", ())
        if name not in ACTIVATION_PARAMS:
            raise InputError(f"activation: unknown {quoted(spec)} (known: {', '.join(ACTIVATION_NAMES)})")
        want = ACTIVATION_PARAMS[name]
        pieces = [p for p in rest.split(",")] if rest else []
        if len(pieces) != want:
            raise InputError(f"activation: {name} takes {want} parameter(s), got {quoted(spec)}")
        return cls(name, tuple(parse_exact(p.strip(), f"activation {name}") for p in pieces))

    @property
    def spec(self) -> str:
        """The canonical ``NAME[:PARAMS]`` text (exact decimals where the parameter is one)."""
        if not self.params:
            return self.name
        return f"{self.name}:" + ",".join(_decimal_text(p) for p in self.params)

    @property
    def degree(self) -> int | None:
        """K of ``relu^K``; None for the other activations."""
        return int(self.name[5:]) if self.name.startswith("relu^") else None


@dataclass(frozen=True)
class Architecture:
    """``mlp`` (alpha None) or ``resnet`` with branch scale alpha > 0."""

    kind: str = "mlp"
    alpha: Fraction | None = None

    @classmethod
    def parse(cls, text: str) -> Architecture:
        spec = str(text).strip()
        if spec == "mlp":
            return cls()
        kind, _, rest = spec.partition(":")
        if kind != "resnet" or not rest:
            raise InputError(f"architecture: expected 'mlp' or 'resnet:ALPHA', got {quoted(spec)}")
        alpha = parse_exact(rest, "architecture resnet:ALPHA")
        if alpha <= 0:
            raise InputError(f"architecture: ALPHA must be > 0, got {quoted(spec)}")
        return cls("resnet", alpha)

    @property
    def spec(self) -> str:
        return "mlp" if self.alpha is None else f"resnet:{_decimal_text(self.alpha)}"


@dataclass(frozen=True)
class Model:
    """An infinite-width network: phi, sigma_w^2, sigma_b^2, parameterization, hidden width, architecture.

    ``width`` matters only for ``parameterization == "standard"``: neural-tangents weighs each
    layer's NTK term by that layer's input width (n0 for the first, ``width`` for the others,
    the ``out_dim`` of ``stax.Dense``; default 1 as in ``stax.Dense(1, ...)``).
    """

    activation: Activation = field(default_factory=Activation)
    sigma_w2: Fraction = Fraction(1)
    sigma_b2: Fraction = Fraction(0)
    parameterization: str = "ntk"
    width: int = 1
    architecture: Architecture = field(default_factory=Architecture)

    def __post_init__(self) -> None:
        w, b = exact_variances(self.sigma_w2, self.sigma_b2)
        if self.parameterization not in PARAMETERIZATIONS:
            raise InputError(f"parameterization: expected ntk or standard, got {quoted(self.parameterization)}")
        if isinstance(self.width, bool) or not isinstance(self.width, int) or self.width < 1:
            raise InputError(f"width: expected an integer >= 1, got {quoted(self.width)}")
        object.__setattr__(self, "sigma_w2", w)
        object.__setattr__(self, "sigma_b2", b)

    @classmethod
    def parse(cls, activation: str = "relu", sigma_w2: str | Fraction = "1", sigma_b2: str | Fraction = "0",
              parameterization: str = "ntk", width: str | int = 1, architecture: str = "mlp") -> Model:
        """A model from the command line's texts (every number exact)."""
        n = width if isinstance(width, int) else exact_integer(width, "width", max_magnitude=MAX_WIDTH_DIGITS)
        return cls(Activation.parse(activation), parse_exact(sigma_w2, "sigma_w^2"),
                   parse_exact(sigma_b2, "sigma_b^2"), parameterization, n, Architecture.parse(architecture))

    @property
    def is_seed_family(self) -> bool:
        """True where the seed engine applies: ReLU MLP in NTK parameterization (any sigma_w^2, sigma_b^2)."""
        return (self.activation.name == "relu" and self.architecture.kind == "mlp"
                and self.parameterization == "ntk")

    def seed_parameterization(self) -> Parameterization:
        """The seed engine's :class:`Parameterization` of this model (only when :attr:`is_seed_family`)."""
        if not self.is_seed_family:
            raise InputError(f"{self.name}: the seed engine covers ReLU MLPs in NTK parameterization only")
        return Parameterization(self.sigma_w2, self.sigma_b2)

    @property
    def name(self) -> str:
        return (f"{self.parameterization}-{self.architecture.spec}-{self.activation.spec}"
                f"(sigma_w^2={self.sigma_w2}, sigma_b^2={self.sigma_b2})")

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description, stated with every output."""
        return {
            "name": self.name,
            "activation": self.activation.spec,
            "sigma_w2": str(self.sigma_w2),
            "sigma_b2": str(self.sigma_b2),
            "parameterization": self.parameterization,
            "width": self.width,
            "width_used": self.parameterization == "standard",
            "architecture": self.architecture.spec,
        }


def _decimal_text(q: Fraction) -> str:
    """A rational as a finite decimal when it is one (1/10 -> '0.1'), else 'p/q'."""
    den = q.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return str(q)
    places = max(twos, fives)
    scaled = abs(q.numerator) * 10**places // q.denominator
    sign = "-" if q < 0 else ""
    if places == 0:
        return f"{sign}{scaled}"
    text = str(scaled).rjust(places + 1, "0")
    return f"{sign}{text[:-places]}.{text[-places:]}"


SEED_MODEL = Model()
