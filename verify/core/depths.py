"""Depths typed by a user: the one parser behind ``--depth``, ``--depths`` and every engine entry point.

A depth is an integer L >= 1 written as an ASCII decimal (:data:`verify.core.params.DECIMAL_GRAMMAR`):
``7``, ``1e15``, ``1.5e3`` (= 1500), ``2.5E+6``. Its size is read from the text before any
power of ten is formed, so ``1e30000000`` is refused at once, and error lines quote the
user's text (cut short), never a computed number.

>>> check_depth("1e15") == 10**15, check_depth(7), check_depth("1.5e3")
(True, 7, 1500)
>>> parse_depth_list("1, 10,1e3")
[1, 10, 1000]
>>> check_depth("1e30000000")
Traceback (most recent call last):
verify.core.errors.InputError: depth '1e30000000' is too large (the limit is 10^1000)
"""

from __future__ import annotations

import numpy as np

from verify.core.errors import InputError
from verify.core.params import quoted, split_decimal

MAX_DEPTH_EXPONENT = 1000
MAX_DEPTH = 10**MAX_DEPTH_EXPONENT
DIRECT_MAX_DEPTH = 10**9      # deeper than this, direct iteration (layer by layer) is refused


def check_depth(depth: object, what: str = "depth") -> int:
    """Validate a depth: an integer 1 <= L <= 10^1000 (an int, or a decimal string such as ``"1e15"``)."""
    if isinstance(depth, (int, np.integer)) and not isinstance(depth, (bool, np.bool_)):
        value = int(depth)
        if value < 1:
            raise InputError(f"{what} must be >= 1, got {value}")
        if value > MAX_DEPTH:
            raise InputError(f"{what} is too large (the limit is 10^{MAX_DEPTH_EXPONENT})")
        return value
    d = split_decimal(depth, what)
    if d.is_zero or d.negative:
        raise InputError(f"{what} must be >= 1, got {quoted(d.text)}")
    if d.magnitude > MAX_DEPTH_EXPONENT or (d.magnitude == MAX_DEPTH_EXPONENT and d.digits != "1"):
        raise InputError(f"{what} {quoted(d.text)} is too large (the limit is 10^{MAX_DEPTH_EXPONENT})")
    if d.exponent < 0:
        raise InputError(f"{what} must be an integer, got {quoted(d.text)}")
    result: int = int(d.digits) * 10**d.exponent   # exponent >= 0 here, so an int
    return result


def depth_text(depth: int, width: int = 12) -> str:
    """A depth for a message: in full up to ``width`` digits, else ``1e15`` / ``1.2345…e100``.

    >>> depth_text(5000), depth_text(10**15), depth_text(123456789 * 10**40)
    ('5000', '1e15', '1.23456789e48')
    """
    text = str(depth)
    if len(text) <= width:
        return text
    head = text.rstrip("0")
    mant = head[0] + ("." + head[1:width] if len(head) > 1 else "") + ("…" if len(head) > width else "")
    return f"{mant}e{len(text) - 1}"


def parse_depth_list(text: object, what: str = "--depths") -> list[int]:
    """``'1,10,1e3'`` -> ``[1, 10, 1000]`` in the order given (each entry checked by :func:`check_depth`)."""
    cells = [c.strip() for c in str(text).split(",")]
    out = [check_depth(c, f"{what} entry") for c in cells if c]
    if not out:
        raise InputError(f"{what}: empty list")
    return out
