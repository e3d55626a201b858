r"""The one optimisation path of the variational circuits: optax on PennyLane's JAX interface.

:func:`minimize` drives a scalar cost (a QNode with ``interface="jax"``, or any JAX
function of one array) with an optax optimiser, in float64 with JAX's standard dtype
promotion (:func:`qml_phys.runtime.precision.float64`, thread-local, for the duration of
the run only). :mod:`~qml_phys.circuits.vqe` and :mod:`~qml_phys.circuits.qaoa` both use it.

Optimisers (:data:`OPTIMIZERS`):

* ``"adam"`` -- ``optax.adam(learning_rate)``;
* ``"lbfgs"`` -- ``optax.lbfgs()`` with its zoom line search (strong Wolfe conditions), for
  high precision; ``learning_rate`` is not used;
* ``"qng"`` -- quantum natural gradient (J. Stokes et al., Quantum 4, 269 (2020),
  arXiv:1909.02108): the gradient is preconditioned with PennyLane's block-diagonal
  ``qml.metric_tensor`` plus ``1e-8`` on the diagonal, then ``optax.sgd(learning_rate)``;
  the metric is evaluated through PennyLane's autograd interface;
* or any ``optax.GradientTransformation``.

The run stops after ``n_steps`` updates, or as soon as the gradient's 2-norm falls below
``gtol`` (then it has *converged*).

One optimisation step is compiled as a whole (``jax.jit``; the L-BFGS line search's loop
is traced once, not per step: about 10x faster). A QNode that differentiates by
backpropagation is compiled into it; any other QNode (adjoint on ``lightning.qubit``,
parameter shift with shots, Aer, hardware) runs on the host through
:func:`host_callback_cost`.

Why not PennyLane's own JAX callbacks: the package computes in float64 through JAX's
*thread-local* ``enable_x64`` (:mod:`qml_phys.runtime.precision`), and XLA may run a
host callback on one of its worker threads, which does not see that setting. JAX then
narrows the callback's float64 results to float32 and rejects them ("Incorrect output
dtype ... Expected: float64, Actual: float32"; seen for the N = 8 TFIM chain on
``lightning.qubit``, not for N = 4, which ran on the calling thread). The callbacks of
:func:`host_callback_cost` return the float64 results as their raw bits (``uint32``
pairs, which JAX leaves alone) and the compiled step reinterprets them
(``lax.bitcast_convert_type``): exact, on any thread, with no global JAX setting.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pennylane as qml

from qml_phys.errors import (
    InvalidParameterError,
    UnknownNameError,
    check_number,
    check_positive_int,
)
from qml_phys.runtime.precision import float64

__all__ = [
    "OPTIMIZERS",
    "MinimizeConfig",
    "Minimum",
    "OptimizerSettings",
    "host_callback_cost",
    "minimize",
    "optimizer_name",
]

#: Names accepted for ``optimizer``.
OPTIMIZERS = ("adam", "lbfgs", "qng")


def optimizer_name(optimizer) -> str:
    """The name of ``optimizer`` for records: itself for a name, ``"custom"`` for an optax
    transformation."""
    return optimizer if isinstance(optimizer, str) else "custom"


@dataclasses.dataclass(frozen=True, kw_only=True)
class MinimizeConfig:
    """How :func:`minimize` optimises."""

    optimizer: str | optax.GradientTransformation = "adam"
    """One of :data:`OPTIMIZERS`, or an ``optax.GradientTransformation``."""
    n_steps: int = 200
    """Most optimiser updates (0: evaluate the start only)."""
    learning_rate: float = 0.05
    """Step size of ``"adam"`` and ``"qng"`` (L-BFGS chooses its own by line search)."""
    gtol: float = 1e-9
    """Converged when the gradient's 2-norm falls below this (cost units per radian)."""

    def __post_init__(self):
        if not isinstance(self.optimizer, optax.GradientTransformation) and (
            self.optimizer not in OPTIMIZERS
        ):
            raise UnknownNameError(
                f"optimizer: expected one of {', '.join(OPTIMIZERS)} or an optax "
                f"GradientTransformation; got {self.optimizer!r}"
            )
        object.__setattr__(self, "n_steps", check_positive_int("n_steps", self.n_steps, 0))
        object.__setattr__(
            self,
            "learning_rate",
            check_number("learning_rate", self.learning_rate, minimum=0, strict=True),
        )
        object.__setattr__(self, "gtol", check_number("gtol", self.gtol, minimum=0, strict=True))


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimizerSettings:
    """Base of the configs that carry ``optimizer``, ``n_steps``, ``learning_rate`` and
    ``gtol`` (VQE, QAOA; each declares its own ``optimizer`` and ``gtol`` defaults):
    :attr:`minimize_config` turns them into a :class:`MinimizeConfig` (and so validates
    them)."""

    n_steps: int = 200
    """Most optimiser updates; 0 evaluates the start only."""
    learning_rate: float = 0.05
    """Step size of Adam and QNG."""

    @property
    def minimize_config(self) -> MinimizeConfig:
        """The optimiser settings as a :class:`MinimizeConfig`."""
        return MinimizeConfig(
            optimizer=self.optimizer,
            n_steps=self.n_steps,
            learning_rate=self.learning_rate,
            gtol=self.gtol,
        )


class Minimum(NamedTuple):
    """What :func:`minimize` found.

    ``values`` and ``grad_norms`` have one entry per evaluated step ``k`` (the cost and the
    gradient norm *before* update ``k``); a converged run's last step is the one whose
    gradient fell below ``gtol`` and was not applied.
    """

    params: np.ndarray
    """Final parameters, float64, the shape of the start."""
    value: float
    """Cost at ``params``."""
    values: np.ndarray
    """``(n_evaluated_steps,)`` float64 cost before each step."""
    grad_norms: np.ndarray
    """``(n_evaluated_steps,)`` float64 gradient 2-norm before each step."""
    converged: bool
    """The gradient norm fell below ``gtol`` before the step budget ran out."""
    n_evaluations: int
    """Evaluations of the cost with its gradient (line-search trials included) plus the
    final evaluation of the cost."""


def _named(kind: str, rate: float) -> optax.GradientTransformation:
    """The transformation of an optimiser name (QNG's preconditioning is in the step)."""
    if kind == "adam":
        return optax.adam(rate)
    if kind == "lbfgs":
        return optax.lbfgs()
    return optax.sgd(rate)


def _transformation(config: MinimizeConfig) -> tuple[optax.GradientTransformation, str]:
    if isinstance(config.optimizer, optax.GradientTransformation):
        return config.optimizer, "custom"
    return _named(config.optimizer, config.learning_rate), config.optimizer


def _metric_fn(qnode):
    """Block-diagonal Fubini-Study metric ``(P, P)`` of a QNode's state at ``params``.

    ``qml.metric_tensor`` fails under the JAX interface with JAX 0.10 (it calls the removed
    ``jax.core.TraceTag``), so it is evaluated on an autograd twin of the QNode.
    """
    from pennylane import numpy as pnp

    if not isinstance(qnode, qml.QNode):
        raise InvalidParameterError(
            "optimizer='qng': expected the cost to be a PennyLane QNode (its state gives the "
            f"metric); got {type(qnode).__name__}"
        )
    twin = qml.QNode(qnode.func, qnode.device, interface="autograd")
    metric = qml.metric_tensor(twin, approx="block-diag")

    def fn(params):
        p = np.asarray(params, dtype=np.float64)
        g = np.asarray(metric(pnp.array(p, requires_grad=True)), dtype=np.float64)
        return g.reshape(p.size, p.size)

    return fn


def _words(a) -> np.ndarray:
    """The bits of a float64 array as ``uint32`` pairs, shape ``a.shape + (2,)``."""
    a = np.array(a, dtype=np.float64, order="C")  # a copy; keeps 0-d arrays 0-d
    return a.reshape(-1).view(np.uint32).reshape(a.shape + (2,))


def _words_spec(shape) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct((*shape, 2), jnp.uint32)


def _from_words(words):
    return jax.lax.bitcast_convert_type(words, jnp.float64)


class _Host:
    """A QNode evaluated on the host through PennyLane's autograd interface."""

    def __init__(self, qnode):
        from pennylane import numpy as pnp

        self._pnp = pnp
        self.twin = qml.QNode(
            qnode.func, qnode.device, interface="autograd", diff_method=qnode.diff_method
        )
        self.gradient = qml.grad(self.twin)

    def value(self, x) -> np.ndarray:
        return np.asarray(self.twin(np.asarray(x, dtype=np.float64)), dtype=np.float64)

    def value_and_grad(self, x) -> tuple[np.ndarray, np.ndarray]:
        p = self._pnp.array(np.asarray(x, dtype=np.float64), requires_grad=True)
        g = np.asarray(self.gradient(p), dtype=np.float64).reshape(p.shape)
        return np.asarray(self.gradient.forward, dtype=np.float64), g


#: The host evaluations in use, by handle: a compiled step receives the handle as an
#: argument, so that one compiled program serves every QNode of the same parameter shape.
_LIVE: dict[int, _Host] = {}
_HANDLES = itertools.count()


def _host_value(handle, x):
    return _words(_LIVE[int(handle)].value(x))


def _host_value_and_grad(handle, x):
    value, grad = _LIVE[int(handle)].value_and_grad(x)
    return _words(value), _words(grad)


@jax.custom_vjp
def _host_cost(handle, x):
    """The host evaluation ``handle`` at ``x`` (float64 scalar), differentiable in ``x``."""
    return _from_words(jax.pure_callback(_host_value, _words_spec(()), handle, x))


def _host_cost_fwd(handle, x):
    shapes = (_words_spec(()), _words_spec(x.shape))
    value, grad = jax.pure_callback(_host_value_and_grad, shapes, handle, x)
    return _from_words(value), (handle, _from_words(grad))


def _host_cost_bwd(residual, ct):
    handle, grad = residual
    return np.zeros(np.shape(handle), dtype=jax.dtypes.float0), ct * grad


_host_cost.defvjp(_host_cost_fwd, _host_cost_bwd)


@contextlib.contextmanager
def _registered(host: _Host):
    """A handle of ``host`` (an int32 JAX scalar) for the duration of the block."""
    handle = next(_HANDLES) % (2**31 - 1)
    _LIVE[handle] = host
    try:
        yield jnp.asarray(handle, dtype=jnp.int32)
    finally:
        del _LIVE[handle]


def host_callback_cost(qnode):
    """``cost(params)``, a JAX function (``jit``- and ``grad``-able) that evaluates
    ``qnode`` on the host with PennyLane's autograd interface, for as long as the returned
    context manager is open::

        with host_callback_cost(qnode) as cost:
            value, grad = jax.jit(jax.value_and_grad(cost))(x)

    The value is one ``jax.pure_callback``; the gradient (a ``jax.custom_vjp``) one more
    that returns the value and the gradient of one forward and one backward pass
    (``qml.grad`` with the QNode's own ``diff_method``: one adjoint pass on
    ``lightning.qubit``, the shifted circuits of parameter shift). The float64 results
    cross the callback boundary as their bits (see the module docstring), so they arrive
    exact whatever thread XLA runs the callback on. Use it under
    :func:`qml_phys.runtime.precision.float64`.
    """

    @contextlib.contextmanager
    def scope():
        with _registered(_Host(qnode)) as handle:
            yield functools.partial(_host_cost, handle)

    return scope()


def minimize(cost, params0, config: MinimizeConfig = MinimizeConfig()) -> Minimum:
    """Minimise the scalar ``cost(params)`` from ``params0``.

    Args:
        cost: a PennyLane QNode, or a JAX-differentiable function of one float64 array;
            for ``optimizer="qng"`` a QNode. A QNode that does not differentiate by
            backpropagation runs on the host (:func:`host_callback_cost`); its compiled
            step is shared with every such QNode of the same parameter shape and optimiser
            settings, so repeated runs (depth sweeps, restarts) compile once.
        params0: the start, any shape.
        config: :class:`MinimizeConfig`.

    Returns:
        :class:`Minimum`. Runs in float64 (:func:`qml_phys.runtime.precision.float64`).
    """
    if not isinstance(config, MinimizeConfig):
        raise InvalidParameterError(
            f"config: expected a MinimizeConfig; got {type(config).__name__}"
        )
    opt, kind = _transformation(config)
    metric = _metric_fn(cost) if kind == "qng" else None
    with float64():
        if not (isinstance(cost, qml.QNode) and cost.diff_method != "backprop"):
            step = jax.jit(_make_step(_as_float64(cost), opt, kind))
            final = _as_float64(cost)
            return _minimize(step, final, params0, opt.init, kind, config, metric)
        host = _Host(cost)
        with _registered(host) as handle:
            if kind == "custom":  # an arbitrary transformation: compiled for this run
                step = jax.jit(_make_step(functools.partial(_host_cost, handle), opt, kind))
            else:
                rate = 0.0 if kind == "lbfgs" else config.learning_rate
                step = functools.partial(_shared_step, handle=handle, kind=kind, rate=rate)
            return _minimize(step, host.value, params0, opt.init, kind, config, metric)


def _as_float64(cost_fn):
    def cost(p):
        return jnp.asarray(cost_fn(p), dtype=jnp.float64)

    return cost


def _make_step(cost, opt, kind):
    """``step(params, state, precondition) -> (params, state, value, grad, evaluations)``."""
    if kind == "lbfgs":
        value_and_grad = optax.value_and_grad_from_state(cost)

        def step(params, state, precondition=None):
            value, grad = value_and_grad(params, state=state)
            updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=cost)
            trials = optax.tree_utils.tree_get(state, "num_linesearch_steps")
            return optax.apply_updates(params, updates), state, value, grad, trials

        return step
    value_and_grad = jax.value_and_grad(cost)

    def step(params, state, precondition=None):
        value, grad = value_and_grad(params)
        direction = grad
        if precondition is not None:  # quantum natural gradient: solve (g + eps) x = grad
            size = params.size
            eye = jnp.eye(size, dtype=jnp.float64)
            direction = jnp.linalg.solve(precondition + 1e-8 * eye, grad.reshape(size))
            direction = direction.reshape(params.shape)
        updates, state = opt.update(direction, state, params)
        return optax.apply_updates(params, updates), state, value, grad, 1

    return step


@functools.partial(jax.jit, static_argnames=("kind", "rate"))
def _shared_step(params, state, precondition=None, *, handle, kind, rate):
    """One step of a named optimiser on the host evaluation ``handle`` (compiled once per
    parameter shape, optimiser and rate; the QNode is reached through the handle)."""
    step = _make_step(functools.partial(_host_cost, handle), _named(kind, rate), kind)
    return step(params, state, precondition)


def _minimize(step, final_value, params0, init, kind, config, metric):
    params = jnp.asarray(params0, dtype=jnp.float64)
    # optax initialises some fields weakly typed and updates them strongly typed: make them
    # strong at once, so that the compiled step is traced once, not twice
    state = jax.tree.map(lambda x: jnp.asarray(x, dtype=jnp.asarray(x).dtype), init(params))
    values, norms, evaluations, converged = [], [], 0, False
    for k in range(config.n_steps):
        precondition = None if metric is None else jnp.asarray(metric(params))
        new, new_state, value, grad, trials = step(params, state, precondition)
        # L-BFGS evaluates at the start once; afterwards it reuses its line search's values
        evaluations += int(trials) + (1 if kind == "lbfgs" and k == 0 else 0)
        values.append(float(value))
        norms.append(float(jnp.linalg.norm(grad)))
        if norms[-1] < config.gtol:
            converged = True
            break
        params, state = new, new_state
    if converged:
        final = values[-1]
    else:
        final = float(final_value(params))
        evaluations += 1
    return Minimum(
        params=np.asarray(params, dtype=np.float64),
        value=final,
        values=np.asarray(values, dtype=np.float64),
        grad_norms=np.asarray(norms, dtype=np.float64),
        converged=converged,
        n_evaluations=evaluations,
    )
