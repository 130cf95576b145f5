"""The parabolic kink family: every model whose normalized recursion is the seed's with a weight.

For phi(x) = a min(x, 0) + b max(x, 0) (relu, leaky_relu, abrelu, abs; neural-tangents' ``ABRelu``)
and unit variances, E[phi(u) phi(v)] = m c + k (h(c) - c) and E[phi'(u) phi'(v)] = m - k a(c) with
``m = (a^2 + b^2)/2``, ``k = (a - b)^2/2``, the seed's correlation map
``h(c) = (sqrt(1 - c^2) + (pi - arccos c) c)/pi`` and ``a(c) = arccos(c)/pi``. Without a bias
and in NTK parameterization the diagonal Sigma(x,x) is multiplied by a constant each layer, so
the normalized kernels obey, for the MLP and for ``resnet:ALPHA`` (x -> x + Dense(phi(x)) with
W_std^2 = ALPHA^2 sigma_w^2; first layer Dense as for the MLP):

    c_(l+1) = g(c_l) = (1 - w) c_l + w h(c_l)                     (weight w)
    T_(l+1) = g'(c_l) T_l + c_(l+1) - theta c_l,   g'(c) = 1 - w a(c)
    T_L(x, x) = 1 + (L - 1)(1 - theta),  ThetaBar_L = T_L(x, x') / T_L(x, x),   T_1 = c_1

where T_l = Theta_l(x, x') / Sigma_l(x, x) and

* MLP: ``w = k/m``, ``theta = 0``;
* resnet:ALPHA: with ``u = ALPHA^2 sigma_w^2``, ``w = u k / (1 + u m)``, ``theta = 1/(1 + u m)``.

Proof (MLP): Sigma' = sigma_w^2 E[phi phi], so c' = (m c + k (h(c) - c))/m; Theta' = Sigma' +
sigma_w^2 E[phi' phi'] Theta and Sigma'(x, x) = sigma_w^2 m Sigma(x, x) give T' = c' + (1 - (k/m)
a(c)) T. (resnet) Sigma' = Sigma + u E[phi phi], Sigma'(x, x) = (1 + u m) Sigma(x, x), so c' =
theta (c + u (m c + k (h(c) - c))) = (1 - w) c + w h(c); Theta' = Theta + u (E[phi' phi'] Theta +
E[phi phi]) gives T' = theta (1 + u (m - k a)) T + theta u E[phi phi]/Sigma(x, x) = (1 - w a) T +
c' - theta c. On the diagonal (c = 1, a = 0, h = 1) T' = T + 1 - theta.

Standard parameterization (neural-tangents: a Dense layer's NTK is ``input_width * nngp_in +
W_std^2 * ntk_in``, input width n0 for the first layer and the hidden width N, ``--width``, for
the others; no bias): Sigma is unchanged, Theta_1 = (n0/sigma_w^2) Sigma_1, and each hidden layer
adds N E[phi phi] where NTK parameterization adds W_std^2 E[phi phi] (W_std^2 = sigma_w^2, or
ALPHA^2 sigma_w^2 in a resnet block). So T = nu U with ``nu = N / W_std^2`` (``scale``) and U obeys
the recursion above with U_1 = (n0/(sigma_w^2 nu)) c_1: the same normalized kernel with the
diagonal ``U_L(x, x) = offset + (L - 1)(1 - theta)``, ``offset = n0 / (sigma_w^2 nu)``. Since
ThetaBar = U_L(x, x') / U_L(x, x) and 1 - ThetaBar_1 = 1 - c_1 as before, only the normalizer moves.

Since ``h(1 - e) = 1 - e + kappa e^(3/2) q(e)`` (:mod:`.coefficients`, kappa = sqrt(2)/pi), the gap
map is ``e -> e (1 - w kappa s q(s^2))`` with s = sqrt(e): the seed's with kappa replaced by
``w kappa``. So the seed's Abel series and their proven bounds (:mod:`.abel`, :mod:`.bounds`) carry
over with ``kappa_w = w kappa``, and theta enters only the NTK's summed series. ``w`` lies in (0, 2]
(k <= 2 m), so g' = 1 - w a lies in [1 - w, 1], inside [-1, 1]: the re-centring bound of the
certified iteration (radius carried unchanged) holds for every member. The seed is w = 1, theta = 0.

>>> from verify.core.model import Model
>>> fam = parabolic_family(Model.parse(activation="leaky_relu:0.1", sigma_w2="2"))
>>> fam.weight, fam.theta
(Fraction(81, 101), Fraction(0, 1))
>>> fam = parabolic_family(Model.parse(architecture="resnet:0.3"))        # w = u/2/(1 + u/2), u = 9/100
>>> fam.weight, fam.theta
(Fraction(9, 209), Fraction(200, 209))
>>> fam = parabolic_family(Model.parse(parameterization="standard", width=64), n0=3)
>>> fam.offset, fam.scale                                                  # n0/N, N/sigma_w^2
(Fraction(3, 64), Fraction(64, 1))
>>> parabolic_family(Model.parse(activation="erf")) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

from verify.core.model import Model


@dataclass(frozen=True, eq=False)
class KinkFamily:
    """The weight w of the correlation map ``(1 - w) c + w h(c)``, the NTK's theta, and (standard
    parameterization) the offset and scale of the NTK: see the module docstring.

    Compared and hashed by value through a key computed once (it keys the series' caches on every
    pair's hot path, where hashing four Fractions a call would cost more than the cache saves).
    """

    weight: Fraction
    theta: Fraction
    offset: Fraction = Fraction(1)
    scale: Fraction = Fraction(1)
    _key: tuple[Fraction, ...] = field(init=False, repr=False)
    _hash: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not (0 < self.weight <= 2 and 0 <= self.theta < 1 and self.offset > 0 and self.scale > 0):
            raise ValueError(f"need 0 < weight <= 2, 0 <= theta < 1, offset > 0 and scale > 0, got {self}")
        key = (self.weight, self.theta, self.offset, self.scale)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_hash", hash(key))

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, KinkFamily) and self._key == other._key)

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def series_map(self) -> KinkFamily:
        """The family with offset and scale 1: what the Abel series and their bounds depend on."""
        if self.offset == 1 and self.scale == 1:
            return self
        return KinkFamily(self.weight, self.theta)

    def ntk_diagonal(self, depth: int) -> Fraction:
        """``U_L(x, x) = offset + (L - 1)(1 - theta)``: the normalizer of ThetaBar (L for the MLP in
        NTK parameterization); ``Theta^(L)(x, x) = scale Sigma^(L)(x, x) U_L(x, x)``.

        >>> SEED.ntk_diagonal(7)
        Fraction(7, 1)
        """
        return self.offset + (depth - 1) * (1 - self.theta)


SEED = KinkFamily(Fraction(1), Fraction(0))


def kink_slopes(model: Model) -> tuple[Fraction, Fraction] | None:
    """(a, b) of phi(x) = a min(x, 0) + b max(x, 0), or None for another activation."""
    name, params = model.activation.name, model.activation.params
    one = Fraction(1)
    table = {"relu": (Fraction(0), one), "relu^1": (Fraction(0), one), "abs": (-one, one)}
    if name in table:
        return table[name]
    if name == "leaky_relu":
        return (Fraction(params[0]), one)
    if name == "abrelu":
        return (Fraction(params[0]), Fraction(params[1]))
    return None


def parabolic_family(model: Model, n0: int = 1) -> KinkFamily | None:
    """The :class:`KinkFamily` of ``model`` for inputs of dimension ``n0``, or None when it is not a member.

    Members: the activations :func:`kink_slopes` knows (relu, relu^1, leaky_relu, abrelu, abs) with
    a != b, no bias, either parameterization, MLP or resnet (a bias moves the diagonal: not covered).
    ``n0`` matters only under the standard parameterization (the offset n0/N or n0 ALPHA^2/N).
    """
    ab = kink_slopes(model)
    if ab is None or model.sigma_b2 != 0 or model.sigma_w2 <= 0:
        return None
    a, b = ab
    m, k = (a * a + b * b) / 2, (a - b) ** 2 / 2
    if k == 0:
        return None                                  # phi linear: g is the identity
    alpha = model.architecture.alpha
    u = model.sigma_w2 if alpha is None else alpha * alpha * model.sigma_w2        # the hidden W_std^2
    weight, theta = (k / m, Fraction(0)) if alpha is None else (u * k / (1 + u * m), 1 / (1 + u * m))
    if model.parameterization == "ntk":
        return KinkFamily(weight, theta)
    scale = Fraction(model.width) / u                # nu = N / W_std^2
    return KinkFamily(weight, theta, Fraction(n0) / model.sigma_w2 / scale, scale)
