r"""Learning a Hamiltonian by linear regression: OLS, ridge, LASSO and Bayesian ridge.

The task (Mehta et al., Phys. Rep. 810, 1 (2019), arXiv:1803.08823, sec. VI and notebook 2):
configurations ``s`` of a periodic 1D Ising chain of ``L`` spins drawn uniformly from
:math:`\{-1,+1\}^L` with energies :math:`E(s) = -J \sum_i s_i s_{i+1}` (plus optional Gaussian
noise of standard deviation ``noise_std``). The model is linear in the ``L²`` pair features
:math:`x_{ij} = s_i s_j`,

.. math:: E(s) \approx \sum_{i,j} W_{ij} s_i s_j .

**Identifiability.** ``s_i s_j = s_j s_i`` and ``s_i s_i = 1``, so only the effective couplings
:math:`K_{ij} = W_{ij} + W_{ji}` (``i ≠ j``) and the offset :math:`c = \sum_i W_{ii}` enter the
energy: ``W`` is determined only up to moving weight between ``W_ij`` and ``W_ji``. The
design matrix of the ``"full"`` features is therefore always rank-deficient; OLS returns
the least-norm solution (``W_ij = W_ji = K_ij / 2``, what Mehta's Fig. 12 shows for OLS and
ridge), and every result here is reported as :func:`effective_couplings` ``K`` — for the
chain, ``K_{i,i+1} = -J`` and every other ``K_ij = 0``. (The LASSO objective is flat
along ``W_ij + W_ji = const`` with equal signs, too; FISTA started from zero keeps identical
columns identical and returns the symmetric split, where scikit-learn's coordinate descent,
used by Mehta, puts the whole coupling on one of the two.) The ``"pairs"`` features (``i < j``,
no diagonal) are identifiable and fit ``K`` directly.

**Objectives** (per-sample scaling, so ``lam`` does not grow with the number of samples):

* OLS: minimise :math:`\|y - Xw\|^2`; least-norm solution via the pseudo-inverse.
* ridge: :math:`\frac1n\|y - Xw\|^2 + \lambda \|w\|_2^2`, i.e.
  :math:`w = (X^TX + n\lambda)^{-1}X^Ty`.
* LASSO: :math:`\frac1{2n}\|y - Xw\|^2 + \lambda \|w\|_1` (scikit-learn's scaling), solved by
  FISTA with adaptive restart (Beck & Teboulle, SIAM J. Imaging Sci. 2, 183 (2009);
  O'Donoghue & Candès, arXiv:1204.3982) in JAX, float64; optimality is checked by the KKT
  conditions (:func:`lasso_kkt_violation`).
* Bayesian ridge: noise model :math:`y = Xw + \varepsilon`, :math:`\varepsilon \sim
  N(0, \sigma^2 I)`, prior :math:`w \sim N(0, \tau^2 I)`; the posterior is Gaussian with
  :math:`\Sigma = (X^TX/\sigma^2 + I/\tau^2)^{-1}` and mean :math:`\Sigma X^Ty/\sigma^2`, which
  is the ridge solution with :math:`n\lambda = \sigma^2/\tau^2` (Bishop, *PRML*, sec. 3.3).
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    UnknownNameError,
    check_name,
    check_number,
    check_positive_int,
)
from qml_phys.runtime.precision import float64
from qml_phys.runtime.results import Result

METHODS = ("ols", "ridge", "lasso")
FEATURES = ("full", "pairs")


class SingularDesignWarning(UserWarning):
    """The design matrix is rank-deficient; a least-norm solution was returned."""


class ChainData(NamedTuple):
    """Random configurations of a periodic Ising chain and their energies.

    Attributes:
        spins: ``(n, L)`` int8 in {-1, +1}, uniform and independent.
        energy: ``(n,)`` float64, ``-J sum_i s_i s_{i+1}`` (+ noise), units of J.
        J: the nearest-neighbour coupling.
        noise_std: standard deviation of the Gaussian noise added to the energies.
    """

    spins: np.ndarray
    energy: np.ndarray
    J: float
    noise_std: float


def chain_energy(spins, J: float = 1.0) -> np.ndarray:
    """``-J sum_i s_i s_{i+1}`` of periodic chains ``spins`` ``(n, L)``: ``(n,)`` float64."""
    s = np.asarray(spins, dtype=np.float64)
    if s.ndim != 2:
        raise ShapeError(f"spins: expected shape (n_samples, L); got {s.shape}")
    return -J * np.sum(s * np.roll(s, -1, axis=1), axis=1)


def ising_chain_data(
    L: int, n_samples: int, *, key, J: float = 1.0, noise_std: float = 0.0
) -> ChainData:
    """``n_samples`` uniform random configurations of the periodic ``L``-spin chain.

    ``key``: a JAX PRNG key (spins and noise are drawn from it).
    """
    L = check_positive_int("L", L, minimum=3)
    n_samples = check_positive_int("n_samples", n_samples)
    check_number("noise_std", noise_std, minimum=0)
    k_spin, k_noise = jax.random.split(key)
    bits = np.asarray(jax.random.bernoulli(k_spin, 0.5, (n_samples, L)))
    spins = (2 * bits.astype(np.int8) - 1).astype(np.int8)
    energy = chain_energy(spins, J)
    if noise_std > 0:
        energy = energy + noise_std * np.asarray(
            jax.random.normal(k_noise, (n_samples,)), dtype=np.float64
        )
    return ChainData(spins, energy, float(J), float(noise_std))


def pair_features(spins, kind: str = "full") -> np.ndarray:
    """Pair features of ``spins`` ``(n, L)``: ``(n, L*L)`` for ``"full"`` (``s_i s_j``, index
    ``i*L + j``, Mehta's choice) or ``(n, L(L-1)/2)`` for ``"pairs"`` (``i < j``, row-major)."""
    s = np.asarray(spins, dtype=np.float64)
    if s.ndim != 2:
        raise ShapeError(f"spins: expected shape (n_samples, L); got {s.shape}")
    if kind not in FEATURES:
        raise UnknownNameError(f"features: expected one of {FEATURES}; got {kind!r}")
    outer = np.einsum("ni,nj->nij", s, s)
    if kind == "full":
        return outer.reshape(s.shape[0], -1)
    i, j = np.triu_indices(s.shape[1], k=1)
    return outer[:, i, j]


def effective_couplings(w, L: int, kind: str = "full") -> tuple[np.ndarray, float]:
    """The identifiable couplings of a fitted weight vector: ``(K, offset)``.

    ``K``: ``(L, L)`` symmetric, zero diagonal, with ``E = sum_{i<j} K_ij s_i s_j + offset``;
    ``K_ij = W_ij + W_ji`` for ``"full"`` weights, ``offset = trace W`` (0 for ``"pairs"``).
    """
    w = np.asarray(w, dtype=np.float64)
    if kind == "full":
        if w.shape != (L * L,):
            raise ShapeError(f"w: expected shape ({L * L},) for L={L} full features; got {w.shape}")
        W = w.reshape(L, L)
        K = W + W.T
        offset = float(np.trace(W))
        np.fill_diagonal(K, 0.0)
        return K, offset
    if kind == "pairs":
        n = L * (L - 1) // 2
        if w.shape != (n,):
            raise ShapeError(f"w: expected shape ({n},) for L={L} pair features; got {w.shape}")
        K = np.zeros((L, L))
        i, j = np.triu_indices(L, k=1)
        K[i, j] = w
        return K + K.T, 0.0
    raise UnknownNameError(f"features: expected one of {FEATURES}; got {kind!r}")


def coupling_map(L: int, kind: str = "full") -> np.ndarray:
    """The linear map ``A`` ``(L(L-1)/2, p)`` from weights to the upper-triangle ``K_ij``."""
    i, j = np.triu_indices(L, k=1)
    if kind == "pairs":
        return np.eye(len(i))
    A = np.zeros((len(i), L * L))
    A[np.arange(len(i)), i * L + j] = 1.0
    A[np.arange(len(i)), j * L + i] = 1.0
    return A


def chain_couplings(L: int, J: float = 1.0) -> np.ndarray:
    """The true effective couplings of the periodic chain: ``K_{i,i±1} = -J``, ``(L, L)``."""
    K = np.zeros((L, L))
    idx = np.arange(L)
    K[idx, (idx + 1) % L] = -J
    K[(idx + 1) % L, idx] = -J
    return K


def coupling_errors(K, K_true, offset: float = 0.0) -> dict:
    """How well ``K`` recovers ``K_true`` (both ``(L, L)``; only ``i < j`` counts).

    ``max_off_structure``: max ``|K_ij|`` where ``K_true_ij = 0``; ``max_structure_error``:
    max ``|K_ij - K_true_ij|`` where ``K_true_ij ≠ 0``; ``n_zero_off_structure``: entries off
    the structure that are exactly 0 (sparsity); ``offset``: the fitted constant.
    """
    K, K_true = np.asarray(K), np.asarray(K_true)
    if K.shape != K_true.shape or K.ndim != 2:
        raise ShapeError(f"expected two (L, L) coupling matrices; got {K.shape} and {K_true.shape}")
    i, j = np.triu_indices(K.shape[0], k=1)
    k, t = K[i, j], K_true[i, j]
    on = t != 0
    return {
        "max_off_structure": float(np.max(np.abs(k[~on]))) if np.any(~on) else 0.0,
        "max_structure_error": float(np.max(np.abs(k[on] - t[on]))) if np.any(on) else 0.0,
        "n_zero_off_structure": int(np.sum(k[~on] == 0.0)),
        "n_off_structure": int(np.sum(~on)),
        "offset": float(offset),
    }


# --------------------------------------------------------------------------- estimators
def _design(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise ShapeError(f"X: expected a 2D design matrix (n_samples, n_features); got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ShapeError(f"y: expected shape ({X.shape[0]},) to match X {X.shape}; got {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise InvalidParameterError("X, y: expected finite values; got NaN or inf")
    return X, y


def _lam(lam) -> float:
    try:
        value = float(lam)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise InvalidParameterError(
            f"lam: expected a finite regularisation strength >= 0; got {lam!r}"
        )
    return value


def ols(X, y, *, rcond: float | None = None) -> np.ndarray:
    """Least-squares weights ``(p,)``; the least-norm solution (with a
    :class:`SingularDesignWarning`) when ``X`` is rank-deficient."""
    X, y = _design(X, y)
    w, _, rank, _ = np.linalg.lstsq(X, y, rcond=rcond)
    if rank < X.shape[1]:
        warnings.warn(
            f"the design matrix {X.shape} has rank {rank} < {X.shape[1]} features; returned "
            "the least-norm solution (for s_i s_j features, W_ij and W_ji are not separately "
            "identifiable: read effective_couplings)",
            SingularDesignWarning,
            stacklevel=2,
        )
    return w


def ridge(X, y, lam: float) -> np.ndarray:
    """Ridge weights ``(X^T X + n lam I)^{-1} X^T y`` (minimiser of ``|r|^2/n + lam |w|^2``).

    ``lam = 0`` is OLS (least norm if singular, with a warning).
    """
    X, y = _design(X, y)
    lam = _lam(lam)
    if lam == 0:
        return ols(X, y)
    n, p = X.shape
    if p <= n:
        return np.linalg.solve(X.T @ X + n * lam * np.eye(p), X.T @ y)
    # dual form, cheaper when p > n: w = X^T (X X^T + n lam)^-1 y
    return X.T @ np.linalg.solve(X @ X.T + n * lam * np.eye(n), y)


def lasso_objective(X, y, w, lam: float) -> float:
    """``|y - X w|^2 / (2n) + lam |w|_1``."""
    X, y = _design(X, y)
    r = y - X @ np.asarray(w, dtype=np.float64)
    return float(r @ r / (2 * len(y)) + lam * np.sum(np.abs(w)))


def lasso_kkt_violation(X, y, w, lam: float) -> float:
    """Largest violation of the LASSO optimality (KKT) conditions at ``w``.

    With ``g = X^T (X w - y) / n``: ``g_j = -lam sign(w_j)`` where ``w_j ≠ 0`` and
    ``|g_j| <= lam`` where ``w_j = 0``. Returns the max over ``j`` of the violation (0 at
    the exact minimiser).
    """
    X, y = _design(X, y)
    w = np.asarray(w, dtype=np.float64)
    g = X.T @ (X @ w - y) / len(y)
    nz = w != 0
    v = np.where(nz, np.abs(g + lam * np.sign(w)), np.maximum(np.abs(g) - lam, 0.0))
    return float(v.max())


def lasso(X, y, lam: float, *, tol: float = 1e-10, max_iter: int = 20000, w0=None) -> np.ndarray:
    """LASSO weights by FISTA with adaptive restart, in JAX at float64.

    Minimises ``|y - X w|^2 / (2n) + lam |w|_1``; stops when no weight moves by more than
    ``tol`` (relative to ``max |w|``) in one step, or after ``max_iter`` steps. Exact zeros
    come from the soft-threshold. Check with :func:`lasso_kkt_violation`.
    """
    X, y = _design(X, y)
    lam = _lam(lam)
    max_iter = check_positive_int("max_iter", max_iter)
    with float64():
        Xj, yj = jnp.asarray(X), jnp.asarray(y)
        start = jnp.zeros(X.shape[1]) if w0 is None else jnp.asarray(w0, dtype=jnp.float64)
        w_final, _ = _fista(Xj, yj, start, jnp.float64(lam), jnp.float64(tol), jnp.int64(max_iter))
        return np.asarray(w_final)


@jax.jit
def _fista(X, y, w0, lam, tol, max_iter):
    n = X.shape[0]
    # Lipschitz constant of the smooth part: top eigenvalue of X^T X / n, by power iteration
    # (an underestimate, hence the 10% margin)

    def power(_, v):
        u = X.T @ (X @ v)
        return u / jnp.linalg.norm(u)

    v = jax.lax.fori_loop(0, 100, power, jnp.ones(X.shape[1], X.dtype) / jnp.sqrt(X.shape[1]))
    lip = jnp.vdot(v, X.T @ (X @ v)) / n
    step = 1.0 / (1.1 * lip + 1e-300)

    def prox(v):
        return jnp.sign(v) * jnp.maximum(jnp.abs(v) - step * lam, 0.0)

    def cond(c):
        _, _, _, it, delta = c
        return (it < max_iter) & (delta > tol)

    def body(c):
        w, z, t, it, _ = c
        grad = X.T @ (X @ z - y) / n
        w_new = prox(z - step * grad)
        t_new = (1.0 + jnp.sqrt(1.0 + 4.0 * t * t)) / 2.0
        # adaptive restart: drop the momentum when it points uphill
        restart = jnp.vdot(z - w_new, w_new - w) > 0
        t_new = jnp.where(restart, 1.0, t_new)
        mom = jnp.where(restart, 0.0, (t - 1.0) / t_new)
        z_new = w_new + mom * (w_new - w)
        scale = jnp.maximum(jnp.max(jnp.abs(w_new)), 1.0)
        delta = jnp.max(jnp.abs(w_new - w)) / scale
        return w_new, z_new, t_new, it + 1, delta

    init = (
        w0,
        w0,
        jnp.ones((), X.dtype),
        jnp.zeros((), max_iter.dtype),
        jnp.full((), jnp.inf, X.dtype),
    )
    w, _, _, it, _ = jax.lax.while_loop(cond, body, init)
    return w, it


def fit_linear(X, y, method: str, lam: float = 0.0, **kwargs) -> np.ndarray:
    """Dispatch to :func:`ols`, :func:`ridge` or :func:`lasso` by ``method`` name."""
    if method == "ols":
        return ols(X, y)
    if method == "ridge":
        return ridge(X, y, lam)
    if method == "lasso":
        return lasso(X, y, lam, **kwargs)
    raise UnknownNameError(f"method: expected one of {', '.join(METHODS)}; got {method!r}")


def r2_score(y, y_pred) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (1 is perfect; can be < 0)."""
    y = np.asarray(y, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y.shape != y_pred.shape or y.ndim != 1:
        raise ShapeError(f"expected y and y_pred of one shape (n,); got {y.shape}, {y_pred.shape}")
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    ss_res = float(np.sum((y - y_pred) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else -math.inf)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RegularisationPath(Result):
    """Fits along a regularisation path (:func:`regularisation_path`); ``config`` is
    ``{"method": ..., "lams": [...]}`` and ``history`` is empty (the path is not a run)."""

    lam: np.ndarray
    """``(m,)`` regularisation strengths, in the order given."""
    train_r2: np.ndarray
    """``(m,)`` R² on the training set."""
    test_r2: np.ndarray
    """``(m,)`` R² on the test set."""
    weights: np.ndarray
    """``(m, p)`` fitted weights."""

    reported = ("lam", "train_r2", "test_r2")

    def summary(self) -> dict:
        """The strengths, R² curves and the number of non-zero weights at each strength."""
        return super().summary() | {
            "n_nonzero": (self.weights != 0).sum(axis=1),
        }


def regularisation_path(X_train, y_train, X_test, y_test, lams, method: str) -> RegularisationPath:
    """Train and test R² and weights for each ``lam`` in ``lams`` (``"ridge"`` or ``"lasso"``).

    LASSO warm-starts from the previous (larger) ``lam``, so give ``lams`` in decreasing
    order for speed.
    """
    t0 = time.perf_counter()
    if method not in ("ridge", "lasso"):
        raise UnknownNameError(f"method: expected 'ridge' or 'lasso'; got {method!r}")
    lams = [_lam(v) for v in np.atleast_1d(lams)]
    out = {"train_r2": [], "test_r2": [], "weights": []}
    w = None
    for lam in lams:
        w = (
            lasso(X_train, y_train, lam, w0=w)
            if method == "lasso"
            else ridge(X_train, y_train, lam)
        )
        out["weights"].append(w)
        out["train_r2"].append(r2_score(y_train, X_train @ w))
        out["test_r2"].append(r2_score(y_test, X_test @ w))
    return RegularisationPath(
        config={"method": method, "lams": lams},
        wall_time_s=time.perf_counter() - t0,
        lam=np.asarray(lams),
        **{k: np.asarray(v) for k, v in out.items()},
    )


# --------------------------------------------------------------------------- Bayesian ridge
class Posterior(NamedTuple):
    """Gaussian posterior ``N(mean, cov)`` of linear-regression weights."""

    mean: np.ndarray
    """``(p,)``"""
    cov: np.ndarray
    """``(p, p)``"""
    noise_var: float
    prior_var: float


def bayesian_ridge(X, y, *, noise_var: float, prior_var: float) -> Posterior:
    r"""Posterior of ``w`` for ``y = X w + N(0, noise_var)`` and prior ``w ~ N(0, prior_var I)``.

    :math:`\Sigma = (X^TX/\sigma^2 + I/\tau^2)^{-1}`, mean :math:`\Sigma X^T y / \sigma^2` = the
    :func:`ridge` solution with ``lam = noise_var / (n prior_var)``.
    """
    X, y = _design(X, y)
    for name, v in (("noise_var", noise_var), ("prior_var", prior_var)):
        if not (math.isfinite(v) and v > 0):
            raise InvalidParameterError(f"{name}: expected a finite variance > 0; got {v!r}")
    p = X.shape[1]
    precision = X.T @ X / noise_var + np.eye(p) / prior_var
    chol = np.linalg.cholesky(precision)
    inv_chol = np.linalg.solve(chol, np.eye(p))
    cov = inv_chol.T @ inv_chol
    mean = cov @ (X.T @ y) / noise_var
    return Posterior(mean, cov, float(noise_var), float(prior_var))


def credible_intervals(posterior: Posterior, level: float = 0.95, transform=None):
    """Equal-tailed credible intervals ``(lower, upper)`` of ``transform @ w`` (default ``w``).

    ``transform``: ``(m, p)`` linear map, e.g. :func:`coupling_map` for the couplings
    ``K_ij``; marginals of a Gaussian posterior are Gaussian, so the interval is
    ``mean ± z sd`` with ``z`` the ``(1 + level) / 2`` normal quantile.
    """
    from scipy.stats import norm

    if not 0 < level < 1:
        raise InvalidParameterError(f"level: expected 0 < level < 1; got {level!r}")
    mean, cov = posterior.mean, posterior.cov
    if transform is not None:
        A = np.asarray(transform, dtype=np.float64)
        if A.ndim != 2 or A.shape[1] != len(mean):
            raise ShapeError(f"transform: expected shape (m, {len(mean)}); got {A.shape}")
        mean, var = A @ mean, np.einsum("ij,jk,ik->i", A, cov, A)
    else:
        var = np.diag(cov)
    half = norm.ppf(0.5 + level / 2) * np.sqrt(np.maximum(var, 0.0))
    return mean - half, mean + half


# --------------------------------------------------------------------------- the experiment
def split(n: int, test_fraction: float, *, key: jax.Array) -> tuple[np.ndarray, np.ndarray]:
    """A random train/test index split of ``n`` examples: ``(train, test)`` index arrays,
    ``round(test_fraction * n)`` of them in the test set; ``key`` draws the permutation."""
    if not 0 < test_fraction < 1:
        raise InvalidParameterError(f"test_fraction: expected 0 < f < 1; got {test_fraction!r}")
    n_test = int(round(test_fraction * n))
    if not 0 < n_test < n:
        raise InvalidParameterError(
            f"test_fraction={test_fraction} of {n} samples leaves an empty train or test set"
        )
    perm = np.asarray(jax.random.permutation(key, n))
    return perm[n_test:], perm[:n_test]


@dataclasses.dataclass(frozen=True, kw_only=True)
class HamiltonianConfig:
    """Settings of :func:`learn_hamiltonian`."""

    L: int = 40
    """Spins of the periodic chain (>= 3)."""
    n_samples: int = 2000
    """Random configurations, split into training and test sets (>= 2)."""
    method: str = "lasso"
    """ols | ridge | lasso"""
    lam: float = 0.01
    """Regularisation strength (>= 0; ignored by OLS)."""
    J: float = 1.0
    """The true nearest-neighbour coupling."""
    noise_std: float = 0.0
    """Standard deviation of Gaussian noise added to the energies (units of J)."""
    test_fraction: float = 0.3
    """Fraction of the configurations held out for the test R²."""
    features: str = "full"
    """full: all ``L²`` products ``s_i s_j`` (Mehta); pairs: ``i < j`` only (identifiable)."""

    def __post_init__(self):
        check_positive_int("L", self.L, minimum=3)
        check_positive_int("n_samples", self.n_samples, minimum=2)
        check_name("method", self.method, METHODS)
        _lam(self.lam)
        if not math.isfinite(self.J):
            raise InvalidParameterError(f"J: expected a finite coupling; got {self.J!r}")
        check_number("noise_std", self.noise_std, minimum=0)
        if not 0 < self.test_fraction < 1:
            raise InvalidParameterError(
                f"test_fraction: expected 0 < f < 1; got {self.test_fraction!r}"
            )
        if self.features not in FEATURES:
            raise UnknownNameError(f"features: expected one of {FEATURES}; got {self.features!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class HamiltonianResult(Result):
    """The couplings learned from a chain's energies (:func:`learn_hamiltonian`); the
    fields of :func:`coupling_errors` are attributes. ``history`` is empty."""

    K: np.ndarray
    """``(L, L)`` fitted effective couplings (symmetric, zero diagonal)."""
    weights: np.ndarray
    """``(n_features,)`` fitted weights."""
    n_train: int
    n_test: int
    n_features: int
    least_norm: bool
    """The design was rank-deficient and OLS returned the least-norm solution."""
    train_r2: float
    test_r2: float
    max_off_structure: float
    max_structure_error: float
    n_zero_off_structure: int
    n_off_structure: int
    offset: float
    kkt_violation: float | None = None
    """LASSO's largest KKT violation at the solution (``None`` for OLS and ridge)."""

    @property
    def nearest_neighbour(self) -> np.ndarray:
        """``(L,)`` the fitted ``K_{i,i+1}`` (the truth is ``-J``)."""
        L = self.K.shape[0]
        return self.K[np.arange(L), (np.arange(L) + 1) % L]

    reported = (
        "n_train",
        "n_test",
        "n_features",
        "least_norm",
        "train_r2",
        "test_r2",
        "max_off_structure",
        "max_structure_error",
        "n_zero_off_structure",
        "n_off_structure",
        "offset",
        "kkt_violation",
    )

    def summary(self) -> dict:
        """What ``qml-phys learn hamiltonian --json`` prints: the setting, R², the coupling
        errors, ``nearest_neighbour_mean``, ``kkt_violation`` (null unless LASSO) and
        ``ok`` (a finite test R²)."""
        c = self.config
        return super().summary() | {
            "L": c.L,
            "method": c.method,
            "lam": c.lam if c.method != "ols" else 0.0,
            "features": c.features,
            "nearest_neighbour_mean": float(np.mean(self.nearest_neighbour)),
            "J": c.J,
            "ok": bool(np.isfinite(self.test_r2)),
        }


def learn_hamiltonian(
    config: HamiltonianConfig = HamiltonianConfig(), *, key: jax.Array
) -> HamiltonianResult:
    """Fit the chain's couplings from ``config.n_samples`` random configurations (drawn
    from ``key``, as is the train/test split) and report how well they are recovered."""
    t0 = time.perf_counter()
    c = config
    k_data, k_split = jax.random.split(key)
    data = ising_chain_data(c.L, c.n_samples, key=k_data, J=c.J, noise_std=c.noise_std)
    X = pair_features(data.spins, c.features)
    train, test = split(c.n_samples, c.test_fraction, key=k_split)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SingularDesignWarning)
        w = fit_linear(X[train], data.energy[train], c.method, c.lam)
    K, offset = effective_couplings(w, c.L, c.features)
    kkt = None
    if c.method == "lasso":
        kkt = lasso_kkt_violation(X[train], data.energy[train], w, c.lam)
    return HamiltonianResult(
        config=c,
        wall_time_s=time.perf_counter() - t0,
        K=K,
        weights=w,
        n_train=len(train),
        n_test=len(test),
        n_features=X.shape[1],
        least_norm=any(issubclass(w_.category, SingularDesignWarning) for w_ in caught),
        train_r2=r2_score(data.energy[train], X[train] @ w),
        test_r2=r2_score(data.energy[test], X[test] @ w),
        kkt_violation=kkt,
        **coupling_errors(K, chain_couplings(c.L, c.J), offset),
    )
