"""Tour sections of the generative area: models trained on Monte Carlo samples of the 4x4
torus at T_c (samples side by side, exact KL), and the variational autoregressive network's
free energy against Kaufman's exact value. ``SECTIONS`` also takes the sections of
``qml_phys.generative.tour_models`` (VAE, GAN, flows, diffusion)."""

from __future__ import annotations

import time

import numpy as np

from qml_phys.generative import tour_models
from qml_phys.tour import Section, TourContext


def generative_models(ctx: TourContext) -> Section:
    """Train each model on Wolff samples of the 4x4 torus at T_c; show samples and exact KL."""
    import jax

    from qml_phys.classical.datasets import sample_block
    from qml_phys.generative import base, evaluate
    from qml_phys.generative.commands import build_model
    from qml_phys.physics import exact
    from qml_phys.runtime import plots
    from qml_phys.train import TrainConfig

    L, T = (3, exact.onsager_tc()) if ctx.quick else (4, exact.onsager_tc())
    n_data = 1000 if ctx.quick else 4000
    mc = sample_block(L, T, n_data, seed=ctx.seed)["spins"].astype(np.float32)
    names = ["made", "rbm"] if ctx.quick else ["made", "pixelcnn", "rnn", "transformer", "rbm"]
    hidden = {"made": 32, "pixelcnn": 8, "rnn": 32, "transformer": 16, "rbm": L * L}
    rows, samples, results = [], {"Monte Carlo (Wolff)": mc[:8]}, {}
    key = jax.random.key(ctx.seed)
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        module = build_model(name, L, hidden=hidden[name])
        config = TrainConfig(  # the RBM (CD-10) needs more, larger steps to leave its plateau
            epochs=10 if name != "rbm" else 40,
            batch_size=50 if ctx.quick else 100,
            learning_rate=1e-2 if name != "rbm" else 3e-2,
            schedule="constant" if name != "rbm" else "cosine",
            validation_fraction=0.0,
            seed=ctx.seed,
        )
        res = base.train_spin_model(module, mc, config=config, desc=f"tour {name}")
        kl = evaluate.exact_kl(base.normalised_log_prob_fn(module, res.params), L, T)
        draw = np.asarray(
            base.draw_samples(module, res.params, jax.random.fold_in(key, i), 1000, gibbs_steps=200)
        )
        cmp = evaluate.compare_with_reference(draw, mc, T=T)
        samples[name] = draw[:8]
        rows.append(
            {
                "model": name,
                "exact KL (nats)": kl,
                "e model": cmp["observables"]["energy"]["model"]["mean"],
                "e MC": cmp["observables"]["energy"]["reference"]["mean"],
                "z(e)": cmp["observables"]["energy"]["z"],
                "KS p(|m|)": cmp["ks_abs_m"]["pvalue"],
                "seconds": time.perf_counter() - t0,
            }
        )
        results[name] = {"exact_kl": kl, "comparison": cmp, "status": res.status}
    fig, axes = plots.figure(len(samples), 8, figsize=(8.0, 1.05 * len(samples)))
    for r, (label, s) in enumerate(samples.items()):
        for c in range(8):
            ax = axes[r, c]
            ax.imshow(s[c], cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    plots.save(fig, ctx.out / "generative_samples.png")
    checks = {f"{r['model']}: exact KL < 0.1 nats": r["exact KL (nats)"] < 0.1 for r in rows} | {
        f"{r['model']}: |z(e)| < 4 vs MC": abs(r["z(e)"]) < 4 for r in rows
    }
    return Section(
        title="Generative models of Ising configurations",
        text=(
            f"Each model is trained for a few seconds on {n_data} Wolff Monte Carlo samples of "
            f"the {L}×{L} torus at T<sub>c</sub>. The autoregressive models (MADE, PixelCNN, "
            "GRU, Transformer) sample exactly, site by site; the RBM (CD-10) is sampled by "
            "Gibbs chains. The exact KL divergence from the Boltzmann distribution is computed "
            "by enumerating all states; z(e) compares the mean energy of 1000 generated "
            "samples with the Monte Carlo one in units of the combined error."
        ),
        figures=["generative_samples.png"],
        table=rows,
        results=results,
        checks=checks,
    )


def variational_free_energy(ctx: TourContext) -> Section:
    """VAN (Wu, Wang, Zhang 2019) on a small torus: F_q >= F, compared with Kaufman."""
    from qml_phys.generative import van
    from qml_phys.runtime import plots

    L = 4
    temps = [2.0, 2.269, 3.0] if not ctx.quick else [2.269]
    steps = 400 if not ctx.quick else 150
    rows, results = [], {}
    for T in temps:
        r = van.train_van(
            L,
            T,
            steps=steps,
            batch_size=256,
            learning_rate=3e-3,
            beta_anneal=0.98,
            model_kwargs={"hidden": (32,)},
            n_eval=10000,
            seed=ctx.seed,
        )
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
    ax.set_xlabel("temperature T / J")
    ax.set_ylabel("(F_q - F) / |F|")
    ax.set_title(f"VAN on the {L}x{L} torus, {steps} steps")
    plots.save(fig, ctx.out / "van_free_energy.png")
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
        figures=["van_free_energy.png"],
        table=rows,
        results=results,
        checks=checks,
    )


SECTIONS = {
    "generative_models": generative_models,
    "variational_free_energy": variational_free_energy,
}

SECTIONS.update(tour_models.SECTIONS)
