# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 1. Learning theory and information, on Ising data
#
# Two ideas carry the whole course. **Generalisation**: a model's test error is its squared
# bias, plus its variance over training sets, plus the noise of the labels, and the best
# model balances the first two. **Information**: entropy, cross-entropy and the
# Kullback-Leibler divergence measure how far a model distribution is from the data's,
# and a maximum-likelihood fit minimises exactly that divergence.
#
# We see both on the Ising model, where the truth is known exactly.

# %%
import os

import jax
import matplotlib.pyplot as plt
import numpy as np

from qml_phys.classical.datasets import SnapshotConfig, snapshots
from qml_phys.learning import bias_variance as bv
from qml_phys.learning.information import cross_entropy, entropy, kl_divergence
from qml_phys.physics import IsingModel, Lattice, basis_states

QUICK = os.environ.get("QML_PHYS_TUTORIAL_QUICK") == "1"  # reduced sizes for the tests
key = jax.random.key(2026)

# %% [markdown]
# ## Bias and variance of an energy model
#
# The data: random configurations of a chain of $L$ spins and their energies
# $E(s) = -\sum_i \sum_{r=1}^{R_\mathrm{true}} J_r s_i s_{i+r}$ with couplings that decay
# with the range $r$, plus Gaussian label noise. The models: least squares on the
# features $s_i s_{i+r}$ up to a range $R$. Over many independent training sets we
# measure the squared bias (how far the *average* model is from the truth) and the variance
# (how much the model moves from one training set to the next).

# %%
config = bv.ChainRangeConfig(
    L=12, ranges=(0, 1, 2, 3, 4, 5), n_train=60, n_rounds=20 if QUICK else 60
)
study = bv.chain_range_study(config, key=jax.random.fold_in(key, 1))
R = np.array(study.ranges)
bias2 = np.array([study.by_range[r]["bias2"] for r in R])
var = np.array([study.by_range[r]["variance"] for r in R])
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.semilogy(R, bias2, "o-", label="bias$^2$")
ax.semilogy(R, var, "s-", label="variance")
ax.semilogy(R, bias2 + var, "k--", label="error to the truth")
ax.set(xlabel="model range R", ylabel="per test configuration")
ax.legend()
print("true couplings J_r:", np.round(study.couplings, 3))
print("best range:", R[np.argmin(bias2 + var)])

# %% [markdown]
# Short-range models are biased (they cannot represent the longer couplings); long-range
# models fit the noise of their 60 training configurations and their variance grows with
# the number of parameters. The error is smallest in between.
#
# ## Entropy, cross-entropy and KL on the Boltzmann distribution
#
# On the $3 \times 3$ torus every one of the $2^9 = 512$ configurations can be listed, so
# the Boltzmann distribution $p(s) = e^{-E(s)/T}/Z$ is known exactly. Monte Carlo samples
# give an *empirical* distribution $\hat p$; the KL divergence
# $D(\hat p \| p) = \sum_s \hat p(s) \ln[\hat p(s)/p(s)]$ measures the difference, and
# the cross-entropy $H(\hat p, p) = H(\hat p) + D(\hat p\|p)$ is what a maximum-likelihood
# model $p$ minimises on data $\hat p$.

# %%
L, T = 3, 2.5
model = IsingModel(Lattice.square(L))
states = basis_states(L * L).astype(np.float64)
log_w = -np.asarray(model.energy(states), np.float64) / T
p = np.exp(log_w - log_w.max())
p /= p.sum()
print(f"exact entropy per site at T = {T}: {float(entropy(p)) / (L * L):.4f} nats")

sizes = [100, 400, 1600] if QUICK else [100, 400, 1600, 6400, 25600]
spins, _ = snapshots(
    model,
    [T],
    max(sizes),
    SnapshotConfig(n_therm=200, spacing=5, n_chains=50),
    key=jax.random.fold_in(key, 2),
)
bits = ((1 - spins.reshape(len(spins), -1)) // 2).astype(np.int64)
index = bits @ (1 << np.arange(L * L - 1, -1, -1))  # site 0 is the most significant bit
kl, kl_iid = [], []
rng = np.random.default_rng(7)
for n in sizes:
    q = np.bincount(index[:n], minlength=2 ** (L * L)) / n
    kl.append(float(kl_divergence(q, p)))
    h = float(cross_entropy(q, p))
    print(f"n = {n:6d}: D(q||p) = {kl[-1]:.4f}   H(q,p) = {h:.4f} = H(q) + D")
    draws = [rng.choice(p.size, size=n, p=p) for _ in range(10)]  # independent samples
    kl_iid.append(
        np.mean([float(kl_divergence(np.bincount(d, minlength=p.size) / n, p)) for d in draws])
    )
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.loglog(sizes, kl, "o-", label="Monte Carlo samples (5 sweeps apart)")
ax.loglog(sizes, kl_iid, "s-", label="independent draws from p")
k = p.size  # every configuration has a non-zero probability
ax.loglog(sizes, (k - 1) / (2 * np.array(sizes)), "k--", label="(k - 1) / 2n, for n >> k")
ax.set(xlabel="samples n", ylabel="KL divergence (nats)")
ax.legend()

# %% [markdown]
# A finite sample always looks more certain than the truth: the empirical distribution
# misses configurations and over-weights others. Once $n$ is much larger than the number
# $k = 512$ of configurations, its divergence from $p$ falls like $(k-1)/2n$ (the
# chi-square statistic divided by $2n$); before that it falls more slowly. The Monte Carlo
# samples, 5 sweeps apart at $T = 2.5$ on so small a lattice, behave like independent
# draws; near $T_c$ on a large lattice they would not, and chapter 2 measures by how much
# with the integrated autocorrelation time.
