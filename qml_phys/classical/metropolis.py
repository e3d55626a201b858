r"""Checkerboard Metropolis for the classical 2D Ising model, with a bit-packed fast path.

Model (``k_B = 1``) on the ``L x L`` torus, site ``(r, c)`` bonded to ``(r, c+1)`` and
``(r+1, c)`` (indices mod ``L``):

.. math::

    E(s) = -\sum_{r,c} \big( J^x_{rc}\, s_{r,c} s_{r,c+1} + J^y_{rc}\, s_{r,c} s_{r+1,c} \big)
           - \sum_{r,c} h_{rc}\, s_{r,c}.

With uniform couplings this is ``-J sum_<ij> s_i s_j - h sum_i s_i`` over
:attr:`~qml_phys.physics.lattice.Lattice.edges`; for ``L = 2`` both bonds between the same
two sites count (Kaufman's torus). A sweep updates the sites with ``(r + c)`` even, then
those with ``(r + c)`` odd; sites of one colour do not interact, so each half-sweep is a
product of exact single-site Metropolis updates (N. Metropolis et al., J. Chem. Phys. 21,
1087 (1953), doi:10.1063/1.1699114) and the sweep leaves the Boltzmann distribution
invariant. ``L`` must be even (for odd ``L`` the colouring is not proper on the torus).

A flip is accepted with probability ``min(1, exp(-beta dE))`` for ``dE != 0`` and
``1 - 2^-8`` for ``dE = 0`` (detailed balance holds for any value at ``dE = 0``). With the
textbook ``1`` the checkerboard chain is *reducible*: in a configuration where every site
has ``dE = 0`` (e.g. diagonal stripes, ``s = +1`` iff ``(r + c) mod 4 < 2``) each
half-sweep flips a whole sublattice deterministically and the chain cycles between ``s``
and ``-s`` forever. On ``L = 4`` about 5 in 10^4 hot starts fall into that cycle, which a
chi-square test over 2^18 chains detects. ``1/2`` would also break the cycle but slows the
dynamics (``tau_int`` of the energy at ``T_c``, ``L = 32``: 16 sweeps with ``1``, 17 with
``1 - 2^-8``, 44 with ``1/2``); ``1 - 2^-8`` is decided by the first 8 random bits.

Two engines, one distribution
-----------------------------
* **general** (any ``J``, ``h``): int8 spins, one 32-bit random number per updated site.
  Uniform scalar ``J``, ``h``: the 10 acceptance thresholds per temperature (spin sign x
  neighbour sum) are computed once in float64. Per-bond ``J = (Jx, Jy)`` or per-site
  ``h``: the threshold is formed per site from ``exp(-beta dE)`` in float32 (relative error
  of the acceptance probability below ``2^-23``).
* **packed** (``h = 0``, uniform ``J != 0``): multi-spin coding, 32 spins per ``uint32``
  word (bit 1 = spin down). Per sublattice row of ``M = L/2`` sites, ``B`` = the largest
  power of two dividing ``M`` (at most 32) sites share a word, ``W = M/B`` words hold the
  row and ``G = 32/B`` lattices (flattened ``(temperature, chain)`` pairs, padded to a
  multiple of ``G``) are interleaved in one word: site ``k = b W + w`` of lattice ``g`` is
  bit ``b G + g`` of word ``w``. The neighbour ``k + 1`` is then word ``w + 1`` (same bit)
  or, for ``w = W-1``, word 0 rotated by ``G`` bits, so every neighbour word costs a copy
  or a rotation. ``L = 1024``: one lattice per word, 16 words a row; ``L = 32``: two
  lattices per word; ``L = 4``: sixteen. The number of unsatisfied bonds around each
  spin, 0..4, is classified with bit-sliced adders (``v0``: none, ``v1``: one, ``v2``:
  two, ``>= 3``: flip always).

Random numbers and exactness
----------------------------
A counter-based hash in ``jnp``; ``jax.random`` in the loop is 20-50x slower here. Four
32-bit words ``k0..k3`` are drawn once per call from the JAX key. For a site (or packed
word) at position ``x`` of a sublattice, sweep ``t`` and stream ``j`` (half-sweep and,
packed, the word's index among the words drawn for it)::

    a_x    = lowbias32(x ^ k0)                              # fixed per call
    s_t    = lowbias32(lowbias32(t ^ k1) ^ k2)
    s_tj   = lowbias32(s_t ^ (j * 0x9E3779B9 + k3))
    u      = triple32(a_x ^ s_tj)                           # a 32-bit random word

``lowbias32`` and ``triple32`` are C. Wellons' bijective integer hashes
(https://github.com/skeeto/hash-prospector). ``u`` is a bijection of the input, so one
stream never repeats a value, and two streams share an input only at isolated
pseudo-random positions, as often as truly random 32-bit numbers coincide.

A move is accepted iff ``dE < 0`` or ``u < T`` with ``T = floor(p 2^32)``,
``p = exp(-beta dE)`` (``dE > 0``), or ``T = 0xFF000000`` (``dE = 0``): full 32-bit
resolution, ``P(accept)`` within ``2^-32`` of ``p``, never a 16-bit or float32 uniform.

The packed engine draws the bits of each spin's ``u`` lazily, most significant first:

1. 8 random words give bits 31..24 of ``u`` for all 32 spins of a word (bit-sliced
   comparison with the thresholds' bits). The comparison is decided unless ``u`` and
   ``T`` agree on these bits (probability ``2^-8`` per spin that needs a random number).
2. Four more words per packed word: in round ``j`` the lowest still undecided spin of the
   word takes bits 23..0 of ``u`` from the ``j``-th word and compares them with ``T``'s.
3. Only if some word has more than four undecided spins (at ``L = 1024`` about 1 half-sweep
   in 10^3 at ``T_c``) bits 23..0 come as 24 bit-slice words for all remaining spins.

Which source supplies the low bits depends only on the top bits, so every ``u`` is
uniform on 32 bits and the outcome is exactly ``u < T``; the cost is about 12 random
words per 32 spins (~12 random bits per spin instead of 32).

Performance notes (XLA:CPU)
---------------------------
* A roll or pad (a ``concatenate``) fused into the update loop stops its vectorisation
  (5-10x slower). Sublattices are therefore kept with a one-site periodic halo, the update
  reads plain slices, and the halo is rebuilt in its own small loop, placed behind a
  ``lax.cond`` that XLA cannot fold (:func:`_materialised`) so it is not fused back.
* Bit stages are unrolled Python loops: one fused loop, not one kernel launch per stage.
* Gathering the undecided words with ``jnp.nonzero`` (cumsum + scatter) cost about 0.2 ms
  per half-sweep at ``L = 1024``, more than the updates; the per-word rounds replaced it.
* ``uint64`` words with a 64-bit hash (splitmix64) give ~20% more random bits per ns, but
  ``jnp`` has no ``uint64`` unless JAX's x64 mode is on, so the engine stays 32-bit.

Shapes
------
``spins``: ``(n_temps, n_chains, L, L)`` int8 in {-1, +1}; ``betas``: ``(n_temps,)``,
> 0. Traces: ``(n_meas, n_temps, n_chains)`` float32 per-site energy and signed
magnetization, measured after every ``measure_every`` sweeps (the last one on the returned
spins).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    TooLargeError,
    UnknownNameError,
    check_multiple,
    check_positive_int,
)
from qml_phys.runtime import rng

__all__ = ["METHODS", "Trace", "init_spins", "packing", "run", "sweep"]

#: Engines accepted by ``method``: ``"auto"`` picks ``"packed"`` where it applies.
METHODS = ("auto", "general", "packed")

_U32 = jnp.uint32
_GOLDEN = 0x9E3779B9
_FIRST_BITS = 8  # random bits per spin drawn for every packed word (see module docstring)
_ROUNDS = 4  # words per packed word that finish one undecided spin each
_TWO32 = 4294967296.0
_ZERO_DE = 0xFF000000  # threshold for dE = 0: acceptance 1 - 2^-8 (see module docstring)


class Trace(NamedTuple):
    """Measurements of :func:`run`.

    Attributes:
        energy: ``(n_meas, n_temps, n_chains)`` float32 energy per site ``E / L^2``.
        magnetization: ``(n_meas, n_temps, n_chains)`` float32 signed magnetization per
            site ``sum_i s_i / L^2``.
    """

    energy: jax.Array
    magnetization: jax.Array


# ----------------------------------------------------------------------------- hashing
def _lowbias32(x):
    x = x ^ (x >> 16)
    x = x * _U32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * _U32(0x846CA68B)
    return x ^ (x >> 16)


def _triple32(x):
    x = x ^ (x >> 17)
    x = x * _U32(0xED5AD4BB)
    x = x ^ (x >> 11)
    x = x * _U32(0xAC4C1B51)
    x = x ^ (x >> 15)
    x = x * _U32(0x31848BAB)
    return x ^ (x >> 14)


def _key_words(key) -> jax.Array:
    """Four uint32 words ``k0..k3`` from a JAX PRNG key (new-style or raw)."""
    return jax.random.bits(key, (4,), jnp.uint32)


def _position_hash(kw, shape) -> jax.Array:
    """``a_x = lowbias32(x ^ k0)`` for the row-major position ``x`` of every element."""
    x = jnp.zeros(shape, _U32)
    stride = 1
    for axis in reversed(range(len(shape))):
        x = x + lax.broadcasted_iota(_U32, shape, axis) * _U32(stride)
        stride *= shape[axis]
    return _lowbias32(x ^ kw[0])


def _sweep_seed(kw, t) -> jax.Array:
    """``s_t`` for sweep ``t`` (uint32 scalar)."""
    return _lowbias32(_lowbias32(t.astype(_U32) ^ kw[1]) ^ kw[2])


def _stream_seeds(kw, s_t, first: int, n: int) -> jax.Array:
    """``s_tj`` for streams ``j = first .. first + n - 1``, shape ``(n,)``."""
    j = jnp.arange(first, first + n, dtype=_U32)
    return _lowbias32(s_t ^ (j * _U32(_GOLDEN) + kw[3]))


def _thresholds(p: np.ndarray) -> np.ndarray:
    """``floor(p 2^32)`` as uint32 for probabilities ``0 <= p < 1`` (float64)."""
    return np.floor(np.clip(p, 0.0, 1.0) * _TWO32).clip(0, _TWO32 - 1).astype(np.uint32)


# ----------------------------------------------------------------------------- layout
def packing(L: int) -> tuple[int, int, int]:
    """Bit layout ``(B, G, W)`` of the packed engine for linear size ``L`` (even).

    ``B`` sites of a sublattice row per word (largest power of two dividing ``L/2``, at most
    32), ``G = 32 / B`` lattices interleaved per word, ``W = L / (2 B)`` words per row.
    """
    L = _check_L(L)
    m = L // 2
    b = min(m & -m, 32)
    return b, 32 // b, m // b


def _row_parity(L: int, c: int) -> np.ndarray:
    """``(L, 1, 1)`` bool: rows whose colour-``c`` sites sit on odd columns."""
    return ((np.arange(L) + c) % 2 == 1).reshape(L, 1, 1)


def _split(spins) -> jax.Array:
    """``(T, C, L, L)`` -> sublattices ``(2, L, L/2, T*C)`` (lattice index last)."""
    t, ch, L, _ = spins.shape
    s = spins.reshape(t * ch, L, L // 2, 2)
    even = jnp.asarray(np.arange(L) % 2 == 0).reshape(1, L, 1)
    s0 = jnp.where(even, s[..., 0], s[..., 1])
    s1 = jnp.where(even, s[..., 1], s[..., 0])
    return jnp.stack([s0, s1]).transpose(0, 2, 3, 1)


def _merge(S, n_temps: int, n_chains: int) -> jax.Array:
    """Inverse of :func:`_split`."""
    L = S.shape[1]
    s0, s1 = S[0].transpose(2, 0, 1), S[1].transpose(2, 0, 1)
    even = jnp.asarray(np.arange(L) % 2 == 0).reshape(1, L, 1)
    e0 = jnp.where(even, s0, s1)
    e1 = jnp.where(even, s1, s0)
    return jnp.stack([e0, e1], axis=-1).reshape(n_temps, n_chains, L, L)


def _materialised(t, x, pad):
    """``pad(x)``, computed behind a conditional whose predicate XLA cannot fold.

    XLA:CPU fuses a roll or pad (a concatenate) into the loop that consumes it, and a
    fused loop with a concatenate is not vectorised (5-10x slower here). Behind the
    conditional the padded copy is its own small loop and the update loop reads plain
    slices. ``t`` is the sweep counter, always ``< 2^32 - 1``.
    """
    return lax.cond(t != _U32(0xFFFFFFFF), pad, pad, x)


def _interior(xp):
    """The ``(L, n, R)`` interior of a padded ``(L + 2, n + 2, R)`` array."""
    return xp[1:-1, 1:-1]


def _neighbours(Op, c: int):
    """The four neighbours (same column index, horizontal, up, down) of the colour-``c``
    sites, from the padded other colour ``Op``; each ``(L, n, R)``."""
    L = Op.shape[0] - 2
    plus, minus = Op[1:-1, 2:], Op[1:-1, :-2]  # index k + 1 and k - 1 along the row
    horiz = jnp.where(jnp.asarray(_row_parity(L, c)), plus, minus)
    return Op[1:-1, 1:-1], horiz, Op[:-2, 1:-1], Op[2:, 1:-1]


def _pad_rows(x):
    return jnp.concatenate([x[-1:], x, x[:1]], axis=0)


# ----------------------------------------------------------------------------- general engine
def _pad_general(x):
    """Periodic halo of one site around ``(L, M, R)`` sublattice spins."""
    return _pad_rows(jnp.concatenate([x[:, -1:], x, x[:, :1]], axis=1))


def _general_half(Xp, Op, c, sweep, kw, a, params, *, table: bool):
    """Update the colour-``c`` sites of the padded ``Xp`` ``(L+2, M+2, R)`` int8 given the
    padded other colour ``Op``, in sweep ``sweep``; returns the new padded ``Xp``."""
    X = _interior(Xp)
    same, horiz, up, down = _neighbours(Op, c)
    u = _triple32(a ^ _stream_seeds(kw, _sweep_seed(kw, sweep), c, 1)[0])
    if table:
        thr, always = params  # (10, 1, 1, R) uint32, bool
        nsum = same + horiz + up + down  # int8 in -4..4
        idx = ((X + 1) >> 1) * 5 + ((nsum + 4) >> 1)
        t, alw = thr[0], always[0]
        for i in range(1, 10):
            hit = idx == i
            t = jnp.where(hit, thr[i], t)
            alw = jnp.where(hit, always[i], alw)
        accept = alw | (u < t)
    else:
        beta, couplings, fields = params  # (1, 1, R); (2, 4, L, M, 1); (2, L, M, 1)
        j = couplings[c]
        f32 = jnp.float32
        local = (
            j[0] * same.astype(f32)
            + j[1] * horiz.astype(f32)
            + j[2] * up.astype(f32)
            + j[3] * down.astype(f32)
            + fields[c]
        )
        de = 2.0 * X.astype(f32) * local
        p = jnp.exp(-beta * de)
        t = jnp.where(p < 1.0, p * f32(_TWO32), 0.0).astype(_U32)
        t = jnp.where(de == 0, _U32(_ZERO_DE), t)
        accept = (de < 0) | (u < t)
    return _materialised(sweep, jnp.where(accept, -X, X), _pad_general)


def _general_measure(S, params, J, h, *, table: bool):
    """Per-site energy and magnetization ``(R,)`` float32 of padded sublattices ``S``."""
    s0, s1 = _interior(S[0]), _interior(S[1])
    same, horiz, up, down = _neighbours(S[1], 0)
    n = 2 * s0.shape[0] * s0.shape[1]
    i32, f32 = jnp.int32, jnp.float32
    mag = jnp.sum(s0.astype(i32), axis=(0, 1)) + jnp.sum(s1.astype(i32), axis=(0, 1))
    if table:
        nsum = (same + horiz + up + down).astype(i32)
        bonds = jnp.sum(s0.astype(i32) * nsum, axis=(0, 1))
        e = -(J * bonds.astype(f32) + h * mag.astype(f32))
    else:
        _, couplings, fields = params
        j = couplings[0]
        local = sum(j[i] * nb.astype(f32) for i, nb in enumerate((same, horiz, up, down)))
        bonds = jnp.sum(s0.astype(f32) * local, axis=(0, 1))
        field = jnp.sum(fields[0] * s0.astype(f32) + fields[1] * s1.astype(f32), axis=(0, 1))
        e = -(bonds + field)
    return e / f32(n), mag.astype(f32) / f32(n)


# ----------------------------------------------------------------------------- packed engine
def _rotr(x, n: int):
    return x if n % 32 == 0 else (x >> n) | (x << (32 - n))


def _rotl(x, n: int):
    return x if n % 32 == 0 else (x << n) | (x >> (32 - n))


def _pad_packed(x, G: int):
    """Halo of one word around ``(L, W, P)`` words: the word left of word 0 is word
    ``W - 1`` rotated left by ``G`` bits (site ``k - 1``), the word right of word ``W - 1``
    is word 0 rotated right by ``G`` bits (site ``k + 1``)."""
    x = jnp.concatenate([_rotl(x[:, -1:], G), x, _rotr(x[:, :1], G)], axis=1)
    return _pad_rows(x)


def _bit_stages(first, last, v0, v1, dec, acc, a, seeds, m4, m8):
    """Bit-sliced comparison ``u < T`` over bits ``31 - first`` down to ``32 - last``.

    ``v1``/``v0`` select the threshold ``T4``/``T8`` per bit; ``m4[k]``, ``m8[k]`` are the
    masks of bit ``31 - k`` of the thresholds; ``dec`` marks decided bits, ``acc`` accepted.
    """

    def stage(k, carry):
        acc, dec = carry
        t = (v1 & m4[k]) | (v0 & m8[k])
        r = _triple32(a ^ seeds[k])
        return acc | (~dec & ~r & t), dec | (r ^ t)

    carry = (acc, dec)
    for k in range(first, last):  # unrolled: one fused loop, no per-stage kernel launches
        carry = stage(k, carry)
    return carry


def _select_lattice(table, g, G: int):
    """``table[g]`` per word: ``table`` ``(G, 1, 1, P)``, ``g`` ``(L, W, P)`` in ``0..G-1``."""
    out = table[0]
    for i in range(1, G):
        out = jnp.where(g == i, table[i], out)
    return out


def _packed_accept(v0, v1, v2, ge3, a, seeds, params, *, G: int, rounds: int):
    """Acceptance mask of words ``(L, W, P)`` uint32: bit set = flip.

    ``v0``, ``v1``, ``v2``, ``ge3``: bits of spins with 0, 1, 2, >= 3 unsatisfied bonds
    (thresholds ``T8``, ``T4``, ``0xFF000000``, accept). ``params`` = ``(m4, m8, t4, t8)``:
    ``m4[k]``/``m8[k]`` ``(32, 1, 1, P)``, the masks of bit ``31 - k`` of the thresholds of
    the interleaved lattices; ``t4``/``t8`` ``(G, 1, 1, P)``, their low 24 bits.
    ``seeds`` ``(32 + rounds,)``: streams of the bit-slice words and of the rounds.

    1. Bits 31..24 of ``u`` come as 8 bit-slice words (one random bit per spin each); the
       comparison is decided unless ``u`` and ``T`` agree on them (probability ``2^-8``).
       ``u < 0xFF000000`` (``v2``): the top 8 bits are not all 1.
    2. ``rounds`` times: the lowest undecided spin of each word takes the low 24 bits of
       ``u`` from a fresh word, ``u_low < T_low``.
    3. If any spin is still undecided (a word with more than ``rounds`` of them), bits
       23..0 come as bit-slice words for every remaining spin.

    Which source supplies the low bits depends only on the top bits, so every ``u`` is
    uniform on 32 bits and the outcome is exactly ``u < T``.
    """
    m4, m8, t4, t8 = params
    acc, dec, ones = ge3, ge3 | v2, v2
    for k in range(_FIRST_BITS):  # unrolled: one vectorised loop with the neighbour logic
        r = _triple32(a ^ seeds[k])
        ones = ones & r
        t = (v1 & m4[k]) | (v0 & m8[k])
        acc, dec = acc | (~dec & ~r & t), dec | (r ^ t)
    acc = acc | (v2 & ~ones)
    low_mask = _U32(0xFFFFFF)
    for j in range(rounds):
        open_ = ~dec
        low = open_ & (~open_ + _U32(1))  # lowest undecided spin, 0 if none
        g = lax.population_count(low - _U32(1)) & _U32(G - 1)  # its lattice in the word
        thr = jnp.where((low & v1) != 0, _select_lattice(t4, g, G), _select_lattice(t8, g, G))
        u_low = _triple32(a ^ seeds[32 + j]) & low_mask
        acc = acc | jnp.where(u_low < thr, low, _U32(0))
        dec = dec | low

    def finish(acc):
        return _bit_stages(_FIRST_BITS, 32, v0, v1, dec, acc, a, seeds, m4, m8)[0]

    return lax.cond(jnp.any(dec != _U32(0xFFFFFFFF)), finish, lambda acc: acc, acc)


def _packed_half(Xp, Op, c, sweep, kw, pos, params, *, G: int, antiferro: bool, rounds: int):
    """Update the colour-``c`` words of the padded ``Xp`` ``(L+2, W+2, P)`` uint32 given the
    padded other colour ``Op``, in sweep ``sweep``; returns the new padded ``Xp``."""
    X = _interior(Xp)
    flip = _U32(0xFFFFFFFF) if antiferro else _U32(0)
    x1, x2, x3, x4 = (X ^ nb ^ flip for nb in _neighbours(Op, c))
    # bit-sliced count of unsatisfied bonds: (x1 + x2) + (x3 + x4) = lo + 2 (b + d + a&c)
    a, b, c_, d = x1 ^ x2, x1 & x2, x3 ^ x4, x3 & x4
    lo, bd = a ^ c_, b | d
    v0 = ~(a | c_ | bd)
    v1 = lo & ~bd
    ge3 = (lo & bd) | (b & d)  # dE < 0
    v2 = ~(v0 | v1 | ge3)  # dE = 0
    seeds = _stream_seeds(kw, _sweep_seed(kw, sweep), 64 * c, 32 + rounds)
    acc = _packed_accept(v0, v1, v2, ge3, pos, seeds, params, G=G, rounds=rounds)
    return _materialised(sweep, X ^ acc, partial(_pad_packed, G=G))


def _group_masks(G: int) -> np.ndarray:
    """``(G,)`` uint32: the bits of each of the ``G`` interleaved lattices."""
    bits = np.arange(32)
    return np.array(
        [np.sum(1 << bits[bits % G == g].astype(np.uint64)) for g in range(G)], np.uint64
    ).astype(np.uint32)


def _popcount_groups(x, G: int) -> jax.Array:
    """Set bits of ``x`` ``(L, W, P)`` per interleaved lattice: ``(P * G,)`` int32."""
    if G == 1:
        return jnp.sum(lax.population_count(x).astype(jnp.int32), axis=(0, 1))
    L, W, P = x.shape
    bits = (x[..., None] >> jnp.arange(32, dtype=_U32).reshape(1, 1, 1, 32)) & _U32(1)
    counts = jnp.sum(bits.reshape(L, W, P, 32 // G, G).astype(jnp.int32), axis=(0, 1, 3))
    return counts.reshape(-1)


def _packed_measure(S, J, *, G: int, R: int):
    """Per-site energy and magnetization ``(R,)`` float32 of padded packed sublattices."""
    s0, s1 = _interior(S[0]), _interior(S[1])
    L = s0.shape[0]
    n = L * L
    anti = sum(_popcount_groups(s0 ^ nb, G) for nb in _neighbours(S[1], 0))
    down = _popcount_groups(s0, G) + _popcount_groups(s1, G)
    f32 = jnp.float32
    e = -J * (2.0 - 2.0 * anti.astype(f32) / f32(n))
    m = (f32(n) - 2.0 * down.astype(f32)) / f32(n)
    return e[:R], m[:R]


def _pack(S, G: int) -> jax.Array:
    """Sublattices ``(2, L, M, R)`` int8 -> words ``(2, L, W, P)`` uint32."""
    _, L, M, R = S.shape
    B = 32 // G
    W, P = M // B, -(-R // G)
    bits = (S < 0).astype(_U32)
    bits = jnp.pad(bits, ((0, 0), (0, 0), (0, 0), (0, P * G - R)))
    bits = bits.reshape(2, L, B, W, P, G).transpose(0, 1, 3, 4, 2, 5).reshape(2, L, W, P, 32)
    return jnp.sum(bits << jnp.arange(32, dtype=_U32).reshape(1, 1, 1, 1, 32), axis=-1, dtype=_U32)


def _unpack(X, G: int, R: int) -> jax.Array:
    """Inverse of :func:`_pack`."""
    _, L, W, P = X.shape
    B = 32 // G
    bits = (X[..., None] >> jnp.arange(32, dtype=_U32).reshape(1, 1, 1, 1, 32)) & _U32(1)
    bits = bits.reshape(2, L, W, P, B, G).transpose(0, 1, 4, 2, 3, 5).reshape(2, L, B * W, P * G)
    return (1 - 2 * bits[..., :R].astype(jnp.int8)).astype(jnp.int8)


def _packed_params(T4: np.ndarray, T8: np.ndarray, G: int) -> tuple[np.ndarray, ...]:
    """Threshold arrays of the packed engine from thresholds ``T4``, ``T8`` ``(R,)`` (any
    unsigned integers ``< 2^32``): bit masks ``m4``, ``m8`` ``(32, 1, 1, P)`` (row ``k``
    holds bit ``31 - k`` of every interleaved lattice's threshold in its bit positions) and
    the low 24 bits ``t4``, ``t8`` ``(G, 1, 1, P)``. Padding lattices get ``T = 0``."""
    R = len(T4)
    P = -(-R // G)
    gm = _group_masks(G).astype(np.uint64)
    masks, lows = [], []
    for T in (T4, T8):
        t = np.zeros(P * G, np.uint64)
        t[:R] = np.asarray(T, np.uint64)
        t = t.reshape(P, G)
        m = np.zeros((32, P), np.uint64)
        for k in range(32):
            bit = (t >> np.uint64(31 - k)) & np.uint64(1)
            m[k] = np.sum(bit * gm[None, :], axis=1)
        masks.append(m.astype(np.uint32).reshape(32, 1, 1, P))
        lows.append((t & np.uint64(0xFFFFFF)).T.astype(np.uint32).reshape(G, 1, 1, P))
    return masks[0], masks[1], lows[0], lows[1]


def _packed_masks(betas_flat: np.ndarray, J: float, G: int) -> tuple[np.ndarray, ...]:
    """:func:`_packed_params` for ``T4 = floor(e^{-4 beta |J|} 2^32)``, ``T8`` likewise."""
    return _packed_params(
        _thresholds(np.exp(-4.0 * abs(J) * betas_flat)),
        _thresholds(np.exp(-8.0 * abs(J) * betas_flat)),
        G,
    )


# ----------------------------------------------------------------------------- driver
def _simulate(S, half, measure, n_sweeps, measure_every, *, n_meas: int):
    """Sweeps of padded sublattices ``S = (S0, S1)``; ``half(X, O, c, t)`` updates colour
    ``c`` in sweep ``t``.

    ``n_meas = 0``: ``n_sweeps`` sweeps, no trace. Otherwise ``n_meas`` blocks of
    ``measure_every`` sweeps, each followed by ``measure``. Sweep counts are traced, so
    one compiled program serves every count.
    """

    def one_sweep(t, st):
        s0 = half(st[0], st[1], 0, t)
        return s0, half(st[1], s0, 1, t)

    if n_meas == 0:
        return lax.fori_loop(_U32(0), n_sweeps, one_sweep, S), None

    def block(st, i):
        t0 = i * measure_every
        st = lax.fori_loop(_U32(0), measure_every, lambda j, s: one_sweep(t0 + j, s), st)
        return st, measure(st)

    return lax.scan(block, S, jnp.arange(n_meas, dtype=_U32))


@partial(jax.jit, static_argnames=("n_meas", "table"))
def _run_general(key, spins, params, J, h, n_sweeps, measure_every, *, n_meas, table):
    n_temps, n_chains, L, _ = spins.shape
    kw = _key_words(key)
    S = _split(spins)
    a = _position_hash(kw, S.shape[1:])
    half = lambda X, O, c, t: _general_half(X, O, c, t, kw, a, params, table=table)
    meas = partial(_general_measure, params=params, J=J, h=h, table=table)
    S = (_pad_general(S[0]), _pad_general(S[1]))
    S, trace = _simulate(S, half, meas, n_sweeps, measure_every, n_meas=n_meas)
    return _merge(jnp.stack([_interior(x) for x in S]), n_temps, n_chains), trace


@partial(jax.jit, static_argnames=("n_meas", "antiferro", "rounds"))
def _run_packed(
    key, spins, params, J, n_sweeps, measure_every, *, n_meas, antiferro, rounds=_ROUNDS
):
    n_temps, n_chains, L, _ = spins.shape
    R = n_temps * n_chains
    _, G, _ = packing(L)
    kw = _key_words(key)
    X = _pack(_split(spins), G)
    a = _position_hash(kw, X.shape[1:])
    half = lambda X, O, c, t: _packed_half(
        X, O, c, t, kw, a, params, G=G, antiferro=antiferro, rounds=rounds
    )
    meas = partial(_packed_measure, J=J, G=G, R=R)
    X = (_pad_packed(X[0], G), _pad_packed(X[1], G))
    X, trace = _simulate(X, half, meas, n_sweeps, measure_every, n_meas=n_meas)
    X = jnp.stack([_interior(x) for x in X])
    return _merge(_unpack(X, G, R), n_temps, n_chains), trace


# ----------------------------------------------------------------------------- validation
def _check_L(L) -> int:
    L = check_positive_int("L", L, minimum=2)
    if L % 2:
        raise InvalidParameterError(
            f"expected an even L (checkerboard updates need a two-colourable torus); got L={L}"
        )
    return L


def _check_spins(spins) -> jax.Array:
    if not hasattr(spins, "dtype") or not hasattr(spins, "shape"):
        raise ShapeError(f"expected spins as an int8 array; got {type(spins).__name__}")
    if spins.dtype != np.int8:
        raise ShapeError(
            f"expected spins of dtype int8 (values -1, +1; see init_spins); got {spins.dtype}"
        )
    if spins.ndim != 4 or spins.shape[2] != spins.shape[3] or 0 in spins.shape:
        raise ShapeError(
            f"expected spins of shape (n_temps, n_chains, L, L); got {tuple(spins.shape)}"
        )
    _check_L(spins.shape[2])
    return spins


def _check_spin_values(spins) -> jax.Array:
    spins = jnp.asarray(spins)
    if not bool(jnp.all((spins == 1) | (spins == -1))):
        raise InvalidParameterError("expected spins with values in {-1, +1}; got other values")
    return spins


def _check_betas(betas, n_temps: int) -> np.ndarray:
    b = np.asarray(betas, np.float64)
    if b.shape != (n_temps,):
        raise ShapeError(f"expected betas of shape (n_temps,) = ({n_temps},); got {b.shape}")
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise InvalidParameterError(
            f"expected inverse temperatures beta > 0 and finite (T > 0); got {b.tolist()}"
        )
    return b


def _check_field(name: str, value, L: int) -> np.ndarray | float:
    a = np.asarray(value, np.float64)
    if a.ndim == 0:
        if not np.isfinite(a):
            raise InvalidParameterError(f"expected a finite {name}; got {value!r}")
        return float(a)
    if a.shape != (L, L):
        raise ShapeError(f"expected {name} as a scalar or of shape ({L}, {L}); got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InvalidParameterError(f"expected finite values in {name}; got non-finite entries")
    return a


def _check_couplings(J, L: int):
    """A float, or ``(Jx, Jy)`` float64 arrays of shape ``(L, L)``."""
    if isinstance(J, (tuple, list)):
        if len(J) != 2:
            raise ShapeError(f"expected J as a scalar or a pair (Jx, Jy); got {len(J)} items")
        out = tuple(_check_field(n, j, L) for n, j in zip(("Jx", "Jy"), J, strict=True))
        return tuple(np.full((L, L), j) if isinstance(j, float) else j for j in out)
    a = np.asarray(J)
    if a.ndim != 0:
        raise ShapeError(
            f"expected J as a scalar or a pair (Jx, Jy) of ({L}, {L}) arrays; got shape {a.shape}"
        )
    return _check_field("J", J, L)


def _general_params(betas, J, h, R_per_temp: int, L: int):
    """Static flag ``table`` and the arrays of the general engine."""
    b = np.repeat(betas, R_per_temp)
    if isinstance(J, float) and isinstance(h, float):
        s = np.repeat([-1.0, 1.0], 5)[:, None]
        nsum = np.tile(np.arange(-4.0, 5.0, 2.0), 2)[:, None]
        de = 2.0 * s * (J * nsum + h)
        always = de < 0
        p = np.where(de == 0, _ZERO_DE / _TWO32, np.exp(-np.maximum(de, 0.0) * b[None, :]))
        thr = np.where(always, 0, _thresholds(p))
        R = b.size
        return True, (
            jnp.asarray(thr.astype(np.uint32).reshape(10, 1, 1, R)),
            jnp.asarray(always.repeat(R, axis=1).reshape(10, 1, 1, R)),
        )
    Jx, Jy = J if isinstance(J, tuple) else (np.full((L, L), J), np.full((L, L), J))
    hh = np.broadcast_to(np.asarray(h, np.float64), (L, L))
    M = L // 2
    r = np.arange(L)[:, None]
    k = np.arange(M)[None, :]
    couplings, fields = [], []
    for c in (0, 1):
        p = (r + c) % 2
        col = 2 * k + p
        right, left = Jx[r, col], Jx[r, (col - 1) % L]
        couplings.append(
            [
                np.where(p == 0, right, left),
                np.where(p == 0, left, right),
                Jy[(r - 1) % L, col],
                Jy[r, col],
            ]
        )
        fields.append(hh[r, col])
    return False, (
        jnp.asarray(b.reshape(1, 1, -1), jnp.float32),
        jnp.asarray(np.asarray(couplings)[..., None], jnp.float32),
        jnp.asarray(np.asarray(fields)[..., None], jnp.float32),
    )


def _choose(method, J, h) -> str:
    if method not in METHODS:
        raise UnknownNameError(f"expected method in {METHODS}; got {method!r}")
    fits = isinstance(J, float) and J != 0.0 and isinstance(h, float) and h == 0.0
    if method == "packed" and not fits:
        raise InvalidParameterError(
            "expected h = 0 and a uniform nonzero J for method='packed' (use 'general'); got "
            f"J={'per-bond' if isinstance(J, tuple) else J}, "
            f"h={'per-site' if isinstance(h, np.ndarray) else h}"
        )
    if method == "auto":
        return "packed" if fits else "general"
    return method


def _dispatch(key, spins, betas, *, n_sweeps, measure_every, n_meas, J, h, method):
    spins = _check_spins(spins)
    n_temps, n_chains, L, _ = spins.shape
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    if n_sweeps >= 2**32:
        raise InvalidParameterError(f"expected n_sweeps < 2**32; got {n_sweeps}")
    b = _check_betas(betas, n_temps)
    J = _check_couplings(J, L)
    h = _check_field("h", h, L)
    method = _choose(method, J, h)
    R = n_temps * n_chains
    if R * L * L // 2 >= 2**32:
        raise TooLargeError(
            "expected n_temps * n_chains * L^2 / 2 < 2**32 (positions of the random-number "
            f"counter); got {R} lattices of {L}x{L}"
        )
    spins = _check_spin_values(spins)
    if method == "packed":
        G = packing(L)[1]
        params = tuple(jnp.asarray(m) for m in _packed_masks(b.repeat(n_chains), J, G))
        return _run_packed(
            key,
            spins,
            params,
            jnp.float32(J),
            jnp.uint32(n_sweeps),
            jnp.uint32(measure_every),
            n_meas=n_meas,
            antiferro=J < 0,
        )
    table, params = _general_params(b, J, h, n_chains, L)
    J, h = (jnp.float32(J), jnp.float32(h)) if table else (jnp.float32(0), jnp.float32(0))
    return _run_general(
        key,
        spins,
        params,
        J,
        h,
        jnp.uint32(n_sweeps),
        jnp.uint32(measure_every),
        n_meas=n_meas,
        table=table,
    )


# ----------------------------------------------------------------------------- public API
def init_spins(key, n_temps: int, n_chains: int, L: int, *, hot: bool = True) -> jax.Array:
    """Initial configurations ``(n_temps, n_chains, L, L)`` int8 in {-1, +1}.

    Args:
        key: JAX PRNG key (used when ``hot``).
        n_temps, n_chains: batch sizes (>= 1).
        L: linear size, even and >= 2.
        hot: independent uniformly random spins (infinite temperature); otherwise all +1.
    """
    n_temps = check_positive_int("n_temps", n_temps)
    n_chains = check_positive_int("n_chains", n_chains)
    L = _check_L(L)
    shape = (n_temps, n_chains, L, L)
    if not hot:
        return jnp.ones(shape, jnp.int8)
    return jnp.where(rng.bernoulli(key, 0.5, shape), 1, -1).astype(jnp.int8)


def sweep(key, spins, betas, *, n_sweeps: int = 1, J=1.0, h=0.0, method: str = "auto"):
    """Advance every chain at every temperature by ``n_sweeps`` checkerboard sweeps.

    One compiled call; the sweep count is a traced loop bound, so the program compiled for
    a shape and engine serves every ``n_sweeps``.

    Args:
        key: JAX PRNG key; the stream is fixed by the key, so never reuse one.
        spins: ``(n_temps, n_chains, L, L)`` int8 in {-1, +1}, ``L`` even.
        betas: ``(n_temps,)`` inverse temperatures ``1/T`` (units of ``1/|J|``), > 0.
        n_sweeps: number of sweeps (each updates every site once), >= 1.
        J: uniform coupling (float), or ``(Jx, Jy)``: per-bond couplings of shape ``(L, L)``,
            ``Jx[r, c]`` on bond ``(r, c)-(r, c+1)`` and ``Jy[r, c]`` on ``(r, c)-(r+1, c)``.
        h: uniform field (float) or per-site field ``(L, L)``.
        method: ``"auto"`` (packed when ``h = 0`` and ``J`` is a nonzero scalar, else
            general), ``"general"`` or ``"packed"`` (an error where it does not apply).

    Returns:
        New spins, same shape and dtype.
    """
    spins, _ = _dispatch(
        key,
        spins,
        betas,
        n_sweeps=n_sweeps,
        measure_every=1,
        n_meas=0,
        J=J,
        h=h,
        method=method,
    )
    return spins


def run(
    key,
    spins,
    betas,
    *,
    n_sweeps: int,
    measure_every: int = 1,
    J=1.0,
    h=0.0,
    method: str = "auto",
) -> tuple[jax.Array, Trace]:
    """Sweep and record per-site energy and magnetization every ``measure_every`` sweeps.

    Same arguments as :func:`sweep`, plus:

    Args:
        measure_every: sweeps between measurements; must divide ``n_sweeps``.

    Returns:
        ``(spins, trace)``: the final spins ``(n_temps, n_chains, L, L)`` int8 and a
        :class:`Trace` of ``n_sweeps // measure_every`` measurements, each field
        ``(n_meas, n_temps, n_chains)`` float32 (the last row is of the returned spins).
    """
    measure_every = check_positive_int("measure_every", measure_every)
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    check_multiple("n_sweeps", n_sweeps, "measure_every", measure_every)
    spins, (e, m) = _dispatch(
        key,
        spins,
        betas,
        n_sweeps=n_sweeps,
        measure_every=measure_every,
        n_meas=n_sweeps // measure_every,
        J=J,
        h=h,
        method=method,
    )
    n_meas, R = e.shape
    shape = (n_meas, spins.shape[0], spins.shape[1])
    return spins, Trace(e.reshape(shape), m.reshape(shape))
