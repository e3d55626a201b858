r"""Generative adversarial network for Ising configurations.

Goodfellow et al., arXiv:1406.2661 (non-saturating loss); on the Ising model: Z. Liu,
S. P. Rodrigues, W. Cai, arXiv:1710.04987.

Generator :math:`G: z \sim N(0, I) \mapsto s = \mathrm{sign}(h(z)) \in \{-1,+1\}^{L\times L}`:
a dense network ``h`` followed by a hard sign, so every generated configuration is a valid
spin configuration (the discriminator cannot tell real from fake by non-integer values).
Gradients pass the sign with the straight-through estimator
:math:`s = \mathrm{sign}(h) + \tanh h - \mathrm{stop\_grad}(\tanh h)` (Bengio, Léonard,
Courville, arXiv:1308.3432). Discriminator: a dense network on the spins (logit of "real").

Training (:func:`train_gan`) alternates one discriminator and one generator Adam step per
minibatch in one ``lax.scan`` per epoch, with the R1 gradient penalty on real data
(Mescheder, Geiger, Nowozin, arXiv:1801.04406), which damps the oscillation of the
two-player game. The last iterate still circles the equilibrium: on 8x8 at T = 3 the
sample energy of successive epochs swung between -4.7 and +4.3 error bars. So samples are
drawn from the uniform mixture of the generators of the last ``snapshots`` epochs (itself a
generative model), which averages the cycle out (-0.59 ... 3.54 per snapshot, 0.30 for the
mixture, in one such run). Tried and dropped: an exponential moving average of the
generator's weights (it sharpens the hard-sign output: z = -13 to -15 at T = 3), the
energy and |m| as extra discriminator inputs, and a cosine learning-rate decay (both no
better than R1 alone in 8 seeds); the shared trainer :func:`qml_phys.train.fit`
drives one optimiser, so this loop is written here, with the same conventions:
atomic checkpoint/resume of the whole state through a
:class:`~qml_phys.runtime.checkpoint.Checkpoint` (same configuration and inputs required),
a progress bar, and a non-finite loss stops training with the last good state kept and
``status="diverged"``.

GANs are known to drop modes. Below :math:`T_c` the Boltzmann distribution is symmetric
under s -> -s; :func:`qml_phys.generative.evaluate.compare_at` reports the fraction of samples
with m > 0 and flags ``mode_collapse`` — it is measured and reported, not hidden.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from qml_phys.errors import InvalidParameterError, check_number, check_positive_int
from qml_phys.generative.base import symmetry_augment
from qml_phys.runtime.results import Result, history_arrays
from qml_phys.train import warn_diverged


class Generator(nn.Module):
    """``z (n, latent) -> s (n, L, L)`` in {-1,+1} (hard sign, straight-through gradients)."""

    L: int
    """Linear lattice size."""
    latent: int = 32
    """Dimension of ``z``."""
    hidden: int = 256
    """Width of the two hidden layers."""

    @nn.compact
    def __call__(self, z):
        h = nn.leaky_relu(nn.Dense(self.hidden)(z), 0.2)
        h = nn.leaky_relu(nn.Dense(self.hidden)(h), 0.2)
        h = nn.Dense(self.L * self.L)(h).reshape(z.shape[0], self.L, self.L)
        soft = jnp.tanh(h)
        hard = jnp.where(h >= 0, 1.0, -1.0).astype(h.dtype)
        return hard + soft - jax.lax.stop_gradient(soft)


class Discriminator(nn.Module):
    """``s (n, L, L) -> (n,)`` logits of "real"."""

    hidden: int = 256
    """Width of the first hidden layer (the second has half)."""

    @nn.compact
    def __call__(self, s):
        h = s.reshape(s.shape[0], -1).astype(jnp.float32)
        h = nn.leaky_relu(nn.Dense(self.hidden)(h), 0.2)
        h = nn.leaky_relu(nn.Dense(self.hidden // 2)(h), 0.2)
        return nn.Dense(1)(h)[:, 0]


@dataclasses.dataclass(frozen=True)
class GANConfig:
    """Architecture and training of :func:`train_gan`."""

    latent: int = 32
    """Dimension of the generator's Gaussian input ``z``."""
    hidden: int = 256
    """Width of the hidden layers of the generator and the discriminator."""
    epochs: int = 100
    """Passes over the training set."""
    batch_size: int = 128
    """Real configurations per step (and as many generated ones)."""
    learning_rate: float = 2e-4
    """Adam's learning rate for both networks."""
    beta1: float = 0.5
    """Adam's first-moment decay (0.5 is the usual GAN setting)."""
    r1: float = 1.0
    """Weight gamma of the R1 penalty gamma/2 E_real |grad_s D|^2 on the discriminator (0:
    none). At T = 3, 8x8, 2000 configurations, 8 training seeds, last iterate: |z| of the
    sample energy <= 3 in 7 of 8 runs with gamma = 1, in 4 of 8 without it (up to 9.3);
    gamma = 0.3 or 10 did worse than 1. With the snapshot mixture too: all 8 within 2.3."""
    snapshots: int = 10
    """Sample from the uniform mixture of the generators after each of the last this many
    epochs (1: the last iterate only)."""
    augment: bool = False
    """Pass every real batch through :func:`qml_phys.generative.base.symmetry_augment`
    (spin flip and the point group: 16x the data). Off by default: on 2000 configurations
    at T = 3 (8x8) it made the sample energy worse, z = 10.6 against 4.9 without it
    (measured once)."""

    def __post_init__(self):
        for name in ("latent", "hidden", "epochs", "batch_size", "snapshots"):
            check_positive_int(name, getattr(self, name))
        check_number("r1", self.r1, minimum=0)
        check_number("learning_rate", self.learning_rate, minimum=0, strict=True)
        if not 0 <= self.beta1 < 1:
            raise InvalidParameterError(f"beta1: expected 0 <= beta1 < 1; got {self.beta1!r}")


class GANState(NamedTuple):
    """Everything a resumed run needs (a PyTree; checkpointed as a whole)."""

    g_params: Any
    d_params: Any
    g_opt: Any
    d_opt: Any
    g_snapshots: Any
    """``g_params`` after epoch ``e`` in slot ``e % snapshots`` (leading axis)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainedGAN(Result):
    """What :func:`train_gan` returns. ``history``: per epoch ``d_loss``, ``g_loss`` (mean
    over the epoch's steps, nats), ``d_real``, ``d_fake`` (the discriminator's mean
    probability of "real" on real and on generated batches); ``status``: ``completed`` or
    ``diverged``."""

    generator: Generator
    """The generator module (configuration only)."""
    g_params: Any
    """The last iterate."""
    g_snapshots: Any
    """The generators :func:`sample_gan` mixes: ``(k, ...)`` stacked, ``k = min(snapshots,
    epochs trained)``; ``None`` when no epoch completed (then the initial generator)."""
    resumed_from: int = 0
    """Epochs already done when this call started (0 for a fresh run)."""

    @property
    def epochs(self) -> int:
        """Epochs done, including those of a resumed run."""
        return self.n_steps

    def summary(self) -> dict:
        """``status``, ``epochs``, ``resumed_from``, ``wall_time_s`` and ``final``: the last
        epoch's record (``epoch``, ``d_loss``, ``g_loss``, ``d_real``, ``d_fake``) or None."""
        final = None
        if self.epochs:
            final = {"epoch": self.epochs - 1} | {k: float(v[-1]) for k, v in self.history.items()}
        return {
            "status": self.status,
            "epochs": self.epochs,
            "resumed_from": self.resumed_from,
            "final": final,
            "wall_time_s": self.wall_time_s,
        }


def _bce_logits(logits, label: float):
    return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label)))


def train_gan(
    spins, config: GANConfig = GANConfig(), *, key: jax.Array, checkpoint=None
) -> TrainedGAN:
    """Train the GAN on ``spins`` ``(n, L, L)`` in {-1,+1}; see the module docstring.

    Args:
        spins: training configurations.
        config: the settings.
        key: PRNG key of the initial networks, the batch order (a permutation per epoch
            from ``fold_in(key, epoch)``, so a resumed run sees the batches of an
            uninterrupted one) and the latent draws.
        checkpoint: a :class:`~qml_phys.runtime.checkpoint.Checkpoint`: restored before the
            first epoch (another configuration or other inputs are refused, except more
            ``epochs``), saved every ``checkpoint.every`` epochs and at the end.
    """
    from qml_phys.generative.vae import check_lattice_spins
    from qml_phys.runtime.progress import progress
    from qml_phys.runtime.records import to_jsonable

    x = jnp.asarray(check_lattice_spins(spins))
    n, L = x.shape[0], x.shape[1]
    bs = min(config.batch_size, n)
    n_batches = n // bs
    gen, disc = Generator(L, config.latent, config.hidden), Discriminator(config.hidden)
    k_g, k_d, k_perm, k_step = jax.random.split(key, 4)
    g_params = gen.init(k_g, jnp.zeros((1, config.latent), jnp.float32))["params"]
    d_params = disc.init(k_d, x[:1])["params"]
    opt = optax.adam(config.learning_rate, b1=config.beta1)
    with jax.numpy_dtype_promotion("standard"):
        ring = jax.tree_util.tree_map(
            lambda p: jnp.repeat(p[None], config.snapshots, axis=0), g_params
        )
        state = GANState(g_params, d_params, opt.init(g_params), opt.init(d_params), ring)

    def d_loss(dp, gp, real, z):
        fake = gen.apply({"params": gp}, z)
        lr_ = disc.apply({"params": dp}, real)
        lf = disc.apply({"params": dp}, jax.lax.stop_gradient(fake))
        loss = _bce_logits(lr_, 1.0) + _bce_logits(lf, 0.0)
        if config.r1 > 0:
            grad_s = jax.grad(lambda r: jnp.sum(disc.apply({"params": dp}, r)))(real)
            loss = loss + 0.5 * config.r1 * jnp.mean(jnp.sum(grad_s**2, axis=(-2, -1)))
        return loss, (jnp.mean(jax.nn.sigmoid(lr_)), jnp.mean(jax.nn.sigmoid(lf)))

    def g_loss(gp, dp, z):
        return _bce_logits(disc.apply({"params": dp}, gen.apply({"params": gp}, z)), 1.0)

    def apply(grads, opt_state, params):
        with jax.numpy_dtype_promotion("standard"):
            updates, opt_state = opt.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state

    @jax.jit
    def epoch_fn(state, perm, key, epoch):
        def step(state, inp):
            idx, k = inp
            k1, k2, k3 = jax.random.split(k, 3)
            real = symmetry_augment(k3, x[idx]) if config.augment else x[idx]
            real = real.astype(jnp.float32)
            z1 = jax.random.normal(k1, (bs, config.latent), jnp.float32)
            (ld, (p_real, p_fake)), gd = jax.value_and_grad(d_loss, has_aux=True)(
                state.d_params, state.g_params, real, z1
            )
            d_params, d_opt = apply(gd, state.d_opt, state.d_params)
            z2 = jax.random.normal(k2, (bs, config.latent), jnp.float32)
            lg, gg = jax.value_and_grad(g_loss)(state.g_params, d_params, z2)
            g_params, g_opt = apply(gg, state.g_opt, state.g_params)
            new = GANState(g_params, d_params, g_opt, d_opt, state.g_snapshots)
            return new, (ld, lg, p_real, p_fake)

        idx = perm[: n_batches * bs].reshape(n_batches, bs)
        state, out = jax.lax.scan(step, state, (idx, jax.random.split(key, n_batches)))
        slot = epoch % config.snapshots
        snaps = jax.tree_util.tree_map(
            lambda r, p: r.at[slot].set(p), state.g_snapshots, state.g_params
        )
        return state._replace(g_snapshots=snaps), out

    cfg_record = to_jsonable(dataclasses.asdict(config)) | {"n_train": int(n), "L": int(L)}
    records: list = []
    if checkpoint is not None:
        restored = checkpoint.restore(state, config=cfg_record, extendable=("epochs",))
        if restored is not None:
            state, meta = restored
            records = meta["history"]
    start = len(records)
    status = "completed"
    t0 = time.perf_counter()

    def save():
        checkpoint.save(state, config=cfg_record, meta={"history": records}, extendable=("epochs",))
        checkpoint.write_json("history.json", {"config": cfg_record, "history": records})

    for epoch in progress(
        range(start, config.epochs), desc="GAN", total=config.epochs, initial=start
    ):
        perm = jax.random.permutation(jax.random.fold_in(k_perm, epoch), n)
        new_state, (ld, lg, pr, pf) = epoch_fn(
            state, perm, jax.random.fold_in(k_step, epoch), epoch
        )
        ld, lg = np.asarray(ld), np.asarray(lg)
        finite = (
            np.all(np.isfinite(ld))
            and np.all(np.isfinite(lg))
            and all(
                bool(jnp.all(jnp.isfinite(a))) for a in jax.tree_util.tree_leaves(new_state[:2])
            )
        )
        if not finite:
            status = "diverged"
            warn_diverged("GAN: a loss", epoch, checkpointed=checkpoint is not None)
            break
        state = new_state
        records.append(
            {
                "epoch": epoch,
                "d_loss": float(ld.mean()),
                "g_loss": float(lg.mean()),
                "d_real": float(np.mean(pr)),
                "d_fake": float(np.mean(pf)),
            }
        )
        if checkpoint is not None and checkpoint.due(epoch + 1, last=epoch + 1 == config.epochs):
            save()
    n_snap = min(config.snapshots, len(records))
    snaps = jax.tree_util.tree_map(lambda r: r[:n_snap], state.g_snapshots) if n_snap else None
    return TrainedGAN(
        config=config,
        history=history_arrays([{k: v for k, v in r.items() if k != "epoch"} for r in records]),
        wall_time_s=time.perf_counter() - t0,
        status=status,
        generator=gen,
        g_params=state.g_params,
        g_snapshots=snaps,
        resumed_from=start,
    )


def sample_gan(gan: TrainedGAN, *, key: jax.Array, n: int) -> np.ndarray:
    """``n`` generated configurations ``(n, L, L)`` int8 in {-1,+1}: each from a generator
    drawn uniformly from ``gan.g_snapshots`` (the last iterate if there are none)."""
    n = check_positive_int("n", n)
    k_z, k_c = jax.random.split(key)
    z = jax.random.normal(k_z, (n, gan.generator.latent), jnp.float32)
    if gan.g_snapshots is None:
        s = np.asarray(gan.generator.apply({"params": gan.g_params}, z))
    else:
        k = jax.tree_util.tree_leaves(gan.g_snapshots)[0].shape[0]
        which = np.asarray(jax.random.randint(k_c, (n,), 0, k))
        s = np.zeros((n, gan.generator.L, gan.generator.L), np.float32)
        for i in range(k):
            params = jax.tree_util.tree_map(lambda r, i=i: r[i], gan.g_snapshots)
            s_i = np.asarray(gan.generator.apply({"params": params}, z))
            s = np.where((which == i)[:, None, None], s_i, s)
    return np.where(s > 0, 1, -1).astype(np.int8)
