"""Fixtures the command tests share with the area tests."""

from tests.phases.conftest import tiny, tiny_path  # noqa: F401
