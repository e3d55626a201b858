"""The tour: a small version of every capability, written to one HTML page.

``qml-phys tour`` (run by ``make run``) executes each section in turn and writes
``<out>/index.html`` with the plots and numbers, ``<out>/<section>.json`` records and
``<out>/summary.json``. A section that fails is reported on the page and in the exit
status; the others still run. Every capability of the package adds its section here.
"""

from __future__ import annotations

import html
import time
import traceback
from pathlib import Path

from qml_phys.runtime.records import to_jsonable, write_json, write_record, write_text
from qml_phys.tour.section import Z_DEVIATION, Section, SectionFn, TourContext


def sections() -> dict[str, SectionFn]:
    """Every tour section by name, in page order."""
    from qml_phys.tour import (
        annealing,
        barren,
        diffusion,
        diffusion_phi4,
        engines,
        exact,
        flow_phi4,
        gan,
        learning,
        mitigation,
        monte_carlo,
        nqs,
        nqs_dynamics,
        phases,
        qaoa,
        spin_models,
        vae,
        van,
        vqe,
    )

    return {
        "exact": exact.exact_references,
        "engines": engines.engine_consistency,
        "monte_carlo": monte_carlo.monte_carlo,
        "annealing": annealing.annealing,
        "vqe": vqe.vqe,
        "qaoa": qaoa.qaoa,
        "mitigation": mitigation.mitigation,
        "phases": phases.phases,
        "generative_models": spin_models.generative_models,
        "variational_free_energy": van.variational_free_energy,
        "vae": vae.vae,
        "gan": gan.gan,
        "flow_phi4": flow_phi4.flow_phi4,
        "diffusion": diffusion.diffusion,
        "diffusion_phi4": diffusion_phi4.diffusion_phi4,
        "learning": learning.learning_foundations,
        "nqs": nqs.nqs_ground_states,
        "nqs_dynamics": nqs_dynamics.nqs_dynamics,
        "barren": barren.barren_plateaus,
    }


def run_tour(
    out: str | Path = "results/tour", *, quick: bool = False, only: list[str] | None = None
) -> dict:
    """Run the tour sections (all, or ``only``) and write the report; return a summary."""
    from qml_phys.errors import UnknownNameError
    from qml_phys.runtime.progress import progress

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = TourContext(out=out, quick=quick)
    table = sections()
    names = list(table) if not only else list(only)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise UnknownNameError(f"unknown tour section(s) {unknown}; expected some of {list(table)}")
    done: list[tuple[str, Section | None, float, str | None]] = []
    for name in progress(names, desc="tour"):
        t0 = time.perf_counter()
        try:
            sec, err = table[name](ctx), None
            write_record(
                out / f"{name}.json",
                {"results": sec.results, "checks": sec.checks},
                config={"section": name, "quick": quick},
                seed=ctx.seed,
                kind=f"tour.{name}",
            )
        except Exception:  # a failing section is shown, the others still run
            sec, err = None, traceback.format_exc()
        done.append((name, sec, time.perf_counter() - t0, err))
    summary = {
        "out": str(out),
        "index": str(out / "index.html"),
        "sections": {
            name: {
                "seconds": round(sec_time, 2),
                "ok": err is None and all((sec.checks or {}).values()),
                "checks": sec.checks if sec else {},
                "deviations": sec.deviations() if sec else [],
                "error": err.strip().splitlines()[-1] if err else None,
            }
            for name, sec, sec_time, err in done
        },
    }
    summary["ok"] = all(s["ok"] for s in summary["sections"].values())
    summary["unexplained_deviations"] = sum(
        1 for s in summary["sections"].values() for d in s["deviations"] if d["known"] is None
    )
    write_json(out / "summary.json", summary)
    write_text(out / "index.html", _render(done, summary))
    return summary


def _render(done, summary) -> str:
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>qml_phys tour</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
        "padding:0 1em;color:#222}h2{border-bottom:1px solid #ccc;padding-bottom:.2em}"
        "img{width:100%;max-width:1100px;margin:.3em 0;cursor:zoom-in}img.wide{max-width:760px}"
        "table{border-collapse:collapse;font-size:.9em;display:block;overflow-x:auto}"
        "td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}"
        ".ok{color:#1e8449}.fail{color:#c0392b;font-weight:bold}.deviates{color:#b9770e}"
        "pre{background:#f6f6f6;"
        "padding:.6em;overflow-x:auto}</style></head><body>",
        "<h1>qml_phys — the tour</h1>",
        "<p>A small version of every capability of the package, run on CPU simulators. "
        "Every number on this page comes from the run that wrote it; records with full "
        "provenance lie beside this page as JSON.</p><ul>",
    ]
    for name, sec, secs, _err in done:
        info = summary["sections"][name]
        status = "ok" if info["ok"] else "fail"
        unexplained = sum(1 for d in info["deviations"] if d["known"] is None)
        if status == "ok" and unexplained:
            status = "deviates"
        title = sec.title if sec else name
        note = f", {unexplained} row(s) off their reference" if unexplained else ""
        parts.append(
            f"<li><a href='#{esc(name)}'>{esc(title)}</a> "
            f"<span class='{status}'>{status}</span> ({secs:.1f} s{note})</li>"
        )
    parts.append("</ul>")
    for name, sec, secs, err in done:
        parts.append(f"<h2 id='{esc(name)}'>{esc(sec.title if sec else name)}</h2>")
        if err:
            parts.append(f"<p class='fail'>This section failed:</p><pre>{esc(err)}</pre>")
            continue
        parts.append(f"<p>{sec.text}</p>")
        wide = " class='wide'" if len(sec.figures) == 1 else ""
        for fig in sec.figures:  # click a figure to open it at full size
            parts.append(
                f"<a href='{esc(fig)}' target='_blank'><img{wide} src='{esc(fig)}' "
                f"alt='{esc(fig)}' title='click to enlarge'></a>"
            )
        if sec.table:
            cols = list(dict.fromkeys(c for row in sec.table for c in row))  # all rows' columns
            parts.append("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr>")
            for row in sec.table:
                parts.append(
                    "<tr>" + "".join(f"<td>{esc(_fmt(row.get(c)))}</td>" for c in cols) + "</tr>"
                )
            parts.append("</table>")
        devs = summary["sections"][name]["deviations"]
        if devs:
            parts.append(
                f"<p class='deviates'>Rows more than {Z_DEVIATION:g} errors from their "
                "reference: "
                + "; ".join(
                    f"{esc(str(d.get('model')))} {esc(str(d.get('observable', d['column'])))} "
                    f"(z = {d['z']:.1f}: "
                    + (f"known: {esc(d['known'])}" if d["known"] else "not explained")
                    + ")"
                    for d in devs
                )
                + "</p>"
            )
        if sec.checks:
            parts.append(
                "<p>Checks against exact references: "
                + ", ".join(
                    f"<span class='{'ok' if v else 'fail'}'>{esc(k)}: {'pass' if v else 'FAIL'}"
                    "</span>"
                    for k, v in sec.checks.items()
                )
                + "</p>"
            )
        parts.append(
            f"<p><small>{secs:.1f} s · record: <a href='{esc(name)}.json'>"
            f"{esc(name)}.json</a></small></p>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _fmt(v) -> str:
    v = to_jsonable(v)
    if isinstance(v, float):
        return f"{v:.10g}"
    return "" if v is None else str(v)
