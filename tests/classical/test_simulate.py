"""simulate / temperature_scan: every algorithm agrees with Kaufman's exact values."""

import jax
import numpy as np
import pytest

from qml_phys.classical.simulate import (
    SimulationConfig,
    check_algorithm,
    simulate,
    temperature_scan,
)
from qml_phys.errors import InvalidParameterError, UnknownNameError
from qml_phys.physics import exact
from qml_phys.stats.fits import curves_crossing


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff", "swendsen-wang"])
def test_simulate_matches_kaufman_at_L8(algorithm):
    T = 2.3
    sim = simulate(8, T, SimulationConfig(algorithm, n_sweeps=3000), key=jax.random.key(5))
    ref = exact.kaufman(8, T)
    for name, exact_value in (
        ("energy", ref.energy_per_site),
        ("specific_heat", ref.specific_heat_per_site),
    ):
        est = sim.observables[name]
        assert abs(est.mean - exact_value) < 4 * est.error, (name, est, exact_value)
    assert sim.energy.shape == (4, 3000) and sim.spins.shape == (4, 8, 8)
    assert sim.observables["energy"].rhat < 1.05
    summary = sim.summary()
    assert summary["status"] == "completed" and summary["config"]["algorithm"] == algorithm
    assert summary["observables"]["energy"]["mean"] == est_mean(sim)


def est_mean(sim):
    return sim.observables["energy"].mean


def test_temperature_scan_agrees_with_kaufman_and_enumeration():
    temps = np.array([1.5, 2.269, 3.5])
    r = temperature_scan(4, temps, SimulationConfig(n_sweeps=4000), key=jax.random.key(2))
    ref = exact.kaufman(4, temps)
    z = (r["energy"] - ref.energy_per_site) / r["energy_error"]
    assert np.all(np.abs(z) < 4), z
    for i, T in enumerate(temps):
        en = exact.enumerate_ising(4, T)
        assert abs(r["binder"][i] - en.binder) < 4 * r["binder_error"][i] + 1e-9
        assert abs(r["abs_m"][i] - en.abs_m) < 4 * r["abs_m_error"][i]
    assert np.all(r["energy_tau_int"] >= 0.3)


def test_bad_input():
    with pytest.raises(UnknownNameError, match="unknown algorithm 'heatbath'"):
        check_algorithm("heatbath")
    with pytest.raises(InvalidParameterError, match="positive, finite temperature; got -2"):
        simulate(8, -2, key=jax.random.key(0))
    with pytest.raises(InvalidParameterError, match="L must be an integer >= 2; got 1"):
        simulate(1, 2.0, key=jax.random.key(0))
    with pytest.raises(InvalidParameterError, match="n_sweeps must be an integer >= 1; got 0"):
        SimulationConfig(n_sweeps=0)
    from qml_phys.physics import IsingModel, Lattice

    with pytest.raises(InvalidParameterError, match="periodic square lattice"):
        simulate(IsingModel(Lattice.chain(8)), 2.0, key=jax.random.key(0))


@pytest.mark.slow
def test_binder_cumulants_cross_within_one_percent_of_tc():
    """Binder cumulants of L = 16, 32, 64 cross within 1% of Onsager's Tc."""
    Tc = exact.onsager_tc()
    temps = np.linspace(2.20, 2.34, 15)
    cfg = SimulationConfig(n_sweeps=40000)
    key = jax.random.key(100)
    u = {L: temperature_scan(L, temps, cfg, key=jax.random.fold_in(key, L)) for L in (16, 32, 64)}
    for a, b in ((16, 32), (32, 64), (16, 64)):
        t = curves_crossing(temps, u[a]["binder"], u[b]["binder"])
        assert abs(t / Tc - 1) < 0.01, (a, b, t)
