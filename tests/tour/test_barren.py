"""The barren-plateau tour section runs (quick) and passes its exact checks."""

import pytest

from qml_phys.tour import run_tour


@pytest.mark.slow
def test_barren_tour_section_quick(tmp_path):
    summary = run_tour(tmp_path, quick=True, only=["barren"])
    section = summary["sections"]["barren"]
    assert section["error"] is None, section["error"]
    assert section["ok"], section["checks"]
    assert len(section["checks"]) == 3
    assert (tmp_path / "barren.png").stat().st_size > 0
