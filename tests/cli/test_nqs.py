"""qml-phys nqs subcommands and the nqs tour section."""

import json

import pytest

from qml_phys.cli import main
from qml_phys.physics import Lattice, TransverseFieldIsing, exact


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    return code, (json.loads(out) if "--json" in argv and out.strip() else out)


def test_ground_state_cli_against_exact_diagonalisation(capsys, tmp_path):
    argv = [
        "nqs",
        "ground-state",
        "--model",
        "tfim",
        "--N",
        "6",
        "--h",
        "1.0",
        "--iters",
        "60",
        "--samples",
        "512",
        "--final-samples",
        "8192",
        "--seed",
        "0",
        "--out",
        str(tmp_path),
        "--json",
    ]
    code, res = _run(capsys, argv)
    e_ed = float(exact.lanczos(TransverseFieldIsing(Lattice.chain(6), gamma=1.0))[0])
    assert code == 0 and res["ok"] is True
    assert res["exact_energy"] == pytest.approx(e_ed, abs=1e-10)
    assert res["relative_error"] == pytest.approx(abs(res["energy"] - e_ed) / abs(e_ed))
    assert res["relative_error"] < 3e-3
    for name in ("result.json", "log.json", "energy.png", "checkpoint.msgpack"):
        assert (tmp_path / name).is_file()
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["kind"] == "nqs.ground_state" and record["provenance"]["seed"] == 0
    assert record["results"]["energy"] == res["energy"]
    assert json.loads((tmp_path / "log.json").read_text())["step"][-1] == 59
    # the convergence check, separate from the precision, with the numbers behind it
    conv = res["convergence"]
    assert isinstance(res["converged"], bool) and conv["window"] == 12
    assert res["converged"] == (abs(conv["drift"]) < 2 * conv["drift_error"])
    assert res["status"] == "completed" and res["config"]["n_steps"] == 60
    # an existing checkpoint is not overwritten without --resume
    assert main(argv) == 2
    assert "expected resume=True (--resume) to continue that run" in capsys.readouterr().err
    # resuming a finished run does no more iterations and gives the stored state back
    code, again = _run(capsys, argv + ["--resume"])
    assert code == 0 and again["resumed_from"] == 50 and again["steps"] == 60
    assert again["energy"] == pytest.approx(res["energy"], abs=5 * res["energy_error"])
    # another seed is another run: its checkpoint is refused
    reseeded = argv[:-5] + ["--seed", "1", "--out", str(tmp_path), "--json", "--resume"]
    assert main(reseeded) == 2 and "differing settings" in capsys.readouterr().err


def test_tomography_cli_keys_and_files(capsys, tmp_path):
    argv = ["nqs", "tomography", "--N", "4", "--samples", "2000", "--epochs", "400"]
    code, res = _run(capsys, argv + ["--seed", "1", "--out", str(tmp_path), "--json"])
    assert code == 0
    keys = ("n_sites", "bases", "samples_per_basis", "fidelity", "energy_reconstructed")
    keys += ("energy_exact", "relative_energy_error", "final_nll")
    assert set(keys) <= set(res) and res["bases"] == ["ZZZZ"] and res["n_sites"] == 4
    e_ed = float(exact.lanczos(TransverseFieldIsing(Lattice.chain(4), gamma=1.0))[0])
    assert res["energy_exact"] == pytest.approx(e_ed, abs=1e-10)
    assert res["fidelity"] > 0.99 and res["relative_energy_error"] < 0.02
    # bootstrap errors by default (20 refits): of the size of the fidelity's shortfall
    assert 0 < res["fidelity_error"] < 0.05 and 0 < res["energy_reconstructed_error"] < 0.5
    assert res["config"]["bootstrap"] == 20
    record = json.loads((tmp_path / "tomography.json").read_text())
    assert record["results"]["fidelity"] == res["fidelity"]
    assert record["provenance"]["config"]["epochs"] == 400
    assert (tmp_path / "tomography.png").stat().st_size > 0


def test_ground_state_cli_rejects_bad_input(capsys):
    assert main(["nqs", "ground-state", "--N", "6", "--L", "3"]) == 2
    assert "expected exactly one of --N (chain) or --L" in capsys.readouterr().err
    assert (
        main(
            [
                "nqs",
                "ground-state",
                "--model",
                "heisenberg",
                "--N",
                "6",
                "--no-sign-rule",
                "--iters",
                "1",
            ]
        )
        == 2
    )
    assert "cannot represent" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["nqs", "ground-state", "--N", "1"])
    assert "expected a finite lattice size" in capsys.readouterr().err


@pytest.mark.slow
def test_nqs_tour_section(tmp_path):
    from qml_phys.tour import run_tour

    summary = run_tour(tmp_path, quick=True, only=["nqs"])
    record = json.loads((tmp_path / "nqs.json").read_text())
    checks = record["results"]["checks"]
    assert len(checks) == 2 and all(checks.values()), checks
    assert (tmp_path / "nqs_convergence.png").stat().st_size > 0
    assert summary


@pytest.mark.parametrize(
    "what",
    [
        ["ground-state", "--N", "4"],
        ["dynamics", "--N", "4", "--h0", "inf", "--h1", "0.5", "--t-end", "0.1", "--dt", "0.05"],
    ],
)
def test_resume_without_out_is_refused(capsys, what):
    from qml_phys.cli import main

    assert main(["nqs", *what, "--resume", "--json"]) == 2
    assert "--resume: expected --out DIR" in capsys.readouterr().err
