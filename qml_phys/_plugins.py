"""Find the modules that add CLI areas and tour sections (see ``cli.AREA_MODULES`` and
``tour_sections.SECTION_MODULES``). A listed module that does not exist is skipped; one
that exists and fails to import raises, so a broken area is never silently hidden."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


def optional_module(name: str) -> ModuleType | None:
    """Import ``name`` if it (and every parent package) exists, else return None."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        if importlib.util.find_spec(".".join(parts[:i])) is None:
            return None
    return importlib.import_module(name)
