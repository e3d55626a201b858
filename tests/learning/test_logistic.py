"""Softmax as a Boltzmann distribution; logistic regression vs a network on Ising phases;
temperature regression; the trainer's regularisation switches on a phase classifier."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.learning import logistic as G
from qml_phys.learning.regression import split
from qml_phys.physics import exact
from qml_phys.train import TrainConfig


@pytest.mark.parametrize("T", [0.8, 2.0, 5.0])
def test_softmax_of_level_energies_is_the_exact_boltzmann_distribution(T):
    # 3x3 torus: softmax(-E/T + log g) over energy levels = exact enumeration
    dos = exact.ising_density_of_states(3)
    g = dos.counts.sum(axis=1).astype(np.float64)
    ref = exact.enumerate_ising(3, T)
    with jax.enable_x64(True):
        E = jnp.asarray(dos.energies, jnp.float64)
        p = np.asarray(G.boltzmann(E, T, degeneracy=jnp.asarray(g)))
        # log Z = logsumexp(logits): the free energy of the "classes"
        lnz = float(jax.scipy.special.logsumexp(-E / T + jnp.log(jnp.asarray(g))))
    np.testing.assert_allclose(ref.energies, np.sort(dos.energies))
    order = np.argsort(dos.energies)
    np.testing.assert_allclose(p[order], ref.probabilities, rtol=1e-12)
    assert lnz / 9 == pytest.approx(float(ref.ln_z_per_site), rel=1e-12)


def test_boltzmann_limits_and_shift_invariance():
    E = jnp.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(G.boltzmann(E, 1.0), G.boltzmann(E + 5.0, 1.0), rtol=1e-6)
    np.testing.assert_allclose(G.boltzmann(E, 1e-3), [0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(G.boltzmann(E, 1e6), [1 / 3] * 3, atol=1e-5)
    with pytest.raises(InvalidParameterError, match="T: expected a temperature > 0; got -1"):
        G.boltzmann(E, -1.0)
    with pytest.raises(ShapeError, match=r"degeneracy: expected shape \(3,\); got \(2,\)"):
        G.boltzmann(E, 1.0, degeneracy=jnp.ones(2))


def _split(ising8, frac=0.3):
    data = G.phase_data(ising8.spins, ising8.label)
    tr, te = split(len(ising8.spins), frac, key=jax.random.key(0))
    return data, tr, te


def test_linear_classifier_fails_on_raw_spins_where_a_network_succeeds(ising8):
    # a linear function of the spins is odd under the global flip, the phase label is even:
    # logistic regression is near chance, the one-hidden-layer net and logistic regression
    # on |m|, e are not
    data, tr, te = _split(ising8)
    F = G.invariant_features(ising8.spins)
    cfg = TrainConfig(epochs=40, batch_size=32, learning_rate=1e-2, validation_fraction=0)
    r = G.compare_phase_classifiers(
        {k: v[tr] for k, v in data.items()},
        {k: v[te] for k, v in data.items()},
        config=cfg,
        key=jax.random.key(0),
        features_train=F[tr],
        features_test=F[te],
    )
    majority = max(np.mean(data["y"][te]), 1 - np.mean(data["y"][te]))
    # near chance: within ~4 binomial standard deviations of the majority-class rate
    n_test = len(te)
    m = r.models
    assert m["logistic"]["test_accuracy"] < majority + 4 * np.sqrt(0.25 / n_test)
    assert m["mlp"]["test_accuracy"] > m["logistic"]["test_accuracy"] + 0.15
    assert m["logistic_invariant"]["test_accuracy"] > 0.85
    assert r.status == "completed" and set(r.summary()["models"]) == set(m)


def test_temperature_regression_from_invariant_features(ising8):
    tr, te = split(len(ising8.spins), 0.3, key=jax.random.key(1))
    r = G.temperature_regression(ising8.spins[tr], ising8.T[tr], ising8.spins[te], ising8.T[te])
    assert r.test_r2 > 0.6  # far from a constant predictor (R^2 = 0)
    assert r.test_rmse < 0.6 * np.std(ising8.T[te])


def test_invariant_features_match_dataset_observables(ising8):
    F = G.invariant_features(ising8.spins)
    np.testing.assert_allclose(F[:, 0], np.abs(ising8.magnetization), atol=1e-6)
    np.testing.assert_allclose(F[:, 2], ising8.energy, atol=1e-6)


@pytest.mark.slow
def test_regularisation_switches_change_generalisation_of_a_phase_classifier(ising8):
    r = G.phase_regularisation_comparison(ising8.spins, ising8.label, key=jax.random.key(0)).models
    base = r["none"]
    gap = base["test_cross_entropy"] - base["train_cross_entropy"]
    assert gap > 0.3  # the unregularised network over-fits 320 configurations
    wd = r["weight_decay"]
    assert wd["param_norm"] < 0.6 * base["param_norm"]
    assert wd["test_cross_entropy"] < base["test_cross_entropy"] - 0.1
    do = r["dropout"]
    assert do["test_cross_entropy"] - do["train_cross_entropy"] < gap - 0.1
    es = r["early_stopping"]
    assert es["status"] == "early_stopped" and es["epochs"] < 100
    assert es["test_cross_entropy"] < base["test_cross_entropy"] - 0.1
    assert r["batch_norm"]["status"] == "completed"


@pytest.mark.slow
def test_logistic_regression_against_the_phase_detection_network(ising8):
    pytest.importorskip("qml_phys.phases.supervised")
    from qml_phys.phases.supervised import SupervisedConfig

    cfg = TrainConfig(epochs=15, batch_size=32, learning_rate=1e-2, validation_fraction=0)
    r = G.compare_with_phase_networks(
        ising8, SupervisedConfig(train=cfg), key=jax.random.key(0)
    ).models
    # with flip augmentation a linear classifier can only learn the bias: near chance
    assert r["logistic"]["test_accuracy"] < 0.65
    assert r["dense"]["test_accuracy"] > r["logistic"]["test_accuracy"] + 0.2
