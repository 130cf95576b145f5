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

Since ``h(1 - e) = 1 - e + kappa e^(3/2) q(e)`` (:mod:`.coefficients`, kappa = sqrt(2)/pi), the gap
map is ``e -> e (1 - w kappa s q(s^2))`` with s = sqrt(e): the seed's with kappa replaced by
``w kappa``. So the seed's Abel series and their proven bounds (:mod:`.abel`, :mod:`.bounds`) carry
over with ``kappa_w = w kappa``, and theta enters only the NTK's summed series. ``w`` lies in (0, 2]
(k <= 2 m), so g' = 1 - w a lies in [1 - w, 1], inside [-1, 1]: the re-centring bound of the
certified iteration (radius carried unchanged) holds for every member. The seed is w = 1, theta = 0.

>>> from verify.core.model import Model
>>> parabolic_family(Model.parse(activation="leaky_relu:0.1", sigma_w2="2"))
KinkFamily(weight=Fraction(81, 101), theta=Fraction(0, 1))
>>> parabolic_family(Model.parse(architecture="resnet:0.3"))        # w = u/2/(1 + u/2), u = 9/100
KinkFamily(weight=Fraction(9, 209), theta=Fraction(200, 209))
>>> parabolic_family(Model.parse(activation="erf")) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from verify.core.model import Model

KINK_ACTIVATIONS = ("relu", "relu^1", "leaky_relu", "abrelu", "abs")


@dataclass(frozen=True)
class KinkFamily:
    """The weight w of the correlation map ``(1 - w) c + w h(c)`` and the NTK's theta (see the module)."""

    weight: Fraction
    theta: Fraction

    def __post_init__(self) -> None:
        if not (0 < self.weight <= 2 and 0 <= self.theta < 1):
            raise ValueError(f"need 0 < weight <= 2 and 0 <= theta < 1, got {self}")

    def ntk_diagonal(self, depth: int) -> Fraction:
        """``T_L(x, x) = 1 + (L - 1)(1 - theta)``: the normalizer of ThetaBar (L for the MLP).

        >>> SEED.ntk_diagonal(7)
        Fraction(7, 1)
        """
        return 1 + (depth - 1) * (1 - self.theta)


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


def parabolic_family(model: Model) -> KinkFamily | None:
    """The :class:`KinkFamily` of ``model``, or None when it is not a member.

    Members: the activations of :data:`KINK_ACTIVATIONS` with a != b, no bias, NTK
    parameterization, MLP or resnet. (Standard parameterization changes the NTK's weights, a bias
    moves the diagonal: neither is covered.)
    """
    ab = kink_slopes(model)
    if ab is None or model.sigma_b2 != 0 or model.parameterization != "ntk" or model.sigma_w2 <= 0:
        return None
    a, b = ab
    m, k = (a * a + b * b) / 2, (a - b) ** 2 / 2
    if k == 0:
        return None                                  # phi linear: g is the identity
    alpha = model.architecture.alpha
    if alpha is None:
        return KinkFamily(k / m, Fraction(0))
    u = alpha * alpha * model.sigma_w2
    return KinkFamily(u * k / (1 + u * m), 1 / (1 + u * m))
