"""Entropy, cross-entropy, KL and mutual information on distributions with known values."""

import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.learning import information as I


def test_entropy_known_values_and_zero_convention():
    assert I.entropy([0.25] * 4, base=2) == pytest.approx(2.0, abs=1e-15)
    assert I.entropy([1.0, 0.0, 0.0]) == 0.0  # 0 log 0 = 0, no nan
    p = 0.3
    assert I.entropy([p, 1 - p]) == pytest.approx(-p * np.log(p) - (1 - p) * np.log(1 - p))
    np.testing.assert_allclose(I.entropy([[0.5, 0.5], [1.0, 0.0]], base=2), [1.0, 0.0])
    # the entropy of a free spin in a field: Boltzmann p = e^{±βh} / 2cosh(βh)
    bh = 0.7
    ps = np.exp([bh, -bh]) / (2 * np.cosh(bh))
    assert I.entropy(ps) == pytest.approx(np.log(2 * np.cosh(bh)) - bh * np.tanh(bh), abs=1e-14)


def test_kl_and_cross_entropy_with_zeros():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])
    assert I.kl_divergence(p, q) == pytest.approx(np.log(2))  # 0 log(0/q) = 0
    assert I.kl_divergence(q, p) == np.inf  # q > 0 where p = 0
    assert I.cross_entropy(q, p) == np.inf
    assert I.cross_entropy(p, q) == pytest.approx(I.entropy(p) + I.kl_divergence(p, q))
    assert I.kl_divergence(p, p) == 0.0
    # two Bernoulli distributions, closed form
    a, b = 0.2, 0.6
    exact = a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b))
    assert I.kl_divergence([a, 1 - a], [b, 1 - b]) == pytest.approx(exact, rel=1e-14)
    assert I.kl_divergence([a, 1 - a], [b, 1 - b], base=2) == pytest.approx(exact / np.log(2))


def test_mutual_information_of_known_tables():
    assert I.mutual_information(np.outer([0.3, 0.7], [0.1, 0.4, 0.5])) == pytest.approx(
        0, abs=1e-15
    )
    # a perfectly correlated pair of fair bits carries one bit
    assert I.mutual_information([[0.5, 0.0], [0.0, 0.5]], base=2) == pytest.approx(1.0)
    # binary symmetric channel with uniform input: I = ln 2 - H_b(eps)
    eps = 0.1
    joint = 0.5 * np.array([[1 - eps, eps], [eps, 1 - eps]])
    hb = -eps * np.log(eps) - (1 - eps) * np.log(1 - eps)
    assert I.mutual_information(joint) == pytest.approx(np.log(2) - hb, rel=1e-13)
    # I = H(X) + H(Y) - H(X,Y) on a random table
    t = np.random.default_rng(0).random((3, 4))
    t /= t.sum()
    identity = I.entropy(t.sum(1)) + I.entropy(t.sum(0)) - I.entropy(t.ravel())
    assert I.mutual_information(t) == pytest.approx(identity, rel=1e-12)


def test_two_spins_mutual_information_from_enumeration():
    # two coupled Ising spins, p(s1,s2) ∝ exp(K s1 s2): I = ln 2 - H_b((1 + tanh K)/2)
    K = 0.8
    w = np.exp(K * np.array([[1, -1], [-1, 1]]))
    joint = w / w.sum()
    q = (1 + np.tanh(K)) / 2
    assert I.mutual_information(joint) == pytest.approx(
        np.log(2) + q * np.log(q) + (1 - q) * np.log(1 - q), rel=1e-13
    )
    counts = I.empirical_distribution(np.array([0, 1, 1, 3]), 4)
    np.testing.assert_allclose(counts, [0.25, 0.5, 0, 0.25])


def test_bad_distributions_are_named():
    with pytest.raises(
        InvalidParameterError,
        match="p: expected finite, non-negative probabilities; got values \\[-0.5\\]",
    ):
        I.entropy([1.5, -0.5])
    with pytest.raises(
        InvalidParameterError, match="summing to 1 along the last axis; got a sum of 0.9"
    ):
        I.entropy([0.5, 0.4])
    with pytest.raises(
        ShapeError, match=r"expected p and q of the same shape; got \(2,\) and \(3,\)"
    ):
        I.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ShapeError, match="joint: expected a 2D table"):
        I.mutual_information([0.5, 0.5])
    with pytest.raises(InvalidParameterError, match="base: expected a number > 0 other than 1"):
        I.entropy([0.5, 0.5], base=1)
    with pytest.raises(
        InvalidParameterError, match=r"expected integers in \[0, 2\); got range \[0, 2\]"
    ):
        I.empirical_distribution(np.array([0, 2]), 2)
