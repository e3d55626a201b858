# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # 5. Neural networks and regularisation
#
# A network with more parameters than training examples can fit its training set almost
# perfectly and still predict new data badly: it *over-fits*. Regularisation trades a
# little training error for better generalisation (Mehta et al., Phys. Rep. 810, 1 (2019),
# arXiv:1803.08823, sec. IX). This chapter trains a small network to tell ordered from
# disordered 2D Ising configurations with the package's one training loop,
# `qml_phys.train.fit`, watches it over-fit, and measures what four switches of that
# loop do: weight decay, dropout, batch normalisation and early stopping.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from qml_phys.classical.datasets import SnapshotConfig, quick_dataset
from qml_phys.learning import logistic as G
from qml_phys.train import TrainConfig, fit, flax_loss, init_flax

QUICK = os.environ.get("QML_PHYS_TUTORIAL_QUICK") == "1"  # reduced sizes for the tests
key = jax.random.key(5)

# %% [markdown]
# ## A small data set
#
# 100 configurations of the $8\times 8$ torus at each of eight temperatures around
# Onsager's $T_c \approx 2.269$, labelled ordered ($T < T_c$) or disordered, from a
# vectorised Metropolis run with one snapshot per chain (`quick_dataset`; near $T_c$ such
# snapshots are not fully decorrelated, which does not matter here). Half of them are
# held out as the test set, and the training loop holds out 20% of the rest for
# validation: 320 configurations to train a network with 64 hidden units and 4290
# parameters. Configurations at 2.15 and 2.4, close to $T_c$ on so small a lattice, are
# hard to classify for any method.

# %%
temps = [1.5, 1.75, 2.0, 2.15, 2.4, 2.6, 3.0, 3.5]
ising = quick_dataset(
    [8], temps, 100, SnapshotConfig(n_chains=100), key=jax.random.fold_in(key, 1)
)[8]
train, test = G.split_data(
    G.phase_data(ising.spins, ising.label), 0.5, key=jax.random.fold_in(key, 2)
)
print(f"{len(train['y'])} training (incl. validation) and {len(test['y'])} test configurations")

# %% [markdown]
# ## The training loop, and over-fitting
#
# `fit(loss_fn, params, data, config=TrainConfig(...), key=...)` runs minibatch training
# with an optax optimiser; `flax_loss(module)` turns a Flax module into the loss it
# expects (here the cross-entropy
# $-\frac1n\sum_i \ln p_\theta(y_i \mid s_i)$, with the accuracy as a metric), and
# `init_flax` initialises the parameters (and batch statistics, if any). With
# `validation_fraction=0.2` it evaluates the held-out 20% after every epoch; with
# `restore_best=False` it returns the last epoch's parameters, so that over-fitting
# shows. The network: `MLP((64,), 2)`, Adam with learning rate $3\times10^{-3}$, batches of
# 32, 100 epochs.

# %%
module = G.MLP((64,), 2)
k_init, k_fit = jax.random.split(jax.random.fold_in(key, 3))
params, batch_stats = init_flax(module, jnp.asarray(train["x"][:2]), key=k_init)
config = TrainConfig(
    epochs=100, batch_size=32, learning_rate=3e-3, validation_fraction=0.2, restore_best=False
)
run = fit(flax_loss(module), params, train, config=config, key=k_fit, model_state=batch_stats)
h = run.history
epoch = np.arange(1, len(h["train_loss"]) + 1)
fig, (ax, ax_a) = plt.subplots(1, 2, figsize=(11, 3.6))
ax.plot(epoch, h["train_loss"], label="training")
ax.plot(epoch, h["val_loss"], label="validation")
ax.axvline(run.best_epoch + 1, color="k", ls=":", lw=1, label="lowest validation loss")
ax.set(xlabel="epoch", ylabel="cross-entropy (nats)")
ax.legend()
ax_a.plot(epoch, h["accuracy"], label="training")
ax_a.plot(epoch, h["val_accuracy"], label="validation")
ax_a.set(xlabel="epoch", ylabel="accuracy")
ax_a.legend()
print(f"lowest validation loss {run.best_val_loss:.3f} at epoch {run.best_epoch + 1}")
print(
    f"after {run.epochs} epochs: training loss {run.final('train_loss'):.3f}, "
    f"validation loss {run.final('val_loss'):.3f}"
)
p_test = G.probabilities(module, run, test["x"])
print(
    f"test accuracy {G.accuracy(p_test, test['y']):.3f}, "
    f"test cross-entropy {G.cross_entropy_of(p_test, test['y']):.3f}"
)

# %% [markdown]
# The training loss keeps falling towards zero while the validation loss turns around
# after some 15 epochs and climbs: the network memorises its 320 configurations. The accuracy
# shows the gap too, but it is the cross-entropy that blows up, because an over-fitted
# network is *confidently* wrong on the configurations it misclassifies, and
# $-\ln p$ punishes confidence. The four switches attack this in different ways:
#
# * **weight decay** shrinks every weight by a factor $1 - \eta\lambda$ per step
#   (decoupled, as in AdamW; for SGD it is the gradient of $\frac\lambda2\|\theta\|^2$),
#   so large, confident weights cost something;
# * **dropout** zeroes each hidden unit with probability $p$ during training (and
#   rescales the others), so that no unit can rely on a few specific others;
# * **batch normalisation** standardises each hidden unit over the minibatch, which
#   mainly eases optimisation and regularises only through the noise of the batch
#   statistics;
# * **early stopping** (`patience`) stops when the validation loss has not improved for
#   a number of epochs and returns the best parameters (`restore_best=True`).
#
# ## What each switch does
#
# `phase_regularisation_comparison` trains the same network (the settings above) once per
# switch with `regularisation_effects`: every switch sees the same split, initialisation
# and minibatches, so only the switch differs. It reports train and test cross-entropy and
# accuracy, and the norm of the parameters. (Its training cross-entropy is measured on
# all 400 training configurations, the 80 validation ones included, so it is higher than
# the training loss of the curves above.) The split and the initialisation still matter,
# so the full run repeats everything for three keys, the QUICK run for the first of them.

# %%
print("switches:", G.REGULARISERS)
n_keys = 1 if QUICK else 3
runs = [
    G.phase_regularisation_comparison(ising.spins, ising.label, key=jax.random.fold_in(key, 10 + i))
    for i in range(n_keys)
]
names = list(runs[0].models)
metrics = ("train_cross_entropy", "test_cross_entropy", "test_accuracy", "param_norm", "epochs")
table = {m: np.array([[r.models[n][m] for r in runs] for n in names]) for m in metrics}


def show(x):
    """mean (± standard deviation over keys, when there are several)"""
    return f"{x.mean():6.3f}" + (f" ± {x.std(ddof=1):.3f}" if len(x) > 1 else "")


print(f"{'':15s} {'train CE':>14s} {'test CE':>14s} {'test accuracy':>14s} {'|θ|':>9s}")
for i, n in enumerate(names):
    row = [show(table[m][i]) for m in metrics[:3]]
    print(
        f"{n:15s} " + " ".join(f"{c:>14s}" for c in row) + f" {table['param_norm'][i].mean():9.1f}"
    )
print("epochs run:", {n: table["epochs"][i].astype(int).tolist() for i, n in enumerate(names)})

fig, (ax, ax_a) = plt.subplots(1, 2, figsize=(11, 3.6))
x = np.arange(len(names))
for off, m, lab in ((-0.2, "train_cross_entropy", "training"), (0.2, "test_cross_entropy", "test")):
    ax.bar(x + off, table[m].mean(1), 0.4, label=lab)
    for i in range(len(names)):  # one dot per key
        ax.plot(np.full(n_keys, x[i] + off), table[m][i], "k.", ms=4)
ax.set_xticks(x, [n.replace("_", "\n") for n in names])
ax.set(ylabel="cross-entropy (nats)")
ax.legend()
ax_a.bar(x, table["test_accuracy"].mean(1), 0.6, color="C2")
for i in range(len(names)):
    ax_a.plot(np.full(n_keys, x[i]), table["test_accuracy"][i], "k.", ms=4)
ax_a.set_xticks(x, [n.replace("_", "\n") for n in names])
ax_a.set(ylabel="test accuracy", ylim=(0.4, 1.0))

# %% [markdown]
# Every switch leaves a gap between training and test cross-entropy, but they differ a
# lot in what they buy:
#
# * **Weight decay** helps most. It shrinks the norm of the parameters from about 13 to
#   about 5, gives the lowest test cross-entropy and the best test accuracy, the latter
#   by a small margin: the network is less confident, and less often confidently wrong.
# * **Dropout** lowers the test cross-entropy too, but leaves the test accuracy where it
#   was.
# * **Batch normalisation** does not help on this small problem: its test cross-entropy
#   is no lower than the baseline's and its test accuracy is a little lower. With one
#   hidden layer and standardised inputs ($\pm1$ spins) there is little to normalise.
# * **Early stopping** lowers the test cross-entropy on average, but a patience of 5
#   epochs is fragile: for the first key (the QUICK run's only one) the noisy validation
#   loss stalls early, training stops after 8 epochs, and the restored network is barely
#   better than a coin flip on the test set. A longer patience, or a smoothed validation
#   loss, is safer.
#
# The test accuracy hardly moves for any switch (apart from that failure): it is limited
# by the configurations near $T_c$, which carry little information about their label on
# an $8\times8$ lattice. What regularisation fixes here is the *calibration*, the
# confidence of the predictions, and with it the cross-entropy. More data would do the
# same job better; the next chapter uses thousands of configurations per size.
