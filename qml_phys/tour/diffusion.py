"""Tour section: the spin-flip diffusion model on Ising configurations."""

from __future__ import annotations

import numpy as np

from qml_phys.runtime import plots
from qml_phys.tour.common import T_HIGH, comparison_rows, save_figure, spin_dataset
from qml_phys.tour.section import Section, TourContext


def diffusion(ctx: TourContext) -> Section:
    """Tour section: the discrete diffusion model of Ising configurations."""
    import jax

    from qml_phys.generative import diffusion as D
    from qml_phys.generative import models

    data = spin_dataset(ctx)
    config = D.DiffusionConfig(
        epochs=60 if not ctx.quick else 5,
        batch_size=64,
        n_steps=50,
        hidden=16,  # the tour's small denoiser; the study's default one is 48 x 5 layers
        layers=3,
    )
    k_model, k_forward = jax.random.split(jax.random.key(ctx.seed))
    res = models.fit_and_compare(
        data, T_HIGH, config, key=k_model, n_samples=2000 if not ctx.quick else 300
    )
    comp = res.comparison
    t = np.linspace(0, 1.5, 7)
    s0 = np.ones((20000, 1, 1), np.float32)
    flips = [
        float(
            np.mean(
                np.asarray(
                    D.forward_sample(
                        jax.random.fold_in(k_forward, i), s0, np.full(20000, ti, np.float32)
                    )
                )
                < 0
            )
        )
        for i, ti in enumerate(t)
    ]
    exact = 0.5 * (1 - np.exp(-2 * t))
    fig, ax = plots.figure()
    ax.plot(t, flips, "o", label="forward process")
    ax.plot(t, exact, label="(1 - e^{-2t}) / 2", **plots.EXACT)
    ax.set(xlabel="diffusion time t", ylabel="flip probability")
    ax.legend()
    figures = [save_figure(ctx, fig, "diffusion.png")]
    return Section(
        title="Discrete diffusion model for spins (T = 3)",
        text=(
            "Forward process: every spin flips at rate 1 (infinite-temperature dynamics), "
            "so after time t it has flipped with probability (1 - e<sup>-2t</sup>)/2 "
            "(figure). A periodic CNN predicts each clean spin from the noisy "
            "configuration; reverse steps sample from the exact single-site posterior "
            "(D3PM). Samples against Monte Carlo in the table."
        ),
        figures=figures,
        table=comparison_rows("diffusion, T = 3", comp),
        results={"comparison_T3": comp, "forward_flip": {"t": t, "sampled": flips, "exact": exact}},
        checks={
            "forward flip probability = (1 - e^-2t)/2 (4 sigma)": bool(
                np.all(
                    np.abs(np.array(flips) - exact)
                    < 4 * np.sqrt(exact * (1 - exact) / 20000) + 1e-9
                )
            )
        },
    )
