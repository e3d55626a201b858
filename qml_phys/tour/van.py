"""Tour section: the variational autoregressive network's free energy against Kaufman."""

from __future__ import annotations

from qml_phys.tour.common import save_figure
from qml_phys.tour.section import Section, TourContext


def variational_free_energy(ctx: TourContext) -> Section:
    """VAN (Wu, Wang, Zhang 2019) on a small torus: F_q >= F, compared with Kaufman."""
    import jax

    from qml_phys.generative import van
    from qml_phys.runtime import plots

    L = 4
    temps = [2.0, 2.269, 3.0] if not ctx.quick else [2.269]
    steps = 400 if not ctx.quick else 150
    config = van.VANConfig(
        hidden=32,
        n_steps=steps,
        batch_size=256,
        learning_rate=3e-3,
        beta_anneal=0.98,
        n_samples=10000,
    )
    key = jax.random.key(ctx.seed)
    rows, results = [], {}
    for i, T in enumerate(temps):
        r = van.train_van(L, T, config, key=jax.random.fold_in(key, i))
        rows.append(
            {
                "T": T,
                "F_q/N": r.free_energy.mean,
                "error": r.free_energy.error,
                "F/N exact (Kaufman)": r.exact,
                "relative error": r.relative_error,
            }
        )
        results[str(T)] = rows[-1] | {"status": r.status}
    fig, ax = plots.figure()
    ax.errorbar(
        [r["T"] for r in rows],
        [r["relative error"] for r in rows],
        yerr=[r["error"] / abs(r["F/N exact (Kaufman)"]) for r in rows],
        fmt="o",
    )
    ax.axhline(0.0, **plots.EXACT)
    ax.set(
        xlabel="temperature T / J",
        ylabel="(F_q - F) / |F|",
        title=f"VAN on the {L}x{L} torus, {steps} steps",
    )
    figures = [save_figure(ctx, fig, "van_free_energy.png")]
    checks = {
        f"T={r['T']:g}: F_q >= F (variational bound)": r["F_q/N"]
        >= r["F/N exact (Kaufman)"] - 4 * r["error"]
        for r in rows
    } | {f"T={r['T']:g}: relative error < 2e-2": r["relative error"] < 2e-2 for r in rows}
    return Section(
        title="Variational autoregressive network: free energy",
        text=(
            "A spin-flip-symmetric MADE is trained without data to minimise the variational "
            "free energy F<sub>q</sub> = E<sub>q</sub>[E + T ln q] (REINFORCE with a baseline, "
            "β annealing; Wu, Wang &amp; Zhang, PRL 122, 080602 (2019)). F<sub>q</sub> is an "
            "upper bound on the exact free energy, computed here from Kaufman's solution of "
            "the finite torus. The study <code>studies/variational_autoregressive.py</code> "
            "runs the 8×8 lattice."
        ),
        figures=figures,
        table=rows,
        results=results,
        checks=checks,
    )
