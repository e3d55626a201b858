"""Supervised learning of the 2D Ising transition and finite-size scaling of Tc(L).

Method (Carrasquilla & Melko, Nat. Phys. 13, 431 (2017), arXiv:1605.01735): decorrelated
Monte Carlo configurations on a temperature grid symmetric about Onsager's Tc; a classifier
(CNN or one-hidden-layer dense network) labels them ordered (T < Tc) / disordered; the 0.5
crossing of its averaged output on held-out configurations gives Tc(L) (bootstrap over
configurations per temperature, combined with the spread of independently trained
networks); Tc(L) = Tc + a / L (nu = 1) extrapolates. Optionally the square-lattice network
is applied to the triangular lattice (exact Tc = 4 / ln 3). Writes results/carrasquilla_melko/.

    python studies/carrasquilla_melko.py [--L 8 12 16 24 32] [--samples 500] [--model cnn]
"""

import argparse
from pathlib import Path

import jax

from qml_phys.classical.datasets import DatasetConfig, write_dataset
from qml_phys.phases import supervised
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, nargs="+", default=[8, 12, 16, 24, 32])
    ap.add_argument("--samples", type=int, default=500, help="configurations per (L, T)")
    ap.add_argument("--model", default="cnn", choices=("dense", "cnn"))
    ap.add_argument("--networks", type=int, default=5, help="networks per size (default 5)")
    ap.add_argument("--exclude", type=float, default=0.0, help="train on |T - Tc| >= this")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument(
        "--triangular",
        action="store_true",
        help="also apply a dense network to the triangular lattice",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/carrasquilla_melko")
    args = ap.parse_args(argv)
    out = Path(args.out)
    k_data, k_fit, k_tri = jax.random.split(jax.random.key(args.seed), 3)
    data_path = out / f"ising_{'_'.join(map(str, args.L))}_{args.samples}.h5"
    write_dataset(
        data_path,
        DatasetConfig(
            sizes=args.L, temperatures=supervised.temperature_grid(), n_samples=args.samples
        ),
        key=k_data,
    )
    config = supervised.SupervisedConfig(
        model=args.model,
        exclude=args.exclude,
        n_networks=args.networks,
        train=supervised.default_config(epochs=args.epochs),
    )
    res = supervised.supervised_tc(supervised.load_sizes(data_path), config, key=k_fit)
    summary = res.summary()
    if args.triangular:  # a dense network (it reads |m|) on the largest size divisible by 3
        tri = supervised.triangular_transfer(
            supervised.load_sizes(data_path, [max(L for L in args.L if L % 3 == 0)]),
            supervised.SupervisedConfig(model="dense", train=config.train),
            key=k_tri,
        )
        summary["triangular"] = tri.summary()
        print(
            f"triangular L = {tri.L}: Tc = {tri.Tc:.3f} +- {tri.Tc_error:.3f} "
            f"(exact {tri.Tc_exact:.4f})"
        )
    write_record(
        out / "carrasquilla_melko.json",
        summary,
        config=vars(args),
        seed=args.seed,
        kind="study.carrasquilla_melko",
    )
    fig, axes = plots.figure(1, 2)
    supervised.plot_supervised(axes, res)
    plots.save(fig, out / "carrasquilla_melko.png")
    for L, r in res.per_size.items():
        print(f"L = {L:3d}: Tc(L) = {r.Tc:.4f} +- {r.Tc_error:.4f}")
    if res.fss is not None:
        f, exact = res.fss, res.Tc_exact
        print(
            f"FSS: Tc = {f.Tc:.4f} +- {f.Tc_error:.4f} (Onsager {exact:.5f}, "
            f"{100 * (f.Tc - exact) / exact:+.2f}%, chi2/dof = {f.chi2:.2f}/{f.dof})"
        )


if __name__ == "__main__":
    main()
