"""``qml-phys barren``, ``vqe``, ``qaoa``: JSON output against the library and exact
values, records and plots written by the face, and bad input."""

import json

import pytest

from qml_phys.cli import main


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object on stdout
    return json.loads(out)


def test_barren_global_cost_follows_the_two_design(capsys, tmp_path):
    """Deep HEA circuits (30 layers) with the global cost: each variance's 95% interval is
    within a factor 1.5 of the 2-design value 1/(2(N+1)^2) (measured: ratios 0.9-1.2 at
    200 draws), and the fitted rate's interval lies within 25% of the 2-design rate."""
    out = run_json(
        capsys, "barren", "--qubits", "2:6:2", "--layers", "30", "--draws", "200",
        "--cost", "global", "--bootstrap", "300", "--seed", "1", "--out", str(tmp_path),
    )  # fmt: skip
    assert [r["n"] for r in out["rows"]] == [2, 4, 6]
    for r in out["rows"]:
        v, ref = r["var_mean"], 1 / (2 * (2 ** r["n"] + 1) ** 2)
        assert r["two_design_mean"] == pytest.approx(ref)
        assert v["low"] < v["value"] < v["high"]
        assert ref / 1.5 < v["value"] < 1.5 * ref
    fit = out["fit"]["mean"]
    assert fit["low"] < fit["rate_per_qubit"] < fit["high"]
    assert abs(fit["rate_per_qubit"] / out["two_design_rate"] - 1) < 0.25
    assert (tmp_path / "barren.json").exists() and (tmp_path / "barren.png").stat().st_size > 0
    record = json.loads((tmp_path / "barren.json").read_text())
    assert record["kind"] == "barren" and record["provenance"]["seed"] == 1
    assert out["record"] == str(tmp_path / "barren.json")
    assert out["plot"] == str(tmp_path / "barren.png")
    # the record keeps every detail of the scan (bootstrap errors, the full fits)
    assert record["results"]["ns"] == [2, 4, 6] and record["results"]["layers"] == [30] * 3
    assert record["results"]["rows"][0]["var_mean"]["value"] == out["rows"][0]["var_mean"]["value"]
    assert "log_stderr" in record["results"]["rows"][0]["var_mean"]
    assert record["provenance"]["config"]["n_boot"] == 300
    assert out["config"]["seed"] == 1 and out["config"]["layers"] == 30
    assert out["wall_time_s"] > 0


def test_barren_shots_split_the_variance(capsys):
    out = run_json(
        capsys, "barren", "--qubits", "2,3", "--layers", "4", "--draws", "300", "--cost",
        "zz", "--gates", "mcclean", "--shots", "50", "--bootstrap", "200",
    )  # fmt: skip
    for r in out["rows"]:
        s = r["shots"]
        assert s["mean_shot_variance"] > 0
        # observed = corrected + mean shot variance; the corrected interval covers the
        # exact (shot-free) variance of the same parameter
        assert s["observed_var_first"]["value"] == pytest.approx(
            s["corrected_var_first"]["value"] + s["mean_shot_variance"]
        )
        c = s["corrected_var_first"]
        assert c["low"] < r["var_first"]["value"] < c["high"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--draws", "0"], "expected a positive integer; got '0'"),
        (["--qubits", "0:4"], "expected qubit counts as start:stop:step"),
        (["--layers", "deep"], "expected a number of layers >= 1, 'n'"),
    ],
)
def test_barren_bad_arguments_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as err:
        main(["barren", *argv, "--json"])
    assert err.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cost", "energy"], "cost: expected one of global, local, zz; got 'energy'"),
        (["--init", "zeros"], "init: expected one of uniform, small, identity; got 'zeros'"),
        (
            ["--qubits", "30", "--layers", "50"],
            "expected one circuit of n_qubits=30, n_layers=50 to fit in memory_limit",
        ),
    ],
)
def test_barren_library_errors_exit_2(capsys, argv, message):
    assert main(["barren", *argv, "--json"]) == 2
    assert message in capsys.readouterr().err


def test_vqe_out_writes_the_record_and_the_plot(capsys, tmp_path):
    """The command, not the library, writes vqe.json (the result's summary with its seed)
    and vqe.png when --out is given."""
    out = run_json(
        capsys, "vqe", "--model", "tfim", "--N", "4", "--layers", "2", "--seed", "3",
        "--device", "default.qubit", "--out", str(tmp_path),
    )  # fmt: skip
    record = json.loads((tmp_path / "vqe.json").read_text())
    assert record["kind"] == "vqe" and record["provenance"]["seed"] == 3
    assert record["results"]["energy"] == out["energy"]
    assert record["results"]["converged"] is out["converged"] is True
    assert record["provenance"]["config"]["n_layers"] == 2
    assert (tmp_path / "vqe.png").stat().st_size > 1000
    assert out["plot"] == str(tmp_path / "vqe.png")
    assert out["energy_error"] is None  # analytic device: no shot noise, not 0


def test_vqe_steps_budget_is_reported_as_not_converged(capsys):
    out = run_json(
        capsys, "vqe", "--model", "tfim", "--N", "4", "--optimizer", "adam", "--steps", "3",
        "--lr", "0.01",
    )  # fmt: skip
    assert out["converged"] is False and out["iterations"] == 3
    assert out["relative_error"] > 1e-3


def test_vqe_bad_learning_rate_exits_2(capsys):
    assert main(["vqe", "--model", "tfim", "--N", "4", "--lr", "-0.1", "--json"]) == 2
    assert "learning_rate: expected a finite number > 0; got -0.1" in capsys.readouterr().err


def test_qaoa_random_regular_graph_is_seeded(capsys):
    """--graph 3-regular --n 10: the same seed gives the same graph and numbers; the brute
    force optimum bounds both methods."""
    argv = ("qaoa", "--graph", "3-regular", "--n", "10", "--p", "1", "--seed", "2")
    a, b = run_json(capsys, *argv), run_json(capsys, *argv)
    assert a["n_nodes"] == 10 and a["n_edges"] == 15
    assert a["max_cut"] == b["max_cut"] and a["expected_cut"] == b["expected_cut"]
    assert 0.6925 <= a["approximation_ratio"] <= 1.0  # Wurtz-Lykov p = 1 bound
    assert a["annealing_cut"] <= a["max_cut"] and a["converged"] is True
    assert a["optimizer"] == "lbfgs"  # auto, without shots
    assert a["evaluations"] >= 1
    assert a["expected_cut_error"] is None  # analytic device


def test_vqe_mitigate_none_reports_the_raw_energy_with_its_shot_error(capsys):
    """--mitigate none on a shot-based device: the optimum's raw energy with its shot error
    (the same budget), the mitigated keys null (not measured), never 0."""
    out = run_json(
        capsys, "vqe", "--model", "tfim", "--N", "4", "--layers", "2", "--optimizer", "adam",
        "--steps", "2", "--device", "default.qubit:shots=2000", "--mitigate", "none",
    )  # fmt: skip
    assert out["energy_raw_error"] > 0
    # energy: 2000 shots on each of the 2 commuting groups of the TFIM; the raw estimate
    # spends 2000 in total (1000 per group), so its error is sqrt(2) larger
    assert out["energy_error"] == pytest.approx(out["energy_raw_error"] / 2**0.5, rel=0.2)
    assert abs(out["energy_raw"] - out["energy"]) < 5 * out["energy_raw_error"] + 0.2
    assert out["energy_mitigated"] is None and out["energy_mitigated_error"] is None
    assert out["mitigation"]["shots_total"] == 2000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--model", "tfim", "--N", "4", "--mitigate", "readout"],
            "readout mitigation expected a shot-based device or MitigationConfig(shots=N); "
            "got 'lightning.qubit' without shots",
        ),
        (
            ["--model", "tfim", "--N", "4", "--device", "qiskit.aer:shots=100",
             "--mitigate", "zne", "--extrapolation", "quadratic", "--scale-factors", "1,3"],
            "scale_factors: expected at least 3 for extrapolation='quadratic'; got 2",
        ),
        (["--model", "h2", "--mitigate", "zne"], "expected --model tfim or heisenberg; got 'h2'"),
        (["--model", "tfim", "--N", "4", "--mitigate", "pec"], "invalid choice: 'pec'"),
    ],
)  # fmt: skip
def test_vqe_mitigation_bad_input_exits_2_before_optimising(capsys, argv, message):
    try:
        code = main(["vqe", *argv, "--json"])
    except SystemExit as e:  # argparse's own errors (an unknown --mitigate choice)
        code = e.code
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_vqe_mitigate_both_on_fake_manila(capsys):
    """Aer with fake_manila's noise, 4000 shots per optimiser evaluation and a budget of
    20000 for each of the raw and the mitigated estimate: the mitigated energy is lower than
    the raw (readout and gate noise raise the energy), with a larger error."""
    out = run_json(
        capsys, "vqe", "--model", "tfim", "--N", "4", "--optimizer", "adam", "--steps", "2",
        "--device", "qiskit.aer:shots=4000:noise=fake_manila", "--mitigate", "both",
        "--shot-budget", "20000",
    )  # fmt: skip
    for k in ("energy_raw", "energy_raw_error", "energy_mitigated", "energy_mitigated_error"):
        assert isinstance(out[k], float)
    assert out["energy_mitigated_error"] > out["energy_raw_error"] > 0
    assert out["energy_mitigated"] < out["energy_raw"] - 2 * out["energy_mitigated_error"]
    m = out["mitigation"]
    assert m["shots_total"] == 20000 == sum(m["shot_allocation"]["raw"])


def test_qaoa_mitigate_on_an_exact_device_reports_null_errors(capsys):
    """qaoa --mitigate zne on lightning.qubit (no shots, no noise): folding changes nothing,
    so the mitigated energy equals the raw one, which is -<cut>; the errors are null (not
    measured), never 0."""
    out = run_json(
        capsys, "qaoa", "--graph", "3-regular", "--n", "6", "--p", "1", "--mitigate", "zne",
        "--seed", "1",
    )  # fmt: skip
    assert out["energy_raw"] == pytest.approx(-out["expected_cut"], abs=1e-9)
    assert out["energy_mitigated"] == pytest.approx(out["energy_raw"], abs=1e-9)
    assert out["energy_raw_error"] is None and out["energy_mitigated_error"] is None
    m = out["mitigation"]
    assert m["shots_total"] is None and m["exact_energy"] == -out["max_cut"]
    assert m["ideal_energy"] == pytest.approx(out["energy_raw"], abs=1e-9)


def test_mitigation_choices_of_the_command_line_are_the_library_names():
    from qml_phys.circuits import mitigation
    from qml_phys.cli import circuits as cli_circuits

    assert cli_circuits.MITIGATIONS == mitigation.METHODS
    assert cli_circuits.EXTRAPOLATIONS == tuple(mitigation.EXTRAPOLATIONS)
