"""Tour section: generative models trained on Monte Carlo samples of the 4x4 torus at T_c."""

from __future__ import annotations

import time

import numpy as np

from qml_phys.tour.section import Section, TourContext


def generative_models(ctx: TourContext) -> Section:
    """Train each model on Wolff samples of the 4x4 torus at T_c; show samples and exact KL."""
    import jax

    from qml_phys.classical.datasets import sample_block
    from qml_phys.generative import evaluate, models
    from qml_phys.generative.models import make_spin_model
    from qml_phys.physics import exact
    from qml_phys.runtime import plots
    from qml_phys.train import TrainConfig

    L, T = (3, exact.onsager_tc()) if ctx.quick else (4, exact.onsager_tc())
    n_data = 1000 if ctx.quick else 4000
    mc = sample_block(L, T, n_data, key=jax.random.fold_in(jax.random.key(ctx.seed), 1))[
        "spins"
    ].astype(np.float32)
    names = ["made", "rbm"] if ctx.quick else ["made", "pixelcnn", "rnn", "transformer", "rbm"]
    hidden = {"made": 32, "pixelcnn": 8, "rnn": 32, "transformer": 16, "rbm": L * L}
    rows, samples, results = [], {"Monte Carlo (Wolff)": mc[:8]}, {}
    key = jax.random.key(ctx.seed)
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        module = make_spin_model(name, L, hidden=hidden[name])
        config = TrainConfig(  # the RBM (CD-10) needs more, larger steps to leave its plateau
            epochs=10 if name != "rbm" else 40,
            batch_size=50 if ctx.quick else 100,
            learning_rate=1e-2 if name != "rbm" else 3e-2,
            schedule="constant" if name != "rbm" else "cosine",
            validation_fraction=0.0,
            seed=ctx.seed,
        )
        res = models.train_spin_model(module, mc, config=config, desc=f"tour {name}")
        kl = evaluate.exact_kl(models.normalised_log_prob_fn(module, res.params), L, T)
        draw = np.asarray(
            models.draw_samples(
                module, res.params, jax.random.fold_in(key, i), 1000, gibbs_steps=200
            )
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
