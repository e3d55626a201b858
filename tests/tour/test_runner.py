"""The tour (the main job): writes a page and records; a failing section is shown, not hidden."""

import json

from qml_phys.cli import main
from qml_phys.tour import Section, run_tour, runner


def test_quick_tour_writes_page_and_records(tmp_path):
    summary = run_tour(tmp_path, quick=True, only=["exact", "engines"])
    assert summary["ok"], summary
    page = (tmp_path / "index.html").read_text()
    assert "Exact references" in page and "One model, every engine" in page
    assert (tmp_path / "exact_ising.png").stat().st_size > 10_000
    record = json.loads((tmp_path / "engines.json").read_text())
    assert record["provenance"]["versions"]["netket"]
    assert all(record["results"]["checks"].values())
    assert json.loads((tmp_path / "summary.json").read_text())["ok"] is True


def test_failing_section_is_reported(tmp_path, monkeypatch, capsys):
    def broken(ctx):
        raise RuntimeError("this section is broken on purpose")

    def wrong(ctx):
        return Section(title="Wrong", checks={"1 + 1 = 3": False})

    table = runner.sections() | {"broken": broken, "wrong": wrong}
    monkeypatch.setattr(runner, "sections", lambda: table)
    assert main(["tour", "--out", str(tmp_path), "--only", "broken", "wrong", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert "broken on purpose" in out["sections"]["broken"]["error"]
    assert out["sections"]["wrong"]["ok"] is False
    page = (tmp_path / "index.html").read_text()
    assert "This section failed" in page and "FAIL" in page


def test_page_keeps_every_column_and_files_follow_the_umask(tmp_path, monkeypatch):
    import os

    def ragged(ctx):
        return Section(title="Ragged", table=[{"a": 1}, {"a": 2, "b": "only here"}])

    table = {"ragged": ragged}
    monkeypatch.setattr(runner, "sections", lambda: table)
    old = os.umask(0o022)
    try:
        run_tour(tmp_path, only=["ragged"])
    finally:
        os.umask(old)
    page = (tmp_path / "index.html").read_text()
    assert "<th>b</th>" in page and "only here" in page
    assert (tmp_path / "index.html").stat().st_mode & 0o777 == 0o644
