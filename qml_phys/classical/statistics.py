"""Moved to :mod:`qml_phys.stats` (``timeseries``, ``estimate``, ``goodness``); the names of
those three modules stay importable from here (resolved on first use)."""

import importlib

_MODULES = ("qml_phys.stats.estimate", "qml_phys.stats.goodness", "qml_phys.stats.timeseries")
_HOME = {name: module for module in _MODULES for name in importlib.import_module(module).__all__}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
