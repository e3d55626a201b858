"""Barren-plateau gradient engine: checked against PennyLane, the identity start, the
exponential decay of global-cost gradients, compile-once and input validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pennylane as qml
import pytest
from pennylane import numpy as pnp

from qml_phys.circuits import barren
from qml_phys.circuits.barren import (
    EnsembleConfig,
    PlateauConfig,
    draw_circuit,
    draw_circuits,
    gradient_ensemble,
    pennylane_qnode,
    plateau_scan,
    shot_ensemble,
    two_design_variance,
    variance_scan,
)
from qml_phys.errors import InvalidParameterError, TooLargeError, UnknownNameError
from qml_phys.stats.bootstrap import bootstrap_variance

SEED_PHYSICS = 3


def _atol(x) -> float:
    return 1e-6 if x.dtype == jnp.float32 else 1e-10


@pytest.mark.parametrize(
    ("n", "layers", "cost", "gates"),
    [
        (3, 3, "global", "hea"),
        (3, 2, "local", "random"),
        (4, 3, "local", "hea"),
        (4, 2, "global", "random"),
        (4, 3, "zz", "mcclean"),
        (3, 2, "local", "mcclean"),
    ],
)
def test_fast_path_matches_pennylane_adjoint(key, gates, cost, n, layers):
    """The hand-written adjoint gradient against PennyLane's lightning adjoint gradient."""
    n_draws = 3
    config = EnsembleConfig(n_qubits=n, n_layers=layers, cost=cost, init="uniform", gates=gates)
    costs, grads = gradient_ensemble(config, key=key, n_draws=n_draws, return_cost=True)
    r = 1 if gates == "mcclean" else 2
    assert grads.shape == (n_draws, r * n * layers)
    tol = _atol(grads)
    thetas, axes_all = draw_circuits(config, key=key, n_draws=n_draws)
    for i in range(n_draws):  # the circuits gradient_ensemble drew
        theta, axes = thetas[i], axes_all[i]
        qnode = pennylane_qnode(config, np.asarray(axes), device="lightning.qubit")
        t = pnp.array(np.asarray(theta, dtype=np.float64), requires_grad=True)
        np.testing.assert_allclose(float(costs[i]), float(qnode(t)), atol=tol, rtol=0)
        expected = np.asarray(qml.grad(qnode)(t)).reshape(-1)
        np.testing.assert_allclose(
            np.asarray(grads[i], dtype=np.float64), expected, atol=tol, rtol=0
        )
    # the comparison can fail: the gradients are not all zero
    assert float(jnp.max(jnp.abs(grads))) > 1e-2


@pytest.mark.parametrize(
    ("gates", "cost", "blocks"),
    [("random", "local", 1), ("mcclean", "zz", 2), ("hea", "global", 2)],
)
def test_fast_path_matches_pennylane_off_identity(key, gates, cost, blocks):
    """Away from the identity point the mirrored circuit (autodiff and adjoint) still agrees
    with PennyLane, for one and for two identity blocks."""
    config = EnsembleConfig(
        n_qubits=3, n_layers=4, cost=cost, init="identity", gates=gates, n_blocks=blocks
    )
    theta, axes = draw_circuit(config, key=key)
    theta = theta + jnp.linspace(0.1, 0.9, theta.size, dtype=theta.dtype).reshape(theta.shape)
    circuit = dict(n_qubits=3, cost=cost, gates=gates, n_blocks=blocks)
    c, g = jax.value_and_grad(barren.circuit_cost)(theta, axes, config)
    c_adj, g_adj = barren._cost_and_grad(theta, axes, **circuit | {"dtype": "float32"})
    qnode = pennylane_qnode(config, np.asarray(axes))
    t = pnp.array(np.asarray(theta, dtype=np.float64), requires_grad=True)
    expected = qml.grad(qnode)(t)
    for value, grad in ((c, g), (c_adj, g_adj)):
        np.testing.assert_allclose(float(value), float(qnode(t)), atol=_atol(g), rtol=0)
        np.testing.assert_allclose(np.asarray(grad, np.float64), expected, atol=_atol(g), rtol=0)
    assert float(jnp.max(jnp.abs(g))) > 1e-2


@pytest.mark.parametrize(
    ("gates", "cost", "blocks"), [("hea", "global", 1), ("random", "local", 1), ("hea", "local", 3)]
)
def test_identity_blocks_start_at_the_minimum(key, gates, cost, blocks):
    """Grant et al.: block + inverse = identity, so the state is |0...0> and C = 0."""
    config = EnsembleConfig(
        n_qubits=4, n_layers=6, cost=cost, init="identity", gates=gates, n_blocks=blocks
    )
    costs, grads = gradient_ensemble(config, key=key, n_draws=16, return_cost=True)
    eps = float(jnp.finfo(costs.dtype).eps)
    # 6 layers x 8 rotations of rounding each: a few tens of eps at most
    assert float(jnp.max(jnp.abs(costs))) < 50 * eps
    assert float(jnp.max(jnp.abs(grads))) < 50 * eps
    if gates != "hea":
        return
    # while the uniform start of the same circuit is far from it
    uniform = EnsembleConfig(n_qubits=4, n_layers=6, cost=cost, init="uniform", gates=gates)
    c_uniform, _ = gradient_ensemble(uniform, key=key, n_draws=16, return_cost=True)
    assert float(jnp.min(c_uniform)) > 0.05


@pytest.mark.slow
def test_global_cost_gradients_vanish_exponentially_local_do_not():
    """Cerezo et al. (2021): Var[dC/dtheta] of the global cost decays exponentially with n
    at depth ~ n; the local cost at depth 2 decays only polynomially.

    For the global projector the observable has Tr(O^2) = 1, so for a circuit near a
    2-design Var ~ 4^-n (not the 2^-n of McClean's O(1)-norm Pauli observable): from n = 4
    to n = 8 a ratio of 4^4 = 256. Measured (2000 draws): ~225. We accept [64, 1024], a
    factor of 4 either way: finite-n corrections and the depth-n HEA being only an
    approximate 2-design; 2^-n scaling (ratio 16) would fail. The sampling error of a
    variance averaged over 2n^2 parameters from 2000 draws is a few percent. The local cost
    (depth 2, light cone of a few qubits, 1/n prefactor) gives ~17; a polynomial ~1/n^2
    alone would give 4. We require < 32, well below the global lower bound. n = 2 is left
    out: the n = 2 HEA has one CNOT and is far from a 2-design.
    """
    key = jax.random.key(SEED_PHYSICS)
    k_global, k_local = jax.random.split(key)
    ns = [4, 6, 8]
    glob = variance_scan(ns, None, PlateauConfig(n_draws=2000, cost="global"), key=k_global)
    local = variance_scan(ns[::2], [2], PlateauConfig(n_draws=2000, cost="local"), key=k_local)
    glob, local = glob["var_mean"][:, 0], local["var_mean"][:, 0]
    assert np.all(np.diff(glob) < 0), glob
    ratio_global = glob[0] / glob[-1]
    ratio_local = local[0] / local[-1]
    assert 64 < ratio_global < 1024, ratio_global
    assert ratio_local < 32, ratio_local


def test_compiles_once_per_configuration(key):
    """A new key or sigma reuses the compiled ensemble; a new depth compiles a new one
    (counted through the jitted kernel's own cache, no global counter)."""
    k1, k2 = jax.random.split(key)
    config = EnsembleConfig(n_qubits=3, n_layers=5, cost="local", init="small", sigma=0.1)
    barren._ensemble.clear_cache()
    g1 = gradient_ensemble(config, key=k1, n_draws=7)
    assert barren._ensemble._cache_size() == 1
    other = EnsembleConfig(n_qubits=3, n_layers=5, cost="local", init="small", sigma=0.2)
    g2 = gradient_ensemble(other, key=k2, n_draws=7)  # new key and sigma: no new trace
    assert barren._ensemble._cache_size() == 1
    assert not np.allclose(np.asarray(g1), np.asarray(g2))
    deeper = EnsembleConfig(n_qubits=3, n_layers=6, cost="local", init="small", sigma=0.1)
    gradient_ensemble(deeper, key=k1, n_draws=7)  # new depth: new trace
    assert barren._ensemble._cache_size() == 2


def test_variance_scan_shapes(key):
    config = PlateauConfig(n_draws=8, cost="local", init="small")
    out = variance_scan([3], [1, 2], config, key=key)
    assert out["var_first"].shape == (1, 2) and out["var_mean"].shape == (1, 2)
    assert np.all(out["var_mean"] > 0)
    assert out["config"]["init"] == "small"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_qubits": 0}, InvalidParameterError, r"n_qubits must be an integer >= 1; got 0"),
        ({"n_layers": 0}, InvalidParameterError, r"n_layers must be an integer >= 1; got 0"),
        ({"n_draws": 0}, InvalidParameterError, r"n_draws must be an integer >= 1; got 0"),
        (
            {"cost": "energy"},
            UnknownNameError,
            r"cost: expected one of global, local, zz; got 'energy'",
        ),
        (
            {"init": "zeros"},
            UnknownNameError,
            r"init: expected one of uniform, small, identity; got 'zeros'",
        ),
        (
            {"gates": "cz"},
            UnknownNameError,
            r"gates: expected one of hea, random, mcclean; got 'cz'",
        ),
        (
            {"init": "identity", "n_layers": 3},
            InvalidParameterError,
            r"n_layers: expected a multiple of 2 \* n_blocks = 2 for init='identity'.*; got 3",
        ),
        (
            {"init": "identity", "n_layers": 6, "n_blocks": 2},
            InvalidParameterError,
            r"n_layers: expected a multiple of 2 \* n_blocks = 4 .*; got 6",
        ),
        (
            {"cost": "zz", "n_qubits": 1},
            InvalidParameterError,
            r"n_qubits: cost='zz' \(Z0 Z1\) needs at least 2; got 1",
        ),
        (
            {"n_qubits": 30, "n_layers": 50},
            TooLargeError,
            r"expected one circuit of n_qubits=30, n_layers=50 to fit in memory_limit=1 GiB; "
            r"it needs about 96 GiB",
        ),
        (
            {"init": "small", "sigma": -1.0},
            InvalidParameterError,
            r"sigma: expected a finite number > 0; got -1.0",
        ),
    ],
)
def test_bad_input_is_rejected(key, kwargs, error, match):
    config = dict(n_qubits=2, n_layers=2, n_draws=2, cost="global", init="uniform")
    config |= kwargs
    n_draws = config.pop("n_draws")
    with pytest.raises(error, match=match):
        gradient_ensemble(EnsembleConfig(**config), key=key, n_draws=n_draws)


def test_mcclean_identity_blocks_return_to_the_ry_layer(key):
    """McClean's circuit starts from RY(pi/4)^n|0>: with identity blocks <Z0 Z1> = 1/2."""
    config = EnsembleConfig(
        n_qubits=4, n_layers=8, cost="zz", init="identity", gates="mcclean", n_blocks=2
    )
    costs, grads = gradient_ensemble(config, key=key, n_draws=8, return_cost=True)
    np.testing.assert_allclose(np.asarray(costs), 0.5, atol=1e-5)
    assert float(jnp.max(jnp.abs(grads))) > 0.1  # not a minimum: the gradient is O(1)


@pytest.mark.parametrize(("cost", "gates"), [("global", "random"), ("zz", "mcclean")])
def test_deep_random_circuits_reach_the_two_design_variance(cost, gates):
    """Deep random circuits on 3 qubits form an approximate 2-design, so the gradient
    variance averaged over parameters approaches the Haar value derived in
    barren.two_design_variance (1/(2(N+1)^2) for the projector, N^2/(2(N+1)^2(N-1))
    for Z0Z1). 40 layers; the first and last 12 layers (whose gates see a not yet random
    state on one side: measured, McClean's circuit needs ~12 layers on 3 qubits) are left
    out. The estimate of 4000 draws must lie within 3 bootstrap standard errors of it."""
    config = EnsembleConfig(n_qubits=3, n_layers=40, cost=cost, gates=gates)
    grads = gradient_ensemble(config, key=jax.random.key(SEED_PHYSICS), n_draws=4000)
    r = 1 if gates == "mcclean" else 2
    inner = np.asarray(grads, np.float64).reshape(4000, 40, 3 * r)[:, 12:-12].reshape(4000, -1)
    est = bootstrap_variance(inner, key=jax.random.key(1), n_boot=400)
    ref = two_design_variance(3, cost, which="mean", gates=gates)
    assert abs(est.value - ref) < 3 * est.stderr, (est, ref)
    assert est.high - est.low < 0.2 * ref  # the interval is tight enough to fail


def test_shot_estimator_separates_landscape_and_shot_variance(key):
    """With S shots per shift term, E[s^2(g_hat)] = Var_landscape + mean shot variance:
    subtracting the exact per-draw shot variance p(1-p)/S-style term leaves the landscape
    variance of the same draws, to within the sampling error of the shots."""
    n_draws, shots = 4000, 20
    config = EnsembleConfig(n_qubits=3, n_layers=4, cost="global", gates="hea")
    s = shot_ensemble(config, key=key, n_draws=n_draws, shots=shots, param=1)
    exact = np.asarray(gradient_ensemble(config, key=key, n_draws=n_draws), np.float64)[:, 1]
    np.testing.assert_allclose(s["grad"], exact, atol=2e-6)  # parameter shift == adjoint
    g, v, gh = s["grad"], s["shot_variance"], s["grad_shots"]
    # the global cost is 1 - p0: one shot has variance p0 (1 - p0); bounded by 1/4 per term
    assert np.all(v >= 0) and np.all(v <= 2 * 0.25 / (4 * shots) + 1e-7)
    # shot noise is unbiased: mean(g_hat - g) = 0
    assert abs(np.mean(gh - g)) < 4 * np.sqrt(np.mean(v) / n_draws)
    landscape = g.var(ddof=1)
    observed = gh.var(ddof=1)
    corrected = observed - v.mean()
    sd = np.sqrt(np.sum(2 * v**2) + 4 * np.sum((g - g.mean()) ** 2 * v)) / n_draws
    assert abs(corrected - landscape) < 4 * sd, (corrected, landscape, sd)
    assert observed - landscape > 10 * sd  # without the correction the bias is visible
    # the shot variance estimated from the samples (as on hardware) is unbiased too
    assert abs(s["shot_variance_estimate"].mean() - v.mean()) < 0.05 * v.mean()


def test_pennylane_qnode_rejects_bad_axes():
    with pytest.raises(InvalidParameterError, match=r"axes: expected shape \(2, 3, 2\)"):
        pennylane_qnode(EnsembleConfig(n_qubits=3, n_layers=2), np.zeros((1, 3, 2), dtype=int))


def test_plateau_scan_is_its_parts(key):
    """Each row is the bootstrap of the gradients gradient_ensemble draws with that row's key
    (the scan compiles the next n while one runs: the numbers are the same), the fit is
    fit_decay of the rows, and summary() is the reader's view of them."""
    import json

    from qml_phys.runtime.records import to_jsonable
    from qml_phys.stats.fits import fit_decay

    ns = [2, 3, 4]
    config = PlateauConfig(layers="n", n_draws=50, cost="local", n_boot=100)
    scan = plateau_scan(ns, config, key=key, progress=False)
    keys = jax.random.split(key, (len(ns), 2))
    for i, (n, row) in enumerate(zip(ns, scan.rows, strict=True)):
        ensemble = config.ensemble(n)
        assert (row["n"], row["layers"], row["n_params"]) == (n, n, ensemble.n_params)
        g = np.asarray(gradient_ensemble(ensemble, key=keys[i, 0], n_draws=50), np.float64)
        mean = bootstrap_variance(g, key=keys[i, 1], n_boot=100)
        first = bootstrap_variance(g, key=keys[i, 1], n_boot=100, reduce="first")
        assert row["var_mean"] == mean._asdict() and row["var_first"] == first._asdict()
        assert row["two_design_mean"] == two_design_variance(n, "local")
    v = scan.history["var_mean"]
    s = np.array([r["var_mean"]["log_stderr"] for r in scan.rows])
    assert scan.fit["mean"]["exponential"] == fit_decay(ns, v, s)._asdict()
    assert "comparison" in scan.fit["mean"]
    summary = scan.summary()
    assert summary["status"] == "completed" and summary["n_steps"] == 3
    assert summary["config"]["layers"] == "n" and summary["config"]["n_boot"] == 100
    assert summary["fit"]["mean"]["rate_per_qubit"] == scan.fit["mean"]["exponential"]["rate"]
    assert [r["n"] for r in summary["rows"]] == ns
    record = json.loads(json.dumps(to_jsonable(scan.as_dict())))
    assert record["rows"][0]["var_mean"]["log_stderr"] == scan.rows[0]["var_mean"]["log_stderr"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_draws": 1}, InvalidParameterError, r"n_draws must be an integer >= 2; got 1"),
        ({"layers": "deep"}, InvalidParameterError, r"layers must be an integer >= 1"),
        ({"level": 1.5}, InvalidParameterError, r"level: expected a number in \(0, 1\)"),
        ({"shots": 1}, InvalidParameterError, r"shots must be an integer >= 2; got 1"),
        ({"cost": "energy"}, UnknownNameError, r"cost: expected one of global, local, zz"),
        ({"dtype": "float16"}, UnknownNameError, r"dtype: expected one of float32, float64"),
    ],
)
def test_plateau_config_is_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        PlateauConfig(**kwargs)


def test_plateau_scan_checks_every_size_before_work(key):
    config = PlateauConfig(layers=3, init="identity")
    with pytest.raises(InvalidParameterError, match=r"n_layers: expected a multiple of 2"):
        plateau_scan([2, 4], config, key=key)
    with pytest.raises(TooLargeError, match=r"n_qubits=30"):
        plateau_scan([2, 30], PlateauConfig(), key=key)


@pytest.mark.slow
def test_summary_says_where_the_ensemble_is_not_yet_a_2_design(key):
    """Shallow McClean circuits on 6 qubits have a global-cost gradient variance far above
    the 2-design value (the comparison with that theory cannot hold there, and the summary
    says so); 40 layers on 2 qubits reach it."""
    shallow = PlateauConfig(layers=1, n_draws=200, gates="mcclean", n_boot=200)
    summary = plateau_scan([6], shallow, key=key, progress=False).summary()
    row = summary["rows"][0]
    assert row["above_two_design"] is True and row["two_design_ratio"] > 3
    assert summary["not_two_design_at"] == [6]
    deep = PlateauConfig(layers=40, n_draws=400, gates="mcclean", n_boot=200)
    summary = plateau_scan([2], deep, key=key, progress=False).summary()
    assert summary["rows"][0]["above_two_design"] is False
    assert summary["not_two_design_at"] == []
