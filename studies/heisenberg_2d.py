"""Antiferromagnetic Heisenberg model on the periodic L x L square lattice with an NQS.

Method (Carleo & Troyer, Science 355, 602 (2017), Table/Fig. 3 for 10x10; reference energy
per site for L = 6 from QMC, A. W. Sandvik, PRB 56, 11678 (1997): -0.678873(4) in S.S
units, i.e. 4x in the package's Pauli units): translation-symmetric RBM with the Marshall
sign rule, S^z = 0 sector with exchange moves, SR. L <= 4 is compared with exact
diagonalisation. Writes results/heisenberg_2d/.

    python studies/heisenberg_2d.py [--L 4] [--alpha 2] [--iters 300] [--J2 0.0] [--seed 0]
    python studies/heisenberg_2d.py --L 6 --alpha 8 --iters 1000   # the slow 6x6 target

Measured (2 CPU cores, 2026-11-27, seed 0): 6x6, alpha = 8, 1000 iterations of 2048
samples: E/N = -0.678177 +- 0.000064 against QMC -0.678873, |diff| = 7.0e-4 (26 min);
alpha = 4: -0.677769 +- 0.000072, |diff| = 1.1e-3 (14 min).
"""

import argparse

import jax

from qml_phys.nqs.ground_state import CHECKPOINT_EVERY, VMCConfig, ground_state, plot_convergence
from qml_phys.physics import Heisenberg, Lattice
from qml_phys.runtime import plots
from qml_phys.runtime.checkpoint import Checkpoint
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, default=4)
    ap.add_argument("--alpha", type=int, default=2)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--samples", type=int, default=2048)
    ap.add_argument("--J2", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/heisenberg_2d")
    args = ap.parse_args(argv)
    model = Heisenberg(Lattice.square(args.L), J1=1.0, J2=args.J2)
    cfg = VMCConfig(ansatz="rbm-symm", alpha=args.alpha, n_steps=args.iters, n_samples=args.samples)
    inputs = {"model": repr(model), "seed": args.seed}
    ckpt = Checkpoint(args.out, every=CHECKPOINT_EVERY, resume=True, inputs=inputs)
    res = ground_state(model, cfg, key=jax.random.key(args.seed), checkpoint=ckpt)
    write_record(f"{args.out}/result.json", res.summary() | {"log": res.history}, seed=args.seed)
    fig, (ax, error_ax) = plots.figure(1, 2)
    plot_convergence(ax, res, error_ax=error_ax)
    plots.save(fig, f"{args.out}/energy.png")
    n = model.n_sites
    per_site = res.energy / (4 * n)
    line = f"E/N = {per_site:.6f} ± {res.energy_error / (4 * n):.6f} (S.S units)"
    if res.exact_energy is not None:
        ref = res.exact_energy / (4 * n)
        line += f"  reference {ref:.6f} [{res.exact_method}]  |diff| = {abs(per_site - ref):.2e}"
    print(
        line + f"  V-score {res.v_score:.2e}  converged {res.converged}  ({res.wall_time_s:.0f} s)"
    )


if __name__ == "__main__":
    main()
