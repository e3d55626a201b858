"""Argument types and argument groups shared by every ``qml-phys`` command (and by the
study scripts).

Each type is an ``argparse`` ``type=``: it returns the parsed value or raises
``argparse.ArgumentTypeError`` with "expected X; got Y", which argparse turns into a
usage error (exit status 2). The groups (:func:`area`, :func:`seed_and_out`) add what
several commands take alike; :func:`given` turns the flags given into config overrides.
Only the standard library is imported here, so that ``qml-phys --help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from qml_phys.errors import InvalidParameterError, check_temperature

__all__ = [
    "area",
    "count",
    "finite",
    "fraction",
    "given",
    "integer",
    "layers",
    "nonnegative",
    "parse_temperatures",
    "positive_int",
    "qubits",
    "seed",
    "seed_and_out",
    "size",
    "size_or_inf",
    "temperature",
]


def area(areas, name: str, help: str):
    """The subcommands of a new area ``qml-phys NAME WHAT``; one of them is required."""
    sub = areas.add_parser(name, help=help).add_subparsers(dest="what", metavar="WHAT")
    sub.required = True
    return sub


def seed_and_out(p, out_help: str, *, seed_help: str | None = None) -> None:
    """``--seed`` (default 0: the key of the whole run) and ``--out`` (default None: write
    nothing), whose help says what the command writes into that folder."""
    p.add_argument("--seed", type=seed, default=0, help=seed_help)
    p.add_argument("--out", default=None, help=out_help)


def given(args, **flags: str) -> dict:
    """``{field: args.<flag>}`` for each ``field=flag`` whose flag was given (is not None):
    the overrides of a library config, whose own defaults stand for the flags not given."""
    values = {field: getattr(args, flag) for field, flag in flags.items()}
    return {field: value for field, value in values.items() if value is not None}


def _parse_int(text: str, minimum: int) -> int | None:
    """``text`` as an integer >= ``minimum`` (``"8"`` and ``"8.0"`` alike), or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or not value.is_integer() or value < minimum:
        return None
    try:
        return int(text)  # exact for large integers written out
    except ValueError:
        return int(value)


#: The largest count or size a command takes (a 32-bit signed integer, what JAX's default
#: integers hold); a job that large is then refused by its memory pre-flight check.
MAX_INT = 2**31 - 1


def integer(minimum: int, expected: str, maximum: int = MAX_INT):
    """An argparse type: an integer in ``[minimum, maximum]``, else "expected <expected>; got
    <text>"."""

    def parse(text: str) -> int:
        value = _parse_int(text, minimum)
        if value is None:
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"expected {expected} up to {maximum}; got {text!r}")
        return value

    return parse


size = integer(2, "a finite lattice size (integer >= 2)")
#: A seed becomes a 32-bit JAX key: larger integers would wrap around onto smaller seeds.
seed = integer(0, "a seed (integer from 0 to 4294967295)", maximum=2**32 - 1)
count = integer(0, "an integer >= 0")
positive_int = integer(1, "a positive integer")
#: Layer widths and hidden-unit densities: networks are built (masks, weights) before any
#: memory estimate could see them, so their sizes are bounded here.
width = integer(1, "a layer width (integer >= 1)", maximum=65_536)
density = integer(1, "a hidden-unit density (integer >= 1)", maximum=1024)
#: Worker processes: more than this many on one machine is a typo, not a plan.
workers = integer(0, "a number of worker processes (0: in-process)", maximum=1024)


def size_or_inf(text: str) -> float | int:
    """A lattice size: an integer >= 2, or ``inf`` for the thermodynamic limit."""
    if text.strip().lower() in ("inf", "infinity", "∞"):
        return math.inf
    value = _parse_int(text, 2)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected a lattice size (integer >= 2) or 'inf'; got {text!r}"
        )
    return value


def finite(text: str) -> float:
    """A finite float."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number; got {text!r}")
    return value


def nonnegative(text: str) -> float:
    """A finite float >= 0."""
    value = finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0; got {text!r}")
    return value


def fraction(text: str) -> float:
    """A float strictly between 0 and 1."""
    value = finite(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction 0 < f < 1; got {text!r}")
    return value


def temperature(text: str) -> float:
    """A positive, finite temperature."""
    try:
        return check_temperature(text)
    except InvalidParameterError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


#: The most temperatures a ``start:stop:count`` range may hold.
MAX_TEMPERATURES = 100_000


def parse_temperatures(items: Sequence[str]) -> list[float]:
    """Temperatures from ``2.3``-style values and ``start:stop:count`` ranges (inclusive)."""
    temps: list[float] = []
    for item in items:
        if ":" in item:
            parts = item.split(":")
            if len(parts) != 3:
                raise InvalidParameterError(
                    f"expected a temperature range start:stop:count; got {item!r}"
                )
            start, stop = check_temperature(parts[0]), check_temperature(parts[1])
            n = _parse_int(parts[2], 1)
            if n is None or n > MAX_TEMPERATURES:
                raise InvalidParameterError(
                    "temperature range count: expected a positive integer up to "
                    f"{MAX_TEMPERATURES}; got {parts[2]!r}"
                )
            if n == 1:
                temps.append(start)
            else:
                temps.extend(start + (stop - start) * k / (n - 1) for k in range(n))
        else:
            temps.append(check_temperature(item))
    return temps


#: The most qubit counts one ``--qubits`` may list.
MAX_QUBIT_COUNTS = 1000


def qubits(text: str) -> list[int]:
    """``start:stop:step`` (inclusive; step defaults to 1) or a comma list of integers >= 1."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3) or parts[0] < 1 or parts[-1 if len(parts) == 3 else 1] < 1:
                raise ValueError
            start, stop, step = parts if len(parts) == 3 else (*parts, 1)
            if step < 1 or (stop - start) // step >= MAX_QUBIT_COUNTS:
                raise ValueError
            values = list(range(start, stop + 1, step))
        else:
            values = [int(p) for p in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1 or max(values) > MAX_INT or len(values) > MAX_QUBIT_COUNTS:
        raise argparse.ArgumentTypeError(
            "expected qubit counts as start:stop:step (e.g. 2:14:2) or a list (2,4,6), at most "
            f"{MAX_QUBIT_COUNTS} of them; got {text!r}"
        )
    return values


def layers(text: str) -> int | str:
    """A number of layers >= 1, ``"n"`` (depth = n) or ``"log"`` (ceil log2 n)."""
    if text in ("n", "log"):
        return text
    value = _parse_int(text, 1)
    if value is None or value > MAX_INT:
        raise argparse.ArgumentTypeError(
            "expected a number of layers >= 1, 'n' (depth = n) or 'log' (ceil log2 n); "
            f"got {text!r}"
        )
    return value
