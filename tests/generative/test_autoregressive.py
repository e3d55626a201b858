"""Autoregressive models: normalisation, the autoregressive property, exact sampling
(chi-square against exp(log_prob) on a 3x3 lattice) and, in slow tests, the exact KL target
after maximum-likelihood training on exact Boltzmann samples of the 4x4 torus at T_c."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

from qml_phys.errors import InvalidParameterError, ShapeError, UnknownNameError
from qml_phys.generative import autoregressive as ar
from qml_phys.generative import base, models
from qml_phys.generative.evaluate import boltzmann_log_prob, exact_kl, lattice_states
from qml_phys.physics import exact
from qml_phys.runtime.checkpoint import Checkpoint
from qml_phys.stats import chi_square_pvalue
from qml_phys.train import TrainConfig
from tests.generative.helpers import noisy_params

TC = exact.onsager_tc()
SMALL = {
    "made": {"hidden": (16,)},
    "pixelcnn": {"features": 8, "depth": 2},
    "rnn": {"hidden": 8},
    "lstm": {"hidden": 8},
    "transformer": {"d_model": 8, "heads": 2, "layers": 1},
    "local": {"hidden": (8,), "radius": 1},
}


def _random_model(name, L, key, z2=False, scale=0.3):
    model = ar.make_model(name, L, z2=z2, **SMALL[name])
    return model, noisy_params(model, key, scale)


def _index(s):
    s = np.asarray(s).reshape(s.shape[0], -1)
    n = s.shape[1]
    return ((1 - s) // 2).astype(np.int64) @ (1 << np.arange(n - 1, -1, -1))


# made covers the generic masked sampler (shared with pixelcnn and transformer) and rnn its
# own scan sampler in the fast tier; the two costliest compilations run in the slow tier.
@pytest.mark.parametrize(
    ("name", "z2"),
    [
        ("made", False),
        pytest.param("pixelcnn", False, marks=pytest.mark.slow),
        ("rnn", False),
        pytest.param("transformer", False, marks=pytest.mark.slow),
        ("made", True),
        ("local", False),
    ],
)
def test_normalised_and_sampled_exactly(name, z2, key):
    """sum_s p(s) = 1 over all 512 states of 3x3 (the masks are checked on 3x3 below);
    8000 samples of a 2x2 model pass a chi-square test against exp(log_prob)."""
    model, params = _random_model(name, 3, key, z2=z2)
    states = lattice_states(3).astype(np.float32)
    lp = np.asarray(base.log_prob(model, params, states), np.float64)
    assert scipy.special.logsumexp(lp) == pytest.approx(0.0, abs=1e-5)
    # flat input gives the same values
    np.testing.assert_allclose(
        np.asarray(base.log_prob(model, params, states.reshape(-1, 9))), lp, atol=1e-6
    )
    if z2 or name == "local":  # symmetrised (local: odd logits) - p(s) = p(-s)
        np.testing.assert_allclose(lp, lp[::-1], atol=1e-5)
    model, params = _random_model(name, 2, key, z2=z2, scale=0.6)
    lp = np.asarray(base.log_prob(model, params, lattice_states(2).astype(np.float32)))
    s = np.asarray(
        jax.jit(lambda k: base.sample(model, params, k, 8000))(jax.random.fold_in(key, 7))
    )
    assert s.shape == (8000, 2, 2) and set(np.unique(s)) == {-1.0, 1.0}
    counts = np.bincount(_index(s), minlength=16)
    assert chi_square_pvalue(counts, np.exp(lp)) > 1e-3


@pytest.mark.parametrize(("name", "z2"), [("made", False), ("local", False), ("rnn", True)])
def test_fused_sampler_matches_sample_and_log_prob(name, z2, key):
    """The fused sampler (log p summed while drawing: generic masked sampler, the window
    model's scan; the z2 wrapper falls back to a second pass) gives the draws of ``sample``
    for the same key and the ``log_prob`` of those draws."""
    model, params = _random_model(name, 4, key, z2=z2, scale=0.5)
    k = jax.random.fold_in(key, 3)
    s, lq = base.sample_and_log_prob(model, params, k, 300)
    np.testing.assert_array_equal(np.asarray(s), np.asarray(base.sample(model, params, k, 300)))
    lp = np.asarray(base.log_prob(model, params, s))
    assert np.ptp(lp) > 1.0  # a spread of probabilities, so agreement means something
    np.testing.assert_allclose(np.asarray(lq), lp, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", list(ar.MODELS))
def test_autoregressive_property(name, key):
    """Flipping s_j leaves logit_i unchanged for i <= j and changes some later logit."""
    model, params = _random_model(name, 3, key)
    x = np.asarray(lattice_states(3)[37].reshape(1, 9), np.float32)
    flipped = np.repeat(x, 9, axis=0) * (1.0 - 2.0 * np.eye(9, dtype=np.float32))
    logits = np.asarray(
        model.apply({"params": params}, jnp.asarray(np.concatenate([x, flipped])), method="logits")
    )
    change = np.abs(logits[1:] - logits[:1])  # change[j, i]: effect of flipping s_j on logit_i
    assert np.all(change[np.tril_indices(9)] < 1e-6)
    assert all(change[j, j + 1 :].max() > 1e-6 for j in range(8))


def test_bad_input(key):
    model = ar.make_model("made", 3)
    params = base.init_params(model, key=key)
    with pytest.raises(
        ShapeError,
        match=r"lattice shape mismatched with the model: expected spins of shape "
        r"\(\.\.\., 3, 3\) or \(\.\.\., 9\); got shape \(2, 4, 4\)",
    ):
        base.log_prob(model, params, jnp.ones((2, 4, 4), jnp.float32))
    with pytest.raises(
        UnknownNameError,
        match="expected an autoregressive model in made, pixelcnn, rnn, lstm, transformer, "
        "local; got 'gru'",
    ):
        ar.make_model("gru", 4)
    with pytest.raises(
        InvalidParameterError, match=r"expected spins in \{-1,\+1\}; got values \{0, 1\}"
    ):
        models.train_spin_model(
            model, np.zeros((10, 3, 3)) + np.eye(3), TrainConfig(epochs=1), key=key
        )
    with pytest.raises(ShapeError, match=r"expected spins of shape \(n, 3, 3\)"):
        models.train_spin_model(model, np.ones((10, 4, 4)), TrainConfig(epochs=1), key=key)
    with pytest.raises(InvalidParameterError, match="cd_k must be an integer >= 1; got 0"):
        models.SpinTrainConfig(cd_k=0)
    with pytest.raises(InvalidParameterError, match="config: expected a SpinTrainConfig"):
        models.train_spin_model(model, np.ones((10, 3, 3)), {"epochs": 1}, key=key)


def test_nan_in_training_stops_and_keeps_last_good_state(tmp_path, key):
    """A learning rate that blows up: status 'diverged', a warning, finite parameters."""
    states, lp = boltzmann_log_prob(3, TC)
    x = states[np.random.default_rng(0).choice(512, 512, p=np.exp(lp))]
    model = ar.make_model("made", 3, hidden=(8,))
    cfg = TrainConfig(
        epochs=3, batch_size=64, learning_rate=1e30, optimizer="sgd", validation_fraction=0.0
    )
    with pytest.warns(RuntimeWarning, match="non-finite"):
        res = models.train_spin_model(model, x, cfg, key=key, checkpoint=Checkpoint(tmp_path))
    assert res.status == "diverged"
    assert all(bool(jnp.all(jnp.isfinite(v))) for v in jax.tree_util.tree_leaves(res.params))


def _exact_samples(L, T, n, seed):
    states, lp = boltzmann_log_prob(L, T)
    return states[np.random.default_rng(seed).choice(len(states), size=n, p=np.exp(lp))]


def test_made_learns_3x3_quickly(key):
    """Fast: maximum likelihood on 5000 exact samples brings the exact KL below 0.02."""
    x = _exact_samples(3, TC, 5000, 1)
    model = ar.make_model("made", 3, hidden=(16,))
    k_init, k_train = jax.random.split(key)
    untrained = exact_kl(
        models.normalised_log_prob_fn(model, base.init_params(model, key=k_init)), 3, TC
    )
    cfg = TrainConfig(epochs=15, batch_size=128, learning_rate=1e-2)
    res = models.train_spin_model(model, x, cfg, key=k_train)
    kl = exact_kl(models.normalised_log_prob_fn(model, res.params), 3, TC)
    assert untrained > 0.5 and kl < 0.02, (untrained, kl)


KL_SETTINGS = {  # model kwargs, epochs, learning rate, symmetry augmentation
    "made": ({}, 20, 3e-3, False),
    "pixelcnn": ({}, 40, 3e-3, False),
    # without z2: 0.029 (H=64, 60 epochs). H=32 without augmentation: 0.020-0.032 over four
    # keys (it overfits the raster order: best validation epoch 12-29), H=64: 0.017-0.021;
    # H=64 trained on symmetry images: 0.0085-0.0116 over three keys
    "rnn": ({"hidden": 64, "z2": True}, 30, 3e-3, True),
    "transformer": ({}, 40, 3e-3, False),
    "local": ({}, 30, 3e-3, False),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["made", "pixelcnn", "rnn", "transformer", "local"])
def test_kl_target_4x4_at_tc(name, key):
    """Target of issue 4: exact KL < 0.02 nats on the 4x4 torus at T_c (20000 exact samples)."""
    kwargs, epochs, lr, augment = KL_SETTINGS[name]
    x = _exact_samples(4, TC, 20000, 0)
    model = ar.make_model(name, 4, **kwargs)
    cfg = TrainConfig(epochs=epochs, batch_size=256, learning_rate=lr, schedule="cosine")
    cfg = models.SpinTrainConfig(train=cfg, augment=augment)
    res = models.train_spin_model(model, x, cfg, key=key)
    kl = exact_kl(models.normalised_log_prob_fn(model, res.params), 4, TC)
    assert kl < 0.02, kl


@pytest.mark.slow
def test_corrected_local_chain_matches_kaufman_at_L16_tc(tmp_path, key):
    """Issue 4's L = 16 target, judged against the exact answer: a window model trained
    briefly on Wolff configurations at T_c proposes; the 10^5-proposal corrected chain's
    mean energy is within 3 autocorrelation-aware errors of Kaufman's for the 16x16 torus
    (about 1 minute on 2 CPU cores)."""
    from qml_phys.classical.datasets import DatasetConfig, load_dataset, write_dataset
    from qml_phys.generative.evaluate import boltzmann_log_weight, compare_with_reference

    path = tmp_path / "d.h5"
    write_dataset(
        path,
        DatasetConfig(sizes=[16], temperatures=[TC], n_samples=2000),
        key=jax.random.key(3),
        show_progress=False,
    )
    x = load_dataset(path, 16).spins
    model = ar.make_model("local", 16)
    cfg = TrainConfig(epochs=15, batch_size=100, learning_rate=3e-3, schedule="cosine")
    k_train, k_chain = jax.random.split(key)
    params = models.train_spin_model(model, x, cfg, key=k_train).params
    chain = base.independence_metropolis(model, params, k_chain, 100000, boltzmann_log_weight(TC))
    assert chain["acceptance"] > 0.3, chain["acceptance"]
    mh = compare_with_reference(np.asarray(chain["samples"]), x, T=TC, independent=False)
    z = mh["exact"]["energy"]["z_model"]
    assert abs(z) < 3, mh["exact"]["energy"]


def test_independence_metropolis_makes_a_poor_model_exact(key):
    """A random (untrained) MADE proposes; the corrected chain's mean energy on the 3x3
    torus at T = 3 matches exact enumeration within 4 autocorrelation-aware errors, while
    the raw proposals are many errors off."""
    from qml_phys.generative.evaluate import boltzmann_log_weight, ising_energy
    from qml_phys.stats import estimate

    L, T = 3, 3.0
    states, log_p = boltzmann_log_prob(L, T)
    e_exact = float(np.sum(np.exp(log_p) * ising_energy(states)))
    model, params = _random_model("made", L, key)
    target = boltzmann_log_weight(T)
    np.testing.assert_allclose(target(states), -ising_energy(states) / T, rtol=1e-6)
    k1, k2 = jax.random.split(key)
    out = base.independence_metropolis(model, params, k1, 20000, target)
    assert 0.05 < out["acceptance"] < 1.0 and 0.0 < out["ess_fraction"] <= 1.0
    est = estimate(ising_energy(np.asarray(out["samples"])), warn=False)
    assert abs(est.mean - e_exact) < 4 * est.error
    raw = ising_energy(np.asarray(base.sample(model, params, k2, 20000)))
    assert abs(raw.mean() - e_exact) > 10 * raw.std() / np.sqrt(raw.size)
    with pytest.raises(InvalidParameterError, match="at least 2|>= 2|expected n"):
        base.independence_metropolis(model, params, k1, 1, target)


def test_local_window_sees_the_earlier_periodic_neighbours():
    """LocalAR's window tables on the 5x5 torus with r = 1: site (0, 0) has no earlier
    neighbour; site (4, 0) sees row 3 (column 4 wrapped) and its wrapped neighbours in
    row 0, not the later (4, 1) and (4, 4); every window
    entry is a distinct site at chessboard distance <= 1."""
    nb, earlier = ar._window_tables(5, 1)
    assert nb.shape == earlier.shape == (25, 8)
    assert not earlier[0].any()
    site = 4 * 5 + 0
    assert set(nb[site][earlier[site]]) == {15, 16, 19, 0, 1, 4}
    assert all(len(set(row)) == 8 for row in nb)


def test_local_model_samples_a_16x16_lattice_in_one_scan(key):
    """Sampling a 16x16 LocalAR gives spins in {-1,+1} whose log-probabilities are finite
    and symmetric under a global flip; a bad shape is refused by name."""
    model, params = _random_model("local", 16, key)
    s = models.draw_samples(model, params, key, 64)
    assert s.shape == (64, 16, 16) and set(np.unique(np.asarray(s))) == {-1.0, 1.0}
    lp = np.asarray(base.log_prob(model, params, s))
    assert np.all(np.isfinite(lp)) and np.all(lp < 0)
    np.testing.assert_allclose(lp, np.asarray(base.log_prob(model, params, -s)), atol=1e-4)
    for bad in ((4, 5), (16,)):
        with pytest.raises(InvalidParameterError, match=r"LocalAR: expected a square lattice"):
            base.init_params(ar.LocalAR(shape=bad), key=key)


def test_augmented_training_is_refused_off_the_square_lattice():
    model = ar.make_model("made", 3)
    with pytest.raises(InvalidParameterError, match="augment: expected a model of a square"):
        base.nll_loss(ar.MADE(shape=(9,)), augment=True)
    assert callable(base.nll_loss(model, augment=True))
