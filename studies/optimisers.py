"""SGD, momentum and Adam on the same physics task; regularisation switches compared
(Mehta et al., arXiv:1803.08823, secs. IV and IX).

Method: a one-hidden-layer network learns the energy per spin of random 1D Ising chains
(minibatch 32); every optimiser (the trainer's optax transformations) at several learning
rates, 5 independent runs trained at once (vmap); loss vs steps with bands over runs, final
loss vs learning rate, and loss vs wall time. Then a phase classifier on 2D Ising configurations
(L = 8) trained with no regularisation, weight decay, dropout, batch norm, early stopping.
Writes results/optimisers/{record.json, optimisers.png}.

    python studies/optimisers.py [--steps 1000] [--runs 5] [--no-regularisation] [--seed 0]
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
    ap.add_argument("--runs", "--seeds", type=int, default=5, help="independent runs per setting")
    ap.add_argument("--no-regularisation", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/optimisers")
    args = ap.parse_args(argv)
    out = Path(args.out)
    k_task, k_runs, k_data, k_reg = jax.random.split(jax.random.key(args.seed), 4)
    loss, init, data = O.chain_energy_task(10, 512, key=k_task, hidden=16)
    lrs = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
    config = O.OptimiserConfig(n_steps=args.steps, log_every=50, batch_size=32, n_runs=args.runs)
    r = O.compare_optimisers(loss, init, data, config, key=k_runs, learning_rates=lrs)
    fig, (a1, a2, a3) = plots.figure(1, 3)
    for name, by_lr in r.curves.items():
        best_lr = r.best_lr[name]
        best = by_lr[best_lr]
        (line,) = a1.semilogy(best.steps, best.mean, label=f"{name}, lr={best_lr}")
        a1.fill_between(
            best.steps,
            np.maximum(best.mean - best.std, 1e-6),
            best.mean + best.std,
            color=line.get_color(),
            alpha=0.25,
        )
        final = r.final_vs_lr[name]
        a2.loglog(lrs, np.where(np.isfinite(final), final, np.nan), "o-", label=name)
        seconds = best.steps / args.steps * best.run_s / args.runs
        a3.semilogy(seconds, best.mean, label=name)
        print(
            f"{name:8s} best lr {best_lr}: final loss {best.mean[-1]:.3g} ± "
            f"{best.std[-1]:.2g}; {best.run_s / args.runs * 1e3:.1f} ms per run"
        )
    a1.set(xlabel="step", ylabel="training loss (mean ± sd over runs)")
    a2.set(xlabel="learning rate", ylabel="final loss")
    a3.set(xlabel="wall time per run (s)", ylabel="training loss")
    for a in (a1, a2, a3):
        a.legend()
    plots.save(fig, out / "optimisers.png")
    record = {
        name: {
            "best_lr": r.best_lr[name],
            "final_vs_lr": r.final_vs_lr[name],
            "curves": {lr: c.summary() | dict(c.history) for lr, c in by_lr.items()},
        }
        for name, by_lr in r.curves.items()
    }
    if not args.no_regularisation:
        from qml_phys.classical.datasets import DatasetConfig, load_dataset, write_dataset
        from qml_phys.learning import logistic as G

        path = out / "ising8.h5"
        temps = [1.5, 1.75, 2.0, 2.15, 2.4, 2.6, 3.0, 3.5]
        write_dataset(path, DatasetConfig(sizes=[8], temperatures=temps, n_samples=100), key=k_data)
        d = load_dataset(path, 8)
        reg = G.phase_regularisation_comparison(d.spins, d.label, key=k_reg).models
        for k, v in reg.items():
            print(
                f"{k:15s} train CE {v['train_cross_entropy']:.3f} test CE "
                f"{v['test_cross_entropy']:.3f} test acc {v['test_accuracy']:.3f} "
                f"|θ| {v['param_norm']:.2f} epochs {v['epochs']}"
            )
        record["regularisation"] = reg
    write_record(out / "record.json", record, config=vars(args), seed=args.seed)


if __name__ == "__main__":
    main()
