"""One way to ask for double precision: :func:`float64`.

JAX computes in float32 unless told otherwise. The package never writes JAX's global
configuration; where an algorithm needs float64 (VQE energies to 1e-10, exact
enumeration, NetKet's variational states), it runs under :func:`float64`, which changes
JAX's *thread-local* settings for the duration of the ``with`` block only and restores
them on exit:

* ``jax_enable_x64``: arrays and parameters default to float64;
* standard dtype promotion and rank promotion: third-party libraries (optax, PennyLane,
  NetKet) mix Python scalars, dtypes and ranks internally, and must work even when the
  caller (the test suite) made promotion strict to catch the package's own mixing.

NetKet turns float64 on *globally* when it is imported (its ``NETKET_ENABLE_X64`` flag,
default on). The package does not rely on it: every NetKet computation of
:mod:`qml_phys.nqs` runs under :func:`float64` as well. The command line (and so the tour)
sets ``NETKET_ENABLE_X64=0`` unless it is set, so that a float32 computation gives the
same numbers whether or not an NQS command or section ran before it in the process; a
library user who imports NetKet keeps NetKet's default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["float64", "lenient_promotion"]


@contextlib.contextmanager
def lenient_promotion() -> Iterator[None]:
    """JAX's standard dtype promotion and rank promotion, thread-locally, in this block."""
    import jax

    with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
        yield


@contextlib.contextmanager
def float64() -> Iterator[None]:
    """float64 JAX with standard promotion, thread-locally, in this block only.

    Nests, and restores the caller's settings on exit (also on an exception)::

        with float64():
            energy = run(...)   # jnp arrays default to float64 here
    """
    import jax

    with jax.enable_x64(True), lenient_promotion():
        yield
