"""The ``qml-phys phases`` commands and the tour section."""

import json

import pytest

from qml_phys.cli import main
from qml_phys.physics.exact import onsager_tc


def _run(capsys, argv):
    code = main(argv)
    cap = capsys.readouterr()
    return code, (json.loads(cap.out) if code == 0 else None), cap.err


def test_supervised_prints_per_size_tc_and_fss(tiny_path, capsys, tmp_path):
    code, out, _ = _run(
        capsys,
        [
            "phases",
            "supervised",
            "--data",
            str(tiny_path),
            "--epochs",
            "10",
            "--networks",
            "1",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert code == 0
    assert set(out["per_size"]) == {"8", "12"}
    for row in out["per_size"].values():
        assert abs(row["Tc"] - onsager_tc()) < 0.4 and row["Tc_error"] > 0
        # one network: the spread between networks was not measured
        assert row["network_spread"] is None and len(row["test_accuracy"]) == 1
    assert "Tc_inf" in out and out["Tc_inf_error"] > 0 and out["fss"]["dof"] == 0
    assert out["method"].startswith("supervised") and out["model"] == "dense"
    assert out["exclude"] == 0.0 and out["Tc_exact"] == onsager_tc()
    assert out["out"] == str(tmp_path)
    assert (tmp_path / "supervised.json").exists() and (tmp_path / "supervised.png").exists()
    record = json.loads((tmp_path / "supervised.json").read_text())
    assert record["provenance"]["seed"] == 3
    assert record["results"]["per_size"]["8"]["network_spread"] is None


def test_bad_input_exits_2_with_a_message(tiny_path, capsys):
    code, _, err = _run(
        capsys, ["phases", "supervised", "--data", str(tiny_path), "--L", "8", "--fss", "--json"]
    )
    assert code == 2 and "at least two lattice sizes; the data has L = [8]" in err
    code, _, err = _run(
        capsys, ["phases", "supervised", "--data", str(tiny_path), "--exclude", "3", "--json"]
    )
    assert code == 2 and "both sides of Tc" in err
    code, _, err = _run(
        capsys, ["phases", "confusion", "--data", str(tiny_path), "--L", "16", "--json"]
    )
    assert code == 2 and "expected sizes among [8, 12]; got [16]" in err


def test_unsupervised_and_confusion_commands(tiny_path, capsys):
    code, out, _ = _run(
        capsys, ["phases", "unsupervised", "--data", str(tiny_path), "--no-autoencoder", "--json"]
    )
    assert code == 0 and abs(out["per_size"]["12"]["corr_pc1_m"]) > 0.99
    assert set(out["fss"]) == {"pca", "clustering"}
    row = out["per_size"]["8"]
    assert {"pca_Tc", "pca_Tc_error", "clustering_Tc", "clustering_Tc_error"} <= set(row)
    assert {"Tc_inf", "Tc_inf_error", "chi2", "dof"} <= set(out["fss"]["pca"])
    assert out["out"] is None
    # 8 x 8 on a coarse, non-uniform grid trained for 5 epochs shows no W: a clear error
    # (the W itself is tested in test_confusion.py and in the tour)
    code, _, err = _run(
        capsys,
        ["phases", "confusion", "--data", str(tiny_path), "--L", "8", "--epochs", "5", "--json"],
    )
    assert code == 2 and "no interior maximum (no W shape)" in err
    assert main(["phases", "confusion", "--data", str(tiny_path), "--bootstrap", "1"]) == 2
    assert "n_bootstrap: expected 0 or an integer from 2" in capsys.readouterr().err


@pytest.mark.slow
def test_tour_section(tmp_path):
    from qml_phys.tour import run_tour

    summary = run_tour(tmp_path, quick=True, only=["phases"])
    sec = summary["sections"]["phases"]
    assert sec["error"] is None, sec
    assert sec["ok"], sec["checks"]
    assert (tmp_path / "phases_confusion.png").exists()
