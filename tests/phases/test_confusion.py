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
