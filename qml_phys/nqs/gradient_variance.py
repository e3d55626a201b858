r"""Trainability of neural quantum states, measured like barren plateaus of circuits.

The variance, over random initialisations of an RBM (G. Carleo and M. Troyer, Science 355,
602 (2017), arXiv:1606.02318), of the components of the VMC energy gradient
:math:`\partial_k E = 2\,\mathrm{Re}\,\mathrm{Cov}(O_k^*, E_\mathrm{loc})` for the periodic
transverse-field Ising chain, computed *exactly* by full summation over the Hilbert space
(NetKet's :class:`netket.vqs.FullSumState`, so no Monte Carlo noise), for ``N <= 16``
(``N <= 12`` in the tour). The same bootstrap statistics as the circuit study
(:mod:`qml_phys.stats`) put both on one plot: circuit gradients with
random angles vanish exponentially in ``n``, RBM gradients at random initialisation do not.

Parameters are real (the TFIM ground state is positive); weights and biases are drawn
from :math:`N(0, \sigma^2)` with ``init_std`` :math:`= \sigma`. Every NetKet computation
runs under :func:`qml_phys.runtime.precision.float64`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from qml_phys.errors import TooLargeError, check_number, check_positive_int
from qml_phys.runtime.precision import float64
from qml_phys.runtime.results import Result

__all__ = [
    "MAX_SITES",
    "GradientEnsemble",
    "GradientVarianceScan",
    "RBMEnsembleConfig",
    "rbm_gradient_ensemble",
    "rbm_variance_scan",
]

#: Largest chain treated by full summation.
MAX_SITES = 16


@dataclasses.dataclass(frozen=True)
class RBMEnsembleConfig:
    """The model and the random RBMs whose exact energy gradients are measured."""

    h: float = 1.0
    """Transverse field of ``H = -J sum Z_i Z_{i+1} - h sum X_i`` (periodic chain)."""
    J: float = 1.0
    """Ising coupling."""
    alpha: int = 1
    """Hidden-unit density of the RBM (``alpha * N`` hidden units)."""
    init_std: float = 0.1
    """Standard deviation of every initial parameter (weights and biases)."""

    def __post_init__(self):
        check_positive_int("alpha", self.alpha)
        for name in ("h", "J"):
            check_number(name, getattr(self, name))
        v = self.init_std
        check_number("init_std", v, minimum=0, strict=True)


class GradientEnsemble(NamedTuple):
    """Exact energy gradients of randomly initialised RBMs (:func:`rbm_gradient_ensemble`)."""

    gradients: np.ndarray
    """``(n_draws, n_params)`` float64; parameters in the order of
    :func:`jax.flatten_util.ravel_pytree` (:attr:`parameter_order`)."""
    energies: np.ndarray
    """``(n_draws,)`` float64 energies (model units)."""
    n_params: int
    parameter_order: str


def _setup(n_sites: int, config: RBMEnsembleConfig):
    import flax.linen as nn
    import jax.numpy as jnp
    import netket as nk

    from qml_phys.physics import Lattice, TransverseFieldIsing

    n = check_positive_int("n_sites", n_sites, minimum=2)
    if n > MAX_SITES:
        raise TooLargeError(
            f"n_sites: expected at most {MAX_SITES} for full summation (2**N states); got {n}"
        )
    model = TransverseFieldIsing(Lattice.chain(n), J=config.J, gamma=config.h)
    ham = model.to_netket()
    init = nn.initializers.normal(config.init_std)
    rbm = nk.models.RBM(
        alpha=config.alpha,
        param_dtype=jnp.float64,
        kernel_init=init,
        hidden_bias_init=init,
        visible_bias_init=init,
    )
    return model, ham, rbm


def rbm_gradient_ensemble(
    n_sites: int, config: RBMEnsembleConfig | None = None, *, key, n_draws: int
) -> GradientEnsemble:
    """Exact energy gradients of ``n_draws`` randomly initialised RBMs.

    Args:
        n_sites: chain length ``N`` (periodic), ``2 <= N <= MAX_SITES``.
        config: the model and the initialisation (:class:`RBMEnsembleConfig`).
        key: JAX PRNG key; draw ``i`` initialises with ``split(key, n_draws)[i]``.
        n_draws: number of initialisations.

    Returns:
        A :class:`GradientEnsemble`; parameters in the order of
        :func:`jax.flatten_util.ravel_pytree` (hidden bias, kernel, visible bias).
    """
    import jax
    import netket as nk
    from jax.flatten_util import ravel_pytree

    config = config or RBMEnsembleConfig()
    draws = check_positive_int("n_draws", n_draws)
    grads, energies = [], []
    with float64():
        _, ham, rbm = _setup(n_sites, config)
        vs = nk.vqs.FullSumState(ham.hilbert, rbm, seed=0)
        sample = ham.hilbert.all_states()[:1]
        for k in jax.random.split(key, draws):
            vs.parameters = rbm.init(k, sample)["params"]
            energy, grad = vs.expect_and_grad(ham)
            grads.append(np.asarray(ravel_pytree(grad)[0], dtype=np.float64))
            energies.append(float(np.real(energy.mean)))
    g = np.stack(grads)
    return GradientEnsemble(
        gradients=g,
        energies=np.asarray(energies),
        n_params=int(g.shape[1]),
        parameter_order="Dense.bias (hidden), Dense.kernel (N x alpha N), visible_bias",
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class GradientVarianceScan(Result, Mapping):
    """What :func:`rbm_variance_scan` returns, in the layout of
    :func:`qml_phys.circuits.barren.plateau_scan`.

    Read-only dict access (``scan["rows"]``, and iteration over the keys) gives the
    entries of :meth:`summary`, as the dict this function returned before; attribute
    access is the supported way.
    """

    ns: tuple[int, ...]
    """Chain lengths, in the order given."""
    rows: tuple[dict, ...]
    """Per size: ``n``, ``n_params``, ``mean_energy_per_site``, and the bootstrap
    estimates ``var_mean`` (variance averaged over parameters) and ``var_first`` (of the
    first parameter) as dicts of :class:`qml_phys.stats.bootstrap.VarianceEstimate`."""
    fit: Mapping[str, Any]
    """``{"mean": ..., "first": ...}``: the exponential fit (and, for 3 or more sizes, the
    exponential/polynomial comparison), or None where a fit is impossible."""
    n_draws: int
    n_boot: int
    level: float

    def summary(self) -> dict:
        """``ns``, ``rows``, ``fit`` and ``config`` (model, couplings, draws, method)."""
        return {
            "status": self.status,
            "wall_time_s": self.wall_time_s,
            "ns": list(self.ns),
            "rows": list(self.rows),
            "fit": dict(self.fit),
            "config": {
                "model": "tfim chain, periodic",
                **dataclasses.asdict(self.config),
                "n_draws": self.n_draws,
                "n_boot": self.n_boot,
                "level": self.level,
                "method": "netket FullSumState (exact)",
            },
        }

    def __getitem__(self, name: str):
        return self.summary()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.summary())

    def __len__(self) -> int:
        return len(self.summary())


def rbm_variance_scan(
    sizes,
    config: RBMEnsembleConfig | None = None,
    *,
    key,
    n_draws: int = 100,
    n_boot: int = 1000,
    level: float = 0.95,
) -> GradientVarianceScan:
    """Variance of the exact RBM energy gradient against chain length, with intervals.

    Args:
        sizes: chain lengths (each ``2 <= N <= MAX_SITES``).
        config: the model and the initialisation (:class:`RBMEnsembleConfig`).
        key: JAX PRNG key; size ``i`` draws from ``fold_in(key, i)``.
        n_draws: random initialisations per size.
        n_boot: bootstrap resamples of each variance.
        level: coverage of the intervals.

    Returns:
        A :class:`GradientVarianceScan` (the layout of
        :func:`qml_phys.circuits.barren.plateau_scan`, so that circuit and NQS
        trainability plot on the same axes).
    """
    import time

    import jax

    from qml_phys.stats.bootstrap import bootstrap_variance
    from qml_phys.stats.fits import compare_decay, fit_decay

    t0 = time.perf_counter()
    config = config or RBMEnsembleConfig()
    sizes = tuple(check_positive_int("n_sites", n, minimum=2) for n in sizes)
    rows = []
    for i, n in enumerate(sizes):
        k_draw, k_boot = jax.random.split(jax.random.fold_in(key, i))
        ens = rbm_gradient_ensemble(n, config, key=k_draw, n_draws=n_draws)
        g = ens.gradients
        # the same bootstrap resamples for both estimates (common random numbers)
        rows.append(
            {
                "n": n,
                "n_params": ens.n_params,
                "mean_energy_per_site": float(ens.energies.mean() / n),
                "var_mean": bootstrap_variance(g, key=k_boot, n_boot=n_boot, level=level)._asdict(),
                "var_first": bootstrap_variance(
                    g, key=k_boot, n_boot=n_boot, level=level, reduce="first"
                )._asdict(),
            }
        )
    fit = {}
    for which in ("mean", "first"):
        v = np.array([r[f"var_{which}"]["value"] for r in rows])
        s = np.array([r[f"var_{which}"]["log_stderr"] for r in rows])
        if len(sizes) < 2 or np.any(v <= 0) or np.any(s <= 0) or not np.all(np.isfinite(s)):
            fit[which] = None
            continue
        fit[which] = {"exponential": fit_decay(sizes, v, s, level=level)._asdict()}
        if len(sizes) >= 3:
            cmp = compare_decay(sizes, v, s)
            fit[which]["comparison"] = {
                k: (x._asdict() if hasattr(x, "_asdict") else x) for k, x in cmp.items()
            }
    return GradientVarianceScan(
        config=config,
        wall_time_s=time.perf_counter() - t0,
        ns=sizes,
        rows=tuple(rows),
        fit=fit,
        n_draws=n_draws,
        n_boot=n_boot,
        level=level,
    )
