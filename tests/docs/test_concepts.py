"""Every ``qml_phys.…`` name that a guide page names exists: the concept map, the
architecture and the conventions pages cannot drift away from the code."""

import importlib
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted((DOCS / "guide").glob("*.md")) + [DOCS / "index.md"]
NAME = re.compile(r"`(qml_phys(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def _resolve(dotted: str):
    """Import the longest module prefix of ``dotted`` and get the rest as attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def _names():
    out = []
    for page in PAGES:
        for m in NAME.finditer(page.read_text(encoding="utf-8")):
            out.append((page.name, m.group(1)))
    return sorted(set(out))


def test_the_concept_map_names_many_things():
    names = [n for p, n in _names() if p == "concepts.md"]
    assert len(names) > 60, names


@pytest.mark.parametrize(("page", "name"), _names())
def test_every_named_thing_imports(page, name):
    assert _resolve(name) is not None, f"{page}: {name}"
