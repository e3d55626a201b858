# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 3. Linear and logistic regression
#
# Linear models are the baseline that every network must beat, and on physics data they
# are often enough. This chapter first **learns a Hamiltonian**: from random configurations
# of an Ising chain and their energies, least squares, ridge and LASSO regression recover
# the couplings, and the Bayesian reading of ridge puts error bars on them (Mehta et al.,
# Phys. Rep. 810, 1 (2019), arXiv:1803.08823, sec. VI). Then **logistic regression**
# classifies 2D Ising configurations as ordered or disordered, where it fails on the raw
# spins for a reason of symmetry and works on a symmetry-invariant feature.

# %%
import os
import warnings

import jax
import matplotlib.pyplot as plt
import numpy as np

from qml_phys.classical.datasets import SnapshotConfig, quick_dataset
from qml_phys.learning import logistic as G
from qml_phys.learning import regression as R
from qml_phys.physics import exact
from qml_phys.train import TrainConfig

QUICK = os.environ.get("QML_PHYS_TUTORIAL_QUICK") == "1"  # reduced sizes for the tests
key = jax.random.key(3)

# %% [markdown]
# ## Learning the couplings of an Ising chain
#
# The data are $n$ uniformly random configurations of a periodic chain of $L$ spins with
# energies $E(s) = -J\sum_i s_i s_{i+1}$ ($J = 1$). We pretend not to know which spins
# interact and fit the most general pair model
# $E(s) \approx \sum_{i,j} W_{ij} s_i s_j$, linear in the $L^2$ features $s_i s_j$. Only
# $K_{ij} = W_{ij} + W_{ji}$ ($i \ne j$) enters the energy, so there are $L(L-1)/2$
# couplings to learn, and we give the fit *fewer* training configurations than that. The
# three estimators minimise $\frac1n\|y - Xw\|^2$ (OLS), plus $\lambda\|w\|_2^2$ (ridge), or
# $\frac1{2n}\|y - Xw\|^2 + \lambda\|w\|_1$ (LASSO), and we follow the train and test
# $R^2 = 1 - \sum(y - \hat y)^2 / \sum(y - \bar y)^2$ along the regularisation path.

# %%
L = 20 if QUICK else 40
n_train, n_test = (120, 500) if QUICK else (400, 2000)
chain = R.ising_chain_data(L, n_train + n_test, key=jax.random.fold_in(key, 1))
X = R.pair_features(chain.spins)  # (n, L*L): every product s_i s_j
Xtr, ytr = X[:n_train], chain.energy[:n_train]
Xte, yte = X[n_train:], chain.energy[n_train:]
print(f"L = {L}: {L * (L - 1) // 2} couplings K_ij, {n_train} training configurations")

with warnings.catch_warnings():  # the design is singular: OLS returns the least-norm fit
    warnings.simplefilter("ignore", R.SingularDesignWarning)
    w_ols = R.fit_linear(Xtr, ytr, "ols")
ols_r2 = R.r2_score(ytr, Xtr @ w_ols), R.r2_score(yte, Xte @ w_ols)
print(f"OLS: train R2 = {ols_r2[0]:.3f}, test R2 = {ols_r2[1]:.3f}")

lams = np.logspace(1, -4, 11)  # decreasing: LASSO warm-starts from the previous solution
paths = {m: R.regularisation_path(Xtr, ytr, Xte, yte, lams, m) for m in ("ridge", "lasso")}
fig, (ax, ax_nz) = plt.subplots(1, 2, figsize=(11, 3.6))
for (m, p), c in zip(paths.items(), ("C0", "C1"), strict=True):
    ax.semilogx(p.lam, p.train_r2, "o-", color=c, label=f"{m} train")
    ax.semilogx(p.lam, p.test_r2, "s--", color=c, label=f"{m} test")
ax.axhline(ols_r2[1], color="k", ls=":", label="OLS test")
ax.set(xlabel="regularisation strength λ", ylabel="$R^2$", ylim=(-0.05, 1.05))
ax.legend(fontsize=8)
lasso_K = [R.effective_couplings(w, L)[0][np.triu_indices(L, 1)] for w in paths["lasso"].weights]
ax_nz.semilogx(lams, [np.count_nonzero(k) for k in lasso_K], "o-", color="C1", label="LASSO")
ax_nz.axhline(L, color="k", ls="--", lw=1, label=f"true: {L} bonds")
ax_nz.set(xlabel="regularisation strength λ", ylabel="non-zero couplings $K_{ij}$")
ax_nz.legend()
for m, p in paths.items():
    best = int(np.argmax(p.test_r2))
    print(f"{m:5s}: best test R2 = {p.test_r2[best]:.4f} at λ = {p.lam[best]:.0e}")

# %% [markdown]
# With fewer configurations than couplings, OLS interpolates: it fits the training set
# perfectly ($R^2 = 1$) and, in the full run ($L = 40$, 780 couplings, 400 configurations),
# generalises poorly; the QUICK run ($L = 20$, 190 couplings, 120 configurations) shows the
# same gap. Ridge shrinks every weight towards zero but keeps them all, and its test $R^2$
# never rises above its small-$\lambda$ (OLS-like) value. LASSO's test $R^2$ reaches 1 at
# small $\lambda$, and the right panel shows why: along most of the path it keeps the $L$
# nearest-neighbour couplings, at most a few others (tiny, as the next cell shows), and
# sets all the rest exactly to zero. Too strong a penalty ($\lambda \gtrsim 1$) removes
# the true couplings too, and $R^2$ drops to 0.
#
# ## The couplings recovered
#
# `learn_hamiltonian` draws the data, splits it, fits one method and reports the
# identifiable couplings $K_{ij}$; with the same key every method sees the same
# configurations. The truth is $K_{i,i+1} = -1$ and zero elsewhere.

# %%
n = n_train + n_test
fits = {
    m: R.learn_hamiltonian(
        R.HamiltonianConfig(L=L, n_samples=n, method=m, lam=0.01, test_fraction=n_test / n),
        key=jax.random.fold_in(key, 2),  # the same key: the same data and split for each
    )
    for m in ("ols", "ridge", "lasso")
}
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
for ax, (m, f) in zip(axes, fits.items(), strict=True):
    im = ax.imshow(f.K, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set(title=f"{m}" + ("" if m == "ols" else ", λ = 0.01"), xlabel="j")
axes[0].set_ylabel("i")
fig.colorbar(im, ax=axes, shrink=0.8, label="$K_{ij}$")
for m, f in fits.items():
    print(
        f"{m:5s}: test R2 = {f.test_r2:.4f}   mean K_i,i+1 = {f.nearest_neighbour.mean():+.3f}   "
        f"max |K| off the chain = {f.max_off_structure:.1e}   "
        f"exact zeros {f.n_zero_off_structure}/{f.n_off_structure}"
    )
print(f"LASSO optimality: largest KKT violation {fits['lasso'].kkt_violation:.1e}")

# %% [markdown]
# OLS spreads the energy over many couplings that happen to fit the training set, and
# ridge at this small $\lambda$ barely differs from it. LASSO returns the chain: its
# nearest-neighbour couplings are $-1$ up to a shrinkage of order $\lambda$, and of the
# other couplings all but one or two are *exactly* zero, those few below $10^{-2}$. The
# reason is the kink of $|w|$ at zero: the optimality (KKT) condition of LASSO reads
# $|X_j^T(y - Xw)|/n \le \lambda$ for every weight $w_j = 0$, so a feature stays out of
# the model unless its correlation with the residual exceeds $\lambda$, while the smooth
# ridge penalty only scales weights down. Because the true Hamiltonian is sparse ($L$ of
# $L(L-1)/2$ couplings), an $\ell_1$ penalty needs far fewer configurations than
# couplings to find it (compressed sensing).
#
# ## Bayesian ridge: couplings with error bars
#
# Measured energies are noisy. With the model $y = Xw + \varepsilon$,
# $\varepsilon \sim N(0, \sigma^2)$, and the prior $w \sim N(0, \tau^2 I)$, the posterior of
# the weights is Gaussian with covariance $\Sigma = (X^TX/\sigma^2 + I/\tau^2)^{-1}$ and mean
# $\Sigma X^T y/\sigma^2$: exactly the ridge solution with $n\lambda = \sigma^2/\tau^2$
# (Bishop, *PRML*, sec. 3.3). Its marginals give 95% credible intervals for every
# coupling. Here a chain of 12 spins, the 66 identifiable features $s_i s_j$ ($i<j$), and
# energies with noise $\sigma = 0.5$.

# %%
Lb, nb, sigma = 12, 150 if QUICK else 300, 0.5
noisy = R.ising_chain_data(Lb, nb, key=jax.random.fold_in(key, 3), noise_std=sigma)
Xb = R.pair_features(noisy.spins, "pairs")
post = R.bayesian_ridge(Xb, noisy.energy, noise_var=sigma**2, prior_var=100.0)
lo, hi = R.credible_intervals(post, 0.95, transform=R.coupling_map(Lb, "pairs"))
truth = R.chain_couplings(Lb)[np.triu_indices(Lb, 1)]
mid = (lo + hi) / 2
bond = truth != 0
fig, ax = plt.subplots(figsize=(6, 3.6))
idx = np.arange(len(truth))
for sel, c, lab in ((bond, "C3", "nearest neighbours"), (~bond, "C0", "all other pairs")):
    ax.errorbar(idx[sel], mid[sel], (mid - lo)[sel], fmt="o", ms=3, color=c, label=lab)
ax.plot(idx, truth, "k_", ms=8, label="truth")
ax.set(xlabel="pair (i < j), row-major", ylabel="$K_{ij}$ with 95% interval")
ax.legend(fontsize=8)
inside = (lo <= truth) & (truth <= hi)
print(f"{nb} noisy energies; mean K_i,i+1 = {mid[bond].mean():+.3f}")
print(f"half-width of the intervals: {np.mean(hi - lo) / 2:.3f}")
print(f"true couplings inside their 95% interval: {inside.sum()} of {inside.size}")

# %% [markdown]
# The intervals are honest: about 95% of the true couplings lie inside them (the test
# suite checks the rate over many draws, here it is one draw of 66), and they shrink with
# more data, like $\sigma/\sqrt{n}$ once $n$ is much larger than the 66 couplings.
#
# ## Logistic regression of the phase
#
# Now the 2D Ising model on an $L \times L$ torus: configurations below Onsager's
# $T_c = 2/\ln(1+\sqrt2)$ are labelled ordered, those above disordered. Logistic
# regression models $p(\mathrm{ordered}\mid s) = \sigma(w\cdot s + b)$ with the sigmoid
# $\sigma(z) = 1/(1+e^{-z})$ (its two-class softmax is a Boltzmann distribution over the
# classes, Mehta et al. sec. VII) and minimises the cross-entropy. We compare it with a
# network with one hidden layer of 32 units, and with logistic regression on four
# flip-invariant features $(|m|, m^2, e, e^2)$ of each configuration (magnetization and
# energy per site). The configurations come from `quick_dataset`, a vectorised Metropolis
# run: one snapshot per chain here, but near $T_c$ they are not fully decorrelated
# (`write_dataset` decorrelates them for real studies).

# %%
Tc = exact.onsager_tc()
temps = [1.5, 1.75, 2.0, 2.15, 2.4, 2.6, 3.0, 3.5]
L2, n_per_T = (8, 100) if QUICK else (16, 400)
snap = SnapshotConfig(n_therm=500, spacing=10, n_chains=n_per_T)  # one snapshot per chain
ising = quick_dataset([L2], temps, n_per_T, snap, key=jax.random.fold_in(key, 4))[L2]
data = G.phase_data(ising.spins, ising.label) | {"f": G.invariant_features(ising.spins)}
train, test = G.split_data(data, 0.3, key=jax.random.fold_in(key, 5))
# the label does not change under s -> -s: add the flipped copy of every training configuration
train = {
    "x": np.concatenate([train["x"], -train["x"]]),
    "y": np.concatenate([train["y"], train["y"]]),
    "f": np.concatenate([train["f"], train["f"]]),  # invariant: the same for both copies
}
cfg = TrainConfig(  # the cosine schedule lets the step size, and the SGD noise, decay to 0
    epochs=20 if QUICK else 40,
    batch_size=32,
    learning_rate=1e-2,
    schedule="cosine",
    validation_fraction=0,
)
comparison = G.compare_phase_classifiers(
    {"x": train["x"], "y": train["y"]},
    {"x": test["x"], "y": test["y"]},
    config=cfg,
    key=jax.random.fold_in(key, 6),
    hidden=32,
    features_train=train["f"],
    features_test=test["f"],
)
ordered_fraction = test["y"].mean()
print(f"L = {L2}, {len(train['y'])} training (with flips) / {len(test['y'])} test configurations")
print(
    f"a constant answer scores {ordered_fraction:.3f} or {1 - ordered_fraction:.3f} on the test set"
)
for name, row in comparison.models.items():
    print(
        f"{name:19s} train accuracy {row['train_accuracy']:.3f}   "
        f"test accuracy {row['test_accuracy']:.3f}"
    )

fig, (ax, ax_f) = plt.subplots(1, 2, figsize=(11, 3.6))
acc = [row["test_accuracy"] for row in comparison.models.values()]
bars = ax.bar(["logistic\n(raw spins)", "network\n(raw spins)", "logistic\n(|m|, e, ...)"], acc)
ax.bar_label(bars, fmt="%.2f")
ax.axhline(max(ordered_fraction, 1 - ordered_fraction), color="k", ls="--", lw=1)
ax.set(ylabel="test accuracy", ylim=(0, 1.05), title="dashed: best constant answer")
for ordered, c, lab in ((0, "C3", "T > T_c (disordered)"), (1, "C0", "T < T_c (ordered)")):
    sel = test["y"] == ordered
    ax_f.scatter(test["f"][sel, 0], test["f"][sel, 2], s=6, color=c, alpha=0.5, label=lab)
ax_f.set(xlabel="|m| per site", ylabel="energy per site e", title="test configurations")
ax_f.legend(fontsize=8)

# %% [markdown]
# Logistic regression on the raw spins scores no better than a constant answer, while the
# network and logistic regression on the invariant features classify most test
# configurations correctly. The reason is symmetry. The label is invariant under the global
# flip $s \to -s$, and with the flipped copies the training set is too, so the
# cross-entropy of the linear model obeys $\mathcal L(w, b) = \mathcal L(-w, b)$. It is
# convex, so the average of $(w, b)$ and $(-w, b)$, which is $(0, b)$, is at least as good:
# the minimum is at $w = 0$, and logistic regression can learn only the bias, a constant
# answer. (A linear rule could still get one of the two ordered lobes $m \approx \pm 1$
# right, but the cross-entropy punishes its confident mistakes on the other lobe and never
# chooses it.) The network builds even functions of $s$ in its hidden layer (two tanh
# units can make $|m|$), and a linear model of the invariant features needs no such
# help: in the right panel a straight line in the plane of $|m|$ and $e$ separates the
# phases, apart from the configurations near $T_c$, which no method classifies reliably
# on so small a lattice.
#
# ## Regression of the temperature
#
# The same invariant features also predict the temperature itself: ridge regression of
# $T$ on $(1, |m|, m^2, e, e^2)$.

# %%
parts = G.split_data({"s": ising.spins, "T": ising.T}, 0.3, key=jax.random.fold_in(key, 7))
reg = G.temperature_regression(parts[0]["s"], parts[0]["T"], parts[1]["s"], parts[1]["T"])
print(
    f"test R2 = {reg.test_r2:.3f}, RMSE = {reg.test_rmse:.3f} J "
    f"(the temperatures span {min(temps)}..{max(temps)}, T_c = {Tc:.4f})"
)

# %% [markdown]
# A few invariant numbers carry most of the information about $T$; what is left over is
# the thermal scatter of $e$ and $|m|$ at fixed $T$ on a small lattice, which no function
# of them can remove.
