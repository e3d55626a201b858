"""Datasets: decorrelated, labelled, resumable after an interruption, never overwritten."""

import json

import h5py
import jax
import numpy as np
import pytest

from qml_phys.classical import datasets
from qml_phys.errors import ExistingDataError, InvalidParameterError
from qml_phys.physics import exact
from qml_phys.stats import estimate

TEMPS = [1.6, 2.3, 3.4]
CONFIG = datasets.DatasetConfig(sizes=[8], temperatures=TEMPS, n_samples=96)
KEY = jax.random.key(11)


def _write(path, config=CONFIG, key=KEY):
    return datasets.write_dataset(path, config, key=key, show_progress=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    path = tmp_path_factory.mktemp("ds") / "ising.h5"
    summary = _write(path)
    return path, summary


def test_contents_provenance_and_physics(written):
    path, summary = written
    assert summary["status"] == "written" and summary["blocks"] == 3
    assert not path.with_name(path.name + ".parts").exists()
    d = datasets.load_dataset(path)
    n = 96 * len(TEMPS)
    assert d.spins.shape == (n, 8, 8) and d.spins.dtype == np.int8
    assert set(np.unique(d.spins)) == {-1, 1}
    np.testing.assert_array_equal(d.T, np.repeat(TEMPS, 96))
    np.testing.assert_array_equal(d.label, (d.T < exact.onsager_tc()).astype(np.int8))
    # stored energy and magnetization are those of the stored spins
    s = d.spins.astype(float)
    e = -(s * np.roll(s, 1, 1) + s * np.roll(s, 1, 2)).sum(axis=(1, 2)) / 64
    np.testing.assert_allclose(d.energy, e)
    np.testing.assert_allclose(d.magnetization, s.mean(axis=(1, 2)))
    assert d.provenance["algorithm"] == ["metropolis", "wolff", "metropolis"]
    assert np.all(d.provenance["spacing"] >= 1)
    assert np.all(d.provenance["tau_int_energy"] > 0.3)
    assert 0 < d.provenance["acceptance"][0] < d.provenance["acceptance"][2] < 1
    with h5py.File(path) as f:
        prov = json.loads(f.attrs["provenance"])
    assert prov["config"]["key"] == [0, 11] and "numpy" in prov["versions"]
    assert d.provenance["key"].shape == (3, 2)  # one key per temperature block
    # samples are spaced by 2 tau: their own tau_int is close to 1/2 (independent), and the
    # mean energy at each temperature agrees with Kaufman's exact value within 4 errors
    for T in TEMPS:
        est = estimate(d.energy[d.T == T], warn=False)
        ref = float(exact.kaufman(8, T).energy_per_site)
        assert est.tau_int < 1.5, (T, est)
        assert abs(est.mean - ref) < 4 * est.error, (T, est, ref)


def test_rerun_with_same_parameters_is_a_no_op(written):
    path, _ = written
    before = path.stat().st_mtime_ns
    out = _write(path)
    assert out["status"].startswith("complete")
    assert path.stat().st_mtime_ns == before


def test_different_parameters_never_overwrite(written):
    path, _ = written
    before = path.read_bytes()
    with pytest.raises(ExistingDataError, match="exists with different parameters .*n_samples"):
        _write(path, datasets.DatasetConfig(sizes=[8], temperatures=TEMPS, n_samples=50))
    with pytest.raises(ExistingDataError, match="exists with different parameters .*key"):
        _write(path, key=jax.random.key(12))
    assert path.read_bytes() == before


def test_interrupted_run_resumes_to_the_same_data(tmp_path, written, monkeypatch):
    ref_path, _ = written
    path = tmp_path / "again.h5"
    real = datasets.sample_block
    calls = {"n": 0}

    def interrupt_after_two(*args, **kwargs):
        if calls["n"] == 2:
            raise KeyboardInterrupt
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(datasets, "sample_block", interrupt_after_two)
    with pytest.raises(KeyboardInterrupt):
        _write(path)
    assert not path.exists()  # no half-written output file
    assert len(list((tmp_path / "again.h5.parts").glob("L8_T*.h5"))) == 2
    monkeypatch.setattr(datasets, "sample_block", real)
    out = _write(path)
    assert out["resumed_blocks"] == 2
    a, b = datasets.load_dataset(path), datasets.load_dataset(ref_path)
    np.testing.assert_array_equal(a.spins, b.spins)  # keys per block: identical result


def test_batches_cover_the_data_once(written):
    d = datasets.load_dataset(written[0])
    seen = np.concatenate([t for _, _, t in datasets.batches(d, 50, rng=np.random.default_rng(3))])
    assert len(seen) == len(d.T)
    np.testing.assert_array_equal(np.sort(seen), np.sort(d.T))
    sizes = [len(s) for s, _, _ in datasets.batches(d, 50, drop_last=True)]
    assert set(sizes) == {50}


def test_bad_input(tmp_path):
    cfg = datasets.DatasetConfig
    with pytest.raises(InvalidParameterError, match="needs even L; got L=7"):
        cfg(sizes=[7], temperatures=[2.0], n_samples=4)
    with pytest.raises(InvalidParameterError, match="positive, finite temperature; got -1"):
        cfg(sizes=[8], temperatures=[-1], n_samples=4)
    with pytest.raises(InvalidParameterError, match="L must be an integer >= 2; got 0"):
        cfg(sizes=[0], temperatures=[2.0], n_samples=4)
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    with pytest.raises(ExistingDataError, match="not a complete qml_phys dataset"):
        _write(junk, cfg(sizes=[8], temperatures=[2.0], n_samples=4))
    assert junk.read_text() == "not hdf5"


def test_rotted_or_truncated_files_fail_with_a_named_error(written, tmp_path):
    import shutil

    from qml_phys.errors import CorruptDataError

    src, _ = written
    rotted = tmp_path / "rotted.h5"
    shutil.copy(src, rotted)
    with h5py.File(rotted, "r+") as f:
        label = f["L8/label"][()]
        del f["L8/label"]
        f["L8"].create_dataset("label", data=1 - label)  # every label flipped
    with pytest.raises(CorruptDataError, match="labels that disagree with T < T_c"):
        datasets.load_dataset(rotted)
    cut = tmp_path / "cut.h5"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises((CorruptDataError, InvalidParameterError)):
        datasets.load_dataset(cut)


def test_a_second_writer_stops_and_foreign_blocks_are_redone(tmp_path):
    from qml_phys.errors import BusyError
    from qml_phys.runtime.locks import exclusive

    path = tmp_path / "locked.h5"
    with exclusive(path):  # as if another process were writing it
        with pytest.raises(BusyError, match="another process is writing"):
            _write(path)
    # a block left by a run with other parameters (no manifest: the writer crashed) is
    # not reused: the file holds exactly what its config says
    other = datasets.DatasetConfig(sizes=[8], temperatures=TEMPS, n_samples=40)
    parts = tmp_path / "mixed.h5.parts"
    small = datasets.write_dataset(tmp_path / "small.h5", other, key=KEY, show_progress=False)
    assert small["status"] == "written"
    parts.mkdir()
    block = datasets.sample_block(8, TEMPS[0], 40, key=KEY)
    from qml_phys.runtime.records import write_arrays

    block.pop("prov")
    write_arrays(parts / "L8_T0000.h5", block, config={"n_samples": 40})
    (parts / ".L8_T0001.h5.xyz.tmp").write_text("orphan")
    out = _write(tmp_path / "mixed.h5")
    assert out["resumed_blocks"] == 0
    d = datasets.load_dataset(tmp_path / "mixed.h5")
    assert len(d.spins) == 96 * len(TEMPS)
