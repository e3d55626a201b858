"""Learning the couplings of a 1D Ising chain by OLS, ridge and LASSO (Mehta et al.,
arXiv:1803.08823, sec. VI, Figs. 12-13), and the Bayesian reading of ridge.

Method: L-spin periodic chains drawn uniformly, energies E = -J sum s_i s_{i+1}; all L^2 pair
features s_i s_j; train/test R^2 along the regularisation path; the identifiable couplings
K_ij = W_ij + W_ji at lam = 0.01; then, with Gaussian noise on E, the coverage of 95%
credible intervals of Bayesian ridge over repeated draws (i<j features, weak prior).
Writes results/learn_hamiltonian/{record.json, path.png, couplings.png}.

    python studies/learn_hamiltonian.py [--L 40] [--samples 2000] [--draws 40]
"""

import argparse
from pathlib import Path

import jax
import numpy as np

from qml_phys.learning import regression as R
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, default=40)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--lam", type=float, default=0.01)
    ap.add_argument("--draws", type=int, default=40, help="repeats for credible intervals")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/learn_hamiltonian")
    args = ap.parse_args(argv)
    out = Path(args.out)
    k_data, k_split, k_fit, k_bayes = jax.random.split(jax.random.key(args.seed), 4)
    d = R.ising_chain_data(args.L, args.samples, key=k_data)
    X = R.pair_features(d.spins)
    tr, te = R.split(args.samples, 0.3, key=k_split)
    lams = np.logspace(0, -4, 9)
    paths = {
        m: R.regularisation_path(X[tr], d.energy[tr], X[te], d.energy[te], lams, m)
        for m in ("ridge", "lasso")
    }
    fits = {  # the same key: every method sees the same configurations and split
        m: R.learn_hamiltonian(
            R.HamiltonianConfig(L=args.L, n_samples=args.samples, method=m, lam=args.lam),
            key=k_fit,
        )
        for m in ("ols", "ridge", "lasso")
    }
    fig, ax = plots.figure()
    for m, p in paths.items():
        ax.semilogx(p.lam, p.train_r2, "o-", label=f"{m} train")
        ax.semilogx(p.lam, p.test_r2, "s--", label=f"{m} test")
    ax.set_xlabel("regularisation λ")
    ax.set_ylabel("R²")
    ax.legend()
    plots.save(fig, out / "path.png")
    fig, axes = plots.figure(1, 3)
    for ax, (m, f) in zip(axes, fits.items(), strict=True):
        ax.imshow(f.K, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_title(f"{m}: K_ij")
    plots.save(fig, out / "couplings.png")
    # Bayesian ridge: noise sigma = 0.5, weak prior; coverage of the couplings K_ij
    Lb, nb, sigma = 12, 300, 0.5
    hits = []
    truth = R.chain_couplings(Lb)[np.triu_indices(Lb, 1)]
    for k in jax.random.split(k_bayes, args.draws):
        db = R.ising_chain_data(Lb, nb, key=k, noise_std=sigma)  # E + N(0, sigma^2)
        Xb = R.pair_features(db.spins, "pairs")
        post = R.bayesian_ridge(Xb, db.energy, noise_var=sigma**2, prior_var=100.0)
        lo, hi = R.credible_intervals(post, 0.95, transform=R.coupling_map(Lb, "pairs"))
        hits.append((lo <= truth) & (truth <= hi))
    hits = np.concatenate(hits)
    coverage = {
        "rate": hits.mean(),
        "binomial_se": np.sqrt(0.95 * 0.05 / hits.size),
        "n_intervals": hits.size,
    }
    summary = {m: f.summary() for m, f in fits.items()}
    for m, f in summary.items():
        print(
            f"{m:5s} off-structure {f['max_off_structure']:.3g}  nn error "
            f"{f['max_structure_error']:.3g}  test R2 {f['test_r2']:.6f}  zeros "
            f"{f['n_zero_off_structure']}/{f['n_off_structure']}"
        )
    print(f"95% credible intervals cover {coverage['rate']:.4f} ± {coverage['binomial_se']:.4f}")
    write_record(
        out / "record.json",
        {
            "fits": summary,
            "paths": {m: p.summary() for m, p in paths.items()},
            "coverage": coverage,
        },
        config=vars(args),
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
