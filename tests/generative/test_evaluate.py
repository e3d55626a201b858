"""Evaluation yardsticks against exact enumeration (qml_phys.generative.evaluate)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError, TooLargeError
from qml_phys.generative.evaluate import (
    boltzmann_log_prob,
    check_spins,
    compare_with_reference,
    exact_kl,
    ising_energy,
    lattice_states,
    sample_observables,
)
from qml_phys.physics import exact

TC = exact.onsager_tc()


def test_check_spins_accepts_and_rejects():
    s = np.array([[1, -1], [-1, -1]], dtype=np.int8)
    assert check_spins(s, shape=(2,)) is s
    j = jnp.ones((3, 2, 2), jnp.float32)
    assert check_spins(j, shape=(2, 2)) is j
    with pytest.raises(
        InvalidParameterError, match=r"expected spins in \{-1,\+1\}; got values \{0, 1\}"
    ):
        check_spins(np.array([[0, 1], [1, 0]]))
    with pytest.raises(InvalidParameterError, match=r"got values \{1, nan\}"):
        check_spins(np.array([[np.nan, 1.0]]))
    with pytest.raises(
        ShapeError, match=r"expected spins of shape \(n, 4, 4\).*got shape \(3, 3, 3\)"
    ):
        check_spins(np.ones((3, 3, 3)), shape=(4, 4))
    with pytest.raises(ShapeError, match=r"got shape \(4, 4\)"):
        check_spins(np.ones((4, 4)), shape=(4, 4))  # no batch axis


def test_check_spins_inside_jit_checks_shape_only():
    f = jax.jit(lambda x: check_spins(x, shape=(3,)).sum())
    assert float(f(jnp.ones((2, 3), jnp.float32))) == 6.0
    with pytest.raises(ShapeError):
        f(jnp.ones((2, 4), jnp.float32))


def test_boltzmann_matches_enumeration():
    """ln Z, <e> and <|m|> from the evaluation helpers equal physics.exact.enumerate_ising."""
    for L in (2, 3):
        states, log_p = boltzmann_log_prob(L, TC)
        ref = exact.enumerate_ising(L, TC)
        p = np.exp(log_p)
        n = L * L
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        e = ising_energy(states) / n
        assert p @ e == pytest.approx(float(ref.energy_per_site), rel=1e-12)
        am = np.abs(states.reshape(-1, n).sum(1)) / n
        assert p @ am == pytest.approx(float(ref.abs_m), rel=1e-12)
    # ln Z of the 4x4 torus against Kaufman (exact, independent formula)
    states, log_p = boltzmann_log_prob(4, 2.0)
    lw = -ising_energy(states) / 2.0
    assert (lw - log_p)[0] / 16 == pytest.approx(
        float(exact.kaufman(4, 2.0).ln_z_per_site), rel=1e-12
    )


def test_exact_kl_of_known_distributions():
    L, T = 3, TC
    states, log_p = boltzmann_log_prob(L, T)
    table = {tuple(s.ravel()): lp for s, lp in zip(states, log_p, strict=True)}

    def boltzmann(x):
        return np.array([table[tuple(np.asarray(r, np.int8).ravel())] for r in np.asarray(x)])

    assert exact_kl(boltzmann, L, T) == pytest.approx(0.0, abs=1e-12)
    uniform = lambda x: np.full(x.shape[0], -L * L * np.log(2.0))
    # KL(p || uniform) = N ln 2 - H(p) = N ln 2 + sum p ln p
    p = np.exp(log_p)
    assert exact_kl(uniform, L, T, flat=True) == pytest.approx(
        L * L * np.log(2.0) + p @ log_p, rel=1e-12
    )
    with pytest.raises(InvalidParameterError, match="expected a normalised model"):
        exact_kl(lambda x: np.zeros(x.shape[0]), L, T)
    with pytest.raises(ShapeError, match=r"expected log_prob_fn to return shape \(512,\)"):
        exact_kl(lambda x: np.zeros((x.shape[0], 1)), L, T)
    with pytest.raises(TooLargeError, match="expected L\\*L <= 20; got L=5"):
        exact_kl(uniform, 5, T)


def test_sample_observables_match_exact_on_exact_samples():
    """Exact i.i.d. Boltzmann samples of the 3x3 torus: estimates within 3 sigma of exact."""
    L, T = 3, 2.5
    states, log_p = boltzmann_log_prob(L, T)
    rng = np.random.default_rng(7)
    idx = rng.choice(states.shape[0], size=20000, p=np.exp(log_p))
    obs = sample_observables(states[idx], T=T)
    ref = exact.enumerate_ising(L, T)
    for name, value in (
        ("energy", ref.energy_per_site),
        ("abs_m", ref.abs_m),
        ("specific_heat", ref.specific_heat_per_site),
    ):
        est = obs[name]
        assert 0 < est.error < 0.05
        assert abs(est.mean - float(value)) < 3 * est.error, (name, est, float(value))
    # as a correlated chain the same data gives comparable errors (tau ~ 1/2)
    chain = sample_observables(states[idx], T=T, independent=False)
    assert chain["energy"].error == pytest.approx(obs["energy"].error, rel=0.2)


def test_compare_with_reference_detects_a_wrong_temperature():
    L, T = 3, 2.5
    rng = np.random.default_rng(11)
    states, log_p = boltzmann_log_prob(L, T)
    _, log_p_cold = boltzmann_log_prob(L, 1.5)
    draw = lambda lp, n: states[rng.choice(states.shape[0], size=n, p=np.exp(lp))]
    ref = draw(log_p, 5000)
    same = compare_with_reference(draw(log_p, 5000), ref, T=T)
    assert set(same["observables"]) == {"energy", "abs_m", "specific_heat"}
    assert same["max_abs_z"] < 4.0
    assert same["ks_abs_m"]["pvalue"] > 1e-3
    # Kaufman's exact torus values, checked here against enumeration, judge both sets
    exact_e = float(np.sum(np.exp(log_p) * ising_energy(states)) / L**2)
    assert same["exact"]["energy"]["value"] == pytest.approx(exact_e, rel=1e-10)
    for name in ("energy", "specific_heat"):
        assert abs(same["exact"][name]["z_model"]) < 4
        assert abs(same["exact"][name]["z_reference"]) < 4
    wrong = compare_with_reference(draw(log_p_cold, 5000), ref, T=T)
    assert wrong["observables"]["energy"]["z"] < -10
    assert wrong["exact"]["energy"]["z_model"] < -10
    assert wrong["ks_abs_m"]["pvalue"] < 1e-6
    with pytest.raises(ShapeError, match="same lattice"):
        compare_with_reference(ref, lattice_states(2), T=T)
    with pytest.raises(ShapeError, match=r"expected samples of shape \(n, L, L\)"):
        compare_with_reference(ref.reshape(-1, 9), ref, T=T)
