"""Random regular graphs: simple, regular, reproducible from a key, and uniform."""

import itertools
import math

import jax
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError
from qml_phys.physics.graphs import random_regular_graph

SEED = 5


def test_random_regular_graphs_are_simple_regular_and_keyed():
    key = jax.random.key(SEED)
    for i, (n, d) in enumerate([(10, 3), (14, 3), (9, 4), (12, 5), (6, 0)]):
        g = random_regular_graph(n, d, key=jax.random.fold_in(key, i))
        assert g.n_nodes == n and g.n_edges == n * d // 2
        np.testing.assert_array_equal(np.bincount(g.edges.ravel(), minlength=n), d)
        assert np.all(g.edges[:, 0] < g.edges[:, 1])
        assert len({tuple(e) for e in g.edges}) == g.n_edges
        np.testing.assert_array_equal(g.weights, 1.0)
    k1, k2 = jax.random.split(key)
    a, b = random_regular_graph(12, 3, key=k1), random_regular_graph(12, 3, key=k1)
    np.testing.assert_array_equal(a.edges, b.edges)
    assert not np.array_equal(a.edges, random_regular_graph(12, 3, key=k2).edges)


def test_random_regular_graphs_are_uniform():
    """On 6 nodes there are 70 labelled 3-regular graphs (OEIS A002829; counted here among
    the 9-edge subsets of K6), all equally likely under the pairing model with rejection
    (each simple graph comes from (3!)^6 pairings). 3500 draws (50 per graph): the
    chi-square statistic of the counts must stay below the 99.9% quantile of chi2(69),
    111.1 -- a generator that favoured half of the graphs by a factor 1.5 (60 against 40
    expected draws) would give about 69 + 140."""
    pairs = list(itertools.combinations(range(6), 2))
    regular = {
        frozenset(c)
        for c in itertools.combinations(pairs, 9)
        if np.all(np.bincount(np.array(c).ravel(), minlength=6) == 3)
    }
    assert len(regular) == 70
    counts = dict.fromkeys(regular, 0)
    for k in jax.random.split(jax.random.key(SEED), 3500):
        counts[frozenset(map(tuple, random_regular_graph(6, 3, key=k).edges.tolist()))] += 1
    observed = np.array(list(counts.values()))
    expected = 3500 / 70
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert chi2 < 111.1, chi2
    assert observed.min() > 0


def test_impossible_degrees_are_rejected():
    key = jax.random.key(SEED)
    with pytest.raises(InvalidParameterError, match=r"n \* d even.*got n=7, d=3"):
        random_regular_graph(7, 3, key=key)
    with pytest.raises(InvalidParameterError, match=r"d < n.*got n=4, d=4"):
        random_regular_graph(4, 4, key=key)
    with pytest.raises(InvalidParameterError, match=r"max_tries must be an integer >= 1; got 0"):
        random_regular_graph(6, 3, key=key, max_tries=0)


def test_giving_up_is_named():
    """d = 9 on 12 nodes: acceptance ~ exp(-(d^2 - 1)/4) = 2e-9, so 5 tries fail."""
    assert math.exp(-(81 - 1) / 4) < 1e-8
    with pytest.raises(InvalidParameterError, match=r"no simple 9-regular graph found in 5 tries"):
        random_regular_graph(12, 9, key=jax.random.key(SEED), max_tries=5)
