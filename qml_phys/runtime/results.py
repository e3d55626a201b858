"""The one shape of what an algorithm returns.

Every algorithm of the package (a training run, a Monte Carlo simulation, a VQE or VMC
optimisation, a scan) returns a frozen dataclass derived from :class:`Result`:

* ``config`` -- the frozen config (or, for a scan, the settings) it ran with;
* ``history`` -- per-step arrays by name (``{"energy": (n_steps,), ...}``), the same
  length for every name; empty when the algorithm has no steps;
* ``wall_time_s`` -- seconds the algorithm ran (``None`` when not measured);
* ``status`` -- how it ended (see :data:`STATUSES`);
* :meth:`Result.summary` -- a JSON-able dict of the numbers a reader wants (what
  ``--json`` prints); large arrays (parameters, samples) stay out of it. A class names
  the fields (or properties) it reports under their own names once, in ``reported``;
  it overrides ``summary`` only for keys it computes.

Algorithms never choose paths, create folders or plot: :mod:`qml_phys.runtime.records`
writes what :meth:`Result.summary` returns, :mod:`qml_phys.runtime.plots` draws, and
:class:`qml_phys.runtime.checkpoint.Checkpoint` is the callback an algorithm calls to save
and restore its state.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

__all__ = ["STATUSES", "Result", "history_arrays", "history_column", "overall_status", "ran"]

#: How a run ended. ``completed``: ran its course; ``converged``: stopped early because a
#: convergence criterion held; ``early_stopped``: validation loss stopped improving;
#: ``not_converged``: ran its course without meeting its convergence criterion;
#: ``diverged``: a non-finite value stopped it (the last good state is kept);
#: ``frozen``: Markov chains stopped moving; ``interrupted``: stopped by the user.
STATUSES = (
    "completed",
    "converged",
    "early_stopped",
    "not_converged",
    "diverged",
    "frozen",
    "interrupted",
)


def overall_status(statuses) -> str:
    """The status of a run made of parts: ``"diverged"`` if any part diverged, else
    ``"completed"``."""
    return "diverged" if "diverged" in list(statuses) else "completed"


def ran(config: Any, run: Result, *, since: float | None = None) -> dict[str, Any]:
    """The fields a result shares with the training ``run`` it wraps, for
    ``MyResult(**ran(config, run, since=t0), ...)``: ``config``, ``run``'s ``history`` and
    ``status``, and ``wall_time_s`` counted from ``since`` (a :func:`time.perf_counter`
    reading taken when the algorithm started), or ``run``'s own without ``since``."""
    return {
        "config": config,
        "history": run.history,
        "wall_time_s": run.wall_time_s if since is None else time.perf_counter() - since,
        "status": run.status,
    }


def history_column(name: str) -> property:
    """A read-only attribute that reads ``history[name]``: ``alpha = history_column("alpha")``
    in a result class, with the attribute's docstring below it."""
    return property(lambda self: self.history[name])


def history_arrays(records: list[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Per-step records (a list of flat dicts of numbers) as ``{name: (n_steps,) array}``.

    A name missing from some records is filled with NaN there; nested dicts are flattened
    with their keys (``{"metrics": {"accuracy": a}}`` gives ``"accuracy"``).
    """
    flat = []
    for rec in records:
        row = {}
        for k, v in rec.items():
            if isinstance(v, Mapping):
                row.update({str(kk): vv for kk, vv in v.items()})
            else:
                row[str(k)] = v
        flat.append(row)
    names: list[str] = []
    for row in flat:
        names.extend(k for k in row if k not in names)
    return {k: np.asarray([row.get(k, np.nan) for row in flat], dtype=np.float64) for k in names}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    """Base of every algorithm's result (see the module docstring)."""

    config: Any = None
    """The frozen config the algorithm ran with (or a dict of its settings)."""
    history: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    """Per-step arrays by name, all of one length."""
    wall_time_s: float | None = None
    """Seconds the algorithm ran; ``None`` when not measured."""
    status: str = "completed"
    """How the run ended: one of :data:`STATUSES`."""

    reported: ClassVar[tuple[str, ...]] = ()
    """Attributes :meth:`summary` reports under their own names, after those of the
    base classes (each class lists only its own)."""

    def __post_init__(self):
        if self.status not in STATUSES:
            from qml_phys.errors import InvalidParameterError

            raise InvalidParameterError(f"status: expected one of {STATUSES}; got {self.status!r}")

    @property
    def n_steps(self) -> int:
        """Length of the history (0 without one)."""
        return len(next(iter(self.history.values()))) if self.history else 0

    def config_summary(self) -> Any:
        """The config as :meth:`summary` reports it: a JSON-able dict of its fields."""
        from qml_phys.runtime.records import to_jsonable

        config = self.config
        if dataclasses.is_dataclass(config) and not isinstance(config, type):
            config = dataclasses.asdict(config)
        return to_jsonable(config)

    def summary(self) -> dict:
        """A JSON-able dict: ``status``, ``wall_time_s``, ``n_steps`` and the config.

        Then the attributes named in ``reported``; subclasses add the keys they compute
        with ``super().summary() | {...}``.
        """
        out = {
            "status": self.status,
            "wall_time_s": self.wall_time_s,
            "n_steps": self.n_steps,
            "config": self.config_summary(),
        }
        return out | self.reported_values()

    def reported_values(self) -> dict:
        """``{name: value}`` of the attributes named in ``reported`` (base classes first)."""
        return {
            name: getattr(self, name)
            for cls in reversed(type(self).__mro__)
            for name in vars(cls).get("reported", ())
        }
