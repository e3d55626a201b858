"""The tour sections of the VAE, GAN, phi^4 flow and diffusion model run in quick mode."""

import json

import pytest

from qml_phys.tour import run_tour

NAMES = ["vae", "gan", "flow_phi4", "diffusion"]


@pytest.mark.slow  # ~40 s; the tour itself runs in `make run`
def test_tour_sections_run_quick(tmp_path):
    summary = run_tour(tmp_path, quick=True, only=NAMES)
    for name in NAMES:
        sec = summary["sections"][name]
        assert sec["error"] is None, (name, sec["error"])
        assert sec["checks"], name  # every section compares with a reference
    rec = json.loads((tmp_path / "flow_phi4.json").read_text())
    assert set(rec["results"]["results"]["observables"]) == {"phi2", "abs_m", "chi", "g1"}
    for png in ("vae.png", "flow_phi4.png", "diffusion.png"):
        assert (tmp_path / png).stat().st_size > 1000
