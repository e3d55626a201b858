"""``qml-phys barren``: JSON output against the library and the 2-design values, shots,
records and plots, and bad input."""

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
