r"""SGD, momentum and Adam compared on the same physics task, several seeds at once.

Every optimiser is the optax transformation the shared trainer builds from
``TrainConfig(optimizer=..., learning_rate=...)`` (:func:`qml_phys.train.make_optimizer`), so
what is compared here is what :func:`qml_phys.train.fit` runs. The seeds (initialisation
and minibatch order) are ``vmap``-ed: one compiled ``lax.scan`` trains all of them, and the
curves come with error bands (mean ± standard deviation over seeds).

Background (Mehta et al., arXiv:1803.08823, sec. IV): gradient descent on a quadratic loss
with Hessian ``H`` is stable iff the learning rate is below ``2 / λ_max(H)``; momentum
(Polyak 1964) accelerates along shallow directions; Adam (Kingma & Ba, arXiv:1412.6980)
rescales each coordinate by a running RMS of its gradient.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int


def seed_curves(
    loss_fn: Callable,
    init_fn: Callable[[jax.Array], object],
    data: dict,
    *,
    optimizer: str,
    learning_rate: float,
    seeds: Sequence[int] = (0, 1, 2),
    steps: int = 500,
    batch_size: int | None = None,
    log_every: int = 10,
    momentum: float = 0.9,
) -> dict:
    """Train one model per seed with the same optimiser; return loss curves.

    ``loss_fn``: the trainer's contract ``(params, batch, *, key, model_state, train) ->
    (loss, (metrics, model_state))`` (``model_state`` is ``None`` here); ``init_fn(key)``
    makes the parameters; ``data``: dict of arrays with a common first axis. Minibatches of
    ``batch_size`` are drawn with replacement per step (``None``: full batch). The loss on
    all of ``data`` is logged every ``log_every`` steps.

    Returns ``{"steps": (m,), "loss": (n_seeds, m), "mean", "std", "final": (n_seeds,),
    "diverged": (n_seeds,) bool, "run_s": wall seconds of the compiled run, "compile_s"}``.
    """
    from qml_phys.train import TrainConfig, make_optimizer

    steps = check_positive_int("steps", steps)
    log_every = check_positive_int("log_every", log_every)
    if steps % log_every:
        raise InvalidParameterError(
            f"steps: expected a multiple of log_every = {log_every}; got {steps}"
        )
    arrays = {k: jnp.asarray(v) for k, v in data.items()}
    n = {v.shape[0] for v in arrays.values()}
    if len(n) != 1:
        raise ShapeError(f"data: expected arrays with a common first axis; got sizes {sorted(n)}")
    n = n.pop()
    bs = n if batch_size is None else min(check_positive_int("batch_size", batch_size), n)
    opt = make_optimizer(
        TrainConfig(optimizer=optimizer, learning_rate=learning_rate, momentum=momentum), steps
    )

    def full_loss(params):
        return loss_fn(params, arrays, key=jax.random.key(0), model_state=None, train=False)[0]

    grad = jax.grad(lambda p, b, k: loss_fn(p, b, key=k, model_state=None, train=True)[0])

    def one_seed(key):
        k_init, k_run = jax.random.split(key)
        params = init_fn(k_init)
        with jax.numpy_dtype_promotion("standard"):
            state = opt.init(params)

        def step(carry, k):
            params, state = carry
            k_batch, k_loss = jax.random.split(k)
            if bs == n:
                batch = arrays
            else:
                idx = jax.random.randint(k_batch, (bs,), 0, n)
                batch = jax.tree_util.tree_map(lambda a: a[idx], arrays)
            g = grad(params, batch, k_loss)
            with jax.numpy_dtype_promotion("standard"):
                updates, state = opt.update(g, state, params)
                # x64 mode (on after importing NetKet) makes optax's scalars float64:
                # keep each parameter's own dtype.
                params = jax.tree_util.tree_map(
                    lambda p, u: (p + u).astype(p.dtype), params, updates
                )
            return (params, state), None

        def block(carry, ks):
            carry, _ = jax.lax.scan(step, carry, ks)
            return carry, full_loss(carry[0])

        keys = jax.random.split(k_run, steps).reshape(steps // log_every, log_every)
        _, losses = jax.lax.scan(block, (params, state), keys)
        return jnp.concatenate([full_loss(params)[None], losses])

    run = jax.jit(jax.vmap(one_seed))
    keys = jnp.stack([jax.random.key(int(s)) for s in seeds])
    t0 = time.perf_counter()
    compiled = run.lower(keys).compile()
    t1 = time.perf_counter()
    losses = np.asarray(jax.block_until_ready(compiled(keys)), dtype=np.float64)
    t2 = time.perf_counter()
    finite = np.where(np.isfinite(losses), losses, np.nan)
    diverged = ~np.isfinite(losses[:, -1]) | (losses[:, -1] > 1e3 * np.abs(losses[:, 0]))
    return {
        "optimizer": optimizer,
        "learning_rate": float(learning_rate),
        "steps": np.arange(0, steps + 1, log_every),
        "loss": losses,
        "mean": np.nanmean(finite, axis=0),
        "std": np.nanstd(finite, axis=0),
        "final": losses[:, -1],
        "diverged": diverged,
        "run_s": t2 - t1,
        "compile_s": t1 - t0,
    }


def compare_optimisers(
    loss_fn: Callable,
    init_fn: Callable,
    data: dict,
    *,
    optimizers: Sequence[str] = ("sgd", "momentum", "adam"),
    learning_rates: Sequence[float] = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
    **kwargs,
) -> dict:
    """:func:`seed_curves` for every optimiser and learning rate.

    Returns ``{name: {"by_lr": {lr: curves}, "best_lr": lr with the lowest mean final
    loss among non-diverged runs, "final_vs_lr": (n_lr,) mean final loss (inf if any seed
    diverged)}}``.
    """
    out = {}
    for name in optimizers:
        by_lr = {
            float(lr): seed_curves(
                loss_fn, init_fn, data, optimizer=name, learning_rate=lr, **kwargs
            )
            for lr in learning_rates
        }
        final = np.array(
            [np.inf if c["diverged"].any() else float(np.mean(c["final"])) for c in by_lr.values()]
        )
        best = float(list(by_lr)[int(np.argmin(final))]) if np.isfinite(final).any() else None
        out[name] = {"by_lr": by_lr, "final_vs_lr": final, "best_lr": best}
    return out


# --------------------------------------------------------------------------- physics tasks
def chain_energy_task(
    L: int = 10, n_samples: int = 512, *, key, hidden: int = 16, dtype=jnp.float32
):
    """An MLP learning the energy per spin of a periodic Ising chain from its spins.

    Returns ``(loss_fn, init_fn, data)``: ``data = {"x": (n, L) spins, "y": (n,) E/L}``
    (uniform random configurations, ``E = -sum s_i s_{i+1}``), ``init_fn(key) -> params``
    of a one-hidden-layer tanh network, ``loss_fn`` the mean squared error in the trainer's
    contract. The exact minimum is 0 (the energy is a smooth function of the spins that a
    wide enough network represents); a non-convex landscape for the comparisons.
    """
    from qml_phys.learning.logistic import MLP
    from qml_phys.learning.regression import ising_chain_data

    d = ising_chain_data(L, n_samples, key=key)
    data = {"x": d.spins.astype(dtype), "y": (d.energy / L).astype(dtype)}
    module = MLP((hidden,), 1, scalar=True, param_dtype=dtype)

    def init_fn(k):
        return module.init(k, jnp.zeros((1, L), dtype))["params"]

    def loss_fn(params, batch, *, key, model_state, train):
        pred = module.apply({"params": params}, batch["x"])
        r = pred - batch["y"]
        return jnp.mean(r * r), ({}, model_state)

    return loss_fn, init_fn, data


def linear_energy_task(L: int = 8, n_samples: int = 256, *, key, dtype=jnp.float32):
    """The convex case: linear regression of chain energies on the ``i < j`` pair features.

    Returns ``(loss_fn, init_fn, data, hessian)``: MSE ``mean (x·w - y)^2`` whose Hessian is
    the constant ``2 X^T X / n`` (float64, ``(p, p)``), so gradient descent is stable iff
    ``learning_rate < 2 / λ_max``. ``init_fn`` draws ``w ~ N(0, 1)``.
    """
    from qml_phys.learning.regression import ising_chain_data, pair_features

    d = ising_chain_data(L, n_samples, key=key)
    X = pair_features(d.spins, "pairs")
    data = {"x": X.astype(dtype), "y": d.energy.astype(dtype)}
    hessian = 2 * X.T @ X / n_samples

    def init_fn(k):
        return {"w": jax.random.normal(k, (X.shape[1],), dtype)}

    def loss_fn(params, batch, *, key, model_state, train):
        r = batch["x"] @ params["w"] - batch["y"]
        return jnp.mean(r * r), ({}, model_state)

    return loss_fn, init_fn, data, hessian
