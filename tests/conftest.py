"""Shared test set-up: strict JAX promotion rules and a named PRNG key fixture."""

import os

os.environ.setdefault("QML_PHYS_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# as the command line does: importing NetKet must not switch float64 on for later tests
os.environ.setdefault("NETKET_ENABLE_X64", "0")

import jax  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests draw the same examples on every run (a failure in CI reproduces here, and
# a passing tree stays passing); HYPOTHESIS_PROFILE=explore searches afresh each run, as
# `make test-slow` does.
settings.register_profile("fixed", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))

# A cheap net for silent float64/float32 mixing and accidental broadcasting.
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def key():
    """A fixed PRNG key; tests split it, never reuse it."""
    return jax.random.key(20261127)


def pytest_collection_modifyitems(config, items):
    try:
        has_gpu = any(d.platform == "gpu" for d in jax.devices())
    except RuntimeError:
        has_gpu = False
    if not has_gpu:
        skip = pytest.mark.skip(reason="needs a GPU")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)
