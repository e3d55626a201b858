"""runtime.rng draws the same numbers as jax.random for every shape."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.runtime import rng

SHAPES = [(), (5,), (3, 4), (2, 3, 4, 5), (1, 2, 1, 3)]


@pytest.mark.parametrize("shape", SHAPES)
def test_flat_draws_equal_jax_random(shape):
    k = jax.random.key(7)
    pairs = [
        (rng.bits(k, shape), jax.random.bits(k, shape, jnp.uint32)),
        (rng.uniform(k, shape), jax.random.uniform(k, shape, jnp.float32)),
        (
            rng.uniform(k, shape, jnp.float64 if jax.config.x64_enabled else jnp.float32, -1, 2),
            jax.random.uniform(
                k, shape, jnp.float64 if jax.config.x64_enabled else jnp.float32, -1, 2
            ),
        ),
        (rng.normal(k, shape), jax.random.normal(k, shape, jnp.float32)),
        (rng.bernoulli(k, 0.3, shape), jax.random.bernoulli(k, 0.3, shape)),
        (rng.rademacher(k, shape), jax.random.rademacher(k, shape, dtype=jnp.int8)),
    ]
    for a, b in pairs:
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
