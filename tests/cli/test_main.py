"""The command line: --json output, exact values, and clear errors on bad input."""

import json
import math

import pytest

from qml_phys.cli import main


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object on stdout
    return json.loads(out)


def test_exact_ising_finite(capsys):
    from qml_phys.physics import exact

    out = run_json(capsys, "exact", "ising", "--L", "16", "--T", "2.3")
    ref = exact.kaufman(16, 2.3)
    assert out["L"] == 16 and out["method"] == "kaufman"
    assert out["energy_per_site"] == pytest.approx(float(ref.energy_per_site), abs=1e-14)
    assert out["specific_heat_per_site"] == pytest.approx(float(ref.specific_heat_per_site))
    assert out["ln_z_per_site"] == pytest.approx(float(ref.ln_z_per_site))
    assert "magnetization" not in out


def test_exact_ising_infinite(capsys):
    out = run_json(capsys, "exact", "ising", "--L", "inf", "--T", "2.0")
    assert out["L"] == "inf"
    # Yang: m = (1 - sinh(2/T)^-4)^(1/8)
    assert out["magnetization"] == pytest.approx((1 - math.sinh(1.0) ** -4) ** 0.125, rel=1e-12)
    assert out["Tc"] == pytest.approx(2 / math.log(1 + math.sqrt(2)), rel=1e-14)


def test_exact_ising_temperature_range(capsys):
    out = run_json(capsys, "exact", "ising", "--L", "4", "--T", "1.0:3.0:5")
    assert out["T"] == pytest.approx([1.0, 1.5, 2.0, 2.5, 3.0])
    assert len(out["energy_per_site"]) == 5


def test_exact_tfim_critical_chain(capsys):
    out = run_json(capsys, "exact", "tfim", "--N", "20", "--h", "1.0")
    # At h = J the periodic chain's ground energy is -2 / sin(pi / (2N)) (antiperiodic modes).
    assert out["ground_energy"] == pytest.approx(-2 / math.sin(math.pi / 40), abs=1e-10)


def test_exact_maxcut(tmp_path, capsys):
    g = tmp_path / "edges.txt"
    g.write_text("# a weighted 4-cycle with a chord\n0 1 1\n1 2 2\n2 3 1\n3 0 2\n0 2 5\n")
    out = run_json(capsys, "exact", "maxcut", "--graph", str(g))
    # By hand: {0,1} | {2,3} cuts 1-2, 3-0 and 0-2: 2 + 2 + 5 = 9; no partition does better.
    assert out["n_nodes"] == 4 and out["n_edges"] == 5
    assert out["max_cut"] == pytest.approx(9.0)
    spins = out["assignment"]
    edges = [(0, 1, 1), (1, 2, 2), (2, 3, 1), (3, 0, 2), (0, 2, 5)]
    assert sum(w for i, j, w in edges if spins[i] != spins[j]) == pytest.approx(9.0)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["exact", "ising", "--L", "1", "--T", "2"], "expected a lattice size"),
        (["exact", "ising", "--L", "abc", "--T", "2"], "expected a lattice size"),
        (["exact", "tfim", "--N", "0"], "expected a positive integer"),
    ],
)
def test_bad_arguments_are_named(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("T", ["-1", "0", "nan", "1:3", "1:3:0", "x"])
def test_bad_temperatures_are_named(capsys, T):
    assert main(["exact", "ising", "--L", "8", "--T", T]) == 2
    err = capsys.readouterr().err
    assert (
        "positive, finite temperature" in err
        or "start:stop:count" in err
        or ("expected a positive integer" in err)
    )


def test_malformed_graph_file(tmp_path, capsys):
    g = tmp_path / "bad.txt"
    g.write_text("0 1\n1 two\n")
    assert main(["exact", "maxcut", "--graph", str(g)]) == 2
    assert "expected integer nodes" in capsys.readouterr().err
    assert main(["exact", "maxcut", "--graph", str(tmp_path / "missing.txt")]) == 2
    assert "graph file not found" in capsys.readouterr().err


def test_unknown_tour_section(tmp_path, capsys):
    assert main(["tour", "--out", str(tmp_path), "--only", "nonsense"]) == 2
    assert "unknown tour section" in capsys.readouterr().err


def test_ising_sample_json(capsys):
    out = run_json(
        capsys,
        "ising",
        "sample",
        "--L",
        "8",
        "--T",
        "2.6",
        "--algorithm",
        "swendsen-wang",
        "--sweeps",
        "2000",
        "--seed",
        "1",
    )
    assert out["algorithm"] == "swendsen-wang" and out["L"] == 8
    e = out["observables"]["energy"]
    assert abs(e["mean"] - out["exact"]["energy_per_site"]) < 4 * e["error"]
    assert set(out["tau_int"]) >= {"energy", "abs_m", "m2", "specific_heat", "binder"}
    assert all(v["error"] > 0 for v in out["observables"].values())


def test_ising_sample_bad_algorithm(capsys):
    assert main(["ising", "sample", "--L", "8", "--T", "2", "--algorithm", "nope"]) == 2
    assert "unknown algorithm 'nope'" in capsys.readouterr().err


def test_ising_dataset_json(tmp_path, capsys):
    path = tmp_path / "d.h5"
    out = run_json(
        capsys,
        "ising",
        "dataset",
        "--L",
        "4",
        "--T",
        "1.5:3.5:2",
        "--samples",
        "8",
        "--out",
        str(path),
    )
    assert out["status"] == "written" and out["blocks"] == 2 and path.exists()
    assert (
        main(["ising", "dataset", "--L", "4", "--T", "2.0", "--samples", "8", "--out", str(path)])
        == 2
    )
    assert "exists with different parameters" in capsys.readouterr().err


def test_qaoa_json_on_a_weighted_file(tmp_path, capsys):
    g = tmp_path / "w.txt"
    g.write_text("0 1 1\n1 2 2\n2 3 1\n3 0 2\n0 2 5\n")
    out = run_json(capsys, "qaoa", "--graph", str(g), "--p", "2", "--seed", "1")
    assert out["max_cut"] == pytest.approx(9.0)  # by hand, see test_exact_maxcut
    assert 0.5 < out["approximation_ratio"] <= 1.0
    assert out["expected_cut"] == pytest.approx(out["approximation_ratio"] * 9.0)
    assert out["annealing_cut"] == pytest.approx(9.0)
    assert len(out["gammas"]) == 2
    assert out["converged"] is True  # L-BFGS's gradient norm fell below gtol


def test_qaoa_random_regular_needs_n(capsys):
    assert main(["qaoa", "--graph", "3-regular", "--p", "1"]) == 2
    assert "needs --n" in capsys.readouterr().err


def test_vqe_tfim_reaches_free_fermion_energy(capsys):
    out = run_json(capsys, "vqe", "--model", "tfim", "--N", "6", "--h", "0.8", "--layers", "3")
    from qml_phys.physics import exact

    assert out["exact_energy"] == pytest.approx(exact.tfim_chain_ground_energy(6, 1.0, 0.8))
    assert out["relative_error"] < 1e-6
    assert out["converged"] is True and out["iterations"] < 500


def test_vqe_h2_within_chemical_accuracy(capsys):
    out = run_json(capsys, "vqe", "--model", "h2")
    assert abs(out["energy"] - out["exact_energy"]) < 1.6e-3
    assert out["exact_energy"] == pytest.approx(-1.137270, abs=2e-6)  # FCI, STO-3G, 0.7414 Å
    assert isinstance(out["converged"], bool)


def test_vqe_bad_input(capsys):
    assert main(["vqe", "--model", "ising3d", "--N", "4"]) == 2
    assert "unknown model 'ising3d'" in capsys.readouterr().err
    assert main(["vqe", "--model", "tfim"]) == 2
    assert "needs --N" in capsys.readouterr().err
    assert main(["vqe", "--model", "tfim", "--N", "4", "--device", "nonsense.qubit"]) == 2
    assert "nonsense.qubit" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ising", "sample", "--L", "8", "--T", "2", "--seed", "-1"], "expected a seed"),
        (["exact", "tfim", "--N", "5", "--h", "nan"], "--h/--gamma: expected a finite number"),
        (["ising", "sample", "--L", "8", "--T", "2", "--therm", "-1"], "expected an integer >= 0"),
    ],
)
def test_flags_are_named_in_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, message",
    [
        ("0 1\n2 2\n", ":2: expected an edge between two nodes; got a self-loop '2 2'"),
        ("0 1 nan\n", ":1: expected a finite weight; got '0 1 nan'"),
    ],
)
def test_graph_file_errors_name_the_line(tmp_path, capsys, text, message):
    g = tmp_path / "g.txt"
    g.write_text(text)
    assert main(["exact", "maxcut", "--graph", str(g)]) == 2
    assert message in capsys.readouterr().err
    assert main(["exact", "maxcut", "--graph", str(tmp_path)]) == 2
    assert "graph path is a folder" in capsys.readouterr().err


def test_tour_report_lists_rows_off_their_reference_instead_of_hiding_them():
    """A row with |z| > 3 is a deviation: known ones carry their reason, others are shown
    as unexplained (the section reads 'deviates', not 'ok')."""
    from qml_phys.tour.runner import _render
    from qml_phys.tour.section import Section

    sec = Section(
        title="t",
        table=[
            {"model": "a", "observable": "energy", "z": 5.2},
            {"model": "b", "observable": "energy", "z": -0.4},
            {"model": "c", "z(e)": -7.0},
        ],
        checks={"something": True},
        known_deviations={"a": "no correlations"},
    )
    devs = sec.deviations()
    assert [(d["model"], d["known"]) for d in devs] == [("a", "no correlations"), ("c", None)]
    info = {"ok": True, "deviations": devs}
    page = _render([("t", sec, 1.0, None)], {"sections": {"t": info}})
    assert "deviates" in page and "not explained" in page and "known: no correlations" in page
