"""The estimators of studies/calibration.py: each entry makes ``(estimator, reference,
description)``, where ``estimator(key) -> {quantity: (value, error)}`` runs one independent
estimate through the package's public API and ``reference`` holds the exact values."""

import math

import jax
import numpy as np

from qml_phys.classical.simulate import SimulationConfig, simulate
from qml_phys.physics import IsingModel, Lattice, exact


def _ising(L, T, algorithm, n_sweeps):
    model = IsingModel(Lattice.square(L))
    ref = exact.reference(model, T=T)
    cfg = SimulationConfig(algorithm=algorithm, n_sweeps=n_sweeps)

    def run(key):
        o = simulate(model, T, cfg, key=key).observables
        return {
            "energy": (o["energy"].mean, o["energy"].error),
            "specific_heat": (o["specific_heat"].mean, o["specific_heat"].error),
        }

    reference = {
        "energy": ref["energy_per_site"],
        "specific_heat": ref["specific_heat_per_site"],
    }
    return run, reference, f"{algorithm}, L = {L}, T = {T:.4g}: Kaufman"


def _ising_small(L, T, algorithm, n_sweeps):
    """|m| and the Binder cumulant of a small torus against exact enumeration."""
    model = IsingModel(Lattice.square(L))
    en = exact.enumerate_ising(L, T)
    cfg = SimulationConfig(algorithm=algorithm, n_sweeps=n_sweeps)

    def run(key):
        o = simulate(model, T, cfg, key=key).observables
        return {
            "abs_m": (o["abs_m"].mean, o["abs_m"].error),
            "binder": (o["binder"].mean, o["binder"].error),
        }

    reference = {"abs_m": float(en.abs_m), "binder": float(en.binder)}
    return run, reference, f"{algorithm}, L = {L}, T = {T:.4g}: enumeration"


def _hmc_free_field(L=6, m2=0.5, n_samples=2000):
    """HMC on the free field (lambda = 0): <phi^2> against the exact propagator."""
    from qml_phys.classical.hmc import HMCConfig, run_hmc
    from qml_phys.physics.phi4 import Phi4, free_propagator
    from qml_phys.stats import estimate

    theory = Phi4(L, m2, 0.0)
    phi2 = float(free_propagator(L, m2)[0, 0])
    cfg = HMCConfig(n_samples=n_samples, step_size=0.1, n_leapfrog=10, n_therm=200)

    def run(key):
        k0, k1 = jax.random.split(key)
        x0 = 0.1 * jax.random.normal(k0, (4, L, L), jax.numpy.float32)
        res = run_hmc(theory.action, x0, cfg, key=k1)
        series = np.mean(np.asarray(res.samples, np.float64) ** 2, axis=(-1, -2))
        est = estimate(series, warn=False)
        return {"phi2": (est.mean, est.error)}

    return run, {"phi2": phi2}, f"HMC, free field L = {L}, m^2 = {m2}: exact propagator"


TC = exact.onsager_tc()

#: name -> maker of (estimator, reference, description)
ESTIMATORS = {
    "metropolis_tc": lambda: _ising(16, TC, "metropolis", 4000),
    "metropolis_T2": lambda: _ising(16, 2.0, "metropolis", 2000),
    "metropolis_T3": lambda: _ising(16, 3.0, "metropolis", 2000),
    "wolff_tc": lambda: _ising(16, TC, "wolff", 2000),
    "swendsen_wang_tc": lambda: _ising(16, TC, "swendsen-wang", 2000),
    "wolff_T2p6": lambda: _ising(16, 2.6, "wolff", 2000),
    "metropolis_L4_binder": lambda: _ising_small(4, TC, "metropolis", 4000),
    "hmc_free_field": _hmc_free_field,
}

assert math.isfinite(TC)
