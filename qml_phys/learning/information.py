r"""Information theory of discrete distributions: entropy, cross-entropy, KL, mutual information.

Conventions (Cover & Thomas, *Elements of Information Theory*, 2nd ed., ch. 2; Mehta et al.,
arXiv:1803.08823, sec. III): natural logarithms (nats) unless ``base`` is given;
``0 log 0 = 0`` and ``0 log (0 / q) = 0``; ``p log (p / 0) = +inf`` for ``p > 0``, so
``KL(p || q) = inf`` and ``H(p, q) = inf`` when ``q`` vanishes where ``p`` does not.

Distributions are arrays whose last axis is the outcome axis (leading axes are batches);
entries must be finite, non-negative and sum to one along the last axis (to ``atol``).
These are numpy functions for analysis and tests; inside JAX losses use
``optax.softmax_cross_entropy`` and friends.
"""

from __future__ import annotations

import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError

_ATOL = 1e-8


def _distribution(p, name: str, atol: float = _ATOL, axis=-1) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 0 or p.size == 0:
        raise ShapeError(
            f"{name}: expected a non-empty array of probabilities; got shape {p.shape}"
        )
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        bad = p[~(np.isfinite(p) & (p >= 0))].ravel()[:3]
        raise InvalidParameterError(
            f"{name}: expected finite, non-negative probabilities; got values {bad.tolist()}"
        )
    total = p.sum(axis=axis)
    if not np.allclose(total, 1.0, rtol=0, atol=atol):
        worst = float(np.ravel(total)[np.argmax(np.abs(np.ravel(total) - 1))])
        raise InvalidParameterError(
            f"{name}: expected probabilities summing to 1 along the last axis; got a sum of "
            f"{worst:.12g} (normalise with p / p.sum(-1, keepdims=True))"
        )
    return p


def _log(base: float | None):
    if base is None:
        return 1.0
    if not (np.isfinite(base) and base > 0 and base != 1):
        raise InvalidParameterError(f"base: expected a number > 0 other than 1; got {base!r}")
    return float(np.log(base))


def _pair(p, q, atol):
    p = _distribution(p, "p", atol)
    q = _distribution(q, "q", atol)
    if p.shape != q.shape:
        raise ShapeError(f"expected p and q of the same shape; got {p.shape} and {q.shape}")
    return p, q


def entropy(p, *, base: float | None = None, atol: float = _ATOL) -> np.ndarray:
    r"""Shannon entropy :math:`H(p) = -\sum_x p(x) \log p(x)` with :math:`0 \log 0 = 0`.

    ``p``: ``(..., n)``; returns ``(...)`` in nats (or in units of ``log base``).
    """
    p = _distribution(p, "p", atol)
    safe = np.where(p > 0, p, 1.0)
    return -np.sum(np.where(p > 0, p * np.log(safe), 0.0), axis=-1) / _log(base)


def cross_entropy(p, q, *, base: float | None = None, atol: float = _ATOL) -> np.ndarray:
    r"""Cross-entropy :math:`H(p, q) = -\sum_x p(x) \log q(x) = H(p) + KL(p\|q)`.

    Terms with ``p(x) = 0`` contribute 0; ``q(x) = 0`` where ``p(x) > 0`` gives ``inf``.
    """
    p, q = _pair(p, q, atol)
    with np.errstate(divide="ignore"):
        logq = np.log(q)
    terms = np.where(p > 0, -p * np.where(p > 0, logq, 0.0), 0.0)
    return np.sum(terms, axis=-1) / _log(base)


def kl_divergence(p, q, *, base: float | None = None, atol: float = _ATOL) -> np.ndarray:
    r"""Kullback–Leibler divergence :math:`KL(p\|q) = \sum_x p(x) \log (p(x) / q(x)) \ge 0`.

    ``0 log(0/q) = 0``; ``p log(p/0) = inf`` for ``p > 0``. Not symmetric in ``p, q``.
    """
    p, q = _pair(p, q, atol)
    pos = p > 0
    inf = np.any(pos & (q == 0), axis=-1)
    ratio = np.where(pos & (q > 0), p / np.where(q > 0, q, 1.0), 1.0)
    kl = np.sum(np.where(pos, p * np.log(ratio), 0.0), axis=-1)
    # round-off can make a vanishing KL slightly negative; it is >= 0 by Gibbs' inequality
    kl = np.maximum(kl, 0.0)
    return np.where(inf, np.inf, kl) / _log(base)


def mutual_information(joint, *, base: float | None = None, atol: float = _ATOL) -> float:
    r""":math:`I(X;Y) = \sum_{x,y} p(x,y) \log \frac{p(x,y)}{p(x)p(y)} = KL(p_{XY} \| p_X p_Y)`.

    ``joint``: ``(n_x, n_y)`` table of probabilities summing to one (a table of counts is
    accepted after ``joint / joint.sum()``). Equals ``H(X) + H(Y) - H(X, Y)``.
    """
    joint = np.asarray(joint, dtype=np.float64)
    if joint.ndim != 2:
        raise ShapeError(f"joint: expected a 2D table p(x, y); got shape {joint.shape}")
    joint = _distribution(joint.ravel(), "joint", atol).reshape(joint.shape)
    product = np.outer(joint.sum(1), joint.sum(0))
    return float(kl_divergence(joint.ravel(), product.ravel(), base=base, atol=atol))


def empirical_distribution(samples, n_outcomes: int) -> np.ndarray:
    """Normalised histogram of integer ``samples`` in ``[0, n_outcomes)``: ``(n_outcomes,)``."""
    samples = np.asarray(samples)
    if samples.size == 0 or not np.issubdtype(samples.dtype, np.integer):
        raise ShapeError(
            f"samples: expected a non-empty integer array; got dtype {samples.dtype}, "
            f"size {samples.size}"
        )
    if samples.min() < 0 or samples.max() >= n_outcomes:
        raise InvalidParameterError(
            f"samples: expected integers in [0, {n_outcomes}); got range "
            f"[{samples.min()}, {samples.max()}]"
        )
    return np.bincount(samples.ravel(), minlength=n_outcomes) / samples.size
