"""Binder scans through the sweep runner: crossing near Onsager's T_c; resume skips jobs."""

import jax
import numpy as np
import pytest

from qml_phys.classical.scan import BinderScanConfig, binder_scan
from qml_phys.errors import InvalidParameterError
from qml_phys.physics.exact import onsager_tc


def test_binder_crossing_brackets_onsager_and_resumes(tmp_path):
    temps = np.linspace(2.1, 2.45, 6)
    cfg = BinderScanConfig(n_sweeps=1500, n_replicas=2)
    key = jax.random.key(0)
    res = binder_scan([4, 8], temps, cfg, key=key, out=tmp_path, workers=0).summary()
    assert res["ok"] and res["sweep"]["n_ran"] == 24
    (c,) = res["crossings"]
    # L=4/8 crossings sit within a few hundredths of T_c (corrections to scaling are small
    # for the Binder cumulant of the 2D Ising model); the error comes from the error bars.
    assert c["Tc_err"] is not None and 0 < c["Tc_err"] < 0.1
    assert abs(c["Tc"] - onsager_tc()) < 3 * c["Tc_err"] + 0.03
    u8 = np.array(res["observables"]["8"]["binder"])
    assert np.all(np.diff(u8) < 0.02)  # U4 falls from 2/3 towards 0 with T
    again = binder_scan([4, 8], temps, cfg, key=key, out=tmp_path, workers=0).summary()
    assert again["sweep"]["n_skipped"] == 24 and again["sweep"]["n_ran"] == 0
    assert again["crossings"][0]["Tc"] == c["Tc"]


def test_needs_two_temperatures(tmp_path):
    with pytest.raises(InvalidParameterError, match="at least 2"):
        binder_scan([4, 8], [2.3], key=jax.random.key(0), out=tmp_path)


def test_cli_scan_json_and_unreachable_scheduler(tmp_path, capsys):
    import json

    from qml_phys.cli import main

    rc = main(
        [
            "ising",
            "scan",
            "--L",
            "4",
            "6",
            "--T",
            "2.0:2.6:3",
            "--sweeps",
            "200",
            "--workers",
            "0",
            "--out",
            str(tmp_path / "s"),
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert (
        rc == 0
        and out["sweep"]["n_ran"] == 6
        and out["exact_Tc"] == pytest.approx(2.26919, abs=1e-5)
    )
    rc = main(
        [
            "ising",
            "scan",
            "--L",
            "4",
            "--T",
            "2.0",
            "2.5",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--out",
            str(tmp_path / "t"),
            "--json",
        ]
    )
    assert rc == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
