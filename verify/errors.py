"""Exceptions raised by the engine.

Every error that a user can cause with bad input is an :class:`InputError`; the
CLI turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input (data, depth, digits, options): reported in one line, exit code 2."""


class PrecisionNotReached(RuntimeError):
    """The requested number of correct digits could not be certified below the precision cap."""

    def __init__(self, digits: int, max_bits: int, what: str = "result") -> None:
        super().__init__(
            f"could not certify {digits} digits of the {what} with up to {max_bits} bits "
            "of working precision"
        )
        self.digits = digits
        self.max_bits = max_bits


class SingularKernelError(InputError):
    """The kernel matrix is singular (or numerically indistinguishable from singular)."""
