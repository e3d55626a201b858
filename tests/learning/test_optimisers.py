"""SGD/momentum/Adam on chain-energy regression: the exact GD stability threshold, the
convex optimum, vmap over seeds equal to separate runs."""

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
    below = O.seed_curves(
        loss,
        init,
        data,
        optimizer="sgd",
        learning_rate=0.95 * 2 / lmax,
        steps=400,
        log_every=40,
        seeds=(0, 1),
    )
    above = O.seed_curves(
        loss,
        init,
        data,
        optimizer="sgd",
        learning_rate=1.05 * 2 / lmax,
        steps=400,
        log_every=40,
        seeds=(0, 1),
    )
    assert not below["diverged"].any() and np.all(below["final"] < 1e-6)
    assert above["diverged"].all()


def test_all_optimisers_reach_the_noise_free_optimum_and_momentum_beats_sgd(linear):
    loss, init, data, H = linear
    # a small step: plain GD crawls along the shallowest direction, momentum (beta = 0.9)
    # takes ~1/(1 - beta) = 10 times longer effective steps
    lr = 0.02 / np.linalg.eigvalsh(H)[-1]
    r = O.compare_optimisers(
        loss,
        init,
        data,
        optimizers=("sgd", "momentum"),
        learning_rates=(lr,),
        steps=200,
        log_every=20,
        seeds=(0, 1, 2),
    )
    sgd, mom = r["sgd"]["by_lr"][lr], r["momentum"]["by_lr"][lr]
    # the energies are exactly linear in the features: the minimum loss is 0
    assert np.all(mom["final"] < 1e-6 * mom["loss"][:, 0])
    assert np.all(mom["final"] < 1e-3 * sgd["final"])
    assert mom["loss"].shape == (3, 11) and np.all(mom["std"] >= 0)


def test_vmapped_seeds_equal_separate_runs_and_adam_trains_a_network():
    loss, init, data = O.chain_energy_task(8, 128, key=jax.random.key(1), hidden=8)
    both = O.seed_curves(
        loss,
        init,
        data,
        optimizer="adam",
        learning_rate=1e-2,
        steps=200,
        log_every=50,
        batch_size=32,
        seeds=(3, 4),
    )
    one = O.seed_curves(
        loss,
        init,
        data,
        optimizer="adam",
        learning_rate=1e-2,
        steps=200,
        log_every=50,
        batch_size=32,
        seeds=(4,),
    )
    np.testing.assert_allclose(both["loss"][1], one["loss"][0], rtol=1e-4)
    assert np.all(both["final"] < 0.3 * both["loss"][:, 0])  # it learns the energy


def test_bad_input(linear):
    loss, init, data, _ = linear
    with pytest.raises(InvalidParameterError, match="steps: expected a multiple of log_every = 30"):
        O.seed_curves(loss, init, data, optimizer="sgd", learning_rate=0.1, steps=100, log_every=30)
    with pytest.raises(UnknownNameError, match="optimizer: expected one of"):
        O.seed_curves(
            loss, init, data, optimizer="lbfgs", learning_rate=0.1, steps=10, log_every=10
        )
