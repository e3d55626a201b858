"""The ``qml-phys learn`` CLI and the learning tour section."""

import json

import pytest

from qml_phys.cli import main
from qml_phys.tour import run_tour


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_learn_hamiltonian_lasso_and_ols(capsys):
    code, r, _ = _run(
        capsys,
        "learn",
        "hamiltonian",
        "--L",
        "12",
        "--samples",
        "400",
        "--method",
        "lasso",
        "--lam",
        "0.01",
        "--seed",
        "0",
        "--json",
    )
    assert code == 0
    assert r["max_off_structure"] < 0.05 and r["max_structure_error"] < 0.05
    assert r["test_r2"] > 0.99 and r["n_zero_off_structure"] == r["n_off_structure"]
    assert r["kkt_violation"] < 1e-7 and r["ok"] is True and r["J"] == 1.0
    assert (r["L"], r["n_train"], r["n_test"], r["method"]) == (12, 280, 120, "lasso")
    code, r, _ = _run(
        capsys, "learn", "hamiltonian", "--L", "8", "--samples", "200", "--method", "ols", "--json"
    )
    assert code == 0 and r["least_norm"] is True and r["lam"] == 0.0
    assert r["max_structure_error"] < 1e-8 and r["nearest_neighbour_mean"] == pytest.approx(-1)


def test_learn_hamiltonian_bad_input(capsys):
    with pytest.raises(SystemExit) as e:
        main(["learn", "hamiltonian", "--lam", "-0.5", "--json"])
    assert e.value.code == 2
    assert "argument --lam: expected a number >= 0; got '-0.5'" in capsys.readouterr().err
    code, r, err = _run(
        capsys,
        "learn",
        "hamiltonian",
        "--L",
        "5",
        "--samples",
        "10",
        "--test-fraction",
        "0.01",
        "--json",
    )
    assert code == 2 and "leaves an empty train or test set" in err
    with pytest.raises(SystemExit) as e:
        main(["learn", "hamiltonian", "--samples", "1", "--json"])
    assert e.value.code == 2
    assert "argument --samples: expected at least 2 configurations" in capsys.readouterr().err


@pytest.mark.slow
def test_tour_section_runs_quick_and_passes_its_checks(tmp_path):
    r = run_tour(tmp_path, quick=True, only=["learning"])
    sec = r["sections"]["learning"]
    assert sec["ok"] and sec["error"] is None and all(sec["checks"].values())
    assert (tmp_path / "learning.png").exists()
