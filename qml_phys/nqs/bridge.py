r"""The classical side feeds the quantum side: warm-start an NQS from a generative model.

A generative model over spins is a Flax module returning ``log p(s)`` (up to a constant)
for spins ``(..., N)`` in {-1, +1}. For a positive (stoquastic) ground state
``psi(s) = sqrt(p(s))``, so the same module *is* a neural quantum state with
``log psi(s) = log p(s) / 2`` (:class:`LogPsiFromLogProb`); its trained parameters are a
warm start for variational Monte Carlo (compare the pre-training of Torlai et al., Nat.
Phys. 14, 447 (2018), arXiv:1703.05334, and the transfer learning of Zen et al., PRE 101,
053301 (2020), arXiv:1908.09883).

:func:`fit_log_prob` trains any such module by maximum likelihood on measurement samples,
with the normalisation ``log Z = logsumexp_s log p(s)`` computed by exact enumeration of
all ``2^N`` configurations (``N <= 16``; exact gradients, no contrastive-divergence bias).
:class:`SpinRBM` is the default generative model, ``log p(s) = a.s + sum_j log cosh(W s +
b)_j`` (the same function as ``nk.models.RBM``); the package's generative models (RBM,
MADE, ... with ``log_prob``) plug in through the same two functions.

:func:`warm_start_comparison` measures the effect: iterations of SR to reach a relative
energy error ``target`` from the warm start and from a random start, same ansatz, same
budget, several seeds.
"""

from __future__ import annotations

import dataclasses
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, TooLargeError, check_positive_int


class SpinRBM(nn.Module):
    """Unnormalised RBM log-probability ``log p(s) = a.s + sum_j log cosh(W s + b)_j``."""

    alpha: int = 1
    """hidden units per visible spin."""
    init_scale: float = 0.05
    """standard deviation of the initial weights."""

    @nn.compact
    def __call__(self, s):
        s = jnp.asarray(s, jnp.float64)
        n = s.shape[-1]
        h = nn.Dense(
            self.alpha * n,
            param_dtype=jnp.float64,
            kernel_init=nn.initializers.normal(self.init_scale),
            bias_init=nn.initializers.normal(self.init_scale),
        )(s)
        a = self.param("visible_bias", nn.initializers.normal(self.init_scale), (n,), jnp.float64)
        return s @ a + jnp.sum(jnp.logaddexp(h, -h) - jnp.log(2.0), axis=-1)


class LogPsiFromLogProb(nn.Module):
    """Adapter: a ``log p(s)`` module as a NetKet log-amplitude, ``log psi = log p / 2``."""

    log_prob: nn.Module
    """any Flax module returning ``log p(s)`` (up to a constant) of shape ``(...)``."""

    def __call__(self, s):
        return 0.5 * self.log_prob(s)


def as_log_psi(module: nn.Module, variables: dict) -> tuple[LogPsiFromLogProb, dict]:
    """The NQS module and its parameters (``{"params": {"log_prob": ...}}``) from a trained
    ``log p`` module and its variables (``{"params": ...}``)."""
    if "params" not in variables:
        raise InvalidParameterError(
            f"variables: expected a Flax variables dict with 'params'; got keys {list(variables)}"
        )
    return LogPsiFromLogProb(module), {"log_prob": variables["params"]}


def fit_log_prob(
    module: nn.Module,
    samples,
    *,
    key,
    epochs: int = 400,
    learning_rate: float = 0.02,
) -> tuple[dict, np.ndarray]:
    r"""Maximum likelihood of ``module`` (``log p``) on ``samples`` ``(n, N)`` in {-1,+1}.

    The loss ``-mean_data log p(s) + logsumexp_all log p(s)`` is exact (enumeration of all
    ``2^N`` states, ``N <= 16``); full-batch Adam in one compiled ``lax.scan``.

    Returns:
        ``(variables, nll)``: trained variables and the negative log-likelihood per epoch.
    """
    import optax
    from jax.scipy.special import logsumexp

    from qml_phys.nqs.tomography import all_spins, enable_x64, standard_promotion

    enable_x64()
    s = np.asarray(samples)
    if s.ndim != 2 or not np.all(np.abs(s) == 1):
        raise InvalidParameterError(
            f"samples: expected (n, N) spins in {{-1,+1}}; got shape {s.shape}"
        )
    n = s.shape[1]
    if n > 16:
        raise TooLargeError(f"fit_log_prob: exact normalisation needs N <= 16; got N = {n}")
    check_positive_int("epochs", epochs)
    data = jnp.asarray(s, jnp.float64)
    every = jnp.asarray(all_spins(n), jnp.float64)
    variables = module.init(key, data[:1])
    opt = optax.adam(learning_rate)

    def loss(v):
        return -jnp.mean(module.apply(v, data)) + logsumexp(module.apply(v, every))

    @jax.jit
    def train(v):
        def step(carry, _):
            v, st = carry
            value, g = jax.value_and_grad(loss)(v)
            upd, st = opt.update(g, st, v)
            return (optax.apply_updates(v, upd), st), value

        (v, _), hist = jax.lax.scan(step, (v, opt.init(v)), None, length=epochs)
        return v, hist

    with standard_promotion():
        variables, hist = train(variables)
    return variables, np.asarray(hist)


def iterations_to(log_energy, exact: float, target: float, window: int = 5) -> int | None:
    """First iteration at which the running mean (``window``) of the energy is within
    relative error ``target`` of ``exact``; None if never."""
    e = np.asarray(log_energy, np.float64)
    if len(e) < window:
        return None
    run = np.convolve(e, np.ones(window) / window, mode="valid")
    ok = np.nonzero(np.abs(run - exact) / abs(exact) <= target)[0]
    return int(ok[0]) + window - 1 if len(ok) else None


@dataclasses.dataclass(frozen=True)
class WarmStartConfig:
    """Settings of :func:`warm_start_comparison`.

    Attributes:
        N: chain length (periodic TFIM, ``N <= 16``).
        h_target: transverse field of the VMC problem.
        h_data: field of the exact ground state that is measured for training data.
        n_data: Z-basis samples for training.
        alpha: hidden-unit density of the shared ansatz.
        iters: VMC budget per run.
        n_samples: VMC samples per iteration.
        target: relative energy error to reach.
        epochs: maximum-likelihood epochs.
    """

    N: int = 10
    h_target: float = 1.0
    h_data: float = 0.9
    n_data: int = 5000
    alpha: int = 1
    iters: int = 100
    n_samples: int = 1024
    target: float = 1e-3
    epochs: int = 400


def warm_start_comparison(config: WarmStartConfig, seeds) -> dict:
    """Iterations to reach ``config.target`` from a warm and a random start, per seed."""
    from qml_phys.nqs.ground_state import VMCConfig, exact_reference, ground_state
    from qml_phys.nqs.tomography import fidelity, measure
    from qml_phys.physics import Lattice, TransverseFieldIsing, exact

    lat = Lattice.chain(config.N)
    target_model = TransverseFieldIsing(lat, J=1.0, gamma=config.h_target)
    data_model = TransverseFieldIsing(lat, J=1.0, gamma=config.h_data)
    e_exact, _ = exact_reference(target_model)
    _, vec_data = exact.lanczos(data_model, return_vectors=True)
    _, vec_target = exact.lanczos(target_model, return_vectors=True)
    psi_data = np.abs(vec_data[:, 0])
    rows = []
    for seed in seeds:
        k_meas, k_fit, k_vmc = jax.random.split(jax.random.key(seed), 3)
        samples = measure(psi_data, ["Z" * config.N], config.n_data, key=k_meas)["Z" * config.N]
        gen = SpinRBM(alpha=config.alpha)
        variables, nll = fit_log_prob(gen, samples, key=k_fit, epochs=config.epochs)
        nqs_module, params = as_log_psi(gen, variables)
        from qml_phys.nqs.tomography import all_spins

        logpsi = np.asarray(nqs_module.apply({"params": params}, all_spins(config.N)))
        psi_warm = np.exp(logpsi - logpsi.max())
        vmc = VMCConfig(
            ansatz=nqs_module,
            iters=config.iters,
            n_samples=config.n_samples,
            final_samples=0,
            tail=10,
            warmup=0,
        )
        runs = {}
        for name, init in (("warm", params), ("random", None)):
            res = ground_state(target_model, vmc, key=k_vmc, params=init)
            runs[name] = {
                "iterations": iterations_to(res.log["energy"], e_exact, config.target),
                "initial_relative_error": float(abs(res.log["energy"][0] - e_exact) / abs(e_exact)),
                "final_relative_error": float(abs(res.tail_energy - e_exact) / abs(e_exact)),
                "energy": res.log["energy"],
            }
        rows.append(
            {
                "seed": int(seed),
                "final_nll": float(nll[-1]),
                "warm_fidelity": fidelity(vec_target[:, 0], psi_warm),
                **{f"{k}_{q}": v[q] for k, v in runs.items() for q in v},
            }
        )
    warm = [r["warm_iterations"] for r in rows]
    rand = [r["random_iterations"] for r in rows]

    def med(x):
        vals = [v if v is not None else config.iters for v in x]
        return float(np.median(vals))

    return {
        "config": dataclasses.asdict(config),
        "exact_energy": e_exact,
        "rows": rows,
        "median_iterations_warm": med(warm),
        "median_iterations_random": med(rand),
        "note": "iterations = budget when the target was never reached",
        "speedup": med(rand) / max(med(warm), 1.0) if not math.isnan(med(warm)) else None,
    }
