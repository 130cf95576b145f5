"""Symbolic derivations (sympy) of the correlation map and the depth asymptotics.

Default model only: sigma_w^2 = 1, sigma_b^2 = 0 (``verify.core.params.DEFAULT``).

* :mod:`.correlation_map_symbolic`: h as the degree-1 arc-cosine kernel, its values,
  derivatives, monotonicity, convexity and its unique, parabolic fixed point z* = 1.
* :mod:`.expansions`: h(1 - eps), kappa0(1 - eps), g(eps) in powers of sqrt(eps); the
  layer map in w = (1 - rho)^(-1/2), a translation by sqrt(2)/(3 pi).
* :mod:`.series`: truncated power series over any ring (exact or Arb balls).
* :mod:`.abel`: the Abel coordinate A (A(h(z)) = A(z) + 1) and the NTK summation
  series B, exactly in QQ(sqrt(2)/pi) or as certified balls.
* :mod:`.bounds`: proven truncation bounds of those series (maximum principle).
* :mod:`.asymptotics`: the depth laws of 1 - rho^(L) and ThetaBar^(L), the depth for
  1 - rho^(L) < delta, the weight limits' closed forms.
* :mod:`.weights`: kappa_x kappa^-1 at great depth (limits, first-order laws,
  certified evaluation from the gaps).
* :mod:`.catalogue`: every result with its numerical check (``ntk-verify derive``).

Main results: ``1 - rho^(L) = (9 pi^2/2) L^-2 (1 - (3 log L + 2 tau)/L + ...)``;
``ThetaBar^(L) = 1/4 + ((3/8) log L + tau/4 - 1/8)/L + ...`` (limit 1/4, not 1);
``kappa_x kappa^-1 -> 1/(n + 3)`` (NTK) and ``1/n`` (NNGP) per training point; the
depth for ``1 - rho^(L) < delta`` is ``(3 pi/sqrt 2) delta^(-1/2) + O(log delta)``.
"""
