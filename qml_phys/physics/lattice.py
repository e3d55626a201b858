r"""Lattices and graphs: sites, neighbour pairs and checkerboard sublattices.

Conventions (used everywhere in the package):

* Sites are numbered row-major. On the square lattice the site at row ``r`` and column
  ``c`` is ``i = r * L + c``; a batch of configurations of shape ``(..., L, L)`` flattens
  to ``(..., L * L)`` in the same order.
* ``edges`` lists each nearest-neighbour bond once, as the pair (site, its +x neighbour)
  and (site, its +y neighbour). With periodic boundaries every site has 4 bonds on the
  square lattice and 2 on the chain; for ``L = 2`` (``N = 2``) the two bonds between the
  same pair of sites are both kept, as in Kaufman's torus.
* The checkerboard colour of a site is ``(r + c) % 2`` (``i % 2`` on the chain). It is a
  proper two-colouring only when the lattice is bipartite (open boundaries, or even L).
* The triangular lattice is drawn on the same ``L x L`` grid: site ``(r, c)`` is bonded to
  ``(r, c+1)``, ``(r+1, c)`` and ``(r+1, c-1)`` (six neighbours). Its three-colouring
  ``(r - c) % 3`` is proper with open boundaries or ``L`` divisible by 3.
"""

from __future__ import annotations

import dataclasses
import os
from functools import cached_property

import numpy as np

from qml_phys.errors import GraphFormatError, InvalidParameterError, check_positive_int

GEOMETRIES = ("hypercubic", "triangular")
#: Largest node index (+1) a graph file may use: far beyond anything an exact method,
#: annealing or a circuit can treat, and within int64.
MAX_GRAPH_NODES = 10**9


@dataclasses.dataclass(frozen=True)
class Lattice:
    """A square ``L x L`` lattice, a triangular ``L x L`` lattice or a chain of ``N`` sites.

    Attributes:
        shape: ``(L, L)`` for the square and triangular lattices, ``(N,)`` for the chain.
        pbc: periodic (True) or open (False) boundary conditions.
        geometry: ``"hypercubic"`` (chain, square) or ``"triangular"`` (``(L, L)`` only).
    """

    shape: tuple[int, ...]
    pbc: bool = True
    geometry: str = "hypercubic"

    def __post_init__(self):
        if self.geometry not in GEOMETRIES:
            raise InvalidParameterError(
                f"geometry: expected one of {GEOMETRIES}; got {self.geometry!r}"
            )
        if self.geometry == "triangular" and len(tuple(self.shape)) != 2:
            raise InvalidParameterError(
                f"a triangular lattice has shape (L, L); got {tuple(self.shape)!r}"
            )
        shape = tuple(self.shape)
        if len(shape) not in (1, 2):
            raise InvalidParameterError(
                "Lattice shape must be (N,) for a chain or (L, L) for a square lattice; "
                f"got {shape!r}"
            )
        if len(shape) == 2 and shape[0] != shape[1]:
            raise InvalidParameterError(f"square lattice must be L x L; got shape {shape!r}")
        shape = tuple(check_positive_int("lattice size", s, minimum=2) for s in shape)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "pbc", bool(self.pbc))

    @classmethod
    def square(cls, L: int, pbc: bool = True) -> Lattice:
        """The ``L x L`` square lattice (``L >= 2``)."""
        L = check_positive_int("L", L, minimum=2)
        return cls((L, L), pbc)

    @classmethod
    def triangular(cls, L: int, pbc: bool = True) -> Lattice:
        """The ``L x L`` triangular lattice (``L >= 3``; ``L`` divisible by 3 when periodic,
        so that the three sublattices ``(r - c) % 3`` tile the torus)."""
        L = check_positive_int("L", L, minimum=3)
        if pbc and L % 3:
            raise InvalidParameterError(
                f"a periodic triangular lattice needs L divisible by 3 (three sublattices); "
                f"got L={L}"
            )
        return cls((L, L), pbc, "triangular")

    @classmethod
    def chain(cls, N: int, pbc: bool = True) -> Lattice:
        """The chain of ``N >= 2`` sites."""
        N = check_positive_int("N", N, minimum=2)
        return cls((N,), pbc)

    @property
    def kind(self) -> str:
        """``"chain"``, ``"square"`` or ``"triangular"``."""
        if self.geometry == "triangular":
            return "triangular"
        return "chain" if len(self.shape) == 1 else "square"

    @property
    def L(self) -> int:
        """Linear size (``N`` for the chain)."""
        return self.shape[0]

    @property
    def n_sites(self) -> int:
        return int(np.prod(self.shape))

    @property
    def coordination(self) -> int:
        """Number of nearest neighbours of a bulk site (2, 4 or 6)."""
        return 6 if self.kind == "triangular" else 2 * len(self.shape)

    @property
    def is_bipartite(self) -> bool:
        """True when the checkerboard colouring is proper (open boundaries or even L; never
        for the triangular lattice)."""
        return self.kind != "triangular" and ((not self.pbc) or self.L % 2 == 0)

    @cached_property
    def colouring(self) -> np.ndarray:
        """A proper colouring of the sites, ``(n_sites,)`` int8: the checkerboard
        ``(r + c) % 2`` where the lattice is bipartite, ``(r - c) % 3`` on the triangular
        lattice, otherwise a greedy colouring of :attr:`edges`."""
        if self.kind == "triangular" and ((not self.pbc) or self.L % 3 == 0):
            r, c = np.indices(self.shape)
            return ((r - c) % 3).ravel().astype(np.int8)
        if self.is_bipartite:
            return self.sublattice
        return greedy_colouring(self.n_sites, self.edges)

    def coords(self, i) -> np.ndarray:
        """Coordinates ``(r, c)`` (square) or ``(i,)`` (chain) of site(s) ``i``."""
        return np.stack(np.unravel_index(np.asarray(i), self.shape), axis=-1)

    def site(self, *coords) -> np.ndarray:
        """Site index of coordinates (wrapped when periodic)."""
        coords = [np.asarray(c) % self.L if self.pbc else np.asarray(c) for c in coords]
        return np.ravel_multi_index(coords, self.shape)

    def _shifted_pairs(self, shifts) -> np.ndarray:
        idx = np.arange(self.n_sites).reshape(self.shape)
        grid = np.stack(np.indices(self.shape), axis=0)
        pairs = []
        for shift in shifts:
            target = grid + np.asarray(shift).reshape((-1,) + (1,) * len(self.shape))
            if self.pbc:
                target %= self.L
                ok = np.ones(self.shape, bool)
            else:
                ok = np.all((target >= 0) & (target < self.L), axis=0)
                target = np.clip(target, 0, self.L - 1)
            j = np.ravel_multi_index(tuple(target), self.shape)
            pairs.append(np.stack([idx[ok], j[ok]], axis=-1))
        return np.concatenate(pairs, axis=0).astype(np.int64)

    @cached_property
    def edges(self) -> np.ndarray:
        """Nearest-neighbour bonds, ``(n_bonds, 2)`` int64 (see module conventions)."""
        if self.kind == "chain":
            return self._shifted_pairs([(1,)])
        if self.kind == "triangular":
            return self._shifted_pairs([(0, 1), (1, 0), (1, -1)])
        return self._shifted_pairs([(0, 1), (1, 0)])

    @cached_property
    def next_nearest_edges(self) -> np.ndarray:
        """Next-nearest-neighbour bonds: diagonals (square) or ``(i, i+2)`` (chain)."""
        if self.kind == "chain":
            if self.pbc and self.L < 3:
                return np.zeros((0, 2), np.int64)
            return self._shifted_pairs([(2,)])
        return self._shifted_pairs([(1, 1), (1, -1)])

    @cached_property
    def sublattice(self) -> np.ndarray:
        """Checkerboard colour of every site, ``(n_sites,)`` int8 in {0, 1}."""
        return (np.indices(self.shape).sum(axis=0).ravel() % 2).astype(np.int8)

    @cached_property
    def neighbors(self) -> np.ndarray:
        """Neighbour table ``(n_sites, coordination)`` int64; ``-1`` marks a missing
        neighbour at an open boundary. Doubled bonds (L = 2, periodic) appear twice."""
        z = self.coordination
        table = -np.ones((self.n_sites, z), np.int64)
        count = np.zeros(self.n_sites, np.int64)
        for a, b in self.edges:
            table[a, count[a]] = b
            count[a] += 1
            table[b, count[b]] = a
            count[b] += 1
        return table

    def __str__(self) -> str:
        size = "x".join(str(n) for n in self.shape)
        return f"{self.kind} {size} ({'periodic' if self.pbc else 'open'})"

    def to_graph(self) -> Graph:
        """This lattice as a :class:`Graph` with unit weights on every bond."""
        return Graph(self.n_sites, self.edges, np.ones(len(self.edges)))


def greedy_colouring(n_sites: int, edges: np.ndarray) -> np.ndarray:
    """A proper colouring ``(n_sites,)`` int8 of a graph: sites in order of decreasing
    degree take the smallest colour none of their neighbours has (Welsh-Powell)."""
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    neighbours: list[set[int]] = [set() for _ in range(n_sites)]
    for a, b in edges:
        neighbours[a].add(int(b))
        neighbours[b].add(int(a))
    colour = -np.ones(n_sites, np.int64)
    for i in sorted(range(n_sites), key=lambda i: -len(neighbours[i])):
        taken = {colour[j] for j in neighbours[i]}
        colour[i] = next(c for c in range(n_sites) if c not in taken)
    return colour.astype(np.int8)


@dataclasses.dataclass(frozen=True, eq=False)
class Graph:
    """An undirected weighted graph on nodes ``0 .. n_nodes-1``.

    Attributes:
        n_nodes: number of nodes.
        edges: ``(n_edges, 2)`` int64 node pairs.
        weights: ``(n_edges,)`` float64 edge weights (1 when not given).
    """

    n_nodes: int
    edges: np.ndarray
    weights: np.ndarray | None = None

    def __post_init__(self):
        n = check_positive_int("n_nodes", self.n_nodes, minimum=1)
        edges = np.asarray(self.edges)
        if edges.size == 0:
            edges = np.zeros((0, 2), np.int64)
        if edges.ndim != 2 or edges.shape[1] != 2:
            raise GraphFormatError(f"edges must have shape (n_edges, 2); got {edges.shape}")
        if not np.issubdtype(edges.dtype, np.integer):
            if not np.all(np.mod(edges, 1) == 0):
                raise GraphFormatError("edges must hold integer node indices; got non-integers")
        edges = edges.astype(np.int64)
        if edges.size and (edges.min() < 0 or edges.max() >= n):
            raise GraphFormatError(
                f"edge endpoints must lie in 0..{n - 1}; "
                f"got values from {edges.min()} to {edges.max()}"
            )
        if np.any(edges[:, 0] == edges[:, 1]):
            bad = edges[edges[:, 0] == edges[:, 1]][0]
            raise GraphFormatError(
                f"self-loops are not allowed; got edge {tuple(int(b) for b in bad)}"
            )
        w = np.ones(len(edges)) if self.weights is None else np.asarray(self.weights, np.float64)
        if w.shape != (len(edges),):
            raise GraphFormatError(f"weights must have shape ({len(edges)},); got {w.shape}")
        if not np.all(np.isfinite(w)):
            bad = w[~np.isfinite(w)][0]
            raise GraphFormatError(f"edge weights must be finite numbers; got {bad}")
        object.__setattr__(self, "n_nodes", n)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "weights", w)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    @classmethod
    def from_file(cls, path: str | os.PathLike, n_nodes: int | None = None) -> Graph:
        """Read an edge list: one edge per line, ``i j`` or ``i j weight``.

        Blank lines and text after ``#`` are ignored. Nodes are integers from 0; the node
        count is ``max index + 1`` unless ``n_nodes`` is given.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            what = "graph path is a folder" if os.path.isdir(path) else "graph file not found"
            raise GraphFormatError(f"{what}: expected an edge-list file; got {path!r}")
        edges, weights = [], []
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8")
        except UnicodeDecodeError as err:
            raise GraphFormatError(
                f"{path}: expected a UTF-8 text edge list (lines 'i j [weight]'); got bytes "
                f"that are not text at offset {err.start}"
            ) from None
        except OSError as err:
            raise GraphFormatError(f"cannot read graph file {path!r}: {err.strerror}") from None
        if "\x00" in text:
            raise GraphFormatError(
                f"{path}: expected a text edge list (lines 'i j [weight]'); got a binary file"
            )
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.replace(",", " ").split()
            if len(parts) not in (2, 3):
                raise GraphFormatError(
                    f"{path}:{lineno}: expected 'i j' or 'i j weight'; got {raw.strip()!r}"
                )
            try:
                i, j = int(parts[0]), int(parts[1])
                w = float(parts[2]) if len(parts) == 3 else 1.0
            except ValueError:
                raise GraphFormatError(
                    f"{path}:{lineno}: expected integer nodes and a numeric weight; "
                    f"got {raw.strip()!r}"
                ) from None
            if i < 0 or j < 0:
                raise GraphFormatError(
                    f"{path}:{lineno}: node indices must be >= 0; got {raw.strip()!r}"
                )
            if max(i, j) >= MAX_GRAPH_NODES:
                raise GraphFormatError(
                    f"{path}:{lineno}: expected node indices below {MAX_GRAPH_NODES}; got "
                    f"{raw.strip()!r}"
                )
            if i == j:
                raise GraphFormatError(
                    f"{path}:{lineno}: expected an edge between two nodes; got a self-loop "
                    f"{raw.strip()!r}"
                )
            if not np.isfinite(w):
                raise GraphFormatError(
                    f"{path}:{lineno}: expected a finite weight; got {raw.strip()!r}"
                )
            edges.append((i, j))
            weights.append(w)
        if not edges:
            raise GraphFormatError(f"{path}: expected at least one edge; the file has none")
        edges = np.asarray(edges, np.int64)
        n = int(edges.max()) + 1 if n_nodes is None else n_nodes
        return cls(n, edges, np.asarray(weights))
