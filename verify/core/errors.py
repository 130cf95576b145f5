"""Exceptions raised by the engine.

Every error that a user can cause with bad input is an :class:`InputError`; the
CLI turns it into one line on stderr and exit code 2. :class:`PrecisionNotReached`
(exit code 3) says that a request could not be certified.

Inside the engine, :class:`PrecisionTooLow` is the *only* signal that means "run
again with more bits": the goal-driven loop (:func:`verify.core.precision.run_to_digits`)
catches it and nothing else, so any other exception (a ``ZeroDivisionError``, a
plain ``ArithmeticError`` from a bug) propagates at once instead of being retried
up to the precision cap. :class:`BoundNotProven` says that a certified bound could
not be established with the parameters given (a smaller disk, switch point or more
boxes may work); it is not cured by more bits of the caller's working precision.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input (data, depth, digits, options): reported in one line, exit code 2."""


class PrecisionNotReached(RuntimeError):
    """The requested number of correct digits could not be certified below the precision cap.

    ``reason``, when given, replaces the precision-cap sentence (e.g. a route that
    cannot reach the request at any precision). Picklable, so it crosses process pools.
    """

    def __init__(self, digits: int, max_bits: int, what: str = "result", reason: str | None = None) -> None:
        tail = f": {reason}" if reason else f" with up to {max_bits} bits of working precision"
        super().__init__(f"could not certify {digits} digits of the {what}{tail}")
        self.digits = digits
        self.max_bits = max_bits
        self.what = what
        self.reason = reason

    def __reduce__(self) -> tuple[type[PrecisionNotReached], tuple[int, int, str, str | None]]:
        return (type(self), (self.digits, self.max_bits, self.what, self.reason))


class PrecisionTooLow(ArithmeticError):
    """This working precision is not enough (a ball lost its accuracy): retry with more bits."""


class BoundNotProven(ArithmeticError):
    """A certified bound could not be established with these parameters (not a precision issue)."""


class SingularKernelError(InputError):
    """The kernel matrix is singular (or numerically indistinguishable from singular)."""
