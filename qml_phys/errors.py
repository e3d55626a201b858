"""Named error classes of qml_phys.

Every message names what was expected and what was given, and where possible the fix.
"""

from __future__ import annotations


class QmlPhysError(Exception):
    """Base class of every error raised by qml_phys on purpose."""


class InvalidParameterError(QmlPhysError, ValueError):
    """A parameter has the wrong value (e.g. a negative temperature or lattice size)."""


class ShapeError(QmlPhysError, ValueError):
    """An array has the wrong shape or dtype for the operation."""


class UnknownNameError(QmlPhysError, KeyError):
    """An unknown model, algorithm, device or subcommand name was given."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class GraphFormatError(QmlPhysError, ValueError):
    """A graph (edge-list) file or array is malformed."""


class TooLargeError(QmlPhysError, ValueError):
    """An exact method was asked for a system too large to treat exactly."""


class ExistingDataError(QmlPhysError, FileExistsError):
    """An output file exists and holds data made with different parameters."""


class CorruptDataError(QmlPhysError, ValueError):
    """An input file is damaged or inconsistent (a failed checksum, labels that do not
    match the stored temperatures, a truncated file)."""


class BusyError(QmlPhysError, RuntimeError):
    """Another process holds the lock on a file or folder this run would write."""


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``; else raise."""
    try:
        ok = not isinstance(value, bool) and float(value).is_integer() and int(value) >= minimum
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_multiple(name: str, value: int, of_name: str, of: int) -> None:
    """Raise unless the integer ``value`` is a multiple of ``of``."""
    if value % of:
        raise InvalidParameterError(
            f"expected {name} to be a multiple of {of_name}={of}; got {name}={value}"
        )


def check_name(name: str, value, names) -> str:
    """Return ``value`` if it is one of ``names``; else raise :class:`UnknownNameError`
    saying "<name>: expected one of a, b, c; got v"."""
    if value not in names:
        raise UnknownNameError(f"{name}: expected one of {', '.join(names)}; got {value!r}")
    return value


def check_number(name: str, value, *, minimum: float | None = None, strict: bool = False):
    """Return ``value`` as a float if it is a finite real number (not a bool or a string),
    ``>= minimum`` (``> minimum`` with ``strict``) when ``minimum`` is given; else raise
    :class:`InvalidParameterError` saying "<name>: expected a finite number [> m]; got v"."""
    import math

    try:
        x = math.nan if isinstance(value, (bool, str, bytes)) else float(value)
    except (TypeError, ValueError, OverflowError):
        x = math.nan
    ok = math.isfinite(x)
    bound = ""
    if minimum is not None:
        ok = ok and (x > minimum if strict else x >= minimum)
        bound = f" {'>' if strict else '>='} {minimum:g}"
    if not ok:
        raise InvalidParameterError(f"{name}: expected a finite number{bound}; got {value!r}")
    return x


def check_temperature(value, name: str = "T") -> float:
    """Return ``value`` as a float if it is a finite temperature > 0; else raise."""
    import math

    try:
        t = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{name} must be a positive, finite temperature; got {value!r}"
        ) from None
    if not math.isfinite(t) or t <= 0:
        raise InvalidParameterError(f"{name} must be a positive, finite temperature; got {value!r}")
    return t
