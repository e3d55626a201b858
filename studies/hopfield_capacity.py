"""Storage capacity of the Hopfield network (Amit, Gutfreund, Sompolinsky, PRL 55, 1530
(1985)): retrieval from a stored pattern breaks down near alpha_c = P/N ~ 0.138.

Method: random unbiased patterns stored with the Hebb rule; asynchronous retrieval started
at each stored pattern; mean final overlap and the fraction retrieved (overlap >= 0.95)
against the load alpha for several N. Writes results/hopfield_capacity/{record.json,
capacity.png}.

    python studies/hopfield_capacity.py [--N 200 400 800] [--trials 4]
"""

import argparse
from pathlib import Path

import jax
import numpy as np

from qml_phys.generative.hopfield import ALPHA_C, capacity_curve
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--N", type=int, nargs="+", default=[200, 400, 800])
    ap.add_argument("--alpha", type=float, nargs="+", default=list(np.arange(0.04, 0.24, 0.01)))
    ap.add_argument("--trials", type=int, default=4)
    ap.add_argument("--sweeps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/hopfield_capacity")
    args = ap.parse_args(argv)
    fig, (ax_m, ax_r) = plots.figure(1, 2)
    curves = {}
    key = jax.random.key(args.seed)
    for N in args.N:
        c = capacity_curve(
            N,
            args.alpha,
            key=jax.random.fold_in(key, N),
            n_trials=args.trials,
            n_sweeps=args.sweeps,
        )
        # load at which half of the patterns are still retrieved (linear interpolation)
        r = c.retrieved
        i = int(np.argmax(r < 0.5)) if np.any(r < 0.5) else len(r) - 1
        a_half = (
            float(np.interp(0.5, [r[i], r[i - 1]], [c.alpha[i], c.alpha[i - 1]]))
            if i
            else float("nan")
        )
        curves[str(N)] = {**c.history, "alpha_half": a_half}
        print(f"N={N}: half of the patterns retrieved up to alpha = {a_half:.3f}")
        ax_m.errorbar(c.alpha, c.overlap, yerr=c.overlap_error, fmt="o-", label=f"N={N}")
        ax_r.plot(c.alpha, r, "o-", label=f"N={N}")
    for ax, ylabel in ((ax_m, "mean final overlap m"), (ax_r, "fraction retrieved (m >= 0.95)")):
        ax.axvline(ALPHA_C, **plots.EXACT, label="alpha_c = 0.138")
        ax.set(xlabel="load alpha = P / N", ylabel=ylabel)
        ax.legend()
    plots.save(fig, Path(args.out) / "capacity.png")
    write_record(Path(args.out) / "record.json", curves, config=vars(args), seed=args.seed)


if __name__ == "__main__":
    main()
