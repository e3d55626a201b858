"""The tour: a small version of every capability, written to one HTML page.

``qml-phys tour`` (run by ``make run``) executes each section in turn and writes
``<out>/index.html`` with the plots and numbers, ``<out>/<section>.json`` records and
``<out>/summary.json``. One module of this package per section; :mod:`.runner` lists them
in page order and renders the page.
"""

from qml_phys.tour.runner import run_tour, sections
from qml_phys.tour.section import Section, SectionFn, TourContext

__all__ = ["Section", "SectionFn", "TourContext", "run_tour", "sections"]
