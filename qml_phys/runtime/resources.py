"""Resources checked before work: a pre-flight estimate of the memory a job needs against
what the machine has, so that a job too large fails at once with a named error instead of
being killed by the kernel (or aborting inside XLA) minutes later.

``QML_PHYS_MEMORY_LIMIT`` (bytes, e.g. ``8e9``) overrides the detected limit (useful on a
shared machine, or to test the check).
"""

from __future__ import annotations

import os

from qml_phys.errors import TooLargeError

__all__ = ["check_disk", "check_init_memory", "check_memory", "format_bytes", "memory_limit"]

#: Fraction of the available memory a single job may plan to use.
FRACTION = 0.8


def format_bytes(n: float) -> str:
    """``n`` bytes as a readable size (``"1.5 GiB"``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024.0
    return f"{n:.3g} PiB"  # pragma: no cover


def memory_limit() -> float:
    """Bytes a job may use: ``$QML_PHYS_MEMORY_LIMIT``, else 80% of the physical memory
    (or of the cgroup limit when the process runs in a container with a smaller one)."""
    env = os.environ.get("QML_PHYS_MEMORY_LIMIT")
    if env:
        return float(env)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        total = 8 * 1024**3
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
            if text.isdigit():
                total = min(total, int(text))
        except OSError:
            pass
    return FRACTION * total


def check_memory(what: str, needed: float) -> None:
    """Raise :class:`~qml_phys.errors.TooLargeError` when ``needed`` bytes exceed
    :func:`memory_limit`, naming the job, the estimate and the limit."""
    limit = memory_limit()
    if needed > limit:
        amount = f"about {format_bytes(needed)}" if needed < 2.0**80 else "more than 2^80 bytes"
        raise TooLargeError(
            f"{what} needs {amount} of memory; this machine allows "
            f"{format_bytes(limit)} (set QML_PHYS_MEMORY_LIMIT to change the limit); choose a "
            "smaller size"
        )


#: Copies of the parameters a training run holds: the parameters, their gradient, Adam's
#: two moments, and as much again for activations and temporaries.
PARAMETER_COPIES = 8


def check_init_memory(what: str, init, *args) -> None:
    """Refuse a network whose training cannot fit in memory, before it is initialised:
    the parameter shapes of ``init(*args)`` are read with ``jax.eval_shape`` (nothing is
    allocated), and :data:`PARAMETER_COPIES` times their size is checked by
    :func:`check_memory`."""
    import math

    import jax

    shapes = jax.eval_shape(init, *args)
    size = sum(
        math.prod(leaf.shape) * leaf.dtype.itemsize for leaf in jax.tree_util.tree_leaves(shapes)
    )
    check_memory(f"training {what} ({size / 4:.3g} float32 parameters)", PARAMETER_COPIES * size)


def check_disk(path, needed: float, what: str) -> None:
    """Refuse to write ``needed`` bytes under ``path`` (a file or folder to be written; its
    nearest existing parent is measured) when the file system has less free space, naming
    the job, the estimate and the space left."""
    import shutil
    from pathlib import Path

    where = Path(path).absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = shutil.disk_usage(where).free
    except OSError:  # pragma: no cover - a file system that does not say
        return
    if needed > free:
        amount = f"about {format_bytes(needed)}" if needed < 2.0**80 else "more than 2^80 bytes"
        raise TooLargeError(
            f"{what} needs {amount} of disk under {where}; {format_bytes(free)} are free; "
            "choose a smaller size or another place"
        )
