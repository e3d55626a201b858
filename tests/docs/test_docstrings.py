"""The API reference is generated from docstrings: the public API keeps them (interrogate,
with the thresholds of ``[tool.interrogate]`` in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_public_api_docstring_coverage_meets_the_threshold():
    exe = Path(sys.executable).with_name("interrogate")
    run = subprocess.run(
        [str(exe), "--config", str(ROOT / "pyproject.toml"), str(ROOT / "qml_phys")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASSED" in run.stdout
