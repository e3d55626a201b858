"""Sweeps on local processes and on a real Dask cluster (scheduler + worker processes)."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from qml_phys.errors import InvalidParameterError
from qml_phys.runtime.sweep import SweepError, deduplicate, grid, job_id, run_sweep


# Jobs are module-level functions: they travel to worker processes by reference.
def square(x, y=0):
    return {"value": x * x + y}


def flaky(x, marker_dir):
    """Fails on its first call for each x, succeeds on the second (a retry)."""
    marker = Path(marker_dir) / f"tried-{x}"
    if not marker.exists():
        marker.write_text("1")
        raise RuntimeError(f"transient failure for x={x}")
    return {"value": x}


def broken(x):
    if x == 2:
        raise ValueError("x=2 is bad input for this job")
    return {"value": x}


def slow_square(x, marker_dir, delay=0.4):
    Path(marker_dir, f"start-{x}-{os.getpid()}").write_text("")
    time.sleep(delay)
    return {"value": x * x, "pid": os.getpid()}


def test_grid_and_ids_are_stable():
    pts = grid(L=[8, 16], T=[2.0, 2.5], seed=0)
    assert len(pts) == 4 and pts[0] == {"L": 8, "T": 2.0, "seed": 0}
    assert job_id({"T": 2.0, "L": 8}) == job_id({"L": 8, "T": 2.0})
    assert job_id({"L": 8, "T": 2.0}) != job_id({"L": 8, "T": 2.5})
    unique, dropped = deduplicate(pts + pts[:2])
    assert dropped == 2 and unique == pts
    with pytest.raises(InvalidParameterError, match="axis 'T' is empty"):
        grid(L=[8], T=[])


def test_in_process_sweep_records_each_job_and_skips_finished_ones(tmp_path):
    pts = grid(x=[1, 2, 3], y=[10])
    with pytest.warns(UserWarning, match="dropped 1 duplicate"):
        res = run_sweep(square, pts + [pts[0]], out=tmp_path, workers=0)
    assert res.ok and res.duplicates_dropped == 1
    assert sorted(r["value"] for r in res.results.values()) == [11, 14, 19]
    assert len(list((tmp_path / "jobs").glob("*.json"))) == 3
    record = json.loads((tmp_path / "jobs" / f"{job_id(pts[1])}.json").read_text())
    assert record["results"]["result"] == {"value": 14} and "provenance" in record
    again = run_sweep(square, grid(x=[1, 2, 3, 4], y=[10]), out=tmp_path, workers=0)
    assert len(again.skipped) == 3 and len(again.ran) == 1
    assert sorted(r["value"] for r in again.rows()) == [11, 14, 19, 26]


def test_failed_job_is_retried_once_and_never_loses_the_others(tmp_path):
    res = run_sweep(flaky, grid(x=[1, 2], marker_dir=str(tmp_path)), out=tmp_path / "a", workers=0)
    assert res.ok and sorted(r["value"] for r in res.results.values()) == [1, 2]
    with pytest.warns(UserWarning, match="1 of 3 job"):
        res = run_sweep(broken, grid(x=[1, 2, 3]), out=tmp_path / "b", workers=0)
    assert not res.ok and len(res.results) == 2
    (failed,) = res.failed.values()
    assert "x=2 is bad input" in failed
    assert len(list((tmp_path / "b" / "failed").glob("*.json"))) == 1


def test_local_processes(tmp_path):
    res = run_sweep(square, grid(x=range(6)), out=tmp_path, workers=2)
    assert res.executor == "local-processes:2"
    assert sorted(r["value"] for r in res.results.values()) == [0, 1, 4, 9, 16, 25]


def test_unreachable_scheduler_fails_fast(tmp_path):
    t = time.perf_counter()
    with pytest.raises(SweepError, match="cannot reach the Dask scheduler"):
        run_sweep(
            square, grid(x=[1]), out=tmp_path, scheduler="tcp://127.0.0.1:9", connect_timeout=2
        )
    assert time.perf_counter() - t < 15


def test_dask_cluster_survives_a_killed_worker(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    markers = tmp_path / "markers"
    markers.mkdir()
    n = 12
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        with distributed.Client(cluster) as client:
            pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        killed = threading.Event()

        def kill_mid_job():
            # Wait until the victim has started a job that has not finished, then kill it.
            deadline = time.time() + 60
            while time.time() < deadline and not killed.is_set():
                started = [p.name for p in markers.glob(f"start-*-{victim}")]
                if len(started) >= 2:
                    os.kill(victim, signal.SIGKILL)
                    killed.set()
                    return
                time.sleep(0.02)

        thread = threading.Thread(target=kill_mid_job, daemon=True)
        thread.start()
        # The address travels through the environment, as on a real cluster.
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        res = run_sweep(slow_square, grid(x=range(n), marker_dir=str(markers)), out=tmp_path)
        thread.join(5)
    assert killed.is_set(), "the test did not manage to kill a worker mid-sweep"
    assert res.executor.startswith("dask:tcp://")
    assert res.ok and len(res.ran) == n == len(set(res.ran))
    assert sorted(r["value"] for r in res.results.values()) == [x * x for x in range(n)]
    assert len(list((tmp_path / "jobs").glob("*.json"))) == n
    # the victim was mid-job when killed: that job was started there but finished elsewhere
    started_on_victim = {p.name.split("-")[1] for p in markers.glob(f"start-*-{victim}")}
    finished_on_victim = {str(r["value"]) for r in res.results.values() if r["pid"] == victim}
    assert len(started_on_victim) > len(finished_on_victim)
