"""The loss landscape of a small network learning Ising-chain energies: Hessian spectrum,
sharpness vs batch size (Keskar et al., arXiv:1609.04836) and mode connectivity
(Garipov et al., arXiv:1802.10026).

Method: a one-hidden-layer tanh network fits E/L of random 10-spin chains. Top Hessian
eigenvalues by Lanczos on Hessian-vector products and the trace by Hutchinson at a trained
solution; the same training at several batch sizes (same epochs) with lambda_max and test
loss; two independently trained solutions joined by the straight line and by a trained
quadratic Bezier curve. Writes results/loss_landscape/{record.json, landscape.png}.

    python studies/loss_landscape.py [--epochs 150] [--batch-sizes 8 32 128 512]
"""

import argparse
from pathlib import Path

import jax
import numpy as np

from qml_phys.learning import landscape as LS
from qml_phys.learning.optimisers import chain_energy_task
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record
from qml_phys.train import TrainConfig, fit


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32, 128, 512])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/loss_landscape")
    args = ap.parse_args(argv)
    k_data, k_test, k_a, k_b, k_top, k_trace, k_sharp, k_mc = jax.random.split(
        jax.random.key(args.seed), 8
    )
    loss, init, data = chain_energy_task(10, 512, key=k_data, hidden=16)
    _, _, test = chain_energy_task(10, 2048, key=k_test, hidden=16)
    cfg = TrainConfig(epochs=args.epochs, batch_size=64, learning_rate=1e-2, validation_fraction=0)
    k_a, k_b = (jax.random.split(k) for k in (k_a, k_b))  # (initialisation, training)
    a, b = (fit(loss, init(k[0]), data, config=cfg, key=k[1]).params for k in (k_a, k_b))

    arrays = {k: jax.numpy.asarray(v) for k, v in data.items()}

    def full(p):
        return loss(p, arrays, key=None, model_state=None, train=False)[0]

    top = LS.hessian_eigenvalues(full, a, k=5, n_iter=40, key=k_top)
    trace = LS.hessian_trace(full, a, n_probes=64, key=k_trace)
    print("top Hessian eigenvalues", np.round(top, 4), "trace", trace)
    rows = LS.sharpness_vs_batch_size(
        loss,
        init,
        data,
        test,
        args.batch_sizes,
        config=TrainConfig(epochs=args.epochs, learning_rate=1e-2, optimizer="sgd"),
        key=k_sharp,
    ).rows
    for r in rows:
        print(r)
    mc = LS.mode_connectivity(
        loss,
        a,
        b,
        data,
        config=TrainConfig(epochs=100, batch_size=64, learning_rate=1e-2),
        key=k_mc,
    )
    print(f"barrier: straight line {mc.linear_barrier:.4g}, Bezier {mc.bezier_barrier:.4g}")
    fig, (a1, a2) = plots.figure(1, 2)
    a1.plot(mc.t, mc.linear, "o-", label="straight line")
    a1.plot(mc.t, mc.bezier, "s-", label="trained Bézier curve")
    a1.set(xlabel="t", ylabel="training loss", title="mode connectivity")
    a1.legend()
    a2.plot([r["lambda_max"] for r in rows], [r["test_loss"] for r in rows], "o")
    for r in rows:
        a2.annotate(f"B={r['batch_size']}", (r["lambda_max"], r["test_loss"]))
    a2.set(xlabel="sharpness λ_max", ylabel="test loss", title="batch size")
    plots.save(fig, Path(args.out) / "landscape.png")
    write_record(
        Path(args.out) / "record.json",
        {
            "hessian_top": top,
            "hessian_trace": trace,
            "batch_size": list(rows),
            "mode_connectivity": mc.summary(),
        },
        config=vars(args),
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
