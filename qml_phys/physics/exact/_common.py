"""Input checks and enumeration helpers shared by the exact references."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from qml_phys.errors import InvalidParameterError, check_temperature


def temperatures(T) -> np.ndarray:
    """``T`` as a float64 array; raise (with ``check_temperature``'s message) unless all > 0."""
    try:
        arr = np.asarray(T, dtype=np.float64)
    except (TypeError, ValueError):
        check_temperature(T)  # raises with the standard message
        raise  # pragma: no cover  (check_temperature accepted something numpy rejected)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        first = arr.reshape(-1)[int(np.argmax(bad.reshape(-1)))]
        check_temperature(first.item())
        raise InvalidParameterError(  # pragma: no cover  (unreachable: check raises)
            f"T must be a positive, finite temperature; got {first!r}"
        )
    return arr


def finite(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"expected {name} to be a finite number; got {value!r}"
        ) from None
    if not math.isfinite(x):
        raise InvalidParameterError(f"expected {name} to be a finite number; got {value!r}")
    return x


def ferromagnetic_J(J) -> float:
    j = finite("J", J)
    if j <= 0:
        raise InvalidParameterError(
            f"expected a ferromagnetic coupling J > 0 (Onsager/Kaufman/Yang); got J = {J!r}"
        )
    return j


def shape_out(x: np.ndarray, shape: tuple) -> np.ndarray:
    """Reshape a flat result to ``shape``; a 0-d result becomes a float64 scalar."""
    x = np.asarray(x, dtype=np.float64).reshape(shape)
    return x[()] if x.ndim == 0 else x


CHUNK_ELEMENTS = 1 << 20
"""Configurations handled per vectorised block of an enumeration."""


def spin_table(n: int) -> np.ndarray:
    """All ``2^n`` configurations as ``(2^n, n)`` float64 spins; site 0 is the top bit."""
    idx = np.arange(1 << n, dtype=np.int64)
    bits = (idx[:, None] >> np.arange(n - 1, -1, -1, dtype=np.int64)) & 1
    return 1.0 - 2.0 * bits


def pair_sum_blocks(
    n: int, edges: np.ndarray, weights: np.ndarray, first_half: bool = False
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(offset, B, M)`` over all configurations of ``n`` spins in index order.

    ``B = sum_e w_e s_a s_b`` and ``M = sum_i s_i`` for the configurations with indices
    ``offset, offset + 1, ...`` (float64, 1-D). The sites are split into a high part
    (enumerated in chunks) and a low part of at most 13 sites (tabulated once); the bonds
    across the split are one matrix product per chunk. ``first_half`` restricts the high
    part to site 0 = +1 (indices below ``2^(n-1)``) when the split leaves site 0 there.
    """
    n2 = min(n, 13)
    n1 = n - n2
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    weights = np.asarray(weights, np.float64)
    a, b = edges[:, 0], edges[:, 1]
    hh = (a < n1) & (b < n1)
    ll = (a >= n1) & (b >= n1)
    cross = ~(hh | ll)
    Wc = np.zeros((max(n1, 1), n2))
    ca, cb, cw = a[cross], b[cross], weights[cross]
    swap = ca >= n1
    ca, cb = np.where(swap, cb, ca), np.where(swap, ca, cb)
    np.add.at(Wc, (ca, cb - n1), cw)
    slo = spin_table(n2)
    blo = (slo[:, a[ll] - n1] * slo[:, b[ll] - n1]) @ weights[ll]
    mlo = slo.sum(axis=1)
    right = Wc @ slo.T  # (n1, 2^n2)
    n_hi = 1 << n1
    if first_half and n1 >= 1:
        n_hi //= 2
    rows = max(1, CHUNK_ELEMENTS >> n2)
    shi_all = spin_table(n1) if n1 else np.zeros((1, 0))
    for start in range(0, n_hi, rows):
        shi = shi_all[start : min(start + rows, n_hi)]
        bhi = (shi[:, a[hh]] * shi[:, b[hh]]) @ weights[hh]
        Bblk = bhi[:, None] + blo[None, :]
        if n1:
            Bblk = Bblk + shi @ right
        Mblk = shi.sum(axis=1)[:, None] + mlo[None, :]
        yield start << n2, Bblk.reshape(-1), Mblk.reshape(-1)
