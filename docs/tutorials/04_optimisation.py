# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 4. Optimisation and the loss landscape
#
# Training minimises a loss $\mathcal L(\theta)$ by steps along its gradient. How large a
# step may be, and which optimiser takes it best, depends on the curvature of the loss,
# its Hessian $H = \nabla^2 \mathcal L$ (Mehta et al., Phys. Rep. 810, 1 (2019),
# arXiv:1803.08823, sec. IV). This chapter compares SGD, momentum and Adam where the
# Hessian is known exactly, then measures the Hessian of a small network without ever
# forming it, asks whether the batch size changes the sharpness of the minimum found, and
# shows that two independently trained networks are joined by a path of low loss.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from qml_phys.learning import landscape as LS
from qml_phys.learning import optimisers as O
from qml_phys.train import TrainConfig, fit

QUICK = os.environ.get("QML_PHYS_TUTORIAL_QUICK") == "1"  # reduced sizes for the tests
key = jax.random.key(4)

# %% [markdown]
# ## Gradient descent on a quadratic loss: the stability limit
#
# The convex case first: linear regression of the energies of random 8-spin Ising chains
# on the 28 pair features $s_i s_j$ ($i<j$), with the loss
# $\mathcal L(w) = \frac1n\sum (x\cdot w - y)^2$. Its Hessian $H = 2X^TX/n$ is constant.
# Gradient descent $w \leftarrow w - \eta\nabla\mathcal L$ multiplies the error along an
# eigenvector of $H$ with eigenvalue $\lambda$ by $1 - \eta\lambda$, so it converges if and
# only if $\eta < 2/\lambda_\mathrm{max}$. Heavy-ball momentum
# ($v \leftarrow \beta v + \nabla\mathcal L$, $w \leftarrow w - \eta v$, $\beta = 0.9$)
# stays stable up to $\eta < 2(1+\beta)/\lambda_\mathrm{max}$ (Polyak 1964). Adam
# (Kingma & Ba, arXiv:1412.6980) divides each coordinate's step by a running RMS of its
# gradient, so its step is about $\eta$ whatever the curvature. Each optimiser runs from 3
# random initialisations on the full batch, at learning rates measured in units of
# $2/\lambda_\mathrm{max}$.

# %%
loss_lin, init_lin, data_lin, H = O.linear_energy_task(8, 256, key=jax.random.fold_in(key, 1))
eigs = np.linalg.eigvalsh(H)
lam_max = eigs[-1]
print(f"Hessian eigenvalues in [{eigs[0]:.3f}, {lam_max:.3f}]: 2 / lambda_max = {2 / lam_max:.4f}")
factors = np.array([0.5, 1.5, 2.5] if QUICK else [0.1, 0.3, 0.6, 0.9, 1.2, 1.6, 1.8, 2.1, 3.0])
scan = O.compare_optimisers(
    loss_lin,
    init_lin,
    data_lin,
    O.OptimiserConfig(n_steps=100, log_every=5, n_runs=3),
    key=jax.random.fold_in(key, 2),
    learning_rates=tuple(factors * 2 / lam_max),
)
floor = 1e-15  # float32 rounding: a loss that reached 0 is drawn here
fig, (ax, ax_c) = plt.subplots(1, 2, figsize=(11, 3.6))
for name, final in scan.final_vs_lr.items():
    ok = np.isfinite(final)  # a diverged setting has final loss inf: drawn as x at the top
    (line,) = ax.semilogy(factors[ok], np.maximum(final[ok], floor), "o-", label=name)
    ax.plot(factors[~ok], np.full((~ok).sum(), 1e2), "x", color=line.get_color(), ms=9)
ax.axvline(1.0, color="k", ls="--", lw=1, label="GD limit $2/\\lambda_{max}$")
ax.axvline(1.9, color="grey", ls=":", lw=1, label="momentum limit $2(1+\\beta)/\\lambda_{max}$")
ax.set(xlabel="learning rate / (2 / λ_max)", ylabel="loss after 100 steps (x: diverged)")
ax.set_ylim(floor / 3, 1e3)
ax.legend(fontsize=8)
for name, by_lr in scan.curves.items():
    best = scan.best_lr[name]  # the learning rate of the grid with the lowest final loss
    c = by_lr[best]
    lo, hi = np.maximum(c.mean - c.std, floor), np.maximum(c.mean + c.std, floor)
    label = f"{name}, η = {best * lam_max / 2:.1f} × 2/λ_max"
    (line,) = ax_c.semilogy(c.steps, np.maximum(c.mean, floor), label=label)
    ax_c.fill_between(c.steps, lo, hi, color=line.get_color(), alpha=0.3)
ax_c.set(xlabel="step", ylabel="loss (mean ± sd of 3 runs)", title="each at its best rate")
ax_c.legend(fontsize=8)
for name, final in scan.final_vs_lr.items():
    stable = factors[np.isfinite(final)]
    print(
        f"{name:8s}: stable up to {stable.max():.1f} x 2/lambda_max of the rates tried; "
        f"best {scan.best_lr[name] * lam_max / 2:.1f} x 2/lambda_max, loss {np.min(final):.1e}"
    )

# %% [markdown]
# The scan finds the thresholds where the theory puts them: gradient descent diverges
# above $2/\lambda_\mathrm{max}$, momentum only above $2(1+\beta)/\lambda_\mathrm{max}$, and
# Adam never diverges on this grid (its step is bounded by $\eta$, not by the curvature).
# Each at its best rate of the grid (right), plain gradient descent converges fastest,
# down to float32 rounding (losses that reach 0 are drawn at $10^{-15}$).
# This loss is well conditioned: its eigenvalues lie within a factor
# $\kappa = \lambda_\mathrm{max}/\lambda_\mathrm{min}$ of a few, and gradient descent at
# $\eta = 2/(\lambda_\mathrm{max}+\lambda_\mathrm{min})$ shrinks the error by
# $(\kappa-1)/(\kappa+1)$ per step. Momentum with $\beta = 0.9$ overshoots and oscillates,
# its error decaying no faster than $\beta^{t/2}$; it pays off on ill-conditioned losses,
# $\kappa \gg 1$, where a tuned $\beta$ improves the rate to
# $(\sqrt\kappa-1)/(\sqrt\kappa+1)$. Adam's normalised steps do not adapt to the
# curvature at all. The bands (3 random initialisations) are narrow: on a convex loss the
# starting point hardly matters.
#
# ## The Hessian of a network, from Hessian-vector products
#
# Now a non-convex loss: a network with one hidden layer of 16 tanh units learns the
# energy per spin of random 10-spin chains (193 parameters), trained with Adam by the
# package's training loop. A network's Hessian is too large to form in general, but
# a Hessian-vector product costs about two gradients,
# $Hv = \frac{d}{d\epsilon}\nabla\mathcal L(\theta + \epsilon v)|_0$ (Pearlmutter 1994),
# and the Lanczos algorithm turns a few dozen of them into the extreme eigenvalues
# (Ghorbani, Krishnan & Xiao, arXiv:1901.10159). On this small network we can check
# against the full Hessian.

# %%
loss, init, data = O.chain_energy_task(10, 512, key=jax.random.fold_in(key, 3), hidden=16)
_, _, test = O.chain_energy_task(10, 2048, key=jax.random.fold_in(key, 4), hidden=16)
epochs = 40 if QUICK else 150
cfg = TrainConfig(epochs=epochs, batch_size=64, learning_rate=1e-2, validation_fraction=0)
run_a = fit(
    loss, init(jax.random.fold_in(key, 5)), data, config=cfg, key=jax.random.fold_in(key, 6)
)
print(f"trained {epochs} epochs: training loss {run_a.final('train_loss'):.2e}")

arrays = {k: jnp.asarray(v) for k, v in data.items()}


def full_loss(params):
    """The training loss on all 512 configurations."""
    return loss(params, arrays, key=None, model_state=None, train=False)[0]


top = LS.hessian_eigenvalues(
    full_loss, run_a.params, k=5, n_iter=30, key=jax.random.fold_in(key, 7)
)
spectrum = np.linalg.eigvalsh(LS.dense_hessian(full_loss, run_a.params))[::-1]
print("top 5 eigenvalues, Lanczos (30 steps):", np.round(top, 5))
print("top 5 eigenvalues, dense Hessian:     ", np.round(spectrum[:5], 5))
small = np.sum(np.abs(spectrum) < 1e-2 * spectrum[0])
print(f"{small} of {len(spectrum)} eigenvalues below 1% of lambda_max")
print(f"{np.sum(spectrum < 0)} negative eigenvalues, the most negative {spectrum[-1]:.2e}")
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.semilogy(np.arange(1, len(spectrum) + 1), np.abs(spectrum), ".", ms=4, label="|eigenvalue|")
neg = spectrum < 0
ax.semilogy(np.flatnonzero(neg) + 1, np.abs(spectrum[neg]), "r.", ms=4, label="negative ones")
ax.semilogy(np.arange(1, 6), top, "ko", mfc="none", ms=8, label="Lanczos, top 5")
ax.set(xlabel="rank", ylabel="|Hessian eigenvalue|", title="Hessian at the trained network")
ax.legend()

# %% [markdown]
# Thirty Lanczos steps reproduce the leading eigenvalues of the dense Hessian to the
# printed digits. The spectrum is typical of networks: a few large eigenvalues, then a
# bulk that decays over orders of magnitude towards zero, with some small negative
# eigenvalues. The minimum found is flat in most directions (many parameter combinations
# do not change the output), and not exactly a minimum in a few, since training stopped
# before full convergence. Gradient descent near this point is stable for
# $\eta < 2/\lambda_\mathrm{max}$, as on the quadratic.
#
# ## Sharpness and batch size
#
# Keskar et al. (arXiv:1609.04836) reported that large-batch training converges to
# *sharper* minima (larger $\lambda_\mathrm{max}$) that generalise worse than the flat
# minima of small-batch SGD, whose gradient noise (of order $\eta/B$ for batch size $B$)
# kicks it out of narrow valleys. We train the same network with SGD ($\eta = 0.1$) from
# the same initialisation at several batch sizes, for the same number of epochs, and
# measure $\lambda_\mathrm{max}$ by Lanczos and the loss on 2048 unseen configurations.

# %%
batch_sizes = [16, 256] if QUICK else [8, 32, 128, 512]
sharp = LS.sharpness_vs_batch_size(
    loss,
    init,
    data,
    test,
    batch_sizes,
    config=TrainConfig(epochs=epochs, learning_rate=0.1, optimizer="sgd"),
    key=jax.random.fold_in(key, 8),
)
rows = sharp.rows
fig, (ax, ax_l) = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
B = [r["batch_size"] for r in rows]
ax.semilogx(B, [r["lambda_max"] for r in rows], "o-")
ax.set(xlabel="batch size B", ylabel="sharpness λ_max", title=f"SGD, η = 0.1, {epochs} epochs")
ax_l.loglog(B, [r["train_loss"] for r in rows], "o-", label="training loss")
ax_l.loglog(B, [r["test_loss"] for r in rows], "s--", label="test loss")
ax_l.set(xlabel="batch size B", ylabel="mean squared error")
ax_l.legend()
for a in (ax, ax_l):
    a.set_xticks(B, [str(b) for b in B])
    a.set_xticks([], minor=True)
for r in rows:
    print(
        f"B = {r['batch_size']:3d}: lambda_max = {r['lambda_max']:.3f}   "
        f"train {r['train_loss']:.2e}   test {r['test_loss']:.2e}   ({r['status']})"
    )

# %% [markdown]
# On this small problem the numbers do not show Keskar's effect. At a fixed number of
# epochs a batch of $B$ configurations means $512/B$ steps per epoch, so the small-batch
# runs take many more steps: they reach the lowest training *and* test losses, and they
# sit at the *largest* $\lambda_\mathrm{max}$, while the large-batch runs, whose training
# loss is still high, have not converged and sit in flatter regions. A fair test of the claim
# compares minima of equal training loss, which needs many more epochs for large
# batches; this experiment shows that sharpness and batch size are entangled with how
# far training has gone.
#
# ## Mode connectivity
#
# Two networks trained from different initialisations reach different minima
# $\theta_0$, $\theta_1$ (the hidden units can be permuted, among other symmetries).
# On the straight line between them the loss rises over a barrier. Garipov et al.
# (arXiv:1802.10026) and Draxler et al. (arXiv:1803.00885) found that a curve
# avoids it: the quadratic Bézier curve
# $\phi(t) = (1-t)^2\theta_0 + 2t(1-t)\theta_c + t^2\theta_1$ whose control point
# $\theta_c$ is trained to minimise the loss averaged over $t \sim U(0, 1)$.

# %%
run_b = fit(
    loss, init(jax.random.fold_in(key, 9)), data, config=cfg, key=jax.random.fold_in(key, 10)
)
mc = LS.mode_connectivity(
    loss,
    run_a.params,
    run_b.params,
    data,
    config=TrainConfig(epochs=epochs, batch_size=64, learning_rate=1e-2),
    key=jax.random.fold_in(key, 11),
    ts=np.linspace(0, 1, 6 if QUICK else 21),
)
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.semilogy(mc.t, mc.linear, "o-", label=f"straight line: barrier {mc.linear_barrier:.2e}")
ax.semilogy(mc.t, mc.bezier, "s-", label=f"trained Bézier curve: barrier {mc.bezier_barrier:.2e}")
ax.set(xlabel="t along the path", ylabel="training loss")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))
print(f"loss at the two ends: {mc.linear[0]:.2e}, {mc.linear[-1]:.2e}")
print(f"highest loss: straight line {mc.linear.max():.2e}, Bezier curve {mc.bezier.max():.2e}")
print(f"barrier: straight line {mc.linear_barrier:.2e}, Bezier curve {mc.bezier_barrier:.2e}")

# %% [markdown]
# The straight line climbs a barrier far above the loss at its ends, while the trained
# curve lowers it by an order of magnitude: the two minima are not
# isolated valleys but parts of one connected low-loss region. This is one reason why
# the many minima that different runs of the same training find tend to perform
# equally well.
