"""Random arrays drawn flat and reshaped: the same numbers as :mod:`jax.random`, compiled
an order of magnitude faster.

With JAX's (default) partitionable Threefry, ``jax.random.bits(key, (2, 2, 10, 10))``
compiles to per-dimension index arithmetic that XLA's CPU backend takes about 2 s to
compile, against 0.1 s for the same count drawn as a flat vector; the values are the same
(the counter is the row-major flat index either way), so each function here draws
``math.prod(shape)`` numbers and reshapes them. ``tests/runtime/test_rng.py`` checks the
equality for every function and several shapes.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = ["bernoulli", "bits", "normal", "rademacher", "uniform"]


def _flat(shape) -> tuple[tuple[int, ...], tuple[int, ...]]:
    shape = tuple(int(n) for n in shape)
    return shape, (math.prod(shape),)


def bits(key: jax.Array, shape, dtype=jnp.uint32) -> jax.Array:
    """``jax.random.bits(key, shape, dtype)``."""
    shape, flat = _flat(shape)
    return jax.random.bits(key, flat, dtype).reshape(shape)


def uniform(key: jax.Array, shape, dtype=jnp.float32, minval=0.0, maxval=1.0) -> jax.Array:
    """``jax.random.uniform(key, shape, dtype, minval, maxval)``."""
    shape, flat = _flat(shape)
    return jax.random.uniform(key, flat, dtype, minval, maxval).reshape(shape)


def normal(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    """``jax.random.normal(key, shape, dtype)``."""
    shape, flat = _flat(shape)
    return jax.random.normal(key, flat, dtype).reshape(shape)


def bernoulli(key: jax.Array, p, shape) -> jax.Array:
    """``jax.random.bernoulli(key, p, shape)`` (scalar ``p``)."""
    shape, flat = _flat(shape)
    return jax.random.bernoulli(key, p, flat).reshape(shape)


def rademacher(key: jax.Array, shape, dtype=jnp.int8) -> jax.Array:
    """``jax.random.rademacher(key, shape, dtype)``."""
    shape, flat = _flat(shape)
    return jax.random.rademacher(key, flat, dtype).reshape(shape)
