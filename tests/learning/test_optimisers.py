"""SGD/momentum/Adam on chain-energy regression: the exact GD stability threshold, the
convex optimum, vmap over runs equal to separate runs."""

import dataclasses

import jax
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, UnknownNameError
from qml_phys.learning import optimisers as O


@pytest.fixture(scope="module")
def linear():
    return O.linear_energy_task(8, 256, key=jax.random.key(0))


def test_gradient_descent_is_stable_exactly_below_two_over_lambda_max(linear):
    loss, init, data, H = linear
    lmax = np.linalg.eigvalsh(H)[-1]
    config = O.OptimiserConfig(optimizer="sgd", n_steps=400, log_every=40, n_runs=2)
    key = jax.random.key(0)
    below = O.loss_curves(
        loss, init, data, dataclasses.replace(config, learning_rate=0.95 * 2 / lmax), key=key
    )
    above = O.loss_curves(
        loss, init, data, dataclasses.replace(config, learning_rate=1.05 * 2 / lmax), key=key
    )
    assert not below.diverged.any() and np.all(below.final < 1e-6)
    assert below.status == "completed"
    assert above.diverged.all() and above.status == "diverged"


def test_all_optimisers_reach_the_noise_free_optimum_and_momentum_beats_sgd(linear):
    loss, init, data, H = linear
    # a small step: plain GD crawls along the shallowest direction, momentum (beta = 0.9)
    # takes ~1/(1 - beta) = 10 times longer effective steps
    lr = 0.02 / np.linalg.eigvalsh(H)[-1]
    r = O.compare_optimisers(
        loss,
        init,
        data,
        O.OptimiserConfig(n_steps=200, log_every=20, n_runs=3),
        key=jax.random.key(1),
        optimizers=("sgd", "momentum"),
        learning_rates=(lr,),
    )
    sgd, mom = r.curves["sgd"][lr], r.curves["momentum"][lr]
    # the energies are exactly linear in the features: the minimum loss is 0
    assert np.all(mom.final < 1e-6 * mom.loss[:, 0])
    assert np.all(mom.final < 1e-3 * sgd.final)
    assert mom.loss.shape == (3, 11) and np.all(mom.std >= 0)
    assert r.best_lr == {"sgd": lr, "momentum": lr}
    # the same key: both optimisers start from the same initialisations
    np.testing.assert_array_equal(mom.loss[:, 0], sgd.loss[:, 0])


def test_vmapped_runs_equal_separate_runs_and_adam_trains_a_network():
    loss, init, data = O.chain_energy_task(8, 128, key=jax.random.key(1), hidden=8)
    config = O.OptimiserConfig(
        optimizer="adam", learning_rate=1e-2, n_steps=200, log_every=50, batch_size=32
    )
    key = jax.random.key(3)
    both = O.loss_curves(loss, init, data, dataclasses.replace(config, n_runs=2), key=key)
    one = O.loss_curves(loss, init, data, dataclasses.replace(config, n_runs=1), key=key)
    # run i draws from fold_in(key, i): the first run is the same, alone or vmapped with others
    np.testing.assert_allclose(both.loss[0], one.loss[0], rtol=1e-4)
    assert not np.allclose(both.loss[0], both.loss[1])  # the runs are independent
    assert np.all(both.final < 0.3 * both.loss[:, 0])  # it learns the energy
    np.testing.assert_array_equal(both.steps, [0, 50, 100, 150, 200])
    np.testing.assert_allclose(both.mean, both.loss.mean(axis=0))


def test_bad_input(linear):
    loss, init, data, _ = linear
    with pytest.raises(
        InvalidParameterError, match="n_steps: expected a multiple of log_every = 30"
    ):
        O.OptimiserConfig(optimizer="sgd", learning_rate=0.1, n_steps=100, log_every=30)
    with pytest.raises(UnknownNameError, match="optimizer: expected one of"):
        O.OptimiserConfig(optimizer="lbfgs", learning_rate=0.1, n_steps=10, log_every=10)
    with pytest.raises(InvalidParameterError, match="n_runs must be an integer >= 1"):
        O.OptimiserConfig(n_runs=0)
