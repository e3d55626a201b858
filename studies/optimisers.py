"""SGD, momentum and Adam on the same physics task; regularisation switches compared
(Mehta et al., arXiv:1803.08823, secs. IV and IX).

Method: a one-hidden-layer network learns the energy per spin of random 1D Ising chains
(minibatch 32); every optimiser (the trainer's optax transformations) at several learning
rates and 5 seeds trained at once (vmap); loss vs steps with seed bands, final loss vs
learning rate, and loss vs wall time. Then a phase classifier on 2D Ising configurations
(L = 8) trained with no regularisation, weight decay, dropout, batch norm, early stopping.
Writes results/optimisers/{record.json, optimisers.png}.

    python studies/optimisers.py [--steps 1000] [--seeds 5] [--no-regularisation]
"""

import argparse
from pathlib import Path

import jax
import numpy as np

from qml_phys.learning import optimisers as O
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--no-regularisation", action="store_true")
    ap.add_argument("--out", default="results/optimisers")
    args = ap.parse_args(argv)
    out = Path(args.out)
    loss, init, data = O.chain_energy_task(10, 512, key=jax.random.key(0), hidden=16)
    lrs = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
    r = O.compare_optimisers(
        loss,
        init,
        data,
        learning_rates=lrs,
        steps=args.steps,
        log_every=50,
        batch_size=32,
        seeds=tuple(range(args.seeds)),
    )
    fig, (a1, a2, a3) = plots.figure(1, 3)
    for name, res in r.items():
        best = res["by_lr"][res["best_lr"]]
        (line,) = a1.semilogy(best["steps"], best["mean"], label=f"{name}, lr={res['best_lr']}")
        a1.fill_between(
            best["steps"],
            np.maximum(best["mean"] - best["std"], 1e-6),
            best["mean"] + best["std"],
            color=line.get_color(),
            alpha=0.25,
        )
        a2.loglog(
            lrs,
            np.where(np.isfinite(res["final_vs_lr"]), res["final_vs_lr"], np.nan),
            "o-",
            label=name,
        )
        seconds = best["steps"] / args.steps * best["run_s"] / args.seeds
        a3.semilogy(seconds, best["mean"], label=name)
        print(
            f"{name:8s} best lr {res['best_lr']}: final loss {best['mean'][-1]:.3g} ± "
            f"{best['std'][-1]:.2g}; {best['run_s'] / args.seeds * 1e3:.1f} ms per seed-run"
        )
    a1.set(xlabel="step", ylabel="training loss (mean ± sd over seeds)")
    a2.set(xlabel="learning rate", ylabel="final loss")
    a3.set(xlabel="wall time per run (s)", ylabel="training loss")
    for a in (a1, a2, a3):
        a.legend()
    plots.save(fig, out / "optimisers.png")
    record = {
        name: {
            "best_lr": res["best_lr"],
            "final_vs_lr": res["final_vs_lr"],
            "curves": {
                lr: {k: c[k] for k in ("steps", "mean", "std", "run_s")}
                for lr, c in res["by_lr"].items()
            },
        }
        for name, res in r.items()
    }
    if not args.no_regularisation:
        from qml_phys.classical.datasets import DatasetConfig, load_dataset, write_dataset
        from qml_phys.learning import logistic as G

        path = out / "ising8.h5"
        temps = [1.5, 1.75, 2.0, 2.15, 2.4, 2.6, 3.0, 3.5]
        write_dataset(
            path, DatasetConfig(sizes=[8], temperatures=temps, n_samples=100), key=jax.random.key(0)
        )
        d = load_dataset(path, 8)
        reg = G.phase_regularisation_comparison(d.spins, d.label, key=jax.random.key(0))
        for k, v in reg.items():
            print(
                f"{k:15s} train CE {v['train_cross_entropy']:.3f} test CE "
                f"{v['test_cross_entropy']:.3f} test acc {v['test_accuracy']:.3f} "
                f"|θ| {v['param_norm']:.2f} epochs {v['epochs']}"
            )
        record["regularisation"] = reg
    write_record(out / "record.json", record, config=vars(args))


if __name__ == "__main__":
    main()
