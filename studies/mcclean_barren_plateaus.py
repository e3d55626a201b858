"""Barren plateaus in random circuits (McClean et al., Nat. Commun. 9, 4812 (2018),
arXiv:1803.11173).

Method: McClean's circuit (RY(pi/4) on every qubit, then layers of random RX/RY/RZ rotations
and a CZ ladder) with uniform random angles; cost <Z0 Z1>. For each depth, the variance of
dC/dtheta (averaged over parameters, 95% bootstrap intervals) against n, its fitted decay
rate per qubit (weighted fit of ln Var) against the 2-design value (-> ln 2), and the
approach to the 2-design variance as the depth grows. Writes results/mcclean_barren/.

    python studies/mcclean_barren_plateaus.py [--qubits 2:12:2] [--depths 5 20 100]
"""

import argparse
from pathlib import Path

import jax
import numpy as np

from qml_phys.circuits.barren import PlateauConfig, plateau_scan, plot_scan
from qml_phys.cli import args as A
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qubits", type=A.qubits, default=[2, 4, 6, 8, 10, 12])
    ap.add_argument("--depths", type=int, nargs="+", default=[5, 20, 100])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/mcclean_barren")
    args = ap.parse_args(argv)
    key = jax.random.key(args.seed)
    scans = {
        d: plateau_scan(args.qubits, PlateauConfig(layers=d, n_draws=args.draws, cost="zz",
                        gates="mcclean"), key=jax.random.fold_in(key, d))
        for d in args.depths
    }  # fmt: skip
    fig, (ax_n, ax_d) = plots.figure(1, 2)
    for d, scan in scans.items():
        plot_scan(ax_n, scan, label=f"{d} layers", reference=d == args.depths[-1])
    ax_n.set_title("McClean circuit, cost Z0 Z1")
    ax_n.legend(fontsize=6)
    for i, n in enumerate(args.qubits):
        ratio = [scans[d].rows[i]["var_mean"]["value"] / scans[d].rows[i]["two_design_mean"]
                 for d in args.depths]  # fmt: skip
        ax_d.plot(args.depths, ratio, "o-", label=f"n = {n}")
    ax_d.axhline(1.0, **plots.EXACT)
    ax_d.set_xscale("log")
    ax_d.set_xlabel("layers")
    ax_d.set_ylabel("Var / 2-design value")
    ax_d.legend(fontsize=6)
    out = Path(args.out)
    plots.save(fig, out / "mcclean_barren.png")
    summary = {str(d): s.summary() for d, s in scans.items()}
    full = {str(d): s.as_dict() for d, s in scans.items()}
    write_record(out / "mcclean_barren.json", {"summary": summary, "scans": full},
                 config=vars(args), seed=args.seed, kind="study.mcclean_barren")  # fmt: skip
    for d, s in summary.items():
        f = s["fit"]["mean"]
        print(f"{d:>4} layers: rate {f['rate_per_qubit']:.3f} [{f['low']:.3f}, {f['high']:.3f}] "
              f"per qubit (2-design over these n: {s['two_design_rate']:.3f}; ln 2 = "
              f"{np.log(2):.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
