"""Tour section of the nqs area: VMC convergence against the exact energy."""

from __future__ import annotations

from qml_phys.tour.common import save_figure
from qml_phys.tour.section import Section, TourContext


def nqs_ground_states(ctx: TourContext) -> Section:
    """RBM ground states of the TFIM chain and the Heisenberg chain vs exact diagonalisation."""
    import jax

    from qml_phys.nqs.ground_state import VMCConfig, ground_state, plot_convergence
    from qml_phys.physics import Heisenberg, Lattice, TransverseFieldIsing
    from qml_phys.runtime import plots

    n = 6 if ctx.quick else 12
    cfg = VMCConfig(
        n_samples=512 if ctx.quick else 1024,
        n_chains=8,
        n_steps=60 if ctx.quick else 120,
        final_samples=8192,
    )
    runs = {
        f"TFIM chain N={n}, h=1 (RBM, alpha=1)": (
            TransverseFieldIsing(Lattice.chain(n), J=1.0, gamma=1.0),
            cfg,
        ),
        f"Heisenberg chain N={n} (RBM + Marshall sign, S^z=0)": (Heisenberg(Lattice.chain(n)), cfg),
    }
    fig, axes = plots.figure(1, 2)
    table, results, checks = [], {}, {}
    for (name, (model, c)), ax, k in zip(
        runs.items(), axes, jax.random.split(jax.random.key(ctx.seed), 2), strict=True
    ):
        res = ground_state(model, c, key=k)
        plot_convergence(ax, res)
        lo = res.exact_energy - 0.02 * abs(res.exact_energy)
        ax.set_ylim(lo, lo + 0.25 * abs(res.exact_energy))
        ax.set_title(name, fontsize=8)
        table.append(
            {
                "run": name,
                "E (VMC)": f"{res.energy:.5f} ± {res.energy_error:.5f}",
                "E exact": res.exact_energy,
                "relative error": res.relative_error,
                "V-score": res.v_score,
                "converged": res.converged,
            }
        )
        results[name] = res.summary() | {"log": res.history}
        tol = 5e-3 if ctx.quick else 1e-3
        checks[f"{name}: relative error < {tol:g}"] = bool(res.relative_error < tol)
    figures = [save_figure(ctx, fig, "nqs_convergence.png")]
    return Section(
        title="Neural quantum states (NetKet)",
        text=(
            "Restricted Boltzmann machines optimised by stochastic reconfiguration "
            "(<code>nk.driver.VMC_SR</code>) for the ground states of the periodic TFIM chain "
            "at the critical field and of the antiferromagnetic Heisenberg chain. The Heisenberg "
            "run uses the Marshall sign rule (a rotation of the Hamiltonian, so a positive RBM "
            "suffices) and samples the total S<sup>z</sup> = 0 sector with exchange moves. "
            "Dashed lines: exact energies (free fermions; exact diagonalisation)."
        ),
        figures=figures,
        table=table,
        results=results,
        checks=checks,
    )
