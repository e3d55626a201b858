# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 8. Hopfield networks and restricted Boltzmann machines
#
# The two oldest neural networks of statistical physics are Ising models. A **Hopfield
# network** (Hopfield, PNAS 79, 2554 (1982)) is an Ising model whose couplings are built
# from patterns so that the patterns become energy minima: memory is relaxation to the
# nearest minimum. A **restricted Boltzmann machine** (Smolensky 1986; Hinton, Neural
# Comput. 14, 1771 (2002)) is an Ising model on a bipartite graph of visible and hidden
# spins; summing out the hidden layer leaves a distribution over the visible spins that
# can be trained to reproduce data, here Ising configurations themselves (Torlai & Melko,
# Phys. Rev. B 94, 165134 (2016), arXiv:1606.02718).
#
# This chapter stores and retrieves patterns, measures the storage capacity
# $\alpha_c \approx 0.138$, trains RBMs by contrastive divergence on configurations of the
# $4\times4$ and $8\times8$ torus, reads the Ising couplings back out of a trained RBM,
# and checks the annealed-importance-sampling estimate of its partition function against
# the exact one.

# %%
import os

import jax
import matplotlib.pyplot as plt
import numpy as np

from qml_phys.classical.datasets import SnapshotConfig, quick_dataset
from qml_phys.generative import evaluate, hopfield, rbm
from qml_phys.generative.models import (
    CompareConfig,
    SpinTrainConfig,
    draw_samples,
    normalised_log_prob_fn,
    train_and_compare,
    train_spin_model,
)
from qml_phys.physics import exact
from qml_phys.train import TrainConfig

QUICK = os.environ.get("QML_PHYS_TUTORIAL_QUICK") == "1"  # reduced sizes for the tests
key = jax.random.key(8)
Tc = exact.onsager_tc()

# %% [markdown]
# ## Hopfield: storing patterns in couplings
#
# $P$ random patterns $\xi^\mu \in \{-1,+1\}^N$ are stored with Hebb's rule,
# $W_{ij} = \frac1N\sum_\mu \xi^\mu_i\xi^\mu_j$ ($W_{ii} = 0$), and recalled by
# zero-temperature dynamics: one spin at a time, $s_i \leftarrow \mathrm{sign}(\sum_j
# W_{ij}s_j)$. Each update can only lower the energy $E = -\frac12 s^\top W s$, so the
# dynamics ends in a local minimum. For $P \ll N$ the patterns are minima: the field on
# spin $i$ in pattern $\xi^1$ is $\xi^1_i$ plus crosstalk from the other patterns, a sum of
# $(P-1)(N-1)$ random signs over $N$, of size about $\sqrt{P/N}$.
#
# We store 6 patterns of $N = 100$ spins (pictured as $10\times10$), start from the first
# pattern with 25% of its spins flipped, and let it relax.

# %%
N_demo, P_demo = 100, 6
xi = hopfield.random_patterns(jax.random.fold_in(key, 1), P_demo, N_demo)
W = hopfield.hebbian(xi)
rng = np.random.default_rng(8)
flip = np.where(rng.random(N_demo) < 0.25, -1.0, 1.0)
start = np.asarray(xi[:1]) * flip
ret = hopfield.retrieve(W, start, key=jax.random.fold_in(key, 2), n_sweeps=5)
m_start = np.asarray(xi @ start[0]) / N_demo
m_end = np.asarray(xi @ ret.states[0]) / N_demo
print("overlaps with the 6 patterns at the start:", np.round(m_start, 2))
print("                            after retrieval:", np.round(m_end, 2))
print(f"fixed point reached: {bool(ret.converged[0])}")
e_trace = np.asarray(ret.energies[:, 0]) / N_demo
print(
    f"energy per spin: {e_trace[0]:.3f} -> {e_trace[-1]:.3f}, never rising: "
    f"{bool(np.all(np.diff(e_trace) <= 1e-6))}"
)

fig, axes = plt.subplots(1, 4, figsize=(12, 3), gridspec_kw={"width_ratios": [1, 1, 1, 2]})
for ax, s, title in zip(
    axes[:3],
    (xi[0], start[0], ret.states[0]),
    ("pattern 1", "25% flipped", "retrieved"),
    strict=True,
):
    ax.imshow(np.asarray(s).reshape(10, 10), cmap="gray", vmin=-1, vmax=1)
    ax.set(title=title, xticks=[], yticks=[])
axes[3].plot(np.arange(len(e_trace)) / N_demo, e_trace)
axes[3].set(xlabel="sweeps", ylabel="E / N", title="energy during retrieval")

# %% [markdown]
# In this run the corrupted start has overlap 0.52 with pattern 1 and relaxes to it
# exactly (overlap 1.00) within the five sweeps, the energy falling monotonically to a
# fixed point.
#
# ## The storage capacity
#
# As $P$ grows the crosstalk grows with it, and at a load $\alpha = P/N$ of
# $\alpha_c \approx 0.138$ the retrieval states disappear (Amit, Gutfreund & Sompolinsky,
# Phys. Rev. Lett. 55, 1530 (1985), a replica calculation at $N \to \infty$). Below
# $\alpha_c$ a stored pattern is a minimum up to a few percent of wrong spins (the overlap
# at $\alpha_c$ is still about 0.97); above it, the dynamics started *at* a stored pattern
# runs away from it. `capacity_curve` starts at every stored pattern of several random
# networks and records the final overlap; a pattern counts as retrieved when the overlap
# is at least 0.95. On a finite network the drop is smeared over a range of $\alpha$ that
# narrows as $N$ grows.

# %%
alphas = np.linspace(0.04, 0.24, 6 if QUICK else 11)
sizes = [200] if QUICK else [200, 500]
curves = {
    N: hopfield.capacity_curve(N, alphas, key=jax.random.fold_in(key, N), n_trials=3) for N in sizes
}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for N, c in curves.items():
    axes[0].errorbar(c.alpha, c.overlap, c.overlap_error, fmt="o-", ms=4, label=f"N = {N}")
    axes[1].plot(c.alpha, c.retrieved, "o-", ms=4, label=f"N = {N}")
    print(f"N = {N}: alpha   ", np.round(c.alpha, 3))
    print("         overlap ", np.round(c.overlap, 3))
    print("         retrieved", np.round(c.retrieved, 2))
for ax in axes:
    ax.axvline(hopfield.ALPHA_C, color="k", ls="--", lw=1, label="alpha_c = 0.138")
    ax.set(xlabel="load alpha = P / N")
    ax.legend(fontsize=8)
axes[0].set(ylabel="final overlap with the start")
axes[1].set(ylabel="fraction retrieved (overlap >= 0.95)")

# %% [markdown]
# In the full run the fraction of patterns retrieved stays above 0.9 up to
# $\alpha = 0.12$ and falls past 0.14, and the fall is steeper on the larger network: at
# $\alpha = 0.20$, 0.31 of the patterns of $N = 200$ survive and 0.10 of those of
# $N = 500$ (the quick run has $N = 200$ only). The finite-size smearing lies on the side
# of larger $\alpha$: a finite network keeps some patterns beyond $\alpha_c$ by chance,
# because its crosstalk fluctuates from pattern to pattern. Neither size is near the
# limit $N \to \infty$ where the curve becomes a step at $\alpha_c$.
#
# ## The RBM: an Ising model with hidden spins
#
# An RBM has visible spins $v \in \{-1,+1\}^N$ (the configuration) and hidden units
# $h \in \{0,1\}^M$, with energy $E(v,h) = -b\cdot v - c\cdot h - v^\top W h$ and no
# couplings inside a layer. The hidden units can be summed out in closed form,
#
# $$p(v) = \frac{e^{-F(v)}}{Z}, \qquad -F(v) = b\cdot v +
# \sum_{j=1}^{M}\ln\!\left(1 + e^{c_j + \sum_i v_i W_{ij}}\right),$$
#
# and, having no couplings within a layer, both conditionals factorise, so block Gibbs
# sampling alternates $h \sim p(h|v)$ and $v \sim p(v|h)$ exactly. $Z$ is a sum over
# $2^{\min(N, M)}$ states of the smaller layer: exact for $\min(N,M) \le 24$.
#
# The log-likelihood gradient is $-\langle\partial_\theta F\rangle_\mathrm{data} +
# \langle\partial_\theta F\rangle_\mathrm{model}$; the second average needs samples of the
# model. **Contrastive divergence** (CD-$k$) takes them from $k$ Gibbs steps started at the
# data batch; **persistent CD** (PCD, Tieleman 2008) keeps a set of fantasy chains alive
# from one step to the next.
#
# The data: 20000 exact draws from the Boltzmann distribution of the $4\times4$ torus at
# $T_c$ (all $2^{16}$ states enumerated), so the model can be judged by the exact
# $\mathrm{KL}(p_\mathrm{B}\,\|\,p_\mathrm{RBM})$, computed with the exact $\ln Z$. The
# RBM has $M = 16$ hidden units; each training uses Adam with a cosine schedule from
# $5\times10^{-3}$, batches of 100, the same number of steps. (The quick run trains on
# 4000 draws for 15 epochs, and every number it prints in this chapter is worse than
# those quoted in the text, which are from the full run.)

# %%
L4 = 4
n_data = 4000 if QUICK else 20000
epochs = 15 if QUICK else 40
states, log_pb = evaluate.boltzmann_log_prob(L4, Tc)
pb = np.exp(log_pb)
x4 = states[rng.choice(len(states), n_data, p=pb)].astype(np.float32)
e_states = evaluate.ising_energy(states) / L4**2
m_states = np.abs(states.reshape(len(states), -1).mean(axis=1))
ens = exact.enumerate_ising(L4, Tc)
print(f"exact at T_c on 4x4: e = {float(ens.energy_per_site):.4f}, |m| = {float(ens.abs_m):.4f}")

train = TrainConfig(
    epochs=epochs, batch_size=100, learning_rate=5e-3, schedule="cosine", validation_fraction=0.0
)
variants = {
    "CD-1": SpinTrainConfig(train=train, cd_k=1),
    "CD-10": SpinTrainConfig(train=train, cd_k=10),
    "PCD-10": SpinTrainConfig(train=train, cd_k=10, persistent=True),
}
module4 = rbm.RBM(shape=(L4, L4), n_hidden=16)
fits, rows = {}, {}
for i, (name, cfg) in enumerate(variants.items()):
    res = train_spin_model(module4, x4, cfg, key=jax.random.fold_in(key, 10 + i))
    log_q = np.asarray(normalised_log_prob_fn(module4, res.params)(states.astype(np.float32)))
    q = np.exp(log_q)
    fits[name] = res
    rows[name] = {
        "kl": evaluate.exact_kl(normalised_log_prob_fn(module4, res.params), L4, Tc),
        "e": float(q @ e_states),
        "abs_m": float(q @ m_states),
    }
    r = rows[name]
    print(
        f"{name:7s} exact KL = {r['kl']:.4f} nats   model e = {r['e']:+.4f}, "
        f"|m| = {r['abs_m']:.4f} (exact averages over the model's own distribution)"
    )

# %% [markdown]
# The model's averages here are exact sums over its normalised $p(v)$, no sampling. In
# this run CD-1 and CD-10 both bring the KL to about 0.06 nats and the model's energy to
# within 0.03 of the exact $e = -1.566$ (CD-1 even a little closer: more Gibbs steps make
# the gradient less biased, not the optimisation better). PCD-10, from the same initial
# weights and with the same steps, ends far worse: a KL about four times larger and an
# energy about 0.1 too high. Is the PCD gradient wrong, or its training path? Start PCD
# from the CD-10 solution instead, with a small learning rate:

# %%
warm = TrainConfig(epochs=2, batch_size=100, learning_rate=1e-4, validation_fraction=0.0)
res_warm = train_spin_model(
    module4,
    x4,
    SpinTrainConfig(train=warm, cd_k=10, persistent=True),
    key=jax.random.fold_in(key, 14),
    params=fits["CD-10"].params,
)
kl_warm = evaluate.exact_kl(normalised_log_prob_fn(module4, res_warm.params), L4, Tc)
print(
    f"PCD-10 for {2 * n_data // 100} more steps from the CD-10 solution: exact KL = {kl_warm:.4f}"
)

# %% [markdown]
# From a good starting point PCD stays far better than from scratch: in this run the KL
# rises a little, from 0.060 to 0.078, but nowhere near 0.25. Its gradient estimate is
# sound where its chains are near equilibrium; what fails is PCD *from scratch*. A likely
# cause (not isolated here): the Ising distribution at $T_c$ on $4\times4$ has two ordered
# modes ($|m| \approx 0.84$), and 100 persistent chains that have to follow a quickly
# sharpening model through that landscape give a biased negative phase early on, which
# Adam does not undo later. The library's documentation warns that PCD needs small
# learning rates. CD-$k$ avoids the problem by starting every chain at the data, where
# both modes are represented, at the price of a biased gradient.
#
# ## From RBM back to Ising: the effective couplings
#
# Summing out the hidden layer produces interactions among the visible spins. Any
# function of $N$ spins is a polynomial in them (its Walsh, or Fourier, expansion),
#
# $$-F(v) = K_0 + \sum_i K_i v_i + \sum_{i<j} K_{ij} v_iv_j + \sum_{i<j<k<l}
# K_{ijkl}v_iv_jv_kv_l + \dots, \qquad K_{ij} = 2^{-N}\sum_v (-F(v))\,v_iv_j,$$
#
# so a trained RBM *is* an Ising model with couplings $K_{ij}$ (and multi-spin terms),
# and for Boltzmann data at $T$ the ideal answer is $K_{ij} = J/T = 0.4407$ on the 32
# nearest-neighbour bonds of the $4\times4$ torus and zero otherwise. We project the
# CD-10 machine's $-F$ onto every pair.

# %%
res = fits["CD-10"]
neg_f = np.asarray(module4.apply({"params": res.params}, states.astype(np.float32)), np.float64)
flat = states.reshape(len(states), -1).astype(np.float64)
K = flat.T @ (neg_f[:, None] * flat) / len(states)
np.fill_diagonal(K, 0.0)
sites = np.arange(L4 * L4)
r_, c_ = np.divmod(sites, L4)
dr = np.minimum(np.abs(r_[:, None] - r_[None, :]), L4 - np.abs(r_[:, None] - r_[None, :]))
dc = np.minimum(np.abs(c_[:, None] - c_[None, :]), L4 - np.abs(c_[:, None] - c_[None, :]))
dist2 = dr**2 + dc**2
upper = np.triu(np.ones_like(K, bool), 1)
for d2, label in ((1, "nearest neighbours"), (2, "diagonal"), (4, "distance 2")):
    k = K[upper & (dist2 == d2)]
    print(f"K_ij, {label:18s}: mean {k.mean():+.4f}, spread {k.std():.4f} ({k.size} pairs)")
k_far = K[upper & (dist2 > 4)]
print(f"K_ij, farther             : mean {k_far.mean():+.4f}, spread {k_far.std():.4f}")
print(f"Ising at T_c: 1/T_c = {1 / Tc:.4f} on nearest neighbours, 0 elsewhere")
pair = neg_f.mean() + 0.5 * np.einsum("si,ij,sj->s", flat, K, flat)
field = flat @ (flat.T @ neg_f / len(states))
resid = neg_f - pair - field
print(
    f"share of the variance of -F(v) over all states carried by pair terms: "
    f"{1 - resid.var() / neg_f.var():.3f}"
)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
im = axes[0].imshow(K, cmap="RdBu_r", vmin=-0.5, vmax=0.5)
axes[0].set(title="effective couplings K_ij (CD-10)", xlabel="site j", ylabel="site i")
fig.colorbar(im, ax=axes[0])
axes[1].plot(np.sqrt(dist2[upper]), K[upper], "o", alpha=0.5, label="RBM pairs")
axes[1].axhline(1 / Tc, color="k", ls="--", lw=1, label="1 / T_c")
axes[1].axhline(0, color="k", lw=0.5)
axes[1].set(xlabel="distance on the torus", ylabel="K_ij")
axes[1].legend(fontsize=8)

# %% [markdown]
# The machine was never told about bonds, and it finds them: the nearest-neighbour
# couplings are the largest and nearly uniform over the 32 bonds (in this run 0.36, with a
# spread of 0.03). But they are not the Ising model's. In this run they are about 18%
# below $1/T_c = 0.441$, and the RBM adds ferromagnetic couplings of about 0.14 across the
# diagonals and at distance 2 and weaker antiferromagnetic ones farther away; pair terms
# carry 98.6% of the variance of $-F$ over all states, the rest being multi-spin terms the
# Ising Hamiltonian does not have. Different couplings, yet a KL of only 0.06 nats: the
# projection weighs all $2^{16}$ states equally, while the data only ever show the machine
# the states near the two ordered modes, and there weaker bonds plus longer-range
# ferromagnetic ones describe nearly the same distribution. Learning a distribution well
# is not the same as learning its Hamiltonian (chapter 3 learns a Hamiltonian from
# energies). Conversely, any Ising model can be written exactly as an RBM with one hidden
# unit per bond, the construction behind exact RBM representations of Ising and toric-code
# states in the neural-quantum-state literature.
#
# ## Gibbs samples against the exact answer
#
# Sampling an RBM needs a Markov chain. `draw_samples` runs independent chains from
# random spins, 500 block Gibbs steps each, and keeps the last state of each chain; the
# samples' energy and $|m|$ are compared with exact enumeration of the Ising model.

# %%
n_s = 1000 if QUICK else 4000
s_rbm = np.asarray(
    draw_samples(module4, res.params, jax.random.fold_in(key, 20), n_s, gibbs_steps=500)
)
obs = evaluate.sample_observables(s_rbm, T=Tc)
for name, ex, mod in (
    ("e", float(ens.energy_per_site), rows["CD-10"]["e"]),
    ("|m|", float(ens.abs_m), rows["CD-10"]["abs_m"]),
):
    est = obs["energy" if name == "e" else "abs_m"]
    print(
        f"{name:3s}: Gibbs samples {est.mean:+.4f} ± {est.error:.4f}; the model exactly "
        f"{mod:+.4f}; the Ising model exactly {ex:+.4f} (z = {(est.mean - ex) / est.error:+.1f})"
    )
bins = np.arange(-2.0625, 0.1, 0.125)
fig, ax = plt.subplots(figsize=(6, 3.6))
e_exact_levels = np.bincount(np.digitize(e_states, bins), weights=pb, minlength=len(bins) + 1)
ax.bar(
    bins[:-1] + 0.0625,
    e_exact_levels[1 : len(bins)] / 0.125,
    width=0.1,
    alpha=0.5,
    label="Ising, exact",
)
ax.hist(
    evaluate.ising_energy(s_rbm) / L4**2,
    bins,
    density=True,
    histtype="step",
    lw=2,
    label="RBM (CD-10), Gibbs",
)
ax.set(xlabel="energy per site", ylabel="density", title="4x4 torus at T_c")
ax.legend(fontsize=8)

# %% [markdown]
# In this run the Gibbs samples agree with the model's own exact averages within 1.3
# standard errors, and both are off from the Ising model in the same direction (the
# samples' energy by 4.5 standard errors): the error is in the trained distribution, not
# in the sampler. The same check vindicates the Gibbs chains that PCD relies on.
#
# ## A larger lattice: $8\times8$ and annealed importance sampling
#
# On the $8\times8$ torus at $T = 2.5$ (above $T_c$, correlation length of a few lattice
# spacings) we train an RBM with $M = 20$ hidden units by CD-10 on 4000 Metropolis
# configurations and compare 2000 Gibbs samples with 4000 held-out configurations from
# other chains and with Kaufman's exact energy (`train_and_compare`). Then the partition
# function: with $M = 20$ it can still be summed exactly over the $2^{20}$ hidden states,
# which lets us check **annealed importance sampling** (Neal 2001; Salakhutdinov & Murray,
# ICML 2008), the estimator one must use when both layers are large. AIS anneals from
# independent visible units ($\beta = 0$, $Z_0$ known) to the RBM ($\beta = 1$) through
# intermediate RBMs and weights the chains by the ratios of their unnormalised
# probabilities.

# %%
L8, T8 = 8, 2.5
n8 = 1000 if QUICK else 4000
snap = SnapshotConfig(n_therm=300, spacing=5, n_chains=100)
data8 = quick_dataset([L8], [T8], n8, snap, key=jax.random.fold_in(key, 30))[L8]
held8 = quick_dataset([L8], [T8], n8, snap, key=jax.random.fold_in(key, 31))[L8]
module8 = rbm.RBM(shape=(L8, L8), n_hidden=16 if QUICK else 20)
train8 = TrainConfig(
    epochs=10 if QUICK else 40,
    batch_size=100,
    learning_rate=5e-3,
    schedule="cosine",
    validation_fraction=0.0,
)
fit8 = train_and_compare(
    module8,
    data8.spins,
    T8,
    SpinTrainConfig(train=train8, cd_k=10),
    key=jax.random.fold_in(key, 32),
    compare=CompareConfig(n_samples=500 if QUICK else 2000, gibbs_steps=200 if QUICK else 500),
)
c8 = evaluate.compare_with_reference(fit8.samples, held8.spins, T=T8)
for name in ("energy", "abs_m"):
    o = c8["observables"][name]
    print(
        f"{name:6s}: RBM {o['model']['mean']:.4f} ± {o['model']['error']:.4f}, "
        f"MC (held out) {o['reference']['mean']:.4f} ± {o['reference']['error']:.4f}, "
        f"z = {o['z']:+.1f}"
    )
print(f"Kaufman's e = {c8['exact']['energy']['value']:.4f}")

log_z = rbm.log_partition(module8, fit8.params)
ais = rbm.ais_log_partition(
    module8,
    fit8.params,
    key=jax.random.fold_in(key, 33),
    n_chains=200,
    n_betas=500 if QUICK else 2000,
)
print(
    f"ln Z: exact (2^{module8.n_hidden} hidden states) {log_z:.4f}; "
    f"AIS {ais.log_z:.4f} ± {ais.error:.4f}"
)
nll = -rbm.exact_log_likelihood(module8, fit8.params, held8.spins) / L8**2
th = exact.kaufman(L8, T8)
entropy = float(th.ln_z_per_site) + float(th.energy_per_site) / T8  # s = ln Z / N + e / T
print(
    f"held-out negative log-likelihood {nll:.4f} nats per site; Boltzmann entropy "
    f"{entropy:.4f}: KL per site about {nll - entropy:.4f}"
)
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(np.linspace(0, 1, len(ais.history["log_z"]) + 1)[1:], ais.history["log_z"])
ax.axhline(log_z, color="k", ls="--", lw=1, label="exact ln Z")
ax.set(xlabel="annealing beta", ylabel="running ln Z estimate", title="AIS, 8x8 RBM")
ax.legend(fontsize=8)

# %% [markdown]
# In this run the AIS estimate agrees with the exact $\ln Z$ to 0.002, within its error
# bar of 0.02. With $\ln Z$ the held-out negative log-likelihood follows, and it exceeds
# the entropy per site of the Boltzmann distribution (from Kaufman's $\ln Z$ and energy)
# by about 0.035 nats per site: that difference estimates the KL divergence per site, the
# number to watch when a lattice is too large to enumerate.
#
# The samples miss the energy by about 20 standard errors (0.17 per site too high) and
# $|m|$ by about 4: with 20 hidden units for 128 bonds this RBM has too few aligned
# neighbours. A KL of 0.035 nats per site is more than 2 nats for the whole $8\times8$
# configuration, enough to shift the energy visibly. More hidden units (Torlai & Melko
# used $M \ge N$) should reduce the error, but put $Z$ beyond exact summation and leave
# AIS as the only check.
#
# ## Summary
#
# | | Hopfield network | RBM |
# |---|---|---|
# | what it is | Ising model, Hebbian couplings | bipartite Ising model, hidden layer summed out |
# | learning | one shot (Hebb) | CD-$k$ / PCD gradient of the likelihood |
# | use | memory: relax to the nearest stored pattern | generative model of configurations |
# | limit | load $\alpha_c \approx 0.138$ | Gibbs sampling; $Z$ exact only for a small layer |
# | exact check | overlap with the stored pattern | exact KL ($4\times4$), exact $\ln Z$ vs AIS |
#
# In this run CD trained the RBM to an exact KL of about 0.06 nats at $T_c$ on
# $4\times4$, with effective couplings largest on the bonds but not those of the Ising
# model; PCD from scratch did worse. The next chapter turns to models that need no
# Markov chain at all: their $\log p(s)$ is exact and their samples are independent.
