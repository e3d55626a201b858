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


# ---------------------------------------------------------------- flow-MCMC (free field)


def _flow_free_field(steps, L=6, m2=0.5, n_samples=8000, n_chains=4, local=False):
    """Flow-MCMC on the free field: <phi^2> against the exact propagator. The flow is
    trained once (fixed key, ``steps`` reverse-KL steps); the runs vary only the sampling
    key, so the row calibrates the chain's error bar, not the training. With ``local``,
    one HMC trajectory (step 0.1 jittered, 10 leapfrog steps) follows every flow step."""
    from qml_phys.classical.hmc import HMCConfig
    from qml_phys.generative.flows import FlowConfig, chain_estimates, flow_mcmc, train_flow
    from qml_phys.physics.phi4 import Phi4, free_propagator

    hmc = HMCConfig(n_samples=1, step_size=0.1, n_leapfrog=10) if local else None

    theory = Phi4(L, m2, 0.0)
    epochs = max(1, steps // 100)
    cfg = FlowConfig(epochs=epochs, steps_per_epoch=steps // epochs)
    flow = train_flow(theory, cfg, key=jax.random.key(1))
    acc = flow_mcmc(flow, key=jax.random.key(2), n_samples=n_samples, n_chains=n_chains, local=hmc)

    def run(key):
        res = flow_mcmc(flow, key=key, n_samples=n_samples, n_chains=n_chains, local=hmc)
        est = chain_estimates(res.samples)["phi2"]
        return {"phi2": (est["mean"], est["error"])}

    what = (
        f"flow-MCMC{' + HMC' if local else ''} ({steps} training steps, acceptance "
        f"{acc.acceptance:.2f}; flow trained "
        f"once, sampling key varied), free field L = {L}, m^2 = {m2}, {n_samples} samples: "
        "exact propagator"
    )
    return run, {"phi2": float(free_propagator(L, m2)[0, 0])}, what


# ------------------------------------------------------------------- VAN free energy


def _van_free_energy(L=4, T=2.5, n_steps=1000, n_samples=2000):
    """The sampling error of the variational free energy F_q of one trained VAN, against
    F_q by exact enumeration of all 2^(L*L) states. Calibrates the sampling error only:
    F_q - F (the variational gap, reported apart) is not what the error bar covers."""
    import jax.numpy as jnp

    from qml_phys.generative.van import VANConfig, ising_energy, train_van
    from qml_phys.generative.van import variational_free_energy as vfe

    res = train_van(L, T, VANConfig(n_steps=n_steps, n_samples=2000), key=jax.random.key(3))
    n = L * L
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[::-1]) & 1
    s = jnp.asarray((1 - 2 * bits).reshape(-1, L, L), jnp.float32)
    log_q = np.asarray(res.module.apply({"params": res.params}, s), np.float64)
    e = np.asarray(ising_energy(s), np.float64)
    q = np.exp(log_q)
    f_exact = float(np.sum(q * (e + T * log_q)) / n / np.sum(q))
    _VAN_GAP[(L, T)] = (f_exact, res.exact, float(np.sum(q)))

    def run(key):
        est = vfe(res.module, res.params, key=key, T=T, n_samples=n_samples)
        return {"free_energy": (est.mean, est.error)}

    what = (
        f"VAN (made, {n_steps} steps, trained once), L = {L}, T = {T}, {n_samples} samples: "
        f"F_q by enumeration of 2^{n} states (F_q - F = {f_exact - res.exact:.2e} per site)"
    )
    return run, {"free_energy": f_exact}, what


#: (L, T) -> (F_q by enumeration, Kaufman's F, sum of q) of the last VAN row made
_VAN_GAP: dict = {}


# ------------------------------------------------------- barren-plateau variance interval


def _barren_variance(n_qubits=4, n_layers=20, n_draws=200, n_reference=200_000):
    """Bootstrap error of the gradient variance of random circuits against the variance
    over ``n_reference`` draws (computed once)."""
    from qml_phys.circuits.barren import PlateauConfig, gradient_ensemble
    from qml_phys.stats.bootstrap import bootstrap_variance

    ens = PlateauConfig(layers=n_layers).ensemble(n_qubits)
    ref_key = jax.random.key(4)
    chunks = [
        np.asarray(gradient_ensemble(ens, key=jax.random.fold_in(ref_key, i), n_draws=20_000))
        for i in range(n_reference // 20_000)
    ]
    g = np.concatenate(chunks).astype(np.float64)
    var_first = float(g[:, 0].var(ddof=1))
    reference = {
        "var_first": var_first,
        "ln_var_first": math.log(var_first),
        "var_mean": float(g.var(0).mean()),
    }

    def run(key):
        k_draw, k_boot = jax.random.split(key)
        x = np.asarray(gradient_ensemble(ens, key=k_draw, n_draws=n_draws), np.float64)
        first = bootstrap_variance(x, key=k_boot, reduce="first")
        mean = bootstrap_variance(x, key=k_boot, reduce="mean")
        return {
            "var_first": (first.value, first.stderr),
            "ln_var_first": (math.log(first.value), first.log_stderr),
            "var_mean": (mean.value, mean.stderr),
        }

    what = (
        f"barren plateau ({ens.gates}, {ens.cost} cost, n = {n_qubits}, {n_layers} layers, "
        f"{n_draws} draws; bootstrap stderr, and log_stderr for ln Var as the decay fits use "
        f"it): variance over {n_reference} draws"
    )
    return run, reference, what


# ------------------------------------------------------------- shot-based VQE and QAOA


def _vqe_shots(n=6, n_layers=2, shots=1000):
    """Shot-based HVA energy of the TFIM chain at fixed parameters (the library's
    ``energy_and_error``: qubit-wise commuting groups, ``shots`` each) against the exact
    state-vector expectation."""
    from qml_phys.circuits.ansatz import init_params, make_ansatz
    from qml_phys.circuits.vqe import energy_and_error, energy_of
    from qml_phys.physics import TransverseFieldIsing

    model = TransverseFieldIsing(Lattice.chain(n), J=1.0, gamma=1.0)
    params = init_params(make_ansatz("hva", model), n_layers, key=jax.random.key(5), scale=1.0)
    exact_e = energy_of(model, params, ansatz="hva", device="default.qubit")

    def run(key):
        device = f"default.qubit:shots={shots}"
        return {"energy": energy_and_error(model, params, device=device, key=key)}

    what = (
        f"VQE (HVA, {n_layers} layers, fixed parameters), TFIM chain n = {n}, {shots} shots "
        "per commuting group (`energy_and_error`): state-vector expectation"
    )
    return run, {"energy": exact_e}, what


def _qaoa_shots(p=2, shots=1000):
    """Shot-based QAOA expected cut (3-regular cube graph, fixed angles; the library's
    ``evaluate_qaoa`` on a shot device, ``expectation_error``) against the state vector."""
    from qml_phys.circuits.qaoa import evaluate_qaoa, fixed_angles
    from qml_phys.physics import MaxCut
    from qml_phys.physics.lattice import Graph

    cube = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4)]
    cube += [(i, i + 4) for i in range(4)]
    model = MaxCut(Graph(8, np.array(cube)))
    angles = fixed_angles(p)
    exact_cut = evaluate_qaoa(model, angles, device="default.qubit").expectation

    def run(key):
        r = evaluate_qaoa(model, angles, device=f"default.qubit:shots={shots}", key=key)
        return {"cut": (r.expectation, r.expectation_error)}

    what = (
        f"QAOA (p = {p}, fixed angles), MaxCut of the cube graph, {shots} shots "
        "(`evaluate_qaoa`, `expectation_error`): state vector"
    )
    return run, {"cut": exact_cut}, what


TC = exact.onsager_tc()

# -------------------------------------------------------------- supervised T_c (FSS)


def _supervised_tc(sizes=(8, 16), n_samples=100):
    """Carrasquilla-Melko T_c(inf) from two sizes (finite-size scaling, 5 networks per
    size): each run draws its own Monte Carlo dataset and trains its own networks, so the
    error must cover data, training and the fit; reference Onsager's T_c."""
    from qml_phys.phases.supervised import (
        SupervisedConfig,
        quick_dataset,
        supervised_tc,
        temperature_grid,
    )

    temps = temperature_grid()

    def run(key):
        k_data, k_fit = jax.random.split(key)
        data = quick_dataset(list(sizes), temps, n_samples, key=k_data)
        s = supervised_tc(data, SupervisedConfig(), key=k_fit).summary()
        return {"Tc_inf": (s["Tc_inf"], s["Tc_inf_error"])}

    what = (
        f"supervised T_c (dense, 5 networks per size, L = {', '.join(map(str, sizes))}, "
        f"{len(temps)} temperatures x {n_samples} configurations, fresh data per run): Onsager"
    )
    return run, {"Tc_inf": TC}, what


def _confusion_tc(L=8, n_samples=100, n_bootstrap=20, n_reference=60):
    """Learning-by-confusion T_c (the vertex of the middle peak) at one size with its
    bootstrap error; each run draws its own Monte Carlo data and trains afresh. At finite L
    the peak sits at a pseudo-critical temperature, not at Onsager's T_c, so the reference
    is the mean over ``n_reference`` independent runs (fresh data and training, no
    bootstrap): the error bar claims the spread of one run, and is tested against it."""
    from qml_phys.phases.confusion import ConfusionConfig, confusion_curve
    from qml_phys.phases.supervised import quick_dataset

    temps = np.linspace(1.6, 3.2, 17)

    def one(key, cfg):
        k_data, k_fit = jax.random.split(key)
        data = quick_dataset([L], temps, n_samples, key=k_data)[L]
        return confusion_curve(data, cfg, key=k_fit)

    boot = ConfusionConfig(n_bootstrap=n_bootstrap)

    def run(key):
        c = one(key, boot)
        return {"Tc_vertex": (c.Tc_vertex, c.Tc_error)}

    ref = [
        one(k, ConfusionConfig()).Tc_vertex
        for k in jax.random.split(jax.random.key(11), n_reference)
    ]
    what = (
        f"confusion T_c (dense, L = {L}, {len(temps)} temperatures x {n_samples} "
        f"configurations, {n_bootstrap} bootstrap replicates, fresh data per run): mean "
        f"over {n_reference} independent runs ({np.mean(ref):.4f}, spread "
        f"{np.std(ref, ddof=1):.3f}; Onsager {TC:.4f})"
    )
    return run, {"Tc_vertex": float(np.mean(ref))}, what


# -------------------------------------------------------------- tomography


def _tomography(n=4, n_samples=2000, n_reference=400):
    """Fidelity and energy of the reconstructed Heisenberg ground state (N = 4, Z plus the
    neighbouring XX/XY bases) with their bootstrap errors; each run measures afresh and
    trains afresh. The reference is the mean over ``n_reference`` independent experiments
    (fresh data, fresh initialisation, trained together by ``fit_counts``): the error bar
    claims the spread over repetitions of the experiment, so that is what it is tested
    against (the reference's own error is that spread / 20)."""
    from qml_phys.nqs import tomography as T
    from qml_phys.physics import Heisenberg

    model = Heisenberg(Lattice.chain(n))
    cfg = T.TomographyConfig()

    def run(key):
        r = T.tomography_demo(model, n_samples=n_samples, config=cfg, key=key)
        return {
            "fidelity": (r.fidelity, r.fidelity_error),
            "energy": (r.energy_reconstructed, r.energy_reconstructed_error),
        }

    _, vecs = exact.lanczos(model, return_vectors=True)
    psi0 = vecs[:, 0]
    bases = T.pair_bases(n)
    k_data, k_fit = jax.random.split(jax.random.key(7))
    counts = [
        T.outcome_counts(T.measure(psi0, bases, n_samples, key=k))
        for k in jax.random.split(k_data, n_reference)
    ]
    stacked = {b: np.stack([c[b] for c in counts]) for b in bases}
    psi, _ = T.fit_counts(stacked, cfg, key=k_fit)
    fids = np.array([T.fidelity(psi0, p) for p in psi])
    energies = np.array([T.energy(model, p) for p in psi])
    what = (
        f"tomography of the Heisenberg chain N = {n} ({len(bases)} bases x {n_samples} "
        f"samples, {cfg.bootstrap} bootstrap refits): mean over {n_reference} independent "
        f"experiments (fidelity {fids.mean():.5f}, spread {fids.std(ddof=1):.1e})"
    )
    return run, {"fidelity": float(fids.mean()), "energy": float(energies.mean())}, what


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
    "flow_mcmc_low_acceptance": lambda: _flow_free_field(150),
    "flow_mcmc_low_acceptance_hmc": lambda: _flow_free_field(150, local=True),
    "flow_mcmc_high_acceptance": lambda: _flow_free_field(1000, L=4),
    "flow_mcmc_high_acceptance_hmc": lambda: _flow_free_field(1000, L=4, local=True),
    "van_free_energy": _van_free_energy,
    "barren_variance": _barren_variance,
    "vqe_shots": _vqe_shots,
    "qaoa_shots": _qaoa_shots,
    "supervised_tc": _supervised_tc,
    "confusion_tc": _confusion_tc,
    "tomography": _tomography,
}

assert math.isfinite(TC)
