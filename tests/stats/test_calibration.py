"""Calibration of error bars over many keys (:mod:`qml_phys.stats.calibration`).

The harness itself is checked on z-scores drawn from a standard normal (calibrated) and
from a normal of width 1.5 (error bars too small); the slow tests run some of the
estimators of ``studies/calibration.py`` against their exact references with K = 100 keys
and check the bands of the calibration table: RMS z in [0.8, 1.25] and 95% coverage in
[0.90, 0.99]. At K = 100 the RMS z of a calibrated estimator has spread 0.07, so the band
is about three spreads wide on each side, and the coverage band holds with probability
0.95 (at K = 20 a coverage of 1.00, outside the band, has probability 0.36).
"""

import importlib.util
from pathlib import Path

import jax
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError
from qml_phys.stats.calibration import calibrate, calibration_row

STUDY = Path(__file__).resolve().parents[2] / "studies" / "calibration_estimators.py"


def _estimators():
    """``ESTIMATORS`` of the study, loaded from its file (no ``sys.path`` changes)."""
    spec = importlib.util.spec_from_file_location("calibration_estimators", STUDY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ESTIMATORS


def test_row_of_normal_z_scores_is_calibrated():
    z = np.random.default_rng(20261207).standard_normal(4000)
    r = calibration_row(z)
    assert abs(r["rms_z"] - 1) < 3 * r["rms_z_spread"]
    assert 0.93 < r["coverage"] < 0.97
    assert r["p_value"] > 0.01


def test_row_of_too_small_error_bars_fails():
    z = 1.5 * np.random.default_rng(20261208).standard_normal(400)
    r = calibration_row(z)
    assert r["rms_z"] > 1.35
    assert r["p_value"] < 1e-6
    assert r["coverage"] < 0.85


def test_missing_error_bar_is_refused():
    with pytest.raises(InvalidParameterError, match="finite z-scores"):
        calibration_row([0.1, np.inf])


def test_calibrate_runs_independent_keys():
    def estimator(key):
        x = float(jax.random.normal(key))
        return {"x": (x, 1.0)}

    cal = calibrate(estimator, {"x": 0.0}, key=jax.random.key(1), n_seeds=50, name="normal")
    assert len(set(cal.values["x"].tolist())) == 50
    assert 0.7 < cal.rows["x"]["rms_z"] < 1.3


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "vqe_shots",
        "qaoa_shots",
        "barren_variance",
        "van_free_energy",
        "flow_mcmc_low_acceptance_hmc",
    ],
)
def test_error_bars_within_the_bands(name):
    estimator, reference, _ = _estimators()[name]()
    cal = calibrate(estimator, reference, key=jax.random.key(20261207), n_seeds=100, name=name)
    for q, r in cal.rows.items():
        assert 0.8 <= r["rms_z"] <= 1.25, (q, r)
        assert 0.90 <= r["coverage"] <= 0.99, (q, r)
