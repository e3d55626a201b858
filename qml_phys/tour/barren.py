"""Tour section: barren plateaus of random circuits, next to the trainability of an RBM."""

from __future__ import annotations

import numpy as np

from qml_phys.runtime import plots
from qml_phys.tour.common import save_figure
from qml_phys.tour.section import Section, TourContext


def barren_plateaus(ctx: TourContext) -> Section:
    """Var[dC/dtheta] against n: global cost (deep) vs local cost (depth log n), the
    2-design values, and the exact RBM energy-gradient variance of the TFIM chain."""
    import jax

    from qml_phys.circuits.barren import PlateauConfig, plateau_scan, plot_scan
    from qml_phys.nqs.gradient_variance import rbm_variance_scan

    ns = [2, 4, 6, 8, 10] if not ctx.quick else [2, 4, 6]
    draws = 200 if not ctx.quick else 100
    key = jax.random.key(ctx.seed)
    k_glob, k_loc, k_nqs = jax.random.split(key, 3)
    glob = plateau_scan(
        ns, PlateauConfig(layers=50, n_draws=draws, cost="global", n_boot=500), key=k_glob
    )
    local = plateau_scan(
        ns,
        PlateauConfig(layers="log", n_draws=draws, cost="local", gates="mcclean", n_boot=500),
        key=k_loc,
    )
    sizes = [4, 6, 8, 10] if not ctx.quick else [4, 6]
    nqs = rbm_variance_scan(sizes, key=k_nqs, n_draws=30 if not ctx.quick else 10, n_boot=500)

    fig, ax = plots.figure()
    plot_scan(ax, glob, label="global cost, HEA 50 layers")
    plot_scan(ax, local, label="local cost, CZ circuit, log2(n) layers", reference=False)
    v = np.array([r["var_mean"]["value"] for r in nqs["rows"]])
    lo = np.array([r["var_mean"]["low"] for r in nqs["rows"]])
    hi = np.array([r["var_mean"]["high"] for r in nqs["rows"]])
    ax.errorbar(
        sizes,
        v,
        yerr=np.clip(np.stack([v - lo, hi - v]), 0, None),
        fmt="s-",
        capsize=2,
        label="RBM (alpha=1) VMC energy gradient, TFIM, exact",
    )
    ax.set_title("Gradient variance at random initialisation")
    ax.legend(fontsize=6)
    figures = [save_figure(ctx, fig, "barren.png")]

    fit_g = glob.fit["mean"]["exponential"]
    ref_rate = glob.two_design_rate
    table = []
    for rg, rl in zip(glob.rows, local.rows, strict=True):
        table.append(
            {
                "n": rg["n"],
                "Var global (50 layers)": f"{rg['var_mean']['value']:.3g} "
                f"[{rg['var_mean']['low']:.3g}, {rg['var_mean']['high']:.3g}]",
                "2-design": f"{rg['two_design_mean']:.3g}",
                f"Var local ({rl['layers']} layers)": f"{rl['var_mean']['value']:.3g} "
                f"[{rl['var_mean']['low']:.3g}, {rl['var_mean']['high']:.3g}]",
            }
        )
    last = glob.rows[-1]
    checks = {
        "global: 95% interval of the decay rate contains the 2-design rate": fit_g["low"]
        <= ref_rate
        <= fit_g["high"],
        f"global: Var(n={last['n']}) within a factor 2 of the 2-design value": 0.5
        < last["var_mean"]["value"] / last["two_design_mean"]
        < 2.0,
        "local cost decays slower than global": local.fit["mean"]["exponential"]["rate"]
        < 0.5 * fit_g["rate"],
    }
    return Section(
        title="Barren plateaus: global vs local costs, and an RBM for comparison",
        text=(
            "Variance over random initialisations of the gradient (averaged over parameters) "
            "of hardware-efficient circuits, from the package's vectorised simulator with "
            "adjoint gradients; error bars are 95% bootstrap intervals. The global cost "
            "1 − |⟨0…0|ψ⟩|² of deep circuits follows the unitary 2-design value "
            f"1/(2(2ⁿ+1)²) (fitted decay {fit_g['rate']:.2f} [{fit_g['low']:.2f}, "
            f"{fit_g['high']:.2f}] per qubit; 2-design {ref_rate:.2f} over the same n, → ln 4); "
            "the local cost of a circuit with a local light cone (McClean's random rotations "
            "with CZ ladders) at depth ⌈log₂ n⌉ decays only polynomially (Cerezo et al. "
            "2021). "
            "The exact (full-summation) VMC energy gradient of a randomly initialised RBM for "
            "the critical TFIM chain shows no such decay."
        ),
        figures=figures,
        table=table,
        results={"global": glob.as_dict(), "local": local.as_dict(), "nqs": nqs},
        checks=checks,
    )
