r"""SGD, momentum and Adam compared on the same physics task, several runs at once.

Every optimiser is the optax transformation the shared trainer builds from
``TrainConfig(optimizer=..., learning_rate=...)`` (:func:`qml_phys.train.make_optimizer`), so
what is compared here is what :func:`qml_phys.train.fit` runs. Independent runs (each with
its own initialisation and minibatches, drawn from ``fold_in(key, i)``) are ``vmap``-ed: one
compiled ``lax.scan`` trains all of them, and the curves come with error bands (mean ±
standard deviation over runs). Settings are an :class:`OptimiserConfig`.

Background (Mehta et al., arXiv:1803.08823, sec. IV): gradient descent on a quadratic loss
with Hessian ``H`` is stable iff the learning rate is below ``2 / λ_max(H)``; momentum
(Polyak 1964) accelerates along shallow directions; Adam (Kingma & Ba, arXiv:1412.6980)
rescales each coordinate by a running RMS of its gradient.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int
from qml_phys.runtime.results import Result, history_column


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimiserConfig:
    """Settings of :func:`loss_curves` (the optimiser is built by
    :func:`qml_phys.train.make_optimizer`, as :func:`qml_phys.train.fit` builds it)."""

    optimizer: str = "adam"
    """adam | adamw | sgd | momentum | rmsprop"""
    learning_rate: float = 1e-3
    n_steps: int = 500
    """Optimisation steps of every run (a multiple of ``log_every``)."""
    batch_size: int | None = None
    """Examples per step, drawn with replacement (``None``: the full batch)."""
    log_every: int = 10
    """Steps between evaluations of the full loss."""
    momentum: float = 0.9
    """For ``momentum`` (heavy ball) and ``rmsprop``."""
    n_runs: int = 3
    """Independent runs (initialisation and minibatches), trained at once with ``vmap``."""

    def __post_init__(self):
        from qml_phys.train import TrainConfig

        # the optimiser name, learning rate and momentum are validated where they are used
        TrainConfig(
            optimizer=self.optimizer, learning_rate=self.learning_rate, momentum=self.momentum
        )
        n_steps = check_positive_int("n_steps", self.n_steps)
        log_every = check_positive_int("log_every", self.log_every)
        if n_steps % log_every:
            raise InvalidParameterError(
                f"n_steps: expected a multiple of log_every = {log_every}; got {n_steps}"
            )
        if self.batch_size is not None:
            check_positive_int("batch_size", self.batch_size)
        check_positive_int("n_runs", self.n_runs)


@dataclasses.dataclass(frozen=True, kw_only=True)
class LossCurves(Result):
    """Loss curves of ``config.n_runs`` independent runs (:func:`loss_curves`).

    ``history``: ``step``, ``mean`` and ``std`` (over runs, non-finite losses left out) at
    every logged step, ``(n_steps / log_every + 1,)`` each. ``status`` is ``diverged`` if
    any run diverged.
    """

    loss: np.ndarray
    """``(n_runs, m)`` the full loss of every run at every logged step (step 0 first)."""
    diverged: np.ndarray
    """``(n_runs,)`` bool: the final loss is not finite or exceeds 1000 times the first."""
    run_s: float
    """Wall seconds of the compiled run (all runs together)."""
    compile_s: float
    """Seconds to compile it."""

    steps = history_column("step")
    """``(m,)`` the logged steps."""

    mean = history_column("mean")
    """``(m,)`` mean loss over runs."""

    std = history_column("std")
    """``(m,)`` standard deviation of the loss over runs."""

    @property
    def final(self) -> np.ndarray:
        """``(n_runs,)`` the last logged loss of every run."""
        return self.loss[:, -1]

    reported = ("final", "diverged", "run_s", "compile_s")

    def summary(self) -> dict:
        """Optimiser, learning rate, final losses, divergences and timings."""
        return super().summary() | {
            "optimizer": self.config.optimizer,
            "learning_rate": float(self.config.learning_rate),
            "final_mean": float(np.mean(self.final)),
        }


def loss_curves(
    loss_fn: Callable,
    init_fn: Callable[[jax.Array], object],
    data: dict,
    config: OptimiserConfig = OptimiserConfig(),
    *,
    key: jax.Array,
) -> LossCurves:
    """Train ``config.n_runs`` models with the same optimiser; return their loss curves.

    ``loss_fn``: the trainer's contract ``(params, batch, *, key, model_state, train) ->
    (loss, (metrics, model_state))`` (``model_state`` is ``None`` here); ``init_fn(key)``
    makes the parameters; ``data``: dict of arrays with a common first axis. Minibatches of
    ``config.batch_size`` are drawn with replacement per step (``None``: full batch). The
    loss on all of ``data`` is logged every ``config.log_every`` steps.

    Run ``i`` draws its initialisation and minibatches from ``fold_in(key, i)``: the first
    ``m`` runs are the same for any ``n_runs >= m``, and calls with the same key compare
    optimisers on the same initialisations and batches (common random numbers, on purpose).
    """
    from qml_phys.train import TrainConfig, make_optimizer

    c = config
    arrays = {k: jnp.asarray(v) for k, v in data.items()}
    n = {v.shape[0] for v in arrays.values()}
    if len(n) != 1:
        raise ShapeError(f"data: expected arrays with a common first axis; got sizes {sorted(n)}")
    n = n.pop()
    bs = n if c.batch_size is None else min(c.batch_size, n)
    opt = make_optimizer(
        TrainConfig(optimizer=c.optimizer, learning_rate=c.learning_rate, momentum=c.momentum),
        c.n_steps,
    )

    def full_loss(params, key):
        return loss_fn(params, arrays, key=key, model_state=None, train=False)[0]

    grad = jax.grad(lambda p, b, k: loss_fn(p, b, key=k, model_state=None, train=True)[0])

    def one_run(key):
        k_init, k_run, k_eval = jax.random.split(key, 3)
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
                # x64 mode makes optax's scalars float64: keep each parameter's own dtype.
                params = jax.tree_util.tree_map(
                    lambda p, u: (p + u).astype(p.dtype), params, updates
                )
            return (params, state), None

        def block(carry, ks):
            carry, _ = jax.lax.scan(step, carry, ks)
            return carry, full_loss(carry[0], k_eval)

        keys = jax.random.split(k_run, c.n_steps).reshape(c.n_steps // c.log_every, c.log_every)
        _, losses = jax.lax.scan(block, (params, state), keys)
        return jnp.concatenate([full_loss(params, k_eval)[None], losses])

    run = jax.jit(jax.vmap(one_run))
    keys = jnp.stack([jax.random.fold_in(key, i) for i in range(c.n_runs)])
    t0 = time.perf_counter()
    compiled = run.lower(keys).compile()
    t1 = time.perf_counter()
    losses = np.asarray(jax.block_until_ready(compiled(keys)), dtype=np.float64)
    t2 = time.perf_counter()
    finite = np.where(np.isfinite(losses), losses, np.nan)
    diverged = ~np.isfinite(losses[:, -1]) | (losses[:, -1] > 1e3 * np.abs(losses[:, 0]))
    with warnings.catch_warnings():  # a step where every run diverged: NaN, on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        history = {
            "step": np.arange(0, c.n_steps + 1, c.log_every, dtype=np.float64),
            "mean": np.nanmean(finite, axis=0),
            "std": np.nanstd(finite, axis=0),
        }
    return LossCurves(
        config=c,
        history=history,
        wall_time_s=t2 - t0,
        status="diverged" if diverged.any() else "completed",
        loss=losses,
        diverged=diverged,
        run_s=t2 - t1,
        compile_s=t1 - t0,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimiserComparison(Result):
    """:func:`loss_curves` for every optimiser and learning rate
    (:func:`compare_optimisers`); ``config`` is the base :class:`OptimiserConfig` and
    ``history`` is empty."""

    learning_rates: tuple[float, ...]
    curves: Mapping[str, Mapping[float, LossCurves]]
    """``{optimizer: {learning_rate: LossCurves}}``."""
    final_vs_lr: Mapping[str, np.ndarray]
    """``{optimizer: (n_lr,)}`` mean final loss (inf if any run diverged)."""
    best_lr: Mapping[str, float | None]
    """``{optimizer: learning rate}`` with the lowest mean final loss among runs that did not
    diverge (``None`` if every learning rate diverged)."""

    def summary(self) -> dict:
        """Per optimiser: the best learning rate and the final loss against learning rate."""
        return super().summary() | {
            "learning_rates": list(self.learning_rates),
            "by_optimizer": {
                name: {"best_lr": self.best_lr[name], "final_vs_lr": self.final_vs_lr[name]}
                for name in self.curves
            },
        }


def compare_optimisers(
    loss_fn: Callable,
    init_fn: Callable,
    data: dict,
    config: OptimiserConfig = OptimiserConfig(),
    *,
    key: jax.Array,
    optimizers: Sequence[str] = ("sgd", "momentum", "adam"),
    learning_rates: Sequence[float] = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
) -> OptimiserComparison:
    """:func:`loss_curves` for every optimiser and learning rate, all with ``key`` (the same
    initialisations and minibatches for every optimiser: common random numbers, on
    purpose); ``config`` gives the other settings."""
    t0 = time.perf_counter()
    curves, final_vs_lr, best_lr = {}, {}, {}
    for name in optimizers:
        by_lr = {
            float(lr): loss_curves(
                loss_fn,
                init_fn,
                data,
                dataclasses.replace(config, optimizer=name, learning_rate=float(lr)),
                key=key,
            )
            for lr in learning_rates
        }
        final = np.array(
            [np.inf if c.diverged.any() else float(np.mean(c.final)) for c in by_lr.values()]
        )
        curves[name] = by_lr
        final_vs_lr[name] = final
        best_lr[name] = (
            float(list(by_lr)[int(np.argmin(final))]) if np.isfinite(final).any() else None
        )
    return OptimiserComparison(
        config=config,
        wall_time_s=time.perf_counter() - t0,
        learning_rates=tuple(float(lr) for lr in learning_rates),
        curves=curves,
        final_vs_lr=final_vs_lr,
        best_lr=best_lr,
    )


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
