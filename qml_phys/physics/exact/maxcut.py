r"""The maximum cut of a weighted graph, by brute force (``<= 26`` nodes)."""

from __future__ import annotations

import math

import numpy as np

from qml_phys.errors import InvalidParameterError, TooLargeError
from qml_phys.physics.exact._common import pair_sum_blocks
from qml_phys.physics.lattice import Graph

MAX_MAXCUT_NODES = 26
"""Largest graph :func:`maxcut_brute_force` solves (2^25 assignments after the global flip)."""


# --------------------------------------------------------------------------- MaxCut
def maxcut_brute_force(graph) -> tuple[float, np.ndarray]:
    r"""Maximum cut of a weighted graph by exhaustive search (``<= 26`` nodes).

    The cut of spins ``s`` is ``C(s) = sum_{(i,j)} w_ij (1 - s_i s_j) / 2``; weights may be
    negative. Site 0 is fixed to ``+1`` (the cut is invariant under a global flip), so
    ``2^(n-1)`` assignments are scanned in vectorised blocks (about 1 s at ``n = 26``). Ties
    go to the lowest configuration index (site 0 the top bit, ``+1`` = bit 0).

    Args:
        graph: a :class:`Graph`, or an object with ``.to_graph()`` (a :class:`Lattice`) or a
            ``.graph`` attribute holding a :class:`Graph` (e.g. a MaxCut model).

    Returns:
        ``(value, spins)``: the maximum cut (float) and one optimal assignment,
        ``(n_nodes,)`` int8 in ``{-1, +1}`` with ``spins[0] = +1``.

    Raises:
        TooLargeError: for more than 26 nodes.
    """
    if not isinstance(graph, Graph):
        if isinstance(getattr(graph, "graph", None), Graph):
            graph = graph.graph
        elif hasattr(graph, "to_graph"):
            graph = graph.to_graph()
        else:
            raise InvalidParameterError(
                f"expected a Graph (or an object with .to_graph()); got {type(graph).__name__}"
            )
    n = graph.n_nodes
    if n > MAX_MAXCUT_NODES:
        raise TooLargeError(
            f"expected at most {MAX_MAXCUT_NODES} nodes for brute-force MaxCut "
            f"(2^(n-1) assignments); got {n} nodes"
        )
    best_B, best_idx = math.inf, 0
    for offset, B, _ in pair_sum_blocks(n, graph.edges, graph.weights, first_half=True):
        i = int(np.argmin(B))
        if B[i] < best_B:
            best_B, best_idx = float(B[i]), offset + i
    bits = (best_idx >> np.arange(n - 1, -1, -1)) & 1
    spins = (1 - 2 * bits).astype(np.int8)
    a, b = graph.edges[:, 0], graph.edges[:, 1]
    value = float(np.sum(graph.weights[spins[a] != spins[b]]))
    return value, spins
