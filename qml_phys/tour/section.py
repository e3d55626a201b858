"""What a tour section is: a context in, a :class:`Section` out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

__all__ = ["Z_DEVIATION", "Section", "SectionFn", "TourContext"]

#: A table row whose |z| against its reference exceeds this is reported as a deviation.
Z_DEVIATION = 3.0


@dataclasses.dataclass
class Section:
    """What a tour section shows: a title, a paragraph, figures, and a table of numbers."""

    title: str
    text: str = ""
    figures: list[str] = dataclasses.field(default_factory=list)
    table: list[dict] = dataclasses.field(default_factory=list)
    results: dict = dataclasses.field(default_factory=dict)
    checks: dict = dataclasses.field(default_factory=dict)
    """name -> bool: pass/fail of comparisons against exact references shown on the page."""
    known_deviations: dict = dataclasses.field(default_factory=dict)
    """model name -> why its rows of the table are expected to miss the reference (a
    limitation of the model the text explains, not a fault of the package)."""

    def deviations(self, threshold: float = Z_DEVIATION) -> list[dict]:
        """The rows of :attr:`table` whose ``z`` exceeds ``threshold`` in magnitude, each
        with ``known``: the reason from :attr:`known_deviations`, or None when unexplained.
        A green check beside such a row would hide it, so the report shows them all."""
        out = []
        for row in self.table:
            for col, z in row.items():  # "z", or "z(e)" for one observable
                if not (col == "z" or col.startswith("z(")):
                    continue
                if isinstance(z, (int, float)) and abs(z) > threshold:
                    model = row.get("model")
                    out.append(
                        row | {"z": z, "column": col, "known": self.known_deviations.get(model)}
                    )
        return out


@dataclasses.dataclass(frozen=True)
class TourContext:
    """Where a section writes its figures, whether to run small, and the tour's seed."""

    out: Path
    quick: bool = False
    seed: int = 20261127


SectionFn = Callable[[TourContext], Section]
