"""Whether a value read from a file or a caller is the number taco needs: one test each, used
wherever a config, checkpoint header, training state or argument is checked.

Python counts ``True`` as the integer 1 and NaN as a float, and JSON and YAML give both; a
quality of ``true`` or a λ of NaN is neither to a user, so both tests refuse them. Imports
nothing but :mod:`math`, :mod:`numbers` and :mod:`taco.errors` (the bottom layer).
"""

from __future__ import annotations

import math
import numbers
from typing import TypeGuard

from .errors import TacoValueError

__all__ = ["MAX_TORCH_SEED", "as_float", "as_int", "is_int", "is_number", "positive_int_argument",
           "seed_argument"]

#: The largest seed torch's generators take as themselves, 2**64 - 1: ``manual_seed`` reads
#: -2**63 .. 2**64 - 1, a negative seed as the same 64 bits unsigned (-1 gives the weights of
#: 2**64 - 1), so 0 .. 2**64 - 1 is the range where each seed is its own stream. NumPy's
#: ``np.random.default_rng`` takes any integer from 0 (and refuses a negative one).
MAX_TORCH_SEED = 2**64 - 1


def is_int(value: object, lo: int | None = None, hi: int | None = None) -> TypeGuard[int]:
    """Whether ``value`` is an ``int``, not a ``bool``, in ``[lo, hi]`` (a bound left None is
    none). ``1.0`` and NumPy integers are not."""
    return (isinstance(value, int) and not isinstance(value, bool)
            and (lo is None or value >= lo) and (hi is None or value <= hi))


def as_int(value: object) -> int | None:
    """``value`` as a Python ``int`` when a caller gave an integer: an ``int`` or any other
    :class:`numbers.Integral` (NumPy's ``int64``, ``uint8``, ...), not a ``bool`` (nor NumPy's,
    which is no ``Integral``); None for anything else (``3.0``, ``"3"``, a tensor). For
    arguments of the public API, where ``quality=np.int64(3)`` from an array is a 3; values read
    from files take :func:`is_int`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return None
    return int(value)


def positive_int_argument(name: str, value: object, what: str, *, whole_floats: bool = False) -> int:
    """``value`` as an int (NumPy integers taken, :func:`as_int`): a TypeError naming argument
    ``name`` and ``what`` it holds unless an integer, a TacoValueError unless at least 1. For
    arguments of the public API (``max_bytes``, ``stripe_budget``, ``batch_size``), as
    docs/reliability.md says: a wrong type is a mistake in the calling code, a bad value bad
    input. ``whole_floats``: a float (or NumPy's) that is a whole number is taken as that int,
    for sizes written the way Python writes large numbers (``max_shard_bytes=2e9``,
    ``10_000_000.0``); one that is not (``2000.5``, NaN, ±inf) is a TacoValueError, a ``bool``
    or a str still a TypeError, which then says "must be a whole number" (not "an integer":
    ``2e9`` is taken)."""
    if whole_floats and not isinstance(value, bool | numbers.Integral) and isinstance(value, numbers.Real):
        number_as_float = float(value)
        if not number_as_float.is_integer():  # a fraction, NaN or ±inf
            raise TacoValueError(f"{name} must be a whole number {what}, got {value!r}")
        number: int | None = int(number_as_float)
    else:
        number = as_int(value)
    if number is None:
        kind = "a whole number" if whole_floats else "an integer"
        raise TypeError(f"{name} must be {kind} {what}, not {type(value).__name__}")
    if number < 1:
        raise TacoValueError(f"{name} must be positive, got {value!r}")
    return number


def seed_argument(name: str, value: object, most: int | None = MAX_TORCH_SEED) -> int:
    """``value`` as an int seed (NumPy integers taken, :func:`as_int`): a TypeError naming
    argument ``name`` unless an integer (``"1"``, ``1.0``, ``True``), a TacoValueError below 0
    or above ``most``. For the seeds of the public API, said with their argument rather than by
    torch's or NumPy's own error (``manual_seed expected a long``, ``expected non-negative
    integer``): a seed of torch's generator (``create_model``) up to :data:`MAX_TORCH_SEED`; one
    of NumPy's only (``paired_bootstrap``, ``derangement``, ``bd_bootstrap``) takes ``most=None``,
    no bound, as NumPy does."""
    number = as_int(value)
    if number is None:
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    if number < 0 or (most is not None and number > most):
        shown = repr(number) if number.bit_length() <= 256 else f"an integer of {number.bit_length()} bits"
        span = ("at least 0" if most is None
                else f"from 0 to {most}" + (" (2**64 - 1)" if most == MAX_TORCH_SEED else ""))
        raise TacoValueError(f"{name} must be {span}, got {shown}")
    return number


def is_number(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is a finite real number: an ``int`` or ``float``, not a ``bool``, not
    NaN or ±inf, and within a float's range (JSON's ``1`` followed by 400 zeros is an ``int``
    that ``float()`` cannot take)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float's range
        return False


def as_float(value: object) -> float | None:
    """``value`` as a Python ``float`` when a caller gave a finite real number: what
    :func:`is_number` takes, or any other :class:`numbers.Real` (NumPy's ``float32``, ``int64``,
    ...) that is finite; None for anything else (a ``bool``, NaN, ``"0.5"``, a tensor). For
    arguments of the public API (``qualities=np.array([...])``); values read from files take
    :func:`is_number`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float's range
        return None
    return number if math.isfinite(number) else None
