"""Checks that need a GPU (skipped without one): the same programs give the same numbers.

The Metropolis engines draw their random numbers from a counter-based hash of (key, site,
sweep), so a chain is bitwise identical on every backend; the barren-plateau engine and
the trainer are deterministic up to floating-point reassociation.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.classical import metropolis as mp
from qml_phys.physics.exact import kaufman

pytestmark = pytest.mark.gpu


def _on(device, fn, *args):
    with jax.default_device(device):
        return jax.device_get(fn(*[jax.device_put(a, device) for a in args]))


@pytest.mark.parametrize("method", ["packed", "general"])
def test_metropolis_chains_are_bitwise_identical_on_gpu_and_cpu(method):
    cpu, gpu = jax.devices("cpu")[0], jax.devices("gpu")[0]
    key = jax.random.key(11)
    spins = mp.init_spins(key, 3, 2, 64)
    betas = jnp.asarray([0.3, 0.44, 0.6], jnp.float32)

    def run(s, b):
        return mp.sweep(key, s, b, n_sweeps=50, method=method)

    a, b = _on(cpu, run, spins, betas), _on(gpu, run, spins, betas)
    np.testing.assert_array_equal(a, b)


def test_gpu_energy_matches_kaufman():
    gpu = jax.devices("gpu")[0]
    L, T = 32, 2.5
    key = jax.random.key(3)
    with jax.default_device(gpu):
        spins = mp.init_spins(key, 1, 64, L)
        _, trace = mp.run(key, spins, jnp.asarray([1 / T], jnp.float32), n_sweeps=2000)
    e = np.asarray(trace.energy)[500:, 0, :]  # (n_meas, chains) per-site energy, burn-in cut
    chain_means = e.mean(axis=0)
    mean, err = chain_means.mean(), chain_means.std(ddof=1) / np.sqrt(len(chain_means))
    exact = float(kaufman(L, T).energy_per_site)
    assert abs(mean - exact) < 4 * err, (mean, err, exact)
