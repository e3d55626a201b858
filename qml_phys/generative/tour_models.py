"""Tour sections for the VAE, the GAN, the phi^4 normalizing flow and the diffusion model.

Each trains a small model on CPU and compares its samples with Monte Carlo (or with HMC
for phi^4); the numbers shown are those of the run. ``SECTIONS`` maps names to
``f(ctx) -> Section``.
"""

from __future__ import annotations

import numpy as np

from qml_phys.runtime import plots
from qml_phys.tour import Section, TourContext

T_HIGH = 3.0


def _dataset(ctx: TourContext):
    """A small L = 8 dataset shared by the spin sections (written once into ctx.out)."""
    from qml_phys.classical.datasets import load_dataset, write_dataset

    temps = [1.6, 2.0, 2.269, 2.6, 3.0, 3.5] if not ctx.quick else [1.6, 2.269, 3.0]
    n = 400 if not ctx.quick else 150
    path = ctx.out / f"generative_ising8{'_quick' if ctx.quick else ''}.h5"
    write_dataset(
        path, sizes=[8], temperatures=temps, n_samples=n, seed=ctx.seed % 2**31, show_progress=False
    )
    return load_dataset(path, 8)


def _comparison_rows(name, comp) -> list[dict]:
    return [
        {
            "model": name,
            "observable": obs,
            "model value": round(v["model"]["mean"], 4),
            "± (model)": round(v["model"]["error"], 4),
            "Monte Carlo": round(v["reference"]["mean"], 4),
            "± (MC)": round(v["reference"]["error"], 4),
            "z": round(v["z"], 2),
        }
        for obs, v in comp["observables"].items()
    ]


def vae(ctx: TourContext) -> Section:
    import jax

    from qml_phys.generative import vae as V
    from qml_phys.physics.exact import onsager_tc

    data = _dataset(ctx)
    model = V.train_vae(data.spins, epochs=25 if not ctx.quick else 8, seed=ctx.seed % 2**31)
    ana = V.analyse(model, data, key=jax.random.key(0))
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
    ax_l.set_xlabel("magnetization m")
    ax_l.set_ylabel(f"latent mean z{corr['latent']}")
    per = ana["per_temperature"]
    ax_r.errorbar(
        [r["T"] for r in per],
        [r["recon_per_site"] for r in per],
        yerr=[r["recon_error"] for r in per],
        fmt="o-",
    )
    ax_r.axvline(onsager_tc(), **plots.EXACT)
    ax_r.set_xlabel("T")
    ax_r.set_ylabel("reconstruction error (nats/site)")
    plots.save(fig, ctx.out / "vae.png")
    s3, _ = V.spins_at(data, T_HIGH)
    m3 = V.train_vae(s3, latent=8, epochs=40 if not ctx.quick else 8, seed=ctx.seed % 2**31)
    comp = V.compare_at(V.sample_vae(m3, key=jax.random.key(1), n=2000), s3, T_HIGH)
    ar3 = V.train_vae(
        s3, decoder="autoregressive", epochs=60 if not ctx.quick else 8, seed=ctx.seed % 2**31
    )
    comp_ar = V.compare_at(V.sample_vae(ar3, key=jax.random.key(1), n=2000), s3, T_HIGH)
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
            f"{comp_ar['observables']['energy']['z']:.1f} here, from only {len(s3)} "
            "training configurations; with 4000 it agrees with held-out Monte Carlo within "
            "3 errors, a slow test)."
        ),
        figures=["vae.png"],
        table=_comparison_rows("VAE factorised, T = 3", comp)
        + _comparison_rows("VAE autoregressive, T = 3", comp_ar),
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
    )


def gan(ctx: TourContext) -> Section:
    import jax

    from qml_phys.generative import gan as G
    from qml_phys.generative.vae import compare_at, spins_at

    data = _dataset(ctx)
    rows, results, checks = [], {}, {}
    for T in (T_HIGH, 1.6):
        s, _ = spins_at(data, T)
        model = G.train_gan(
            s,
            G.GANConfig(epochs=150 if not ctx.quick else 8, batch_size=64, seed=ctx.seed % 2**31),
        )
        comp = compare_at(G.sample_gan(model, key=jax.random.key(2), n=2000), s, T)
        rows += _comparison_rows(f"GAN, T = {T}", comp)
        results[f"T={T}"] = comp | {"history_last": model.history[-1]}
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


def flow_phi4(ctx: TourContext) -> Section:
    from qml_phys.generative.flows import FlowConfig, flow_vs_hmc
    from qml_phys.physics.phi4 import ALBERGO_LAMBDA

    L = 6 if not ctx.quick else 4
    cfg = FlowConfig(
        n_layers=4 if not ctx.quick else 2,
        hidden=8,
        epochs=6 if not ctx.quick else 1,
        steps_per_epoch=50,
        batch_size=64,
        learning_rate=3e-3,
    )
    res = flow_vs_hmc(
        L,
        -4.0,
        ALBERGO_LAMBDA[6],
        config=cfg,
        n_samples=8000 if not ctx.quick else 2000,
        seed=ctx.seed % 2**31,
    )
    fig, ax = plots.figure()
    for name, curve in res["two_point"].items():
        ax.errorbar(curve["t"], curve["mean"], yerr=curve["error"], fmt="o-", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("t")
    ax.set_ylabel("zero-momentum two-point function C(t)")
    ax.legend()
    plots.save(fig, ctx.out / "flow_phi4.png")
    rows = [
        {
            "observable": k,
            "flow-MCMC": round(v["flow"]["mean"], 5),
            "± (flow)": round(v["flow"]["error"], 5),
            "HMC": round(v["hmc"]["mean"], 5),
            "± (HMC)": round(v["hmc"]["error"], 5),
            "z": round(v["z"], 2),
            "tau_int flow": round(v["flow"]["tau_int"], 2),
            "tau_int HMC": round(v["hmc"]["tau_int"], 2),
        }
        for k, v in res["observables"].items()
    ]
    f = res["flow"]
    return Section(
        title=f"Normalizing flow for φ⁴ theory ({L}x{L}, m² = -4, λ = 6.975)",
        text=(
            "A RealNVP flow (affine couplings, checkerboard masks) trained by reverse KL on "
            "the action alone proposes configurations for an independence Metropolis chain, "
            "which is exact whatever the flow's quality (Albergo, Kanwar, Shanahan 2019). "
            f"Acceptance {f['acceptance']:.2f}, ESS of the importance weights "
            f"{f['ess_fraction']:.2f}, after {f['training_seconds']:.0f} s of training; HMC "
            f"acceptance {res['hmc']['acceptance']:.2f}. A flow this small, trained this "
            "briefly, decorrelates slower than HMC here; the study studies/flow_phi4.py "
            "trains longer."
        ),
        figures=["flow_phi4.png"],
        table=rows,
        results=res,
        checks={
            "flow-MCMC agrees with HMC (|z| < 3)": all(
                abs(v["z"]) < 3 for v in res["observables"].values()
            )
        },
    )


def diffusion(ctx: TourContext) -> Section:
    import jax

    from qml_phys.generative import diffusion as D
    from qml_phys.generative.vae import compare_at, spins_at

    data = _dataset(ctx)
    s, _ = spins_at(data, T_HIGH)
    model = D.train_diffusion(
        s,
        D.DiffusionConfig(
            epochs=60 if not ctx.quick else 5,
            batch_size=64,
            n_steps=50,
            hidden=16,  # the tour's small denoiser; the study's default one is 48 x 5 layers
            layers=3,
            seed=ctx.seed % 2**31,
        ),
    )
    samples = D.sample_diffusion(model, key=jax.random.key(3), n=2000 if not ctx.quick else 300)
    comp = compare_at(samples, s, T_HIGH)
    t = np.linspace(0, 1.5, 7)
    s0 = np.ones((20000, 1, 1), np.float32)
    flips = [
        float(
            np.mean(
                np.asarray(D.forward_sample(jax.random.key(i), s0, np.full(20000, ti, np.float32)))
                < 0
            )
        )
        for i, ti in enumerate(t)
    ]
    exact = 0.5 * (1 - np.exp(-2 * t))
    fig, ax = plots.figure()
    ax.plot(t, flips, "o", label="forward process")
    ax.plot(t, exact, label="(1 - e^{-2t}) / 2", **plots.EXACT)
    ax.set_xlabel("diffusion time t")
    ax.set_ylabel("flip probability")
    ax.legend()
    plots.save(fig, ctx.out / "diffusion.png")
    return Section(
        title="Discrete diffusion model for spins (T = 3)",
        text=(
            "Forward process: every spin flips at rate 1 (infinite-temperature dynamics), "
            "so after time t it has flipped with probability (1 - e<sup>-2t</sup>)/2 "
            "(figure). A periodic CNN predicts each clean spin from the noisy "
            "configuration; reverse steps sample from the exact single-site posterior "
            "(D3PM). Samples against Monte Carlo in the table."
        ),
        figures=["diffusion.png"],
        table=_comparison_rows("diffusion, T = 3", comp),
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


SECTIONS = {"vae": vae, "gan": gan, "flow_phi4": flow_phi4, "diffusion": diffusion}
