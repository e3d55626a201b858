"""Initialisation strategies against barren plateaus (Grant et al., Quantum 3, 214 (2019),
arXiv:1903.05076).

Method: McClean's random circuit (cost <Z0 Z1>) at a fixed depth, initialised with uniform
angles, small Gaussian angles (sigma = 0.1) or identity blocks (each block a random half
and its mirror, so the circuit starts as the identity). For each, the gradient variance
(averaged over parameters, 95% bootstrap intervals) against n and its fitted decay rate.
Writes results/initialisation_strategies/.

    python studies/initialisation_strategies.py [--qubits 2:12:2] [--layers 40] [--blocks 2]
"""

import argparse
from pathlib import Path

import jax

from qml_phys.circuits.barren import PlateauConfig, plateau_scan, plot_scan
from qml_phys.cli import args as A
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qubits", type=A.qubits, default=[2, 4, 6, 8, 10, 12])
    ap.add_argument("--layers", type=int, default=40)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--sigma", type=float, default=0.1)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/initialisation_strategies")
    args = ap.parse_args(argv)
    key = jax.random.key(args.seed)
    scans = {
        init: plateau_scan(args.qubits, PlateauConfig(layers=args.layers, n_draws=args.draws,
                           cost="zz", gates="mcclean", init=init, sigma=args.sigma,
                           n_blocks=args.blocks), key=jax.random.fold_in(key, i))
        for i, init in enumerate(("uniform", "small", "identity"))
    }  # fmt: skip
    fig, ax = plots.figure()
    for init, scan in scans.items():
        plot_scan(ax, scan, label=f"{init} init", reference=init == "uniform")
    ax.set_title(f"McClean circuit, {args.layers} layers, cost Z0 Z1")
    ax.legend(fontsize=6)
    out = Path(args.out)
    plots.save(fig, out / "initialisation_strategies.png")
    summary = {i: s.summary() for i, s in scans.items()}
    full = {i: s.as_dict() for i, s in scans.items()}
    write_record(out / "initialisation_strategies.json", {"summary": summary, "scans": full},
                 config=vars(args), seed=args.seed, kind="study.initialisation")  # fmt: skip
    for init, s in summary.items():
        f, last = s["fit"]["mean"], s["rows"][-1]
        print(f"{init:>8}: rate {f['rate_per_qubit']:.3f} [{f['low']:.3f}, {f['high']:.3f}] per "
              f"qubit; Var(n={last['n']}) = {last['var_mean']['value']:.3g}")  # fmt: skip


if __name__ == "__main__":
    main()
