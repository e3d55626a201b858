"""Tour section: the GAN on Ising configurations, with its own mode-collapse report."""

from __future__ import annotations

from qml_phys.tour.common import T_HIGH, comparison_rows, spin_dataset
from qml_phys.tour.section import Section, TourContext


def gan(ctx: TourContext) -> Section:
    """Tour section: a GAN of Ising configurations against Monte Carlo."""
    import jax

    from qml_phys.generative import models
    from qml_phys.generative.gan import GANConfig

    data = spin_dataset(ctx)
    config = GANConfig(epochs=150 if not ctx.quick else 8, batch_size=64)
    key = jax.random.key(ctx.seed)
    rows, results, checks = [], {}, {}
    for i, T in enumerate((T_HIGH, 1.6)):
        res = models.fit_and_compare(data, T, config, key=jax.random.fold_in(key, i))
        comp = res.comparison
        rows += comparison_rows(f"GAN, T = {T}", comp)
        results[f"T={T}"] = comp | {"history_last": res.trained.summary()["final"]}
        rows.append(
            {
                "model": f"GAN, T = {T}",
                "observable": "fraction m > 0",
                "model value": round(comp["fraction_m_positive"], 3),
                "Monte Carlo": 0.5,
                "z": round(comp["symmetry_z"], 2),
            }
        )
    collapsed = results["T=1.6"]["mode_collapse"]
    checks["T=3: sample energy within 3 error bars of Monte Carlo"] = bool(
        results[f"T={T_HIGH}"]["energy_within_3_sigma"]
    )
    return Section(
        title="GAN on Ising configurations",
        text=(
            "A dense GAN whose generator ends in a hard sign (straight-through gradients), "
            "so every sample is a spin configuration; an R1 penalty steadies the "
            "discriminator, and samples come from the generators of the last 10 epochs, "
            "which averages out the game's oscillation. At T = 3 the sample energy and |m| "
            "are compared with Monte Carlo. Below T<sub>c</sub> the Boltzmann distribution "
            "has two mirror-image modes (m > 0 and m < 0); "
            + (
                "this GAN <b>collapsed onto one of them</b> (mode collapse, detected from the "
                "fraction of samples with m > 0)."
                if collapsed
                else "this GAN kept both (fraction of samples with m > 0 in the table)."
            )
        ),
        table=rows,
        results=results,
        checks=checks,
    )
