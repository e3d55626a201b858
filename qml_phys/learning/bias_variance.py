r"""Empirical bias–variance decomposition over resampled training sets.

For a fixed test input :math:`x` with true value :math:`f(x)` and noisy label
:math:`y = f(x) + \varepsilon`, :math:`\mathrm{Var}\,\varepsilon = \sigma^2`, the expected squared
error of a model :math:`\hat f_D` trained on a random training set :math:`D` splits as
(Geman et al., Neural Comput. 4, 1 (1992); Mehta et al., arXiv:1803.08823, sec. III.B)

.. math:: E_{D,\varepsilon}[(y - \hat f_D(x))^2] =
   \underbrace{(f(x) - E_D \hat f_D(x))^2}_{\text{bias}^2}
   + \underbrace{E_D[(\hat f_D(x) - E_D \hat f_D(x))^2]}_{\text{variance}} + \sigma^2 .

:func:`decompose` estimates each term from the predictions of ``R`` models (training sets
drawn afresh, or bootstrapped from one pool) on ``m`` test inputs; ``bias² + variance`` equals
the mean squared deviation from ``f`` exactly (the sample identity), and the test error on
fresh noisy labels agrees with ``bias² + variance + σ²`` within its statistical error.

:func:`chain_range_study` is the physics task: energies of a periodic Ising chain with
couplings decaying with distance, :math:`E = -\sum_i \sum_{r \ge 1} J_r s_i s_{i+r}`,
:math:`J_r = J\,\kappa^{r-1}`, plus noise, fitted by least squares with the bond features of
every range up to ``R``: small ``R`` misses couplings (bias), large ``R`` fits noise
(variance), and the test error is U-shaped in ``R``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping

import jax
import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_number, check_positive_int
from qml_phys.runtime.results import Result


def decompose(predictions, f_true, noise_var: float, y_test=None) -> dict:
    """Bias², variance and noise from ``predictions`` ``(R, m)`` of ``R`` trained models.

    ``f_true``: ``(m,)`` noiseless targets; ``noise_var``: ``σ²`` of the label noise;
    ``y_test``: optional noisy labels ``(R, m)`` or ``(m,)`` for the empirical test error.
    Returns ``bias2``, ``variance`` (over models, ``ddof=0``), ``noise``, ``expected_error``
    (their sum), ``bias2_corrected`` (``bias2 - variance / (R - 1)``, unbiased for the
    squared bias: the sample mean of ``R`` models has variance ``variance / R`` itself),
    ``mse_to_truth`` (``= bias2 + variance`` exactly) and, with ``y_test``,
    ``test_error`` and its standard error ``test_error_se``.
    """
    pred = np.asarray(predictions, dtype=np.float64)
    f = np.asarray(f_true, dtype=np.float64)
    if pred.ndim != 2 or f.shape != pred.shape[1:]:
        raise ShapeError(
            f"expected predictions (R, m) and f_true (m,); got {pred.shape} and {f.shape}"
        )
    if not (np.isfinite(noise_var) and noise_var >= 0):
        raise InvalidParameterError(f"noise_var: expected a variance >= 0; got {noise_var!r}")
    mean = pred.mean(axis=0)
    out = {
        "bias2": float(np.mean((mean - f) ** 2)),
        "variance": float(np.mean(pred.var(axis=0))),
        "noise": float(noise_var),
        "mse_to_truth": float(np.mean((pred - f) ** 2)),
    }
    # the mean over R models carries variance / R of its own: bias2 overestimates by that
    out["bias2_corrected"] = out["bias2"] - out["variance"] / (pred.shape[0] - 1)
    out["expected_error"] = out["bias2"] + out["variance"] + out["noise"]
    if y_test is not None:
        y = np.broadcast_to(np.asarray(y_test, dtype=np.float64), pred.shape)
        err = (pred - y) ** 2
        per_model = err.mean(axis=1)
        out["test_error"] = float(err.mean())
        # test points are shared between models: the error of the mean over test points
        # is dominated by the spread over points of the per-point mean error
        per_point = err.mean(axis=0)
        out["test_error_se"] = float(
            np.sqrt(per_point.var(ddof=1) / pred.shape[1] + per_model.var(ddof=1) / pred.shape[0])
        )
    return out


def resampled_predictions(
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    draw_train: Callable[[jax.Array], tuple[np.ndarray, np.ndarray]] | None,
    X_test,
    n_rounds: int,
    *,
    key,
    pool: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Predictions ``(n_rounds, m)`` on ``X_test`` of models trained on resampled sets.

    Either ``draw_train(key) -> (X, y)`` draws a fresh training set per round, or ``pool =
    (X, y)`` is bootstrapped (resampled with replacement, same size). ``fit_predict(X, y,
    X_test) -> (m,)`` trains one model and predicts.
    """
    n_rounds = check_positive_int("n_rounds", n_rounds, minimum=2)
    if (draw_train is None) == (pool is None):
        raise InvalidParameterError(
            "give exactly one of draw_train (fresh sets) or pool (bootstrap)"
        )
    preds = []
    for k in jax.random.split(key, n_rounds):
        if pool is not None:
            Xp, yp = pool
            idx = np.asarray(jax.random.randint(k, (len(yp),), 0, len(yp)))
            X, y = Xp[idx], yp[idx]
        else:
            X, y = draw_train(k)
        preds.append(np.asarray(fit_predict(X, y, X_test), dtype=np.float64))
    return np.stack(preds)


def range_features(spins, R: int) -> np.ndarray:
    """Bond features ``s_i s_{i+r}`` of periodic chains for ``r = 1..R``, every site ``i``:
    ``(n, L*R)`` float64 (``R = 0`` gives ``(n, 0)``)."""
    s = np.asarray(spins, dtype=np.float64)
    if s.ndim != 2:
        raise ShapeError(f"spins: expected shape (n, L); got {s.shape}")
    L = s.shape[1]
    if not 0 <= R < L / 2:
        raise InvalidParameterError(
            f"R: expected a range 0 <= R < L/2 = {L / 2} (longer bonds repeat); got {R!r}"
        )
    cols = [s * np.roll(s, -r, axis=1) for r in range(1, R + 1)]
    return np.concatenate(cols, axis=1) if cols else np.zeros((len(s), 0))


def range_couplings(L: int, J: float = 1.0, decay: float = 0.5) -> np.ndarray:
    """``J_r = J decay^(r-1)`` for ``r = 1..ceil(L/2)-1``: ``(R_max,)``."""
    return J * decay ** np.arange(int(np.ceil(L / 2)) - 1)


def range_energy(spins, couplings) -> np.ndarray:
    """``-sum_i sum_r J_r s_i s_{i+r}`` of periodic chains: ``(n,)`` float64."""
    feats = range_features(spins, len(couplings))
    L = np.asarray(spins).shape[1]
    return -feats @ np.repeat(np.asarray(couplings, dtype=np.float64), L)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChainRangeConfig:
    """Settings of :func:`chain_range_study`."""

    L: int = 12
    """Spins of the periodic chain (>= 3)."""
    ranges: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    """Coupling ranges ``R`` of the models (each ``0 <= R <= ceil(L/2) - 1``)."""
    n_train: int = 80
    """Training configurations per round."""
    n_test: int = 2000
    """Test configurations (shared by every round and range)."""
    n_rounds: int = 50
    """Training sets (models) per range (>= 2)."""
    noise_std: float = 1.0
    """Standard deviation of the Gaussian noise on the energies (units of J)."""
    decay: float = 0.5
    """``J_r = decay^(r - 1)``."""
    resample: str = "fresh"
    """fresh: a new training set per round | bootstrap: resample one pool of ``n_train``."""
    lam: float = 0.0
    """Ridge strength (0: least squares)."""

    def __post_init__(self):
        L = check_positive_int("L", self.L, minimum=3)
        for name in ("n_train", "n_test"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("n_rounds", self.n_rounds, minimum=2)
        r_max = int(np.ceil(L / 2)) - 1
        ranges = tuple(self.ranges)
        ok = all(isinstance(R, (int, np.integer)) and 0 <= R <= r_max for R in ranges)
        if not ranges or not ok:
            raise InvalidParameterError(
                f"ranges: expected integers 0 <= R <= {r_max} for L={L}; got {self.ranges!r}"
            )
        object.__setattr__(self, "ranges", tuple(int(R) for R in ranges))
        check_number("noise_std", self.noise_std, minimum=0)
        check_number("decay", self.decay)
        if self.resample not in ("fresh", "bootstrap"):
            raise InvalidParameterError(
                f"resample: expected 'fresh' or 'bootstrap'; got {self.resample!r}"
            )
        check_number("lam", self.lam, minimum=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BiasVarianceResult(Result):
    """The bias–variance decomposition for every model range (:func:`chain_range_study`);
    ``history`` is empty (a scan over ranges, not a run)."""

    ranges: tuple[int, ...]
    couplings: np.ndarray
    """``(R_max,)`` the true ``J_r``."""
    noise_var: float
    """``σ²`` of the label noise."""
    by_range: Mapping[int, Mapping[str, float]]
    """Per ``R``: the :func:`decompose` dict, ``n_parameters`` and ``exact_bias2``."""

    reported = ("couplings", "noise_var")

    def summary(self) -> dict:
        """The ranges, couplings, noise variance and the decomposition per range."""
        return super().summary() | {
            "ranges": list(self.ranges),
            "by_range": {str(R): dict(v) for R, v in self.by_range.items()},
        }


def chain_range_study(
    config: ChainRangeConfig = ChainRangeConfig(), *, key: jax.Array
) -> BiasVarianceResult:
    """Bias–variance of least-squares energy models with couplings up to range ``R``.

    Training sets of ``n_train`` uniform random chains (fresh per round, or bootstrapped
    from one pool with ``resample="bootstrap"``); a model of range ``R`` is OLS on
    :func:`range_features` plus an intercept (ridge with ``lam > 0``; bootstrap duplicates
    can make the design singular, then OLS returns the least-norm fit, silently). Every
    range sees the same test set and the same training sets (common random numbers, on
    purpose: the ranges are compared on identical data). Per ``R``: the :func:`decompose`
    dict, the number of parameters and ``exact_bias2`` (``L sum_{r>R} J_r^2``, the squared
    bias in the limit of infinite training data).
    """
    import warnings

    from qml_phys.learning.regression import SingularDesignWarning, ridge

    t0 = time.perf_counter()
    c = config
    L = c.L
    J = range_couplings(L, decay=c.decay)

    def chains(k, n):
        return 2 * np.asarray(jax.random.bernoulli(k, 0.5, (n, L)), dtype=np.int8) - 1

    k_test, k_noise, k_pool, k_rounds = jax.random.split(key, 4)
    s_test = chains(k_test, c.n_test)
    f_test = range_energy(s_test, J)
    y_test = f_test + c.noise_std * np.asarray(jax.random.normal(k_noise, (c.n_test,)), np.float64)

    def draw(k):
        ks, kn = jax.random.split(k)
        s = chains(ks, c.n_train)
        noise = c.noise_std * np.asarray(jax.random.normal(kn, (c.n_train,)), np.float64)
        return s, range_energy(s, J) + noise

    pool = draw(k_pool) if c.resample == "bootstrap" else None
    by_range = {}
    for R in c.ranges:

        def fit_predict(s, y, s_new, R=R):
            X = np.concatenate([np.ones((len(s), 1)), range_features(s, R)], axis=1)
            Xn = np.concatenate([np.ones((len(s_new), 1)), range_features(s_new, R)], axis=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SingularDesignWarning)
                return Xn @ ridge(X, y, c.lam)

        preds = resampled_predictions(
            fit_predict, None if pool else draw, s_test, c.n_rounds, key=k_rounds, pool=pool
        )
        by_range[R] = {
            **decompose(preds, f_test, c.noise_std**2, y_test),
            "n_parameters": 1 + L * R,
            # the features are orthonormal over uniform spins, so the best model of range R
            # misses exactly the variance of the longer couplings: L sum_{r > R} J_r^2
            "exact_bias2": float(L * np.sum(J[R:] ** 2)),
        }
    return BiasVarianceResult(
        config=c,
        wall_time_s=time.perf_counter() - t0,
        ranges=c.ranges,
        couplings=J,
        noise_var=c.noise_std**2,
        by_range=by_range,
    )
