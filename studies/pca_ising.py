"""Unsupervised learning of the 2D Ising transition: PCA, k-means and an autoencoder.

Method (Wang, PRB 94, 195105 (2016), arXiv:1606.00318; Hu, Singh & Scalettar, PRE 95,
062122 (2017); Wetzel, PRE 96, 022140 (2017)): PCA of raw configurations (PC1 is the
magnetization: report |corr(PC1, m)|), Tc(L) from the peak of Var(|PC1|)/T; k-means (k = 3)
on the two leading components separates the ordered lobes from the disordered blob, Tc(L)
from the 0.5 crossing of the ordered fraction; an autoencoder's latent variable, Tc(L) from
its fluctuation peak. Bootstrap errors; Tc(L) = Tc + a / L extrapolates each.
Writes results/pca_ising/.

    python studies/pca_ising.py [--L 8 12 16 24 32] [--samples 500] [--no-autoencoder]
"""

import argparse
from pathlib import Path

import jax

from qml_phys.classical.datasets import DatasetConfig, write_dataset
from qml_phys.phases import supervised, unsupervised
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, nargs="+", default=[8, 12, 16, 24, 32])
    ap.add_argument("--samples", type=int, default=500, help="configurations per (L, T)")
    ap.add_argument("--no-autoencoder", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None, help="an existing dataset (default: write one)")
    ap.add_argument("--out", default="results/pca_ising")
    args = ap.parse_args(argv)
    out = Path(args.out)
    k_data, k_fit = jax.random.split(jax.random.key(args.seed))
    data_path = args.data or out / f"ising_{'_'.join(map(str, args.L))}_{args.samples}.h5"
    if args.data is None:
        write_dataset(
            data_path,
            DatasetConfig(
                sizes=args.L, temperatures=supervised.temperature_grid(), n_samples=args.samples
            ),
            key=k_data,
        )
    config = unsupervised.UnsupervisedConfig(
        autoencoder=None if args.no_autoencoder else unsupervised.AutoencoderConfig()
    )
    res = unsupervised.unsupervised_tc(supervised.load_sizes(data_path, args.L), config, key=k_fit)
    write_record(
        out / "pca_ising.json",
        res.summary(),
        config=vars(args),
        seed=args.seed,
        kind="study.pca_ising",
    )
    fig, axes = plots.figure(1, len(res.methods))
    unsupervised.plot_unsupervised(axes, res)
    plots.save(fig, out / "pca_ising.png")
    for L, r in res.per_size.items():
        line = f"L = {L:3d}: |corr(PC1, m)| = {abs(r.pca['corr_pc1_m']):.5f}"
        if r.autoencoder is not None:
            line += f"  |corr(z, m)| = {abs(r.autoencoder['corr_latent_m']):.4f}"
        est = {m: getattr(r, m) for m in res.methods}
        print(line + "".join(f"  {m}: {e['Tc']:.4f}+-{e['Tc_error']:.4f}" for m, e in est.items()))
    for m, f in (res.fss or {}).items():
        print(
            f"FSS {m}: Tc = {f.Tc:.4f} +- {f.Tc_error:.4f} (Onsager "
            f"{res.Tc_exact:.5f}; chi2/dof = {f.chi2:.2f}/{f.dof})"
        )


if __name__ == "__main__":
    main()
