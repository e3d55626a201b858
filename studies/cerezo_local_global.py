"""Cost-function-dependent barren plateaus (Cerezo et al., Nat. Commun. 12, 1791 (2021),
arXiv:2001.00550).

Method: layered circuits of depth ceil(log2 n) with uniform random angles -- McClean's
random Pauli rotations with CZ ladders, whose commuting CZs widen the light cone by one qubit
per layer (a CNOT ring reaches every qubit in one layer, so it is never shallow); the global
cost 1 - |<0..0|psi>|^2 against the local cost 1 - (1/n) sum_i <(1 + Z_i)/2>. For
each, the gradient variance (averaged over parameters, 95% bootstrap intervals) against n,
and a weighted comparison of exponential (ln Var linear in n) and polynomial (linear in
ln n) decay: the local cost should reject the exponential. Writes results/cerezo_local_global/.

    python studies/cerezo_local_global.py [--qubits 2:14:2] [--layers log]
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
    ap.add_argument("--qubits", type=A.qubits, default=list(range(2, 15, 2)))
    ap.add_argument("--layers", type=A.layers, default="log")
    ap.add_argument("--gates", default="mcclean", help="mcclean (CZ ladder: local light cone)")
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/cerezo_local_global")
    args = ap.parse_args(argv)
    key = jax.random.key(args.seed)
    scans = {
        cost: plateau_scan(args.qubits, PlateauConfig(layers=args.layers, n_draws=args.draws,
                           cost=cost, gates=args.gates), key=jax.random.fold_in(key, i))
        for i, cost in enumerate(("global", "local"))
    }  # fmt: skip
    fig, ax = plots.figure()
    for cost, scan in scans.items():
        plot_scan(ax, scan, label=f"{cost} cost", reference=False)
    ax.set_title(f"{args.gates} circuit, {args.layers} layers")
    ax.legend(fontsize=6)
    out = Path(args.out)
    plots.save(fig, out / "cerezo_local_global.png")
    summary = {c: s.summary() for c, s in scans.items()}
    full = {c: s.as_dict() for c, s in scans.items()}
    write_record(out / "cerezo_local_global.json", {"summary": summary, "scans": full},
                 config=vars(args), seed=args.seed, kind="study.cerezo_local_global")  # fmt: skip
    for cost, s in summary.items():
        f = s["fit"]["mean"]
        print(f"{cost:>6}: exp rate {f['rate_per_qubit']:.3f} [{f['low']:.3f}, {f['high']:.3f}]"
              f" p={f['p_value_exponential']:.2g}; power {f['polynomial_power']:.2f} "
              f"p={f['p_value_polynomial']:.2g}; preferred {f['preferred']}, exponential "
              f"rejected: {f['exponential_rejected']}")  # fmt: skip


if __name__ == "__main__":
    main()
