"""Progress bars for long work (tqdm), silenced for tests, CI and ``--json`` output.

Set ``QML_PHYS_NO_PROGRESS=1`` to turn every bar off. Bars go to stderr so that a
command's ``--json`` output on stdout stays machine-readable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from tqdm.auto import tqdm


def progress_enabled() -> bool:
    """True unless ``QML_PHYS_NO_PROGRESS`` is set or CI runs without a terminal."""
    if os.environ.get("QML_PHYS_NO_PROGRESS", "") not in ("", "0"):
        return False
    return sys.stderr.isatty() or not os.environ.get("CI")


def progress(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    disable: bool | None = None,
    **kwargs,
):
    """A tqdm bar on stderr, or a silent pass-through when progress is disabled."""
    if disable is None:
        disable = not progress_enabled()
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        disable=disable,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
        **kwargs,
    )
