"""``make docs`` builds: the tutorials run (reduced sizes), the API reference resolves every
module, and ``mkdocs build --strict`` finds no broken link (slow: a few minutes)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_site_builds_strictly_with_the_tutorials_executed(tmp_path):
    site = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "tools" / "build.py"), "--quick", "--site", str(site)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert (site / "index.html").exists()
    assert (site / "guide" / "calibration" / "index.html").exists()
    pages = sorted(p.name for p in (site / "_gen" / "tutorials").iterdir())
    assert len(pages) >= 7, pages
