"""The ``qml-phys generative`` commands and the tour sections (tiny sizes)."""

import json

import jax
import numpy as np
import pytest

from qml_phys.cli import main
from qml_phys.physics import exact

TC = exact.onsager_tc()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from qml_phys.classical.datasets import DatasetConfig, write_dataset

    path = tmp_path_factory.mktemp("gen") / "ising4.h5"
    write_dataset(
        path, DatasetConfig(sizes=[4], temperatures=[TC], n_samples=400), key=jax.random.key(3)
    )
    return path


def _run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out.strip() else None), captured.err


def test_train_made_reports_observables_and_exact_kl(dataset, tmp_path, capsys):
    code, out, _ = _run(
        capsys,
        [
            "generative",
            "train",
            "--model",
            "made",
            "--data",
            str(dataset),
            "--L",
            "4",
            "--T",
            str(TC),
            "--epochs",
            "15",
            "--batch-size",
            "50",
            "--lr",
            "1e-2",
            "--samples",
            "500",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert code == 0
    assert out["status"] == "completed" and out["n_train"] == 400 and out["T"] == pytest.approx(TC)
    assert set(out["comparison"]["observables"]) == {"energy", "abs_m", "specific_heat"}
    assert 0.0 < out["exact_kl"] < 1.0  # untrained: ~9 nats
    # after 5 epochs (35 steps) the model was still far from trained: |z| 1.3 to 10.7 over 6
    # keys; after 15, 0.1 to 3.8
    assert abs(out["comparison"]["observables"]["energy"]["z"]) < 6
    assert (
        json.loads((tmp_path / "result.json").read_text())["results"]["exact_kl"] == out["exact_kl"]
    )


def test_rerun_resumes_its_own_checkpoint_and_refuses_another_runs(dataset, tmp_path, capsys):
    """``--out`` resumes a run with the same data, L, T, model and seed; a rerun over it with
    another data file or seed is refused (exit 2) instead of silently continued."""
    import shutil

    argv = ["generative", "train", "--model", "made", "--L", "4", "--T", str(TC)]
    argv += ["--epochs", "1", "--batch-size", "50", "--samples", "100", "--out", str(tmp_path)]
    code, first, _ = _run(capsys, [*argv, "--data", str(dataset), "--json"])
    assert code == 0 and first["resumed_from"] == 0 and first["epochs"] == 1
    assert (tmp_path / "train" / "checkpoint.msgpack").exists()
    code, again, _ = _run(capsys, [*argv, "--data", str(dataset), "--epochs", "2", "--json"])
    assert code == 0 and again["resumed_from"] == 1 and again["epochs"] == 2
    copy = tmp_path / "copy.h5"
    shutil.copy(dataset, copy)
    code, _, err = _run(capsys, [*argv, "--data", str(copy), "--epochs", "2", "--json"])
    assert code == 2 and "was written for" in err and "copy.h5" in err
    code, _, err = _run(capsys, [*argv, "--data", str(dataset), "--seed", "1", "--json"])
    assert code == 2 and "was written for" in err


def test_train_rbm(dataset, capsys):
    code, out, _ = _run(
        capsys,
        [
            "generative",
            "train",
            "--model",
            "rbm",
            "--data",
            str(dataset),
            "--L",
            "4",
            "--T",
            str(TC),
            "--epochs",
            "2",
            "--batch-size",
            "50",
            "--samples",
            "200",
            "--gibbs-steps",
            "50",
            "--json",
        ],
    )
    assert code == 0 and out["model"] == "rbm" and np.isfinite(out["exact_kl"])


def test_train_nan_is_reported(dataset, capsys):
    with pytest.warns(RuntimeWarning, match="non-finite"):  # shown as well as recorded
        code, out, _ = _run(
            capsys,
            [
                "generative",
                "train",
                "--model",
                "made",
                "--data",
                str(dataset),
                "--L",
                "4",
                "--T",
                str(TC),
                "--epochs",
                "2",
                "--batch-size",
                "50",
                "--lr",
                "1e30",
                "--samples",
                "100",
                "--json",
            ],
        )
    assert code == 0
    assert out["status"] == "diverged"
    assert any("non-finite" in w for w in out["warnings"])


def test_bad_input(dataset, capsys):
    code, _, err = _run(
        capsys,
        [
            "generative",
            "train",
            "--model",
            "made",
            "--data",
            str(dataset),
            "--L",
            "4",
            "--T",
            "2.5",
            "--json",
        ],
    )
    assert (
        code == 2 and "expected T to be one of the dataset's temperatures (2.26919); got 2.5" in err
    )
    code, _, err = _run(
        capsys,
        [
            "generative",
            "train",
            "--model",
            "made",
            "--data",
            str(dataset),
            "--L",
            "8",
            "--T",
            str(TC),
            "--json",
        ],
    )
    assert code == 2 and "expected L in [4]; got L=8" in err
    code, _, err = _run(capsys, ["generative", "van", "--L", "3", "--beta-anneal", "1.5", "--json"])
    assert code == 2 and "expected 0 <= beta_anneal < 1; got 1.5" in err


@pytest.mark.parametrize("name", ["gan", "diffusion"])
def test_models_of_the_other_area_are_routed_to_their_modules(name, dataset, capsys):
    # without --T these single-temperature models refuse, with their module's own message
    argv = ["generative", "train", "--model", name, "--data", str(dataset), "--L", "4"]
    code, _, err = _run(capsys, [*argv, "--json"])
    assert code == 2 and f"the {name} model is trained at one temperature" in err


def test_van_command(capsys):
    code, out, _ = _run(
        capsys,
        [
            "generative",
            "van",
            "--L",
            "3",
            "--T",
            "2.5",
            "--steps",
            "100",
            "--batch-size",
            "128",
            "--beta-anneal",
            "0.9",
            "--samples",
            "2000",
            "--json",
        ],
    )
    assert code == 0 and out["status"] == "completed"
    assert out["exact_free_energy_per_site"] == pytest.approx(
        float(exact.kaufman(3, 2.5).free_energy_per_site)
    )
    assert out["upper_bound_holds"] and 0 <= out["relative_error"] < 0.05


@pytest.mark.slow
def test_tour_sections(tmp_path):
    from qml_phys.tour import run_tour

    summary = run_tour(tmp_path, quick=True, only=["generative_models", "variational_free_energy"])
    for name in ("generative_models", "variational_free_energy"):
        section = summary["sections"][name]
        assert section["error"] is None and section["ok"], section
    assert (tmp_path / "generative_samples.png").exists() and (
        tmp_path / "van_free_energy.png"
    ).exists()


def test_train_with_z2_and_metropolis_correction(dataset, capsys):
    argv = ["generative", "train", "--data", str(dataset), "--L", "4", "--T", str(TC)]
    argv += ["--epochs", "5", "--batch-size", "50", "--lr", "1e-2", "--samples", "3000"]
    argv += ["--mh-proposals", "3000"]
    code, out, _ = _run(capsys, argv + ["--model", "made", "--z2", "--mh", "--json"])
    assert code == 0
    mh = out["comparison_mh"]
    assert 0.0 < mh["acceptance"] <= 1.0 and 0.0 < mh["ess_fraction"] <= 1.0
    assert mh["n_samples"] == 2700  # 10% burn-in dropped
    # the corrected chain samples Boltzmann exactly: agreement within autocorrelation-aware
    # errors whatever the (briefly trained) model's own bias
    assert abs(mh["observables"]["energy"]["z"]) < 4
    code, out, err = _run(capsys, argv + ["--model", "rbm", "--mh", "--json"])
    assert code != 0 and "--mh: expected a model with exact sampling" in err


@pytest.mark.slow
def test_train_local_model_with_augmentation_and_correction(dataset, capsys):
    """``--model local --augment --mh``: the local-window model trains on symmetry images,
    reports its exact KL on 4x4 (below the untrained model's ln 2-per-site scale) and a
    corrected chain within autocorrelation-aware errors of the data."""
    argv = ["generative", "train", "--data", str(dataset), "--L", "4", "--T", str(TC)]
    argv += ["--epochs", "5", "--batch-size", "50", "--lr", "1e-2", "--samples", "3000"]
    code, out, _ = _run(capsys, argv + ["--model", "local", "--augment", "--mh", "--json"])
    assert out["comparison_mh"]["n_samples"] == 90000  # default 100000 proposals, 10% burn-in
    assert code == 0 and out["model"] == "local" and out["status"] == "completed"
    assert 0.0 <= out["exact_kl"] < 0.5, out["exact_kl"]
    mh = out["comparison_mh"]
    assert 0.2 < mh["acceptance"] <= 1.0
    assert abs(mh["observables"]["energy"]["z"]) < 4


@pytest.fixture(scope="module")
def dataset6(tmp_path_factory):
    from qml_phys.classical.datasets import DatasetConfig, write_dataset

    path = tmp_path_factory.mktemp("vae") / "ising6.h5"
    write_dataset(
        path,
        DatasetConfig(sizes=[6], temperatures=[1.5, 2.0, 2.6, 3.5], n_samples=100),
        key=jax.random.key(5),
        show_progress=False,
    )
    return path


@pytest.mark.slow
def test_vae_gan_diffusion_follow_the_train_contract(dataset6, tmp_path, capsys):
    """``generative train --model vae|gan|diffusion``: one JSON object, a record, and the
    named errors for a missing --T, a temperature not in the file and a missing file."""
    common = ["--data", str(dataset6), "--L", "6", "--epochs", "2", "--batch-size", "64"]
    common += ["--json"]
    code, res, _ = _run(
        capsys, ["generative", "train", "--model", "vae", *common, "--out", str(tmp_path / "v")]
    )
    assert code == 0 and res["model"] == "vae" and res["T"] is None
    assert set(res["latent_correlation"]["best"]) == {"observable", "latent", "corr"}
    assert (tmp_path / "v" / "record.json").exists()
    for name in ("gan", "diffusion"):
        code, res, _ = _run(capsys, ["generative", "train", "--model", name, *common, "--T", "3.5"])
        assert code == 0 and res["model"] == name and res["T"] == pytest.approx(3.5)
        comp = res["comparison"]
        assert set(comp["observables"]) == {"energy", "abs_m", "specific_heat"}
        assert 0 <= comp["fraction_m_positive"] <= 1
        code, _, err = _run(capsys, ["generative", "train", "--model", name, *common])
        assert code == 2 and "expected --T; got none" in err
    code, _, err = _run(capsys, ["generative", "train", "--model", "vae", *common, "--T", "2.5"])
    assert code == 2 and "dataset's temperatures (1.5, 2, 2.6, 3.5); got 2.5" in err
    missing = ["--data", str(tmp_path / "missing.h5"), "--L", "6"]
    code, _, err = _run(capsys, ["generative", "train", "--model", "vae", *missing])
    assert code == 2 and "expected an existing dataset file" in err


def test_cli_constants_equal_the_library_names():
    """The parser keeps its own copies (so that ``--help`` imports no JAX); they must agree."""
    from qml_phys.cli import generative as cli_gen
    from qml_phys.generative import flows, models
    from qml_phys.physics import phi4

    assert cli_gen.AUTOREGRESSIVE == models.AUTOREGRESSIVE
    assert cli_gen.FLOW_ESTIMATORS == flows.ESTIMATORS
    assert cli_gen.FLOW_DEFAULT_M2 == phi4.DEFAULT_M2


@pytest.mark.slow
def test_diffusion_phi4_reports_each_observable_against_hmc(tmp_path, capsys):
    """``generative diffusion-phi4`` on a 4x4 lattice (tiny training): per observable the
    diffusion value and error, HMC's value and error and z; the record is written; a
    lattice without a published coupling and no --lam is refused by name."""
    argv = ["generative", "diffusion-phi4", "--L", "4", "--lam", "6.975", "--steps", "20"]
    argv += ["--denoise-steps", "4", "--samples", "320", "--train-samples", "320"]
    code, out, _ = _run(capsys, [*argv, "--seed", "1", "--out", str(tmp_path), "--json"])
    assert code == 0 and out["L"] == 4 and out["denoise_steps"] == 4
    assert out["n_samples"] == 320 and out["training"]["training_steps"] == 20
    assert set(out["observables"]) == {"phi2", "abs_m", "chi", "g1"}
    for v in out["observables"].values():
        assert {"diffusion", "diffusion_error", "hmc", "hmc_error", "z"} <= set(v)
        assert v["diffusion_error"] > 0 and v["hmc_error"] > 0
        z = (v["diffusion"] - v["hmc"]) / np.hypot(v["diffusion_error"], v["hmc_error"])
        assert v["z"] == pytest.approx(z)
    assert (tmp_path / "record.json").exists()
    code, _, err = _run(capsys, ["generative", "diffusion-phi4", "--L", "4", "--json"])
    assert code == 2 and "expected L in (6, 8, 10, 12, 14)" in err
