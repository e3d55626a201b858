"""What a tour section is: a context in, a :class:`Section` out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

__all__ = ["Section", "SectionFn", "TourContext"]


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


@dataclasses.dataclass(frozen=True)
class TourContext:
    """Where a section writes its figures, whether to run small, and the tour's seed."""

    out: Path
    quick: bool = False
    seed: int = 20261127


SectionFn = Callable[[TourContext], Section]
