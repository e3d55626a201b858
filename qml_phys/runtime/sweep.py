"""Sweeps: a grid of independent jobs on local processes or on a Dask cluster.

One way to run "temperatures x sizes x seeds" or "qubits x depths x draws":

>>> points = grid(L=[8, 16], T=[2.0, 2.5], seed=[0, 1])            # doctest: +SKIP
>>> result = run_sweep(my_job, points, out="results/scan")          # doctest: +SKIP

``my_job(**point) -> dict`` is an importable, top-level function (it travels to other
processes by reference). Every finished job is written at once to its own record,
``<out>/jobs/<job id>.json`` (atomic, with provenance), so an interrupted or crashed sweep
loses nothing; a rerun skips the points whose records exist. A job that raises is retried
once; if it fails again its traceback goes to ``<out>/failed/<job id>.json`` and the sweep
goes on with the others.

Where the jobs run:

* ``scheduler=None`` and no ``DASK_SCHEDULER_ADDRESS``: local worker processes (``spawn``,
  one per core by default; ``workers=0`` runs the jobs in this process, in order);
* ``scheduler="tcp://host:8786"`` (or the ``DASK_SCHEDULER_ADDRESS`` environment variable):
  a running Dask cluster. Any cluster that exposes a scheduler address works unchanged:
  ``dask-scheduler``/``dask-worker`` by hand, dask-jobqueue's ``SLURMCluster``,
  dask-kubernetes. The records are written by this (client) process, so workers need no
  shared file system. A worker that dies mid-job has its job rescheduled by Dask; each
  point's result is recorded exactly once.

Nothing here is a scheduler of our own: it is ``concurrent.futures`` or
``distributed.Client`` plus bookkeeping.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from qml_phys.errors import InvalidParameterError, QmlPhysError
from qml_phys.runtime.locks import hold
from qml_phys.runtime.records import read_record, to_jsonable, write_json, write_record
from qml_phys.runtime.results import Result

ENV_SCHEDULER = "DASK_SCHEDULER_ADDRESS"


class SweepError(QmlPhysError):
    """A sweep cannot start (e.g. the Dask scheduler cannot be reached)."""


# --------------------------------------------------------------------------- grids
def grid(**axes: Iterable) -> list[dict]:
    """The Cartesian product of the named axes, as a list of points (dicts), in order."""
    if not axes:
        raise InvalidParameterError("grid: expected at least one axis, e.g. grid(T=[2.0, 2.5])")
    names = list(axes)
    values = []
    for name in names:
        v = axes[name]
        v = [v] if isinstance(v, (str, bytes)) or not isinstance(v, Iterable) else list(v)
        if not v:
            raise InvalidParameterError(f"grid: axis {name!r} is empty; expected >= 1 value")
        values.append(v)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def job_id(point: Mapping[str, Any]) -> str:
    """A stable, readable id for a point: ``L=8_T=2.5_seed=0-<hash>``."""
    canon = json.dumps(to_jsonable(dict(point)), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha1(canon.encode()).hexdigest()[:10]
    readable = "_".join(f"{k}={v}" for k, v in sorted(point.items()))
    readable = "".join(c if c.isalnum() or c in "=._-" else "-" for c in readable)[:80]
    return f"{readable}-{digest}"


def deduplicate(points: Sequence[Mapping[str, Any]]) -> tuple[list[dict], int]:
    """Drop repeated points (same keys and values), keeping the first; return the count."""
    seen: set[str] = set()
    unique = []
    for p in points:
        jid = job_id(p)
        if jid not in seen:
            seen.add(jid)
            unique.append(dict(p))
    return unique, len(points) - len(unique)


# --------------------------------------------------------------------------- results
@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepResult(Result):
    """What :func:`run_sweep` returns (``config``: the job and the executor)."""

    out: Path
    results: dict[str, dict]
    """job id -> the job's returned dict, for every point finished (now or earlier)."""
    points: dict[str, dict]
    """job id -> point."""
    ran: list[str]
    skipped: list[str]
    """Points whose records already existed."""
    failed: dict[str, str]
    """job id -> the last error (after the retry)."""
    duplicates_dropped: int
    executor: str

    @property
    def ok(self) -> bool:
        """True when no job failed."""
        return not self.failed

    @property
    def seconds(self) -> float | None:
        """The sweep's wall time (the older name of ``wall_time_s``)."""
        return self.wall_time_s

    def rows(self) -> list[dict]:
        """One dict per finished point: the point's fields merged with its result."""
        return [{**self.points[j], **self.results[j]} for j in self.points if j in self.results]

    def summary(self) -> dict:
        return {
            "ok": self.ok,
            "out": str(self.out),
            "executor": self.executor,
            "n_points": len(self.points),
            "n_ran": len(self.ran),
            "n_skipped": len(self.skipped),
            "n_failed": len(self.failed),
            "failed": self.failed,
            "duplicates_dropped": self.duplicates_dropped,
            "seconds": self.wall_time_s,
            "wall_time_s": self.wall_time_s,
        }


def _call(fn: Callable[..., dict], point: dict) -> dict:
    result = fn(**point)
    if not isinstance(result, Mapping):
        raise TypeError(
            f"a sweep job must return a dict; {getattr(fn, '__name__', fn)} returned "
            f"{type(result).__name__}"
        )
    return to_jsonable(dict(result))


def _function_name(fn) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def scheduler_address(scheduler: str | None) -> str | None:
    """The Dask scheduler to use: the argument, else ``$DASK_SCHEDULER_ADDRESS``, else None."""
    if scheduler:
        return scheduler
    return os.environ.get(ENV_SCHEDULER) or None


def connect(address: str, timeout: float = 5.0):
    """A ``distributed.Client`` for ``address``; a clear :class:`SweepError` within
    ``timeout`` seconds if no scheduler answers there."""
    try:
        from distributed import Client
    except ImportError as err:  # pragma: no cover - dask is a dependency
        raise SweepError("a scheduler address was given but dask.distributed is missing") from err
    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise SweepError(
            f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s ({err}). "
            "Start one (`dask scheduler`, dask-jobqueue, dask-kubernetes) and pass its "
            f"address, or leave --scheduler and ${ENV_SCHEDULER} unset to use local processes"
        ) from err


def run_sweep(
    fn: Callable[..., dict],
    points: Sequence[Mapping[str, Any]],
    *,
    out: str | os.PathLike,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = 1,
    connect_timeout: float = 5.0,
    client=None,
) -> SweepResult:
    """Run ``fn(**point)`` for every point; record each result as it arrives.

    ``points``: dicts of JSON-able values (duplicates are dropped with a warning).
    ``out``: the sweep folder (``jobs/``, ``failed/``, ``sweep.json``). ``scheduler``: a
    Dask scheduler address (default ``$DASK_SCHEDULER_ADDRESS``; neither: local
    processes). ``workers``: local processes (default: the number of cores; 0 runs in
    this process). ``retries``: extra attempts for a job that raises (default 1).
    ``client``: an existing ``distributed.Client`` (overrides ``scheduler``).
    """
    from qml_phys.runtime.progress import progress

    if not callable(fn):
        raise InvalidParameterError(f"fn: expected a callable job; got {type(fn).__name__}")
    desc = getattr(fn, "__name__", "sweep").strip("_").replace("_", " ")
    if retries < 0:
        raise InvalidParameterError(f"retries: expected >= 0; got {retries}")
    if workers is not None and workers < 0:
        raise InvalidParameterError(f"workers: expected >= 0 (0 = in this process); got {workers}")
    unique, dropped = deduplicate(points)
    if dropped:
        warnings.warn(
            f"{desc}: dropped {dropped} duplicate grid point(s); {len(unique)} remain",
            stacklevel=2,
        )
    if not unique:
        raise InvalidParameterError("points: expected at least one grid point; got none")
    out = Path(out)
    (out / "jobs").mkdir(parents=True, exist_ok=True)
    hold(out)  # one process runs a sweep folder at a time; a second one stops with BusyError
    ids = {job_id(p): p for p in unique}
    results: dict[str, dict] = {}
    skipped: list[str] = []
    for jid in ids:
        path = out / "jobs" / f"{jid}.json"
        if path.exists():
            try:
                results[jid] = read_record(path)["results"]["result"]
                skipped.append(jid)
            except (ValueError, KeyError, OSError):
                pass  # unreadable record: run the job again
    todo = [j for j in ids if j not in results]
    ran: list[str] = []
    failed: dict[str, str] = {}
    t0 = time.perf_counter()
    bar = progress(total=len(ids), desc=desc, initial=len(skipped))

    def record(jid: str, result: dict, seconds: float | None) -> None:
        if jid in results and jid not in skipped:  # pragma: no cover - defensive
            raise SweepError(f"job {jid} returned twice")
        write_record(
            out / "jobs" / f"{jid}.json",
            {"point": ids[jid], "result": result, "seconds": seconds},
            config={"job": _function_name(fn), "point": ids[jid]},
        )
        results[jid] = result
        ran.append(jid)
        failed.pop(jid, None)
        bar.update(1)

    def fail(jid: str, err: str) -> None:
        failed[jid] = err
        write_json(out / "failed" / f"{jid}.json", {"point": ids[jid], "error": err})
        bar.update(1)

    address = None if client is not None else scheduler_address(scheduler)
    if client is not None or address is not None:
        executor = f"dask:{address or client.scheduler.address}"
        _run_dask(fn, todo, ids, client, address, retries, connect_timeout, record, fail)
    elif workers == 0 or len(todo) <= 1:
        executor = "in-process"
        for jid in todo:
            _run_inline(fn, jid, ids[jid], retries, record, fail)
    else:
        n = workers or os.cpu_count() or 1
        executor = f"local-processes:{n}"
        _run_local(fn, todo, ids, n, retries, record, fail)
    bar.close()
    result = SweepResult(
        config={"job": _function_name(fn), "n_points": len(ids), "retries": retries},
        wall_time_s=time.perf_counter() - t0,
        status="completed",
        out=out,
        results=results,
        points=ids,
        ran=ran,
        skipped=skipped,
        failed=failed,
        duplicates_dropped=dropped,
        executor=executor,
    )
    write_record(
        out / "sweep.json",
        {**result.summary(), "job": _function_name(fn)},
        config={"job": _function_name(fn), "n_points": len(ids)},
    )
    if failed:
        warnings.warn(
            f"{desc}: {len(failed)} of {len(ids)} job(s) failed after {retries} retr"
            f"{'y' if retries == 1 else 'ies'}; see {out / 'failed'}",
            stacklevel=2,
        )
    return result


def _run_inline(fn, jid, point, retries, record, fail):
    for attempt in range(retries + 1):
        t = time.perf_counter()
        try:
            res = _call(fn, point)
        except Exception:  # noqa: BLE001 - a job's failure is recorded, not raised
            if attempt == retries:
                fail(jid, traceback.format_exc())
            continue
        record(jid, res, time.perf_counter() - t)
        return


def _timed_call(fn, point):
    t = time.perf_counter()
    res = _call(fn, point)
    return res, time.perf_counter() - t


def _run_local(fn, todo, ids, n_workers, retries, record, fail):
    import concurrent.futures as cf
    import multiprocessing as mp

    attempts = dict.fromkeys(todo, 0)
    # spawn, not fork: JAX and XLA threads do not survive a fork.
    with cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=mp.get_context("spawn")) as ex:
        pending = {ex.submit(_timed_call, fn, ids[j]): j for j in todo}
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                jid = pending.pop(fut)
                try:
                    res, seconds = fut.result()
                except Exception as err:  # noqa: BLE001
                    attempts[jid] += 1
                    if attempts[jid] > retries:
                        fail(jid, "".join(traceback.format_exception(err)))
                    else:
                        pending[ex.submit(_timed_call, fn, ids[jid])] = jid
                    continue
                record(jid, res, seconds)


def _run_dask(fn, todo, ids, client, address, retries, timeout, record, fail):
    from distributed import as_completed

    own = client is None
    if own:
        client = connect(address, timeout)
    try:
        futures = {
            client.submit(
                _timed_call, fn, ids[j], key=f"qml-phys-{j}", retries=retries, pure=False
            ): j
            for j in todo
        }
        for fut in as_completed(list(futures), loop=client.loop):
            jid = futures[fut]
            try:
                res, seconds = fut.result()
            except Exception as err:  # noqa: BLE001
                fail(jid, "".join(traceback.format_exception(err)))
                continue
            record(jid, res, seconds)
    finally:
        if own:
            client.close()
