"""Supervised phase detection: crossings, bootstrap, FSS, the classifier, bad input."""

import dataclasses
import json

import jax
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError, UnknownNameError
from qml_phys.phases import supervised as S
from qml_phys.physics.exact import onsager_tc
from qml_phys.runtime.records import to_jsonable

TC = onsager_tc()


def test_window_needs_both_sides_and_shapes_must_match(tiny):
    d = tiny[8]
    with pytest.raises(InvalidParameterError, match="both sides of Tc.*low side"):
        S.split_by_temperature(d.T, Tc=1.0, exclude=0.0, train_fraction=0.5, key=jax.random.key(0))
    with pytest.raises(InvalidParameterError, match="both sides of Tc"):
        S.train_classifier(d, S.SupervisedConfig(exclude=5.0), key=jax.random.key(0))
    bad = d._replace(T=d.T[:-1])
    with pytest.raises(ShapeError, match="one temperature per configuration"):
        S.train_classifier(bad, key=jax.random.key(0))
    with pytest.raises(InvalidParameterError, match="at least two lattice sizes; the data has"):
        S.supervised_tc({8: d}, S.SupervisedConfig(fss=True), key=jax.random.key(0))


def test_config_validates_every_field():
    with pytest.raises(UnknownNameError, match="model: expected one of dense, cnn or a Flax"):
        S.SupervisedConfig(model="rnn")
    with pytest.raises(InvalidParameterError, match="exclude: expected a finite number >= 0"):
        S.SupervisedConfig(exclude=-0.1)
    with pytest.raises(InvalidParameterError, match="train_fraction: expected 0 < f < 1"):
        S.SupervisedConfig(train_fraction=1.0)
    with pytest.raises(InvalidParameterError, match="n_networks must be an integer >= 1"):
        S.SupervisedConfig(n_networks=0)
    with pytest.raises(InvalidParameterError, match="n_boot must be an integer >= 2"):
        S.SupervisedConfig(n_boot=1)
    with pytest.raises(InvalidParameterError, match="nu: expected a finite number > 0"):
        S.SupervisedConfig(nu=0.0)
    with pytest.raises(InvalidParameterError, match="train: expected a qml_phys.train.TrainConfig"):
        S.SupervisedConfig(train={"epochs": 3})


def test_dense_classifier_separates_phases_and_crosses_near_tc(tiny):
    d = tiny[12]
    config = S.SupervisedConfig(model="dense", train=S.default_config(epochs=30))
    clf = S.train_classifier(d, config, key=jax.random.key(1))
    assert len(np.intersect1d(clf.train_index, clf.test_index)) == 0
    assert clf.status in ("completed", "early_stopped") and clf.config is config
    assert len(clf.history["train_loss"]) == clf.n_steps <= 30
    with pytest.raises(dataclasses.FrozenInstanceError):
        clf.Tc = 2.0
    p = S.predict_ordered(clf.params, clf.model, d.spins[clf.test_index])
    T = d.T[clf.test_index]
    far = np.abs(T - TC) > 0.5
    assert np.mean((p[far] > 0.5) == (T[far] < TC)) > 0.95
    c = S.bootstrap_crossing(p, T, key=jax.random.key(2))
    # L = 12 shifts the crossing by O(1/L); 0.15 is about 3/L and several bootstrap errors.
    assert abs(c.value - TC) < 0.15 and 0 < c.error < 0.1


def test_network_spread_is_null_with_one_network_and_measured_with_two(tiny):
    # A spread over networks that were not trained is not 0: it is not measured (null).
    one = S.size_result(tiny[8], S.SupervisedConfig(n_networks=1), key=jax.random.key(5))
    assert one.network_spread is None
    assert one.Tc_error == one.networks[0]["bootstrap_error"] > 0
    row = json.loads(json.dumps(to_jsonable(one.summary())))
    assert row["network_spread"] is None and row["L"] == 8 and len(row["test_accuracy"]) == 1
    two = S.size_result(tiny[8], S.SupervisedConfig(n_networks=2), key=jax.random.key(5))
    x = np.array([n["crossing"] for n in two.networks])
    sb = np.array([n["bootstrap_error"] for n in two.networks])
    assert two.network_spread == pytest.approx(np.std(x, ddof=1)) and two.network_spread > 0
    assert two.Tc == pytest.approx(x.mean())
    # the shared data's bootstrap variance does not average out; the training spread does
    assert two.Tc_error == pytest.approx(np.sqrt(np.mean(sb**2) + np.var(x, ddof=1) / 2))
    assert S.SupervisedConfig().n_networks == 5  # the default measures the training spread


def test_triangular_sampler_matches_exact_enumeration():
    # 3 x 3 triangular torus: 6 distinct neighbours per site, 27 bonds, 2^9 states.
    L, T = 3, 3.0
    states = ((np.arange(512)[:, None] >> np.arange(9)) & 1) * 2 - 1
    s = states.reshape(-1, L, L)
    bonds = s * (np.roll(s, -1, 2) + np.roll(s, -1, 1) + np.roll(np.roll(s, -1, 1), 1, 2))
    e = -bonds.sum(axis=(1, 2)) / 9.0
    w = np.exp(-9 * e / T)
    e_exact = np.sum(w * e) / w.sum()
    spins, _ = S.sample_triangular(3, [T], 4000, key=jax.random.key(3), n_therm=200, spacing=5)
    s = spins.astype(float)
    b = s * (np.roll(s, -1, 2) + np.roll(s, -1, 1) + np.roll(np.roll(s, -1, 1), 1, 2))
    e_mc = -b.sum(axis=(1, 2)) / 9.0
    assert abs(e_mc.mean() - e_exact) < 4 * e_mc.std() / np.sqrt(len(e_mc))
    with pytest.raises(InvalidParameterError, match="divisible by 3"):
        S.sample_triangular(8, [3.0], 10, key=jax.random.key(0))


def test_temperature_grid_is_symmetric():
    g = np.array(S.temperature_grid((0.1, 0.5)))
    np.testing.assert_allclose(g, [TC - 0.5, TC - 0.1, TC + 0.1, TC + 0.5], atol=1e-6)
    with pytest.raises(InvalidParameterError, match="expected offsets"):
        S.temperature_grid((0.1, -1.0))


@pytest.mark.slow
def test_cnn_finite_size_scaling_reaches_onsager(tmp_path):
    # The study at its default sizes: Tc(inf) within 0.5% of Onsager, error bar covering it.
    from qml_phys.classical.datasets import DatasetConfig, write_dataset

    path = tmp_path / "fss.h5"
    write_dataset(
        path,
        DatasetConfig(sizes=[8, 12, 16, 24, 32], temperatures=S.temperature_grid(), n_samples=500),
        key=jax.random.key(0),
        show_progress=False,
    )
    res = S.supervised_tc(
        S.load_sizes(path), S.SupervisedConfig(model="cnn", n_networks=2), key=jax.random.key(0)
    )
    f = res.fss
    assert abs(f.Tc - TC) < 0.005 * TC
    assert abs(f.Tc - TC) < 2 * f.Tc_error
