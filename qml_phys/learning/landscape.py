r"""The loss landscape: Hessian spectra, sharpness, and mode connectivity.

* Hessian–vector products without the Hessian (Pearlmutter, Neural Comput. 6, 147 (1994)):
  :math:`Hv = \frac{d}{d\epsilon} \nabla L(\theta + \epsilon v)|_0`, one
  ``jax.jvp(jax.grad(loss))`` — forward-over-reverse, the cost of ~2 gradients.
* The extreme eigenvalues by Lanczos with full re-orthogonalisation (Golub & Van Loan,
  *Matrix Computations*, ch. 10; applied to networks by Ghorbani, Krishnan & Xiao,
  arXiv:1901.10159); the trace by Hutchinson's estimator with Rademacher probes.
* Sharpness: the top Hessian eigenvalue :math:`\lambda_{max}` at a solution; large-batch
  training tends to sharper minima that generalise worse (Keskar et al., arXiv:1609.04836).
* Mode connectivity (Garipov et al., arXiv:1802.10026; Draxler et al., arXiv:1803.00885):
  two independently trained solutions :math:`\theta_0, \theta_1` are joined by the quadratic
  Bézier curve :math:`\phi(t) = (1-t)^2\theta_0 + 2t(1-t)\theta_c + t^2\theta_1`; training the
  control point :math:`\theta_c` to minimise :math:`E_{t \sim U(0,1)} L(\phi(t))` finds a
  low-loss path where the straight line (:math:`\theta_c = (\theta_0 + \theta_1)/2`) crosses a
  barrier.

Parameters are any PyTree; vectors in parameter space are flat arrays of the parameters'
common dtype (``jax.flatten_util.ravel_pytree``). ``loss(params) -> scalar`` closes over its
data; use float64 parameters for tight comparisons.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from qml_phys.errors import InvalidParameterError, check_positive_int
from qml_phys.runtime.results import Result, overall_status, ran


def hvp(loss: Callable[[Any], jax.Array], params, v):
    """Hessian–vector product ``H(params) v`` (``v`` a PyTree like ``params``)."""
    return jax.jvp(jax.grad(loss), (params,), (v,))[1]


def flat_hvp(loss: Callable[[Any], jax.Array], params) -> tuple[Callable, int]:
    """``(matvec, dim)``: a jitted ``H v`` on flat vectors ``(dim,)`` at ``params``."""
    flat, unravel = ravel_pytree(params)

    def flat_loss(x):
        return loss(unravel(x))

    @jax.jit
    def matvec(v):
        return jax.jvp(jax.grad(flat_loss), (flat,), (v,))[1]

    return matvec, flat.shape[0]


class LanczosResult(NamedTuple):
    eigenvalues: np.ndarray
    """Ritz values, decreasing ``(n_iter,)``; the extreme ones converge first."""
    alpha: np.ndarray
    beta: np.ndarray


def lanczos(matvec: Callable, dim: int, n_iter: int, *, key, dtype=None) -> LanczosResult:
    """Lanczos tridiagonalisation of a symmetric operator given by ``matvec`` on ``(dim,)``.

    Full re-orthogonalisation (twice, classical Gram–Schmidt) keeps the Krylov basis
    orthogonal, so ``n_iter = dim`` reproduces the whole spectrum; the extreme eigenvalues
    converge long before that. ``key`` draws the random start vector.
    """
    dim = check_positive_int("dim", dim)
    n_iter = check_positive_int("n_iter", n_iter)
    if n_iter > dim:
        raise InvalidParameterError(
            f"n_iter: expected at most dim = {dim} Lanczos steps; got {n_iter}"
        )
    dtype = dtype or jax.dtypes.canonicalize_dtype(jnp.float64)  # float32 unless x64 is on
    v0 = jax.random.normal(key, (dim,), dtype)
    alpha, beta = _lanczos_run(matvec, v0 / jnp.linalg.norm(v0), n_iter)
    alpha, beta = np.asarray(alpha, np.float64), np.asarray(beta, np.float64)[: n_iter - 1]
    # an invariant subspace was found where beta vanishes: keep the Krylov space before it
    small = np.nonzero(beta < 1e-12 * max(1.0, float(np.abs(alpha).max())))[0]
    m = int(small[0]) + 1 if small.size else n_iter
    alpha, beta = alpha[:m], beta[: m - 1]
    T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    return LanczosResult(np.linalg.eigvalsh(T)[::-1], alpha, beta)


def _lanczos_run(matvec, v0, n_iter: int):
    """One compiled loop of ``n_iter`` Lanczos steps: ``(alpha (n_iter,), beta (n_iter,))``."""

    @jax.jit
    def run(v0):
        V = jnp.zeros((n_iter + 1, v0.shape[0]), v0.dtype).at[0].set(v0)
        rows = jnp.arange(n_iter + 1)

        def body(j, carry):
            V, alpha, beta = carry
            v = V[j]
            w = matvec(v)
            a = jnp.vdot(w, v)
            basis = jnp.where((rows <= j)[:, None], V, 0.0)
            for _ in range(2):  # full re-orthogonalisation, twice
                w = w - basis.T @ (basis @ w)
            b = jnp.linalg.norm(w)
            safe = jnp.where(b > 0, b, 1.0)
            V = V.at[j + 1].set(jnp.where(b > 0, w / safe, 0.0))
            return V, alpha.at[j].set(a), beta.at[j].set(b)

        zeros = jnp.zeros(n_iter, v0.dtype)
        _, alpha, beta = jax.lax.fori_loop(0, n_iter, body, (V, zeros, zeros))
        return alpha, beta

    return run(v0)


def hessian_eigenvalues(loss, params, *, k: int = 1, n_iter: int = 30, key) -> np.ndarray:
    """The ``k`` largest Hessian eigenvalues of ``loss`` at ``params`` (Lanczos on HVPs)."""
    matvec, dim = flat_hvp(loss, params)
    n_iter = min(n_iter, dim)
    dtype = ravel_pytree(params)[0].dtype
    return lanczos(matvec, dim, n_iter, key=key, dtype=dtype).eigenvalues[:k]


def hessian_trace(loss, params, *, n_probes: int = 32, key) -> tuple[float, float]:
    """Hutchinson's estimate of ``tr H`` with Rademacher probes: ``(mean, standard error)``."""
    matvec, dim = flat_hvp(loss, params)
    dtype = ravel_pytree(params)[0].dtype
    z = jax.random.rademacher(key, (n_probes, dim), dtype=dtype)
    vals = np.asarray(jax.vmap(lambda v: jnp.vdot(v, matvec(v)))(z))
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(n_probes))


def dense_hessian(loss, params) -> np.ndarray:
    """The full ``(dim, dim)`` Hessian (for checks on small models only)."""
    flat, unravel = ravel_pytree(params)
    return np.asarray(jax.hessian(lambda x: loss(unravel(x)))(flat))


# --------------------------------------------------------------------------- mode connectivity
def bezier_point(theta0, theta1, control, t):
    """``(1-t)^2 theta0 + 2 t (1-t) control + t^2 theta1`` for PyTrees and a scalar ``t``."""

    def point(a, c, b):
        tt = jnp.asarray(t, a.dtype)
        return (1 - tt) ** 2 * a + 2 * tt * (1 - tt) * c + tt**2 * b

    return jax.tree_util.tree_map(point, theta0, control, theta1)


def linear_control(theta0, theta1):
    """The control point that makes the Bézier curve the straight line: the midpoint."""
    return jax.tree_util.tree_map(lambda a, b: (a + b) / 2, theta0, theta1)


def bezier_loss(loss_fn, theta0, theta1):
    """A :func:`qml_phys.train.fit` loss over the control point: ``L(phi(t))``, ``t ~ U(0,1)``
    drawn from the step key (Garipov et al. 2018, eq. 2). ``loss_fn`` follows the trainer's
    contract; in inference mode ``t = 1/2``."""

    def loss(control, batch, *, key, model_state, train):
        k_t, k_inner = jax.random.split(key)
        t = jax.random.uniform(k_t) if train else jnp.asarray(0.5)
        theta = bezier_point(theta0, theta1, control, t)
        return loss_fn(theta, batch, key=k_inner, model_state=model_state, train=train)

    return loss


def path_losses(eval_loss: Callable[[Any], float], theta0, theta1, control=None, ts=None):
    """``eval_loss`` along the curve with ``control`` (default: the straight line): ``(ts,
    losses)``, both ``(m,)``."""
    control = linear_control(theta0, theta1) if control is None else control
    ts = np.linspace(0.0, 1.0, 21) if ts is None else np.asarray(ts)
    losses = np.array([float(eval_loss(bezier_point(theta0, theta1, control, t))) for t in ts])
    return ts, losses


def barrier(losses) -> float:
    """Height of the loss barrier on a path: ``max_t L(t) - max(L(0), L(1))``."""
    losses = np.asarray(losses)
    return float(losses.max() - max(losses[0], losses[-1]))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sharpness(Result):
    """Sharpness against batch size (:func:`sharpness_vs_batch_size`); ``config`` is the
    base :class:`~qml_phys.train.TrainConfig` and ``history`` is empty."""

    rows: tuple[dict, ...]
    """One per batch size: ``batch_size``, ``lambda_max``, ``train_loss``, ``test_loss``,
    ``status``."""

    def summary(self) -> dict:
        """The rows."""
        return super().summary() | {"rows": list(self.rows)}


def sharpness_vs_batch_size(
    loss_fn, init_fn, train: dict, test: dict, batch_sizes, *, config, key, n_iter: int = 20
) -> Sharpness:
    """Train the same model at each batch size (same epochs and learning rate) with
    :func:`qml_phys.train.fit`; measure the top Hessian eigenvalue of the full training
    loss at the solution (sharpness) and the train and test losses.

    ``loss_fn``/``init_fn`` as in :func:`qml_phys.learning.optimisers.loss_curves`. Every
    batch size starts from the same initialisation and uses the same training and Lanczos
    keys (common random numbers, on purpose: only the batch size differs).
    """
    from qml_phys.train import evaluate, fit

    t0 = time.perf_counter()
    arrays = {k: jnp.asarray(v) for k, v in train.items()}
    rows = []
    statuses = []
    k_init, k_fit, k_lanczos, k_eval = jax.random.split(key, 4)
    for bs in batch_sizes:
        cfg = dataclasses.replace(
            config, batch_size=int(bs), validation_fraction=0.0, label=f"batch {bs}"
        )
        res = fit(loss_fn, init_fn(k_init), train, config=cfg, key=k_fit)

        def full(p):
            return loss_fn(p, arrays, key=k_eval, model_state=None, train=False)[0]

        lam = hessian_eigenvalues(full, res.params, k=1, n_iter=n_iter, key=k_lanczos)[0]
        rows.append(
            {
                "batch_size": int(bs),
                "lambda_max": float(lam),
                "train_loss": evaluate(loss_fn, res.params, train, key=k_eval)["loss"],
                "test_loss": evaluate(loss_fn, res.params, test, key=k_eval)["loss"],
                "status": res.status,
            }
        )
        statuses.append(res.status)
    return Sharpness(
        config=config,
        wall_time_s=time.perf_counter() - t0,
        status=overall_status(statuses),
        rows=tuple(rows),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModeConnectivity(Result):
    """Loss profiles between two solutions (:func:`mode_connectivity`); ``history`` is the
    training history of the Bézier control point."""

    t: np.ndarray
    """``(m,)`` curve parameters."""
    linear: np.ndarray
    """``(m,)`` loss along the straight line."""
    bezier: np.ndarray
    """``(m,)`` loss along the trained Bézier curve."""
    linear_barrier: float
    bezier_barrier: float
    control: Any
    """The trained control point (a PyTree like the parameters)."""

    reported = ("t", "linear", "bezier", "linear_barrier", "bezier_barrier")


def mode_connectivity(
    loss_fn, theta0, theta1, data: dict, *, config, key, ts=None
) -> ModeConnectivity:
    """Train the Bézier control point between ``theta0`` and ``theta1`` on ``data`` (with
    ``config``, no validation split; ``key`` draws the batches and the curve points); return
    the loss profiles along the straight line and the curve at ``ts`` (default 21 points)
    and their barriers."""
    from qml_phys.train import evaluate, fit

    t0 = time.perf_counter()
    k_fit, k_eval = jax.random.split(key)
    cfg = dataclasses.replace(config, validation_fraction=0.0, label="bezier")
    res = fit(
        bezier_loss(loss_fn, theta0, theta1),
        linear_control(theta0, theta1),
        data,
        config=cfg,
        key=k_fit,
    )

    def ev(p):
        return evaluate(loss_fn, p, data, key=k_eval)["loss"]

    ts, line = path_losses(ev, theta0, theta1, None, ts)
    _, curve = path_losses(ev, theta0, theta1, res.params, ts)
    return ModeConnectivity(
        **ran(config, res, since=t0),
        t=ts,
        linear=line,
        bezier=curve,
        linear_barrier=barrier(line),
        bezier_barrier=barrier(curve),
        control=res.params,
    )
