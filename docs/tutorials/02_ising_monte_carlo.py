# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 2. The Ising model and Monte Carlo
#
# The 2D Ising model, $E(s) = -J\sum_{\langle ij\rangle} s_i s_j$ on an $L\times L$ torus, is
# the course's laboratory: it has a phase transition at Onsager's
# $T_c = 2/\ln(1+\sqrt2) \approx 2.269$, and Kaufman solved it exactly on every finite torus,
# so every Monte Carlo number can be checked.
#
# This chapter samples it with Metropolis, puts honest error bars on the averages from the
# integrated autocorrelation time, shows why Wolff's cluster updates win at $T_c$, and
# anneals a MaxCut problem.

# %%
import os

import jax
import matplotlib.pyplot as plt
import numpy as np

from qml_phys.classical.annealing import AnnealConfig, anneal
from qml_phys.classical.samplers import Metropolis
from qml_phys.classical.simulate import SimulationConfig, simulate
from qml_phys.physics import Graph, IsingModel, Lattice, MaxCut, exact
from qml_phys.stats import autocorrelation, integrated_time

QUICK = os.environ.get("QML_PHYS_TUTORIAL_QUICK") == "1"
key = jax.random.key(2)
Tc = exact.onsager_tc()

# %% [markdown]
# ## One model, one sampler interface
#
# A model is specified once in `qml_phys.physics`; a sampler is an immutable configuration,
# and its state (spins, temperatures, key) is carried from call to call, as in NetKet.

# %%
model = IsingModel(Lattice.square(16))
sampler = Metropolis()  # the bit-packed checkerboard engine on this lattice
state = sampler.init(model, [1.8, Tc, 3.0], n_chains=4, key=jax.random.fold_in(key, 1))
state = sampler.sweep(model, state, n_sweeps=500)  # thermalise
state, trace = sampler.sample(model, state, n_sweeps=1000 if QUICK else 5000)
e = np.asarray(trace.energy)  # (n_measurements, n_temperatures, n_chains), per site
ref = exact.kaufman(16, np.array([1.8, Tc, 3.0])).energy_per_site
fig, axes = plt.subplots(1, 3, figsize=(11, 3), sharey=True)
for k, ax in enumerate(axes):
    ax.plot(e[:300, k, 0], lw=0.8)
    ax.axhline(ref[k], color="k", ls="--", lw=1)
    ax.set(title=f"T = {1 / state.betas[k]:.3f}", xlabel="sweep")
axes[0].set_ylabel("energy per site")

# %% [markdown]
# ## Error bars from the integrated autocorrelation time
#
# Successive sweeps are correlated. With the normalised autocorrelation $\rho(t)$ of a
# series, the integrated time $\tau_\mathrm{int} = \tfrac12 + \sum_{t\ge1}\rho(t)$ gives the
# variance of the mean of $n$ samples, $2\tau_\mathrm{int}\sigma^2/n$: the $n$ correlated
# samples are worth $n/2\tau_\mathrm{int}$ independent ones. The sum is cut off by Sokal's
# automatic window. At $T_c$ Metropolis slows down critically.

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
for k in range(3):
    series = e[:, k, :].T  # (chains, time)
    rho = autocorrelation(series)
    tau = integrated_time(series).tau_int
    ax.plot(rho[:60], label=f"T = {1 / state.betas[k]:.3f}: tau_int = {tau:.1f} sweeps")
ax.set(xlabel="lag t (sweeps)", ylabel="autocorrelation of e")
ax.legend()

# %%
sim = simulate(16, Tc, SimulationConfig(n_sweeps=1000 if QUICK else 20000), key=key)
est = sim.observables["energy"]
exact_e = float(exact.kaufman(16, Tc).energy_per_site)
print(f"Metropolis at T_c, L = 16: e = {est}")
print(
    f"Kaufman's exact value:     e = {exact_e:.6f}  (z = {(est.mean - exact_e) / est.error:+.2f})"
)
print(
    f"specific heat: {sim.observables['specific_heat']} "
    f"(exact {float(exact.kaufman(16, Tc).specific_heat_per_site):.4f})"
)

# %% [markdown]
# The error bar is honest: over many seeds the z-scores of such runs have unit spread (the
# [calibration table](../../guide/calibration.md) shows it for every estimator of the package).
#
# ## Wolff at $T_c$
#
# Wolff's algorithm grows one Fortuin-Kasteleyn cluster from a random site and flips it. At
# $T_c$ the clusters are as large as the correlated regions, so one flip decorrelates what
# Metropolis needs many sweeps for. We compare $\tau_\mathrm{int}$ of $|m|$ in units of
# sweeps (a Wolff "sweep" is as many cluster flips as flip $N$ spins on average).

# %%
sizes = [8, 16] if QUICK else [8, 16, 32]
taus = {"metropolis": [], "wolff": []}
for L in sizes:
    for name in taus:
        cfg = SimulationConfig(algorithm=name, n_sweeps=1000 if QUICK else 8000)
        s = simulate(L, Tc, cfg, key=jax.random.fold_in(key, L))
        taus[name].append(s.observables["abs_m"].tau_int * s.sweeps_per_measurement)
fig, ax = plt.subplots(figsize=(6, 3.6))
for name, t in taus.items():
    ax.loglog(sizes, t, "o-", label=name)
ax.set(xlabel="L", ylabel="tau_int(|m|) in sweeps", title="critical slowing down at T_c")
ax.legend()
print({name: np.round(t, 2).tolist() for name, t in taus.items()})

# %% [markdown]
# Metropolis's time grows like $L^z$ with $z \approx 2.17$; Wolff's stays of order one.
# The same sampler interface also runs `SwendsenWang()` and `ParallelTempering()`, and
# `Metropolis()` samples any lattice or graph (the triangular lattice, spin glasses) by
# updating the colours of a proper colouring in turn.
#
# ## Simulated annealing on MaxCut
#
# The same single-spin updates, run while the temperature is lowered, find ground states:
# here the maximum cut of a weighted random graph, written once as `physics.MaxCut`
# (whose energy is minus the cut) and checked by brute force.

# %%
rng = np.random.default_rng(3)
n = 14
pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.4]
graph = Graph(n, pairs, rng.uniform(0.1, 1.0, len(pairs)))
best = exact.reference(MaxCut(graph))["max_cut"]
for n_sweeps in (1, 10, 100) if QUICK else (1, 10, 100, 1000):
    res = anneal(MaxCut(graph), AnnealConfig(n_sweeps=n_sweeps, n_restarts=16), key=key)
    hits = np.mean(np.isclose(-res.energies, best))
    print(
        f"{n_sweeps:5d} sweeps: best cut {-res.best_energy:.4f} of {best:.4f}; "
        f"{hits:.0%} of the 16 restarts reach it"
    )
