"""One consistent look for every plot the package writes (matplotlib, Agg, PNG)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402

from qml_phys.runtime.records import atomic_path  # noqa: E402

STYLE = {
    "figure.figsize": (5.6, 3.8),
    "figure.dpi": 110,
    "savefig.dpi": 130,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "lines.markersize": 4,
    "axes.prop_cycle": matplotlib.cycler(
        color=["#1f4e79", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d"]
    ),
}
EXACT = {"color": "black", "linestyle": "--", "linewidth": 1.0}
"""Line style for exact reference curves drawn over numerical data."""


def figure(nrows: int = 1, ncols: int = 1, **kwargs):
    """A new figure in the package style: returns ``(fig, axes)``."""
    with plt.rc_context(STYLE):
        size = kwargs.pop("figsize", (5.6 * ncols, 3.8 * nrows))
        fig, axes = plt.subplots(nrows, ncols, figsize=size, **kwargs)
    return fig, axes


def save(fig, path: str | os.PathLike) -> Path:
    """Save ``fig`` as PNG atomically and close it."""
    path = Path(path)
    with plt.rc_context(STYLE), atomic_path(path, suffix=".png") as tmp:
        fig.tight_layout()
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
