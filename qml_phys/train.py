r"""One optax training loop shared by every Flax model in the package.

:func:`fit` trains any parameter PyTree against a loss function on a dataset of arrays (or
on no dataset at all, for variational training that draws its own samples):

* minibatches from a fresh permutation each epoch (the permutation depends only on the
  key and the epoch number, so a resumed run sees the same batches as an uninterrupted
  one), one ``lax.scan`` over the batches of an epoch, compiled once;
* a validation split (``validation_fraction``) or an explicit validation set, evaluated
  every epoch in inference mode;
* regularisation switches: weight decay (decoupled, AdamW-style, or L2 added to the
  gradient for SGD/momentum), dropout and batch normalisation (through the loss
  function's ``key``/``model_state``, see :func:`flax_loss`), early stopping on the
  validation loss with the best parameters restored, gradient clipping;
* checkpoint/resume: a :class:`~qml_phys.runtime.checkpoint.Checkpoint` among the
  ``callbacks`` saves the state (parameters, optimiser state, model state, best
  parameters, history) atomically every ``checkpoint.every`` epochs, and a rerun with the
  same configuration and inputs continues from it;
* a non-finite loss stops training, keeps the last good state, and says so
  (``result.status == "diverged"`` and a warning);
* a progress bar (labelled ``config.label``), and a history of per-epoch arrays in the
  returned :class:`TrainResult` (and in ``history.json`` beside a checkpoint).

The loss contract (pure, jit-able)::

    loss_fn(params, batch, *, key, model_state, train) -> (loss, (metrics, model_state))

``batch`` is a dict of arrays sliced along the first axis from ``data`` (``None`` when
training without data), ``key`` a fresh PRNG key per step (dropout, sampling),
``model_state`` any PyTree the loss updates in training mode (batch statistics,
persistent Markov chains; ``None`` if unused), ``metrics`` a dict of scalars averaged over
the epoch. :func:`flax_loss` builds such a function for a Flax module and a per-example
loss.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    check_name,
    check_number,
)
from qml_phys.runtime.results import Result, history_arrays

OPTIMIZERS = ("adam", "adamw", "sgd", "momentum", "rmsprop")
SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`fit`. Every field is recorded with the checkpoint and history."""

    epochs: int = 20
    """Passes over the training set (or, without data, blocks of ``steps_per_epoch`` steps)."""
    batch_size: int = 128
    """Examples per step; the last incomplete batch of a permutation is dropped."""
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    """adam | adamw | sgd | momentum | rmsprop"""
    momentum: float = 0.9
    """For ``momentum`` (heavy ball) and ``rmsprop``."""
    weight_decay: float = 0.0
    """Decoupled decay for adam/adamw; an L2 term added to the gradient otherwise."""
    schedule: str = "constant"
    """constant | cosine (decay to 0 over all steps)"""
    grad_clip: float | None = None
    """Clip the global gradient norm to this value."""
    validation_fraction: float = 0.1
    """Held out from ``data`` when no explicit validation set is given (0 for none)."""
    patience: int | None = None
    """Early stopping: stop after this many epochs without a better validation loss."""
    min_delta: float = 0.0
    """An improvement must lower the validation loss by more than this."""
    restore_best: bool = True
    """At the end, return the parameters with the best validation loss."""
    steps_per_epoch: int = 100
    """Steps per epoch when training without data (``data=None``)."""
    eval_batch_size: int = 4096
    """Examples per evaluation batch (validation)."""
    label: str = "training"
    """Shown on the progress bar and in warnings; not part of a checkpoint's fingerprint."""

    def __post_init__(self):
        for name in ("epochs", "batch_size", "steps_per_epoch", "eval_batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidParameterError(f"{name}: expected an integer >= 1; got {value!r}")
        check_number("learning_rate", self.learning_rate, minimum=0, strict=True)
        check_number("weight_decay", self.weight_decay, minimum=0)
        if not 0 <= self.validation_fraction < 1:
            raise InvalidParameterError(
                f"validation_fraction: expected 0 <= f < 1; got {self.validation_fraction!r}"
            )
        if self.patience is not None and self.patience < 1:
            raise InvalidParameterError(
                f"patience: expected None or an integer >= 1; got {self.patience!r}"
            )
        check_name("optimizer", self.optimizer, OPTIMIZERS)
        check_name("schedule", self.schedule, SCHEDULES)
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise InvalidParameterError(
                f"grad_clip: expected None or a number > 0; got {self.grad_clip!r}"
            )


def check_train_config(train) -> TrainConfig:
    """``train`` if it is a :class:`TrainConfig` (the ``train`` field of a learner's config);
    raise :class:`~qml_phys.errors.InvalidParameterError` naming what was given otherwise."""
    if not isinstance(train, TrainConfig):
        raise InvalidParameterError(
            f"train: expected a qml_phys.train.TrainConfig; got {type(train).__name__}"
        )
    return train


def make_optimizer(config: TrainConfig, total_steps: int = 1) -> optax.GradientTransformation:
    """The optax transformation that ``config`` describes (clip → decay → optimiser)."""
    lr: Any = config.learning_rate
    if config.schedule == "cosine":
        lr = optax.cosine_decay_schedule(config.learning_rate, max(total_steps, 1))
    parts = []
    if config.grad_clip is not None:
        parts.append(optax.clip_by_global_norm(config.grad_clip))
    name = config.optimizer
    if name in ("adam", "adamw"):
        parts.append(optax.adamw(lr, weight_decay=config.weight_decay))
    else:
        if config.weight_decay:
            parts.append(optax.add_decayed_weights(config.weight_decay))
        if name == "sgd":
            parts.append(optax.sgd(lr))
        elif name == "momentum":
            parts.append(optax.sgd(lr, momentum=config.momentum))
        else:
            parts.append(optax.rmsprop(lr, momentum=config.momentum))
    return optax.chain(*parts)


class TrainState(NamedTuple):
    """Everything a resumed run needs (a PyTree; checkpointed as a whole)."""

    params: Any
    opt_state: Any
    model_state: Any
    best_params: Any
    best_model_state: Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainResult(Result):
    """What :func:`fit` returns (see :class:`~qml_phys.runtime.results.Result`).

    ``history`` holds one entry per epoch: ``train_loss``, the training metrics by name,
    ``val_loss`` and ``val_<metric>`` (with a validation set) and ``seconds``. ``status``
    is ``completed``, ``early_stopped`` or ``diverged``.
    """

    params: Any
    """The trained parameters (the best epoch's with early stopping and ``restore_best``)."""
    model_state: Any = None
    """The model state (batch statistics, persistent chains) that goes with ``params``."""
    best_epoch: int | None = None
    """0-based epoch of the lowest validation loss (``None`` without validation)."""
    best_val_loss: float | None = None
    resumed_from: int = 0
    """Epochs already done when this call started (0 for a fresh run)."""

    @property
    def epochs(self) -> int:
        """Epochs done, including those of a resumed run."""
        return self.n_steps

    def final(self, name: str) -> float | None:
        """The last epoch's value of ``name`` in the history, or None."""
        values = self.history.get(name)
        return None if values is None or len(values) == 0 else float(values[-1])

    reported = ("status", "epochs", "best_epoch", "best_val_loss", "resumed_from", "wall_time_s")

    def summary(self) -> dict:
        """Status, epochs, final and best losses, and where a resumed run started."""
        return self.reported_values() | {
            "final_train_loss": self.final("train_loss"),
            "final_val_loss": self.final("val_loss"),
        }


LossFn = Callable[..., tuple[jax.Array, tuple[Mapping[str, jax.Array], Any]]]


# --------------------------------------------------------------------------- data
def _as_data(data) -> dict[str, np.ndarray] | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        data = {"x": data}
    if not data:
        raise InvalidParameterError("data: expected a dict of arrays; got an empty dict")
    arrays = {k: np.asarray(v) for k, v in data.items()}
    sizes = {k: (v.shape[0] if v.ndim else None) for k, v in arrays.items()}
    if None in sizes.values() or len(set(sizes.values())) != 1:
        raise ShapeError(
            "data: expected arrays with the same first (example) axis; got leading sizes "
            + ", ".join(f"{k}={n}" for k, n in sizes.items())
        )
    return arrays


def split_validation(
    data: Mapping[str, np.ndarray], fraction: float, *, key: jax.Array
) -> tuple[dict, dict | None]:
    """Random train/validation split (the same for the same key)."""
    n = next(iter(data.values())).shape[0]
    n_val = int(round(fraction * n))
    if fraction == 0 or n_val == 0:
        return dict(data), None
    if n - n_val < 1:
        raise InvalidParameterError(
            f"validation_fraction={fraction} leaves no training examples out of {n}"
        )
    perm = np.asarray(jax.random.permutation(key, n))
    val, train = perm[:n_val], perm[n_val:]
    return {k: v[train] for k, v in data.items()}, {k: v[val] for k, v in data.items()}


# --------------------------------------------------------------------------- steps
def _make_epoch(loss_fn: LossFn, optimizer, n_batches: int, batch_size: int, with_data: bool):
    grad_fn = jax.value_and_grad(
        lambda p, batch, key, ms: loss_fn(p, batch, key=key, model_state=ms, train=True),
        has_aux=True,
    )

    @jax.jit
    def epoch(params, opt_state, model_state, data, perm, keys):
        def step(carry, xs):
            params, opt_state, model_state = carry
            idx, key = xs
            batch = jax.tree_util.tree_map(lambda a: a[idx], data) if with_data else None
            (loss, (metrics, model_state)), grads = grad_fn(params, batch, key, model_state)
            with jax.numpy_dtype_promotion("standard"):  # optax mixes python scalars in
                updates, opt_state = optimizer.update(grads, opt_state, params)
                # In x64 mode (on after importing NetKet) schedules are float64: keep each
                # parameter's own dtype so the scan carry is stable.
                params = jax.tree_util.tree_map(
                    lambda p, u: (p + u).astype(p.dtype), params, updates
                )
            return (params, opt_state, model_state), (loss, dict(metrics))

        idx = perm[: n_batches * batch_size].reshape(n_batches, batch_size)
        (params, opt_state, model_state), (losses, metrics) = jax.lax.scan(
            step, (params, opt_state, model_state), (idx, keys)
        )
        return params, opt_state, model_state, losses, metrics

    return epoch


def _eval_fn(loss_fn: LossFn):
    return jax.jit(lambda p, b, k, ms: loss_fn(p, b, key=k, model_state=ms, train=False))


def evaluate(
    loss_fn: LossFn,
    params,
    data,
    *,
    model_state=None,
    batch_size: int = 4096,
    key: jax.Array | None = None,
    _compiled=None,
) -> dict[str, float]:
    """Mean loss and metrics of ``loss_fn`` over ``data`` in inference mode (``train=False``)."""
    arrays = _as_data(data)
    n = next(iter(arrays.values())).shape[0]
    key = jax.random.key(0) if key is None else key
    fn = _compiled or _eval_fn(loss_fn)
    totals: dict[str, float] = {}
    for start in range(0, n, batch_size):
        batch = {k: jnp.asarray(v[start : start + batch_size]) for k, v in arrays.items()}
        m = next(iter(batch.values())).shape[0]
        key, sub = jax.random.split(key)
        loss, (metrics, _) = fn(params, batch, sub, model_state)
        for name, value in {"loss": loss, **dict(metrics)}.items():
            totals[name] = totals.get(name, 0.0) + float(value) * m
    return {k: v / n for k, v in totals.items()}


def warn_diverged(what: str, epoch: int, *, detail: str = "", checkpointed: bool = False):
    """Warn (``RuntimeWarning``, at the caller of the training function) that ``what``
    became non-finite in 0-based ``epoch`` and the state after the previous epoch is kept."""
    warnings.warn(
        f"{what} became non-finite in epoch {epoch + 1}{detail}; stopped and kept the state "
        f"after epoch {epoch}" + (" (the last checkpoint)" if checkpointed else ""),
        RuntimeWarning,
        stacklevel=3,
    )


def _finite(tree) -> bool:
    """True when every leaf of ``tree`` is finite (one device sync, not one per leaf)."""
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        return True
    return bool(jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])))


# --------------------------------------------------------------------------- fit
def fit(
    loss_fn: LossFn,
    params,
    data=None,
    *,
    config: TrainConfig = TrainConfig(),
    key: jax.Array,
    model_state=None,
    validation=None,
    callbacks: Sequence = (),
) -> TrainResult:
    """Train ``params`` to minimise ``loss_fn`` (see the module docstring for the contract).

    Args:
        loss_fn: the loss (module docstring).
        params: initial parameters (any PyTree).
        data: a dict of arrays with a common first axis (or one array, seen as
            ``{"x": array}``), or ``None`` to train without data
            (``config.steps_per_epoch`` steps per epoch, ``batch=None``).
        config: the settings.
        key: PRNG key of the validation split, the batch order and the per-step keys.
        model_state: initial model state (batch statistics, chains), or None.
        validation: an explicit validation set; otherwise ``config.validation_fraction``
            of ``data`` is held out.
        callbacks: called after every epoch as ``callback(epoch, record, state)``; a
            :class:`~qml_phys.runtime.checkpoint.Checkpoint` among them is restored
            before the first epoch (a checkpoint of another configuration or other inputs
            is an error) and saved every ``every`` epochs and at the end.

    Returns:
        A :class:`TrainResult`.
    """
    from qml_phys.runtime.checkpoint import Checkpoint
    from qml_phys.runtime.progress import progress
    from qml_phys.runtime.records import to_jsonable

    checkpoints = [c for c in callbacks if isinstance(c, Checkpoint)]
    others = [c for c in callbacks if not isinstance(c, Checkpoint)]
    if len(checkpoints) > 1:
        raise InvalidParameterError(
            f"callbacks: expected at most one Checkpoint; got {len(checkpoints)}"
        )
    ckpt = checkpoints[0] if checkpoints else None
    k_split, k_perm, k_step, k_eval = jax.random.split(key, 4)
    arrays = _as_data(data)
    val = _as_data(validation)
    if arrays is not None and val is None:
        arrays, val = split_validation(arrays, config.validation_fraction, key=k_split)
    if val is not None and arrays is not None and set(val) != set(arrays):
        raise ShapeError(
            f"validation: expected the same fields as data {sorted(arrays)}; got {sorted(val)}"
        )
    if arrays is not None:
        n_train = next(iter(arrays.values())).shape[0]
        batch_size = min(config.batch_size, n_train)
        n_batches = n_train // batch_size
    else:
        n_train, batch_size, n_batches = 0, 0, config.steps_per_epoch
    if config.patience is not None and val is None:
        raise InvalidParameterError(
            "patience (early stopping) needs a validation set: give validation= or "
            "validation_fraction > 0"
        )

    t_start = time.perf_counter()
    total_steps = config.epochs * n_batches
    opt = make_optimizer(config, total_steps)
    with jax.numpy_dtype_promotion("standard"):
        opt_state = opt.init(params)
    state = TrainState(params, opt_state, model_state, params, model_state)
    records: list[dict] = []
    best_val, best_epoch = math.inf, None
    start_epoch = 0
    config_record = to_jsonable(dataclasses.asdict(config))
    # Extending a run (more epochs) is allowed with a constant schedule; every other
    # setting must match to resume. The label is cosmetic.
    extendable = ("label",) + (("epochs",) if config.schedule == "constant" else ())
    restored = ckpt.restore(state, config=config_record, extendable=extendable) if ckpt else None
    if restored is not None:
        state, meta = restored
        records = meta["history"]
        start_epoch = len(records)
        best_epoch = meta.get("best_epoch")
        best_val = meta["best_val_loss"] if meta.get("best_val_loss") is not None else math.inf

    epoch_fn = _make_epoch(loss_fn, opt, n_batches, batch_size, arrays is not None)
    eval_fn = _eval_fn(loss_fn)
    dev_data = jax.tree_util.tree_map(jnp.asarray, arrays) if arrays is not None else None
    status = "completed"
    stale = 0
    if best_epoch is not None and records:
        stale = len(records) - 1 - best_epoch

    def save():
        meta = {
            "history": records,
            "epochs_done": len(records),
            "best_epoch": best_epoch,
            "best_val_loss": None if best_val == math.inf else best_val,
        }
        ckpt.save(state, config=config_record, meta=meta, extendable=extendable)
        ckpt.write_json("history.json", {"config": config_record, "history": records})

    desc = config.label
    bar = progress(
        range(start_epoch, config.epochs), desc=desc, total=config.epochs, initial=start_epoch
    )
    for epoch in bar:
        t0 = time.perf_counter()
        if arrays is not None:
            perm = jax.random.permutation(jax.random.fold_in(k_perm, epoch), n_train)
        else:
            perm = jnp.zeros(0, jnp.int32)
        keys = jax.random.split(jax.random.fold_in(k_step, epoch), n_batches)
        params, opt_state, mstate, losses, metrics = epoch_fn(
            state.params, state.opt_state, state.model_state, dev_data, perm, keys
        )
        losses = np.asarray(losses)
        if not (np.all(np.isfinite(losses)) and _finite(params)):
            bad = int(np.argmin(np.isfinite(losses))) if not np.all(np.isfinite(losses)) else -1
            status = "diverged"
            detail = f" (step {bad + 1} of {n_batches})"
            warn_diverged(f"{desc}: the loss", epoch, detail=detail, checkpointed=ckpt is not None)
            break
        record: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": float(losses.mean()),
            "metrics": {k: float(np.mean(v)) for k, v in metrics.items()},
        }
        state = state._replace(params=params, opt_state=opt_state, model_state=mstate)
        if val is not None:
            vm = evaluate(
                loss_fn,
                params,
                val,
                model_state=mstate,
                batch_size=config.eval_batch_size,
                key=jax.random.fold_in(k_eval, epoch),
                _compiled=eval_fn,
            )
            record["val_loss"] = vm.pop("loss")
            record["val_metrics"] = vm
            if record["val_loss"] < best_val - config.min_delta:
                best_val, best_epoch, stale = record["val_loss"], epoch, 0
                state = state._replace(best_params=params, best_model_state=mstate)
            else:
                stale += 1
        record["seconds"] = time.perf_counter() - t0
        records.append(record)
        if hasattr(bar, "set_postfix"):
            # refresh=False: shown at the bar's next timed update, not written every epoch
            # (thousands of lines in a log when stderr is not a terminal)
            bar.set_postfix(
                loss=f"{record['train_loss']:.4g}",
                refresh=False,
                **({"val": f"{record['val_loss']:.4g}"} if val is not None else {}),
            )
        stop = config.patience is not None and stale >= config.patience
        if ckpt is not None and ckpt.due(epoch + 1, last=stop or epoch + 1 == config.epochs):
            save()
        for callback in others:
            callback(epoch, record, state)
        if stop:
            status = "early_stopped"
            break

    use_best = config.restore_best and val is not None and best_epoch is not None
    return TrainResult(
        config=config,
        history=_history(records),
        wall_time_s=time.perf_counter() - t_start,
        status=status,
        params=state.best_params if use_best else state.params,
        model_state=state.best_model_state if use_best else state.model_state,
        best_epoch=best_epoch,
        best_val_loss=None if best_val == math.inf else best_val,
        resumed_from=start_epoch,
    )


def _history(records: list[dict]) -> dict[str, np.ndarray]:
    """Epoch records as arrays: validation metrics get a ``val_`` prefix; no ``epoch``."""
    flat = []
    for r in records:
        row = {"train_loss": r["train_loss"], **r.get("metrics", {})}
        if "val_loss" in r:
            row["val_loss"] = r["val_loss"]
            row.update({f"val_{k}": v for k, v in r.get("val_metrics", {}).items()})
        row["seconds"] = r.get("seconds", np.nan)
        flat.append(row)
    return history_arrays(flat)


# --------------------------------------------------------------------------- losses
def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Per-example softmax cross-entropy with integer labels."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def flax_loss(
    module,
    per_example: Callable[[jax.Array, jax.Array], jax.Array] = cross_entropy,
    *,
    x: str = "x",
    y: str = "y",
    accuracy: bool | None = None,
) -> LossFn:
    """A :func:`fit` loss for a Flax module ``module(x, train=...)`` and a target field.

    Dropout draws from the step key (rng stream ``"dropout"``); batch statistics are the
    ``model_state`` (the ``"batch_stats"`` collection: pass ``variables["batch_stats"]``
    as ``model_state``, or ``None`` for a module without batch normalisation). The module
    must accept a ``train`` keyword. ``accuracy`` adds the fraction of correct argmax
    predictions (default: on for cross-entropy).
    """
    if accuracy is None:
        accuracy = per_example is cross_entropy

    def loss_fn(params, batch, *, key, model_state, train):
        variables = {"params": params}
        if model_state is not None:
            variables["batch_stats"] = model_state
        kwargs = {"rngs": {"dropout": key}}
        if model_state is not None and train:
            out, updates = module.apply(
                variables, batch[x], train=True, mutable=["batch_stats"], **kwargs
            )
            model_state = updates["batch_stats"]
        else:
            out = module.apply(variables, batch[x], train=train, **kwargs)
        loss = jnp.mean(per_example(out, batch[y]))
        metrics = {}
        if accuracy:
            labels = batch[y].astype(jnp.int32)
            hits = jnp.argmax(out, -1).astype(jnp.int32) == labels
            metrics["accuracy"] = jnp.mean(hits.astype(out.dtype))
        return loss, (metrics, model_state)

    return loss_fn


def init_flax(module, example: jax.Array, *, key: jax.Array):
    """``(params, batch_stats or None)`` of ``module`` initialised on an example batch."""
    from qml_phys.runtime.resources import check_init_memory

    rngs = {"params": key, "dropout": key}
    check_init_memory(
        type(module).__name__, lambda r, x: module.init(r, x, train=False), rngs, example
    )
    variables = module.init(rngs, example, train=False)
    return variables["params"], variables.get("batch_stats")
