"""Tour section of the learning foundations: a Hamiltonian learned by LASSO vs ridge, the
bias–variance U-curve, and the Hessian spectrum from Hessian–vector products."""

from __future__ import annotations

import numpy as np

from qml_phys.runtime import plots
from qml_phys.tour.common import save_figure
from qml_phys.tour.section import Section, TourContext


def learning_foundations(ctx: TourContext) -> Section:
    """Tour section: regression, logistic regression and optimisers on physics data."""
    import jax
    import jax.numpy as jnp

    from qml_phys.learning import bias_variance, landscape, optimisers, regression
    from qml_phys.runtime.precision import float64

    L, n = (16, 400) if ctx.quick else (40, 2000)
    k_fit, k_bv, k_task, k_init, k_lanczos = jax.random.split(jax.random.key(ctx.seed), 5)
    # ridge and LASSO see the same configurations and split (the same key, on purpose)
    fits = {
        m: regression.learn_hamiltonian(
            regression.HamiltonianConfig(L=L, n_samples=n, method=m, lam=0.01), key=k_fit
        )
        for m in ("ridge", "lasso")
    }
    bv = bias_variance.chain_range_study(
        bias_variance.ChainRangeConfig(
            L=12, n_rounds=12 if ctx.quick else 50, n_test=500 if ctx.quick else 2000
        ),
        key=k_bv,
    )
    with float64():
        loss, init, data = optimisers.chain_energy_task(
            6, 64, key=k_task, hidden=4, dtype=jnp.float64
        )
        params = init(k_init)

        def full(p):
            return loss(p, data, key=None, model_state=None, train=False)[0]

        dense = np.linalg.eigvalsh(landscape.dense_hessian(full, params))[::-1][:3]
        top = landscape.hessian_eigenvalues(full, params, k=3, n_iter=20, key=k_lanczos)

    fig, axes = plots.figure(1, 3)
    for ax, m in zip(axes[:2], ("ridge", "lasso"), strict=True):
        # colours clipped at ±0.02 so that the small off-structure couplings show
        im = ax.imshow(fits[m].K, cmap="RdBu_r", vmin=-0.02, vmax=0.02)
        ax.set(title=f"{m}: K_ij (L={L}, clipped at ±0.02)", xlabel="j", ylabel="i")
        fig.colorbar(im, ax=ax, shrink=0.8)
    R = list(bv.ranges)
    rows = [bv.by_range[r] for r in R]
    ax = axes[2]
    ax.plot(R, [max(r["bias2_corrected"], 1e-3) for r in rows], "o-", label="bias²")
    ax.plot(R[:-1], [r["exact_bias2"] for r in rows[:-1]], "k:", label="bias² (exact, n → ∞)")
    ax.plot(R, [r["variance"] for r in rows], "s-", label="variance")
    ax.plot(R, [r["expected_error"] for r in rows], "^-", label="bias² + var + σ²")
    ax.plot(R, [r["test_error"] for r in rows], "k--", label="test error")
    ax.set(
        yscale="log", xlabel="coupling range R of the model", title="bias–variance (chain, L=12)"
    )
    ax.legend()
    figures = [save_figure(ctx, fig, "learning.png")]

    test_err = np.array([r["test_error"] for r in rows])
    best = int(np.argmin(test_err))
    consistent = all(
        abs(r["test_error"] - r["expected_error"]) < 4 * r["test_error_se"] for r in rows
    )
    table = [
        {
            "model": f"{m}, λ = 0.01",
            "max |K| off structure": fits[m].max_off_structure,
            "max error on J_nn": fits[m].max_structure_error,
            "exact zeros off structure": f"{fits[m].n_zero_off_structure}"
            f"/{fits[m].n_off_structure}",
            "test R²": fits[m].test_r2,
        }
        for m in ("ridge", "lasso")
    ]
    table.append(
        {
            "model": "Hessian λ_max (Lanczos / dense)",
            "max |K| off structure": float(top[0]),
            "max error on J_nn": float(dense[0]),
            "exact zeros off structure": "",
            "test R²": "",
        }
    )
    checks = {
        "LASSO: off-structure |K| < 0.05 and test R² > 0.99": fits["lasso"].max_off_structure < 0.05
        and fits["lasso"].test_r2 > 0.99,
        "ridge is not sparse": fits["ridge"].n_zero_off_structure == 0,
        "bias² + variance + σ² = test error (4σ)": consistent,
        "test error is U-shaped in R": 0 < best < len(R) - 1,
        "Lanczos top-3 = dense Hessian (1e-6)": bool(np.allclose(top, dense, rtol=1e-6)),
    }
    return Section(
        title="Learning foundations: Hamiltonians, bias–variance, Hessians",
        text=(
            "Random configurations of a periodic Ising chain and their energies "
            "E = -J Σ s<sub>i</sub>s<sub>i+1</sub> are fitted with all L² pair features "
            "s<sub>i</sub>s<sub>j</sub> (Mehta et al., arXiv:1803.08823). Only "
            "K<sub>ij</sub> = W<sub>ij</sub> + W<sub>ji</sub> is identifiable and is shown. "
            "LASSO (FISTA in JAX) recovers exactly the nearest-neighbour structure with "
            "every other coupling exactly zero; ridge shrinks but never zeroes. Right: least "
            "squares with couplings up to range R on a chain with couplings decaying with "
            "distance plus noise — bias falls and variance grows with R, and the test error "
            "is U-shaped and equals bias² + variance + σ². The top Hessian eigenvalues of a "
            "small network from Lanczos on Hessian–vector products match the dense Hessian."
        ),
        figures=figures,
        table=table,
        results={
            "fits": {m: f.summary() for m, f in fits.items()},
            "bias_variance": bv.summary()["by_range"],
            "hessian_top": top,
            "hessian_dense": dense,
        },
        checks=checks,
    )
