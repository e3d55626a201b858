"""Self-describing result records, written atomically.

Every record carries its config, seed, package versions, git commit, host and time, so a
result file says how it was made. Summaries go to JSON, arrays to HDF5; nothing is pickled.
Writes go to a temporary file in the same folder and are moved into place with
:func:`os.replace`, so a reader never sees a half-written file and an interrupted run
never corrupts an existing one.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import importlib.metadata
import json
import math
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

_TRACKED = (
    "qml_phys",
    "jax",
    "jaxlib",
    "numpy",
    "scipy",
    "flax",
    "optax",
    "netket",
    "pennylane",
    "pennylane_lightning",
    "qiskit",
    "qiskit-aer",
    "h5py",
)


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions of the packages that shape results (missing ones are left out)."""
    out = {"python": platform.python_version()}
    for name in _TRACKED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


@functools.cache
def git_commit() -> str | None:
    """The git commit of the qml_phys source tree (``+dirty`` if modified), or None."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(config: Mapping[str, Any] | None = None, seed: int | None = None) -> dict:
    """The provenance block stored with every record."""
    return {
        "config": to_jsonable(dict(config or {})),
        "seed": seed,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "host": platform.node(),
        "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/JAX scalars and arrays, tuples, paths and NamedTuples to JSON types.

    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"`` so the output
    is strict JSON that any parser reads.
    """
    if hasattr(obj, "_asdict"):
        return to_jsonable(obj._asdict())
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (str, bool)) or obj is None:
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "__array__") and not isinstance(obj, (int, float)):
        arr = np.asarray(obj)
        return to_jsonable(arr.tolist()) if arr.ndim else to_jsonable(arr.item())
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(obj, complex):
        return {"real": obj.real, "imag": obj.imag}
    return str(obj)


def _file_mode() -> int:
    """The mode ``open()`` would give a new file: ``0o666`` less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, _file_mode())  # mkstemp makes 0600; a result file follows the umask
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as strict, indented JSON, atomically."""
    return write_text(path, json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")


def write_record(
    path: str | os.PathLike,
    results: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    seed: int | None = None,
    kind: str = "result",
) -> Path:
    """Write a self-describing JSON record ``{kind, results, provenance}`` atomically."""
    record = {"kind": kind, "results": results, "provenance": provenance(config, seed)}
    return write_json(path, record)


def read_record(path: str | os.PathLike) -> dict:
    """Read a record written by :func:`write_record`."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_arrays(
    path: str | os.PathLike,
    arrays: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Path:
    """Write named arrays to an HDF5 file atomically; provenance goes to its attributes."""
    import h5py

    with atomic_path(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            for name, value in arrays.items():
                f.create_dataset(name, data=np.asarray(value))
            f.attrs["provenance"] = json.dumps(provenance(config, seed))
    return Path(path)


def read_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read arrays and provenance written by :func:`write_arrays`."""
    import h5py

    with h5py.File(path, "r") as f:
        arrays = {k: f[k][()] for k in f.keys()}
        prov = json.loads(f.attrs.get("provenance", "{}"))
    return arrays, prov
