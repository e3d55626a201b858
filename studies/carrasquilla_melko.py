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
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, nargs="+", default=[8, 12, 16, 24, 32])
    ap.add_argument("--samples", type=int, default=500, help="configurations per (L, T)")
    ap.add_argument("--model", default="cnn", choices=("dense", "cnn"))
    ap.add_argument("--networks", type=int, default=2, help="networks per size")
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
    data_path = out / f"ising_{'_'.join(map(str, args.L))}_{args.samples}.h5"
    write_dataset(
        data_path,
        DatasetConfig(
            sizes=args.L, temperatures=supervised.temperature_grid(), n_samples=args.samples
        ),
        key=jax.random.key(args.seed),
    )
    res = supervised.supervised_tc(
        supervised.load_sizes(data_path),
        model=args.model,
        key=jax.random.key(args.seed),
        config=supervised.default_config(epochs=args.epochs, seed=args.seed),
        exclude=args.exclude,
        n_networks=args.networks,
    )
    if args.triangular:
        res["triangular"] = supervised.triangular_transfer(
            supervised.load_sizes(data_path, [max(L for L in args.L if L % 3 == 0)]),
            model="dense",
            key=jax.random.key(args.seed + 1),  # dense reads |m|
            config=supervised.default_config(epochs=args.epochs, seed=args.seed),
        )
    write_record(
        out / "carrasquilla_melko.json",
        res,
        config=vars(args),
        seed=args.seed,
        kind="study.carrasquilla_melko",
    )
    supervised.plot_supervised(res, out / "carrasquilla_melko.png")
    for L in res["sizes"]:
        r = res["per_size"][L]
        print(f"L = {L:3d}: Tc(L) = {r['Tc']:.4f} +- {r['Tc_error']:.4f}")
    if "fss" in res:
        f = res["fss"]
        dev = (f["Tc"] - res["Tc_exact"]) / res["Tc_exact"]
        print(
            f"FSS: Tc = {f['Tc']:.4f} +- {f['Tc_error']:.4f} (Onsager {res['Tc_exact']:.5f}, "
            f"{100 * dev:+.2f}%, chi2/dof = {f['chi2']:.2f}/{f['dof']})"
        )
    if "triangular" in res:
        t = res["triangular"]
        print(
            f"triangular L = {t['L']}: Tc = {t['Tc']:.3f} +- {t['Tc_error']:.3f} "
            f"(exact {t['Tc_exact']:.4f})"
        )


if __name__ == "__main__":
    main()
