import json

import numpy as np
import pytest

from qml_phys.runtime import records


def test_record_carries_provenance(tmp_path):
    path = records.write_record(
        tmp_path / "r.json",
        {"energy": np.float32(-1.5)},
        config={"L": 4, "T": np.array([1.0, 2.0])},
        seed=7,
    )
    rec = records.read_record(path)
    assert rec["results"] == {"energy": -1.5}
    prov = rec["provenance"]
    assert prov["config"] == {"L": 4, "T": [1.0, 2.0]}
    assert prov["seed"] == 7
    assert prov["versions"]["numpy"] == np.__version__
    assert "jax" in prov["versions"] and "python" in prov["versions"]
    assert prov["time"].endswith("+00:00")
    assert "git_commit" in prov


def test_json_is_strict_with_non_finite_values(tmp_path):
    path = records.write_json(tmp_path / "x.json", {"a": float("nan"), "b": [np.inf, -np.inf]})
    text = path.read_text()
    assert json.loads(text) == {"a": "nan", "b": ["inf", "-inf"]}
    assert "NaN" not in text and "Infinity" not in text


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.json"
    records.write_json(target, {"v": 1})
    with pytest.raises(RuntimeError, match="boom"):
        with records.atomic_path(target) as tmp:
            tmp.write_text("{ half written")
            raise RuntimeError("boom")
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary left behind


def test_arrays_round_trip_through_hdf5(tmp_path):
    a = np.arange(12, dtype=np.int8).reshape(3, 4)
    b = np.linspace(0, 1, 5)
    path = records.write_arrays(tmp_path / "d.h5", {"spins": a, "T": b}, config={"k": 1}, seed=3)
    arrays, prov = records.read_arrays(path)
    np.testing.assert_array_equal(arrays["spins"], a)
    assert arrays["spins"].dtype == np.int8
    np.testing.assert_array_equal(arrays["T"], b)
    assert prov["seed"] == 3 and prov["config"] == {"k": 1}


def test_to_jsonable_handles_namedtuples_and_jax():
    from typing import NamedTuple

    import jax.numpy as jnp

    class P(NamedTuple):
        x: float
        y: object

    out = records.to_jsonable(P(1.0, jnp.arange(3)))
    assert out == {"x": 1.0, "y": [0, 1, 2]}


def test_a_checkpoint_folder_is_held_against_a_second_process(tmp_path):
    """The lock is per process: this process holds the folder after restore(); another
    process trying the same folder stops with a BusyError."""
    import subprocess
    import sys

    from qml_phys.runtime.checkpoint import Checkpoint

    Checkpoint(tmp_path / "run").restore({"w": 0}, config={"a": 1})
    code = (
        "from qml_phys.runtime.checkpoint import Checkpoint\n"
        "from qml_phys.errors import BusyError\n"
        "try:\n"
        f"    Checkpoint({str(tmp_path / 'run')!r}).restore({{'w': 0}}, config={{'a': 1}})\n"
        "except BusyError as e:\n"
        "    print('busy:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "busy: another process is writing" in out.stdout, out.stderr


def test_a_checkpoint_of_another_run_is_refused_by_its_fingerprint_before_its_arrays(tmp_path):
    """A folder holding another command's checkpoint (another structure as well as another
    fingerprint) is named as such, not as a failure deep inside the restore."""
    from qml_phys.runtime.checkpoint import Checkpoint, CheckpointError

    first = Checkpoint(tmp_path, inputs={"model": "made"})
    first.save({"params": {"w": np.ones(3)}}, config={"epochs": 1})
    other = Checkpoint(tmp_path, inputs={"model": "van"})
    target = {"state": [np.zeros(2), np.zeros(4)]}
    with pytest.raises(CheckpointError, match="was written for .*made.*this run is .*van"):
        other.restore(target, config={"n_steps": 5})
