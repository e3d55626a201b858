"""What a command writes under ``--out``: its record and its plot, the same way for all.

Cheap to import: the runtime's records and plots (matplotlib) are imported inside.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["save_record_and_plot"]


def save_record_and_plot(
    folder,
    name: str,
    results: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None,
    seed: int,
    kind: str,
    draw: Callable,
    axes: tuple[int, int] | None = None,
    plot_name: str | None = None,
) -> dict[str, str]:
    """Write the record ``<folder>/<name>.json`` of ``results`` (with ``config``, ``seed``
    and ``kind``: :func:`qml_phys.runtime.records.write_record`), then the plot
    ``<folder>/<plot_name or name>.png`` of a figure of ``axes`` ``(rows, columns)`` (one
    axis when None) drawn by ``draw(fig, axes)``; return their paths as
    ``{"record": ..., "plot": ...}``."""
    from pathlib import Path

    from qml_phys.runtime import plots
    from qml_phys.runtime.records import write_record

    folder = Path(folder)
    record = write_record(folder / f"{name}.json", results, config=config, seed=seed, kind=kind)
    fig, ax = plots.figure(*(axes or ()))
    draw(fig, ax)
    plot = plots.save(fig, folder / f"{plot_name or name}.png")
    return {"record": str(record), "plot": str(plot)}
