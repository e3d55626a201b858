"""Learning by confusion: the W curve and its middle peak."""

import jax
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError
from qml_phys.phases import confusion as C
from qml_phys.phases.supervised import quick_dataset


def test_middle_peak_of_a_synthetic_w():
    props = np.linspace(0, 1, 11)
    acc = np.array([1.0, 0.9, 0.8, 0.75, 0.8, 0.9, 0.82, 0.75, 0.8, 0.9, 1.0])
    assert C.middle_peak(acc) == 5
    with pytest.raises(InvalidParameterError, match="no interior maximum"):
        C.middle_peak(np.abs(props - 0.5) + 0.5)
    with pytest.raises(InvalidParameterError, match="at least 3 temperatures"):
        C.default_proposals([1.0, 2.0])
    with pytest.raises(InvalidParameterError, match="proposals: expected at least 3 finite"):
        C.ConfusionConfig(proposals=(2.0, 2.5))
    with pytest.raises(InvalidParameterError, match="test_fraction: expected 0 < f < 1"):
        C.ConfusionConfig(test_fraction=0.0)


def test_w_shape_and_peak_at_tc():
    # a uniform grid (spacing 0.2), as in the paper
    temps = np.linspace(1.1, 3.5, 13)
    d = quick_dataset([12], temps, 120, key=jax.random.key(7))[12]
    config = C.ConfusionConfig(train=C.default_config(epochs=15))
    c = C.confusion_curve(d, config, key=jax.random.key(0))
    assert c.accuracy[0] == 1.0 and c.accuracy[-1] == 1.0  # trivial edges
    assert c.status == "completed" and len(c.history["train_loss"]) == 15
    s = c.summary()
    assert s["deviation_in_spacings"] <= 1.0
    # a W: the peak is above both minima on its sides, by more than their errors
    i = c.peak_index
    left, right = c.accuracy[:i].min(), c.accuracy[i + 1 :].min()
    assert c.accuracy[i] - max(left, right) > 2 * c.accuracy_error[i]


def test_peak_vertex_between_grid_points():
    x = np.linspace(2.0, 2.6, 7)
    y = 0.9 - 3.0 * (x - 2.23) ** 2  # a parabola: its vertex exactly
    assert C.peak_vertex(x, y, int(np.argmax(y))) == pytest.approx(2.23, abs=1e-10)
    assert C.peak_vertex(x, y, 0) == x[0]  # an end of the grid: the proposal itself
    flat = np.array([0.8, 0.9, 0.9, 0.9, 0.8, 0.7, 0.6])
    assert C.peak_vertex(x, flat, 2) == x[2]  # no downward bend: the proposal
    with pytest.raises(InvalidParameterError, match="n_bootstrap: expected 0 or"):
        C.ConfusionConfig(n_bootstrap=1)


def test_bootstrap_error_leaves_the_main_fit_alone():
    """The replicates train beside the main classifiers: the curve, the peak and its vertex
    are those of the run without them; the error is of the size of a grid spacing (0.2)
    at this small size, and None without replicates."""
    temps = np.linspace(1.1, 3.5, 13)
    d = quick_dataset([8], temps, 60, key=jax.random.key(3))[8]
    base = C.ConfusionConfig(train=C.default_config(epochs=8))
    plain = C.confusion_curve(d, base, key=jax.random.key(0))
    boot = C.confusion_curve(
        d,
        C.ConfusionConfig(train=C.default_config(epochs=8), n_bootstrap=4),
        key=jax.random.key(0),
    )
    assert np.array_equal(plain.accuracy, boot.accuracy) and plain.Tc == boot.Tc
    assert plain.Tc_vertex == boot.Tc_vertex and plain.Tc_error is None
    assert 0.01 < boot.Tc_error < 0.6
    assert boot.summary()["Tc_error"] == boot.Tc_error
