r"""Random graphs: the instances of graph problems (MaxCut, Ising spin glasses on graphs).

* :func:`random_regular_graph` -- a uniformly random simple ``d``-regular graph.
"""

from __future__ import annotations

import numpy as np

from qml_phys.errors import InvalidParameterError, check_positive_int
from qml_phys.physics.lattice import Graph

__all__ = ["random_regular_graph"]


def _generator(key) -> np.random.Generator:
    """A numpy Generator whose stream is a function of the bits of the JAX key ``key``
    (hashed by numpy's ``SeedSequence``): split keys give independent streams, and nothing
    is compiled (a JAX permutation would cost ~0.5 s of compilation per graph size)."""
    import jax

    words = np.asarray(jax.random.key_data(key), dtype=np.uint32).ravel()
    return np.random.default_rng(np.random.SeedSequence(words.tolist()))


def random_regular_graph(n: int, d: int, *, key, max_tries: int = 10_000) -> Graph:
    """A uniformly random simple ``d``-regular graph on ``n`` nodes (unit weights).

    Configuration (pairing) model with rejection of self-loops and multi-edges
    (B. Bollobás, Eur. J. Comb. 1, 311 (1980)): the ``n d`` stubs (each node ``d`` times)
    are permuted and paired; a pairing with a self-loop or a repeated edge is rejected.
    Uniform over simple graphs, practical for small ``d`` (acceptance
    ~ ``exp(-(d^2 - 1)/4)``, about 13% for ``d = 3``).

    Args:
        n: number of nodes (>= 1).
        d: degree (``0 <= d < n``, ``n d`` even).
        key: JAX PRNG key; the pairings are permutations from a numpy Generator seeded
            with the key's bits.
        max_tries: most pairings drawn before giving up.

    Returns:
        A :class:`~qml_phys.physics.lattice.Graph` with ``n d / 2`` edges ``(i, j)``,
        ``i < j``, sorted.

    Raises:
        InvalidParameterError: no simple ``d``-regular graph exists (``d >= n`` or ``n d``
            odd), or none was found in ``max_tries`` pairings.
    """
    n = check_positive_int("n", n, minimum=1)
    d = check_positive_int("d", d, minimum=0)
    max_tries = check_positive_int("max_tries", max_tries, minimum=1)
    if d >= n or (n * d) % 2:
        raise InvalidParameterError(
            f"expected d < n and n * d even for a simple d-regular graph; got n={n}, d={d}"
        )
    rng = _generator(key)
    stubs = np.repeat(np.arange(n, dtype=np.int64), d)
    for _ in range(max_tries):
        pairs = rng.permutation(stubs).reshape(-1, 2)
        pairs.sort(axis=1)
        if np.any(pairs[:, 0] == pairs[:, 1]):
            continue
        codes = pairs[:, 0] * n + pairs[:, 1]
        if len(np.unique(codes)) != len(codes):
            continue
        return Graph(n, pairs[np.argsort(codes)], None)
    raise InvalidParameterError(
        f"no simple {d}-regular graph found in {max_tries} tries; got n={n}, d={d} "
        "(raise max_tries, or use a smaller d)"
    )
