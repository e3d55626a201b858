"""``qml-phys tour``: run a small version of every capability and write a report."""

from __future__ import annotations


def cmd_tour(args) -> dict:
    """``qml-phys tour``: run the tour of the package into an HTML report."""
    from qml_phys.tour import run_tour

    return run_tour(args.out, quick=args.quick, only=args.only)


def register(areas, add) -> None:
    """Add the ``tour`` command."""
    p = add(areas, "tour", cmd_tour, "run a small version of every capability; write a report")
    p.add_argument("--out", default="results/tour", help="output folder (default results/tour)")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    p.add_argument("--only", nargs="*", default=None, help="run only these sections")
