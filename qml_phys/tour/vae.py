"""Tour section: the variational autoencoder on Ising configurations."""

from __future__ import annotations

from qml_phys.runtime import plots
from qml_phys.tour.common import T_HIGH, comparison_rows, save_figure, spin_dataset
from qml_phys.tour.section import Section, TourContext


def vae(ctx: TourContext) -> Section:
    """Tour section: variational autoencoders of Ising configurations."""
    import jax

    from qml_phys.generative import models
    from qml_phys.generative.vae import VAEConfig
    from qml_phys.physics.exact import onsager_tc

    data = spin_dataset(ctx)
    k_grid, k_fact, k_ar = jax.random.split(jax.random.key(ctx.seed), 3)
    grid = models.fit_and_compare(
        data, None, VAEConfig(epochs=25 if not ctx.quick else 8), key=k_grid
    )
    ana = grid.analysis
    corr = ana["correlation"]["best"]
    fig, (ax_l, ax_r) = plots.figure(1, 2)
    sc = ax_l.scatter(
        ana["magnetization"],
        ana["latent_means"][:, corr["latent"]],
        c=ana["T"],
        s=4,
        cmap="coolwarm",
    )
    fig.colorbar(sc, ax=ax_l, label="T")
    ax_l.set(xlabel="magnetization m", ylabel=f"latent mean z{corr['latent']}")
    per = ana["per_temperature"]
    ax_r.errorbar(
        [r["T"] for r in per],
        [r["recon_per_site"] for r in per],
        yerr=[r["recon_error"] for r in per],
        fmt="o-",
    )
    ax_r.axvline(onsager_tc(), **plots.EXACT)
    ax_r.set(xlabel="T", ylabel="reconstruction error (nats/site)")
    figures = [save_figure(ctx, fig, "vae.png")]
    factorised = models.fit_and_compare(
        data, T_HIGH, VAEConfig(latent=8, epochs=40 if not ctx.quick else 8), key=k_fact
    )
    comp = factorised.comparison
    autoregressive = models.fit_and_compare(
        data,
        T_HIGH,
        VAEConfig(decoder="autoregressive", epochs=60 if not ctx.quick else 8),
        key=k_ar,
    )
    comp_ar = autoregressive.comparison
    return Section(
        title="Variational autoencoder on Ising configurations",
        text=(
            "A VAE with a 2D latent space and a Bernoulli decoder, trained on all "
            "temperatures: one latent coordinate follows the signed magnetization m "
            f"(correlation {corr['corr']:+.3f} with {corr['observable']}). The reconstruction "
            "error rises steeply through T<sub>c</sub> (dashed). A VAE trained at T = 3 "
            "alone with the factorised decoder samples configurations that are too "
            "disordered: it has no site-site correlations beyond what the latent carries, so "
            "the energy of its samples misses the Monte Carlo value (z = "
            f"{comp['observables']['energy']['z']:.1f}). The autoregressive (PixelVAE-style) "
            "decoder builds local correlations site by site (z = "
            f"{comp_ar['observables']['energy']['z']:.1f} here, from only {comp_ar['n_reference']} "
            "training configurations; with 4000 it agrees with held-out Monte Carlo within "
            "3 errors, a slow test)."
        ),
        figures=figures,
        table=comparison_rows("VAE factorised, T = 3", comp)
        + comparison_rows("VAE autoregressive, T = 3", comp_ar),
        results={
            "analysis": {
                k: ana[k]
                for k in (
                    "correlation",
                    "per_temperature",
                    "recon_steepest_rise_T",
                    "recon_fluctuation_peak_T",
                )
            },
            "comparison_T3": comp,
            "comparison_T3_autoregressive_decoder": comp_ar,
        },
        checks={"|corr(latent mean, m)| > 0.9": abs(corr["corr"]) > 0.9},
        known_deviations={
            "VAE factorised, T = 3": "a factorised decoder has no site-site correlations "
            "at fixed latent, so its samples are too disordered (see the text)"
        },
    )
