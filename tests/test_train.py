"""The shared trainer: exact solutions of convex problems, resume, divergence, switches."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError, UnknownNameError
from qml_phys.runtime.checkpoint import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from qml_phys.train import (
    TrainConfig,
    TrainState,
    evaluate,
    fit,
    flax_loss,
    init_flax,
    make_optimizer,
)

KEY = jax.random.key(20261206)


def _linear_problem(n=256, d=5, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    w = rng.normal(size=d).astype(np.float32)
    y = (x @ w + 0.3 * rng.normal(size=n)).astype(np.float32)
    return x, y


def _mse(params, batch, *, key, model_state, train):
    r = batch["x"] @ params["w"] - batch["y"]
    return jnp.mean(r * r), ({}, model_state)


def test_full_batch_gradient_descent_reaches_ridge_closed_form():
    # SGD with decoupled L2 weight decay lam minimises mean(r^2) + lam/2 |w|^2, whose
    # minimiser is (X^T X + n lam / 2)^-1 X^T y.
    x, y = _linear_problem()
    lam = 0.5
    cfg = TrainConfig(
        epochs=400,
        batch_size=len(x),
        learning_rate=0.1,
        optimizer="sgd",
        weight_decay=lam,
        validation_fraction=0,
    )
    res = fit(_mse, {"w": jnp.zeros(5, jnp.float32)}, {"x": x, "y": y}, config=cfg, key=KEY)
    n = len(x)
    exact = np.linalg.solve(x.T @ x + n * lam / 2 * np.eye(5), x.T @ y)
    np.testing.assert_allclose(np.asarray(res.params["w"]), exact, rtol=1e-4, atol=1e-5)
    assert res.status == "completed" and res.epochs == 400
    assert set(res.history) == {"train_loss", "seconds"} and res.history["train_loss"].shape == (
        400,
    )


def test_minibatch_adam_reaches_least_squares():
    x, y = _linear_problem()
    cfg = TrainConfig(
        epochs=150, batch_size=32, learning_rate=0.02, validation_fraction=0, schedule="cosine"
    )
    res = fit(_mse, {"w": jnp.zeros(5, jnp.float32)}, {"x": x, "y": y}, config=cfg, key=KEY)
    exact = np.linalg.lstsq(x, y, rcond=None)[0]
    np.testing.assert_allclose(np.asarray(res.params["w"]), exact, atol=2e-3)


def test_interrupted_run_resumes_to_the_same_parameters(tmp_path):
    x, y = _linear_problem()
    cfg = TrainConfig(epochs=6, batch_size=16, learning_rate=0.01, validation_fraction=0.2)
    w0 = {"w": jnp.zeros(5, jnp.float32)}
    data = {"x": x, "y": y}
    straight = fit(_mse, w0, data, config=cfg, key=KEY)

    def stop_at_3(epoch, record, state):
        if epoch == 2:
            raise KeyboardInterrupt

    ckpt = Checkpoint(tmp_path, inputs={"data": "linear problem, seed 3"})
    with pytest.raises(KeyboardInterrupt):
        fit(_mse, w0, data, config=cfg, key=KEY, callbacks=[ckpt, stop_at_3])
    assert (tmp_path / "checkpoint.msgpack").exists()
    resumed = fit(_mse, w0, data, config=cfg, key=KEY, callbacks=[ckpt])
    assert resumed.resumed_from == 3
    assert resumed.epochs == 6
    np.testing.assert_array_equal(np.asarray(resumed.params["w"]), np.asarray(straight.params["w"]))
    np.testing.assert_allclose(resumed.history["val_loss"], straight.history["val_loss"], rtol=1e-6)
    other = TrainConfig(epochs=6, batch_size=16, learning_rate=0.02, validation_fraction=0.2)
    with pytest.raises(CheckpointError, match="learning_rate"):
        fit(_mse, w0, data, config=other, key=KEY, callbacks=[ckpt])
    # the same config on other inputs is refused too: the fingerprint names the inputs
    with pytest.raises(CheckpointError, match="other data"):
        fit(
            _mse,
            w0,
            data,
            config=cfg,
            key=KEY,
            callbacks=[Checkpoint(tmp_path, inputs={"data": "other data"})],
        )
    # a fresh start is asked for explicitly
    fresh = fit(_mse, w0, data, config=cfg, key=KEY, callbacks=[Checkpoint(tmp_path, resume=False)])
    assert fresh.resumed_from == 0


def test_non_finite_loss_stops_and_keeps_last_good_state(tmp_path):
    def blows_up(params, batch, *, key, model_state, train):
        # descending log(1 - w) pushes w up, past 1, where the log is NaN
        w = params["w"]
        return jnp.log(1.0 - w) + 0.0 * jnp.sum(batch["x"]), ({}, model_state)

    data = {"x": np.zeros((8, 1), np.float32)}
    cfg = TrainConfig(
        epochs=50, batch_size=8, learning_rate=0.3, optimizer="sgd", validation_fraction=0
    )
    with pytest.warns(RuntimeWarning, match="non-finite"):
        res = fit(
            blows_up,
            {"w": jnp.float32(0.0)},
            data,
            config=cfg,
            key=KEY,
            callbacks=[Checkpoint(tmp_path)],
        )
    assert res.status == "diverged"
    # w: 0 -> 0.3 -> 0.73 -> 1.83 (three finite epochs), then the loss is NaN
    assert res.epochs == 3
    assert np.all(np.isfinite(res.history["train_loss"]))
    saved, meta = load_checkpoint(
        tmp_path / "checkpoint.msgpack",
        TrainState(
            {"w": jnp.float32(0)},
            make_optimizer(cfg).init({"w": jnp.float32(0)}),
            None,
            {"w": jnp.float32(0)},
            None,
        ),
    )
    assert meta["epochs_done"] == 3
    assert float(saved.params["w"]) == float(res.params["w"]) == pytest.approx(1.8338, abs=1e-3)


def test_early_stopping_restores_the_best_epoch():
    x, y = _linear_problem(n=64, d=40, seed=1)  # 40 parameters, ~51 examples: overfits
    cfg = TrainConfig(
        epochs=300, batch_size=51, learning_rate=0.05, validation_fraction=0.2, patience=5
    )
    res = fit(_mse, {"w": jnp.zeros(40, jnp.float32)}, {"x": x, "y": y}, config=cfg, key=KEY)
    assert res.status == "early_stopped"
    assert res.epochs == res.best_epoch + 1 + 5
    assert res.best_val_loss == pytest.approx(min(res.history["val_loss"]))


class _Net(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool):
        x = nn.Dense(16)(x)
        x = nn.BatchNorm(use_running_average=not train)(x)
        x = nn.relu(x)
        x = nn.Dropout(0.3, deterministic=not train)(x)
        return nn.Dense(2)(x)


def test_flax_classifier_with_dropout_and_batchnorm(key):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int32)
    net = _Net()
    params, stats = init_flax(net, jnp.asarray(x[:2]), key=key)
    loss = flax_loss(net)
    cfg = TrainConfig(epochs=15, batch_size=64, learning_rate=1e-2, validation_fraction=0.25)
    res = fit(loss, params, {"x": x, "y": y}, config=cfg, key=key, model_state=stats)
    assert res.final("val_accuracy") > 0.9
    # batch statistics were learned, and inference is deterministic
    assert not np.allclose(np.asarray(res.model_state["BatchNorm_0"]["mean"]), 0)
    a = evaluate(
        loss, res.params, {"x": x, "y": y}, model_state=res.model_state, key=jax.random.key(1)
    )
    b = evaluate(
        loss, res.params, {"x": x, "y": y}, model_state=res.model_state, key=jax.random.key(2)
    )
    assert a == b


def test_training_without_data_uses_the_step_key():
    # Minimise E_z[(w - z)^2] with z ~ N(1, 1) drawn from the step key: w -> 1.
    def loss(params, batch, *, key, model_state, train):
        z = 1.0 + jax.random.normal(key, (256,), jnp.float32)
        return jnp.mean((params["w"] - z) ** 2), ({}, model_state)

    cfg = TrainConfig(epochs=5, steps_per_epoch=100, learning_rate=0.05, optimizer="sgd")
    res = fit(loss, {"w": jnp.float32(-2.0)}, None, config=cfg, key=KEY)
    assert float(res.params["w"]) == pytest.approx(1.0, abs=0.05)


def test_bad_input_is_named():
    with pytest.raises(InvalidParameterError, match="learning_rate"):
        TrainConfig(learning_rate=-1.0)
    with pytest.raises(UnknownNameError, match="adam, adamw"):
        TrainConfig(optimizer="lbfgs")
    with pytest.raises(InvalidParameterError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ShapeError, match="x=10, y=9"):
        fit(_mse, {"w": jnp.zeros(2)}, {"x": np.zeros((10, 2)), "y": np.zeros(9)}, key=KEY)
    with pytest.raises(InvalidParameterError, match="validation set"):
        fit(
            _mse,
            {"w": jnp.zeros(2)},
            {"x": np.zeros((10, 2)), "y": np.zeros(10)},
            config=TrainConfig(patience=2, validation_fraction=0),
            key=KEY,
        )
    with pytest.raises(InvalidParameterError, match="at most one Checkpoint"):
        fit(_mse, {"w": jnp.zeros(2)}, None, key=KEY, callbacks=[Checkpoint("a"), Checkpoint("b")])


def test_checkpoint_roundtrip_keeps_keys_dtypes_and_checks_shapes(tmp_path):
    tree = {
        "a": jnp.arange(3, dtype=jnp.int8),
        "k": jax.random.key(5),
        "b": (jnp.ones((2, 2), jnp.float32), 4),
    }
    save_checkpoint(tmp_path / "c.msgpack", tree, meta={"step": 4})
    target = {
        "a": jnp.zeros(3, jnp.int8),
        "k": jax.random.key(0),
        "b": (jnp.zeros((2, 2), jnp.float32), 0),
    }
    back, meta = load_checkpoint(tmp_path / "c.msgpack", target)
    assert meta == {"step": 4}
    assert back["a"].dtype == jnp.int8 and back["b"][1] == 4
    np.testing.assert_array_equal(jax.random.key_data(back["k"]), jax.random.key_data(tree["k"]))
    wrong = dict(target, a=jnp.zeros(4, jnp.int8))
    with pytest.raises(CheckpointError, match=r"\['a'\] has shape \(3,\)"):
        load_checkpoint(tmp_path / "c.msgpack", wrong)
    (tmp_path / "bad.msgpack").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        load_checkpoint(tmp_path / "bad.msgpack", target)
