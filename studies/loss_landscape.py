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
    ap.add_argument("--out", default="results/loss_landscape")
    args = ap.parse_args(argv)
    loss, init, data = chain_energy_task(10, 512, key=jax.random.key(0), hidden=16)
    _, _, test = chain_energy_task(10, 2048, key=jax.random.key(9), hidden=16)
    cfg = TrainConfig(epochs=args.epochs, batch_size=64, learning_rate=1e-2, validation_fraction=0)
    a, b = (fit(loss, init(jax.random.key(s)), data, config=cfg).params for s in (1, 2))

    def full(p):
        return loss(
            p,
            {k: jax.numpy.asarray(v) for k, v in data.items()},
            key=None,
            model_state=None,
            train=False,
        )[0]

    top = LS.hessian_eigenvalues(full, a, k=5, n_iter=40, key=jax.random.key(3))
    trace = LS.hessian_trace(full, a, n_probes=64, key=jax.random.key(4))
    print("top Hessian eigenvalues", np.round(top, 4), "trace", trace)
    rows = LS.sharpness_vs_batch_size(
        loss,
        init,
        data,
        test,
        args.batch_sizes,
        config=TrainConfig(epochs=args.epochs, learning_rate=1e-2, optimizer="sgd"),
        key=jax.random.key(5),
    )
    for r in rows:
        print(r)
    mc = LS.mode_connectivity(
        loss, a, b, data, config=TrainConfig(epochs=100, batch_size=64, learning_rate=1e-2)
    )
    print(f"barrier: straight line {mc['linear_barrier']:.4g}, Bezier {mc['bezier_barrier']:.4g}")
    fig, (a1, a2) = plots.figure(1, 2)
    a1.plot(mc["t"], mc["linear"], "o-", label="straight line")
    a1.plot(mc["t"], mc["bezier"], "s-", label="trained Bézier curve")
    a1.set(xlabel="t", ylabel="training loss", title="mode connectivity")
    a1.legend()
    a2.plot([r["lambda_max"] for r in rows], [r["test_loss"] for r in rows], "o")
    for r in rows:
        a2.annotate(f"B={r['batch_size']}", (r["lambda_max"], r["test_loss"]))
    a2.set(xlabel="sharpness λ_max", ylabel="test loss", title="batch size")
    plots.save(fig, Path(args.out) / "landscape.png")
    mc.pop("control")
    write_record(
        Path(args.out) / "record.json",
        {"hessian_top": top, "hessian_trace": trace, "batch_size": rows, "mode_connectivity": mc},
        config=vars(args),
    )


if __name__ == "__main__":
    main()
