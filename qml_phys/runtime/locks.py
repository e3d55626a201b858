"""Exclusive locks on files and folders that a second process could write at the same time
(datasets, sweep folders, checkpoints), with the ``filelock`` package.

A lock is a hidden ``.<name>.lock`` file beside the target, held for the whole write (it
stays there, empty, afterwards: removing a lock file that another process may be opening
would let two writers in). A second
writer waits ``timeout`` seconds (default: not at all) and then stops with a
:class:`~qml_phys.errors.BusyError` that names the target and the lock, so the file always
holds exactly what one run's config says.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from qml_phys.errors import BusyError

__all__ = ["exclusive", "hold", "remove_orphans"]

_HELD: dict[Path, object] = {}


@contextlib.contextmanager
def exclusive(path: str | os.PathLike, *, timeout: float = 0.0) -> Iterator[Path]:
    """Hold the lock of ``path`` (a file or folder) for the ``with`` block."""
    from filelock import FileLock, Timeout

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(f".{path.name}.lock")
    lock = FileLock(lock_path, timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise BusyError(
            f"another process is writing {path} (it holds {lock_path}); wait for it to finish, "
            "or choose another output path"
        ) from None
    try:
        yield path
    finally:
        lock.release()


def remove_orphans(folder: str | os.PathLike) -> int:
    """Delete the temporary files an interrupted atomic write left in ``folder``
    (``.<name>.*.tmp``, see :func:`qml_phys.runtime.records.atomic_path`); call it only
    while holding the folder's lock. Returns how many were removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    n = 0
    for tmp in folder.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        n += 1
    return n


def hold(path: str | os.PathLike) -> None:
    """Take the lock of ``path`` for the rest of this process (released at exit), unless this
    process holds it already: how a checkpoint folder is kept from a second writer while a
    run writes into it. Raises :class:`~qml_phys.errors.BusyError` when another process
    holds it."""
    import atexit

    from filelock import FileLock, Timeout

    path = Path(path).resolve()
    if path in _HELD:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(f".{path.name}.lock")
    lock = FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise BusyError(
            f"another process is writing {path} (it holds {lock_path}); wait for it to finish, "
            "or choose another output folder"
        ) from None
    _HELD[path] = lock
    atexit.register(lock.release)
