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
from :math:`N(0, \sigma^2)` with ``init_std`` :math:`= \sigma`.
"""

from __future__ import annotations

import numpy as np

from qml_phys.errors import InvalidParameterError, TooLargeError, check_positive_int

__all__ = ["MAX_SITES", "rbm_gradient_ensemble", "rbm_variance_scan"]

#: Largest chain treated by full summation.
MAX_SITES = 16


def _setup(n_sites: int, h: float, J: float, alpha: int, init_std: float):
    import flax.linen as nn
    import jax.numpy as jnp
    import netket as nk

    from qml_phys.physics import Lattice, TransverseFieldIsing

    n = check_positive_int("n_sites", n_sites, minimum=2)
    if n > MAX_SITES:
        raise TooLargeError(
            f"n_sites: expected at most {MAX_SITES} for full summation (2**N states); got {n}"
        )
    alpha = check_positive_int("alpha", alpha)
    if not (np.isfinite(init_std) and init_std > 0):
        raise InvalidParameterError(f"init_std: expected a finite number > 0; got {init_std!r}")
    model = TransverseFieldIsing(Lattice.chain(n), J=J, gamma=h)
    ham = model.to_netket()
    init = nn.initializers.normal(init_std)
    rbm = nk.models.RBM(
        alpha=alpha,
        param_dtype=jnp.float64,
        kernel_init=init,
        hidden_bias_init=init,
        visible_bias_init=init,
    )
    return model, ham, rbm


def rbm_gradient_ensemble(
    n_sites: int,
    *,
    key,
    n_draws: int,
    h: float = 1.0,
    J: float = 1.0,
    alpha: int = 1,
    init_std: float = 0.1,
) -> dict:
    """Exact energy gradients of ``n_draws`` randomly initialised RBMs.

    Args:
        n_sites: chain length ``N`` (periodic), ``2 <= N <= MAX_SITES``.
        key: JAX PRNG key; draw ``i`` initialises with ``split(key, n_draws)[i]``.
        n_draws: number of initialisations.
        h, J: TFIM ``H = -J sum Z_i Z_{i+1} - h sum X_i``.
        alpha: hidden-unit density of the RBM (``alpha * N`` hidden units).
        init_std: standard deviation of every initial parameter.

    Returns:
        ``{"gradients": (n_draws, n_params) float64, "energies": (n_draws,) float64,
        "n_params": int, "parameter_order": str}``; parameters in the order of
        :func:`jax.flatten_util.ravel_pytree` (hidden bias, kernel, visible bias).
    """
    import jax
    import netket as nk
    from jax.flatten_util import ravel_pytree

    draws = check_positive_int("n_draws", n_draws)
    _, ham, rbm = _setup(n_sites, h, J, alpha, init_std)
    grads, energies = [], []
    # NetKet's internals rely on JAX's standard promotion (the tests make it strict)
    with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
        vs = nk.vqs.FullSumState(ham.hilbert, rbm, seed=0)
        sample = ham.hilbert.all_states()[:1]
        for k in jax.random.split(key, draws):
            vs.parameters = rbm.init(k, sample)["params"]
            energy, grad = vs.expect_and_grad(ham)
            grads.append(np.asarray(ravel_pytree(grad)[0], dtype=np.float64))
            energies.append(float(np.real(energy.mean)))
    g = np.stack(grads)
    return {
        "gradients": g,
        "energies": np.asarray(energies),
        "n_params": int(g.shape[1]),
        "parameter_order": "Dense.bias (hidden), Dense.kernel (N x alpha N), visible_bias",
    }


def rbm_variance_scan(
    sizes,
    *,
    key,
    n_draws: int = 100,
    h: float = 1.0,
    J: float = 1.0,
    alpha: int = 1,
    init_std: float = 0.1,
    n_boot: int = 1000,
    level: float = 0.95,
) -> dict:
    """Variance of the exact RBM energy gradient against chain length, with intervals.

    The result has the layout of :func:`qml_phys.circuits.barren.plateau_scan` (``"ns"``,
    ``"rows"`` with ``"var_mean"``/``"var_first"`` bootstrap estimates, ``"fit"`` with the
    exponential fit and, for 3 or more sizes, the exponential/polynomial comparison), so
    circuit and NQS trainability plot on the same axes.
    """
    import jax

    from qml_phys.stats.bootstrap import bootstrap_variance
    from qml_phys.stats.fits import compare_decay, fit_decay

    sizes = [check_positive_int("n_sites", n, minimum=2) for n in sizes]
    rows = []
    for i, n in enumerate(sizes):
        k_draw, k_boot = jax.random.split(jax.random.fold_in(key, i))
        ens = rbm_gradient_ensemble(
            n, key=k_draw, n_draws=n_draws, h=h, J=J, alpha=alpha, init_std=init_std
        )
        g = ens["gradients"]
        rows.append(
            {
                "n": n,
                "n_params": ens["n_params"],
                "mean_energy_per_site": float(ens["energies"].mean() / n),
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
    return {
        "ns": sizes,
        "rows": rows,
        "fit": fit,
        "config": {
            "model": "tfim chain, periodic",
            "h": h,
            "J": J,
            "alpha": alpha,
            "init_std": init_std,
            "n_draws": n_draws,
            "n_boot": n_boot,
            "level": level,
            "method": "netket FullSumState (exact)",
        },
    }
