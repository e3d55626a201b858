"""Variational autoregressive network for the 2D Ising model (Wu, Wang, Zhang, PRL 122,
080602 (2019), arXiv:1809.10606).

Method: a spin-flip-symmetric autoregressive model q(s) is trained without data to minimise
the variational free energy F_q = E_q[E + T ln q] (REINFORCE with the batch mean as
baseline, beta annealed as beta (1 - a^t)); F_q, an upper bound on F, is estimated from
fresh exact samples and compared with Kaufman's exact F of the L x L torus at each T.
Writes results/variational_autoregressive/{record.json, free_energy.png}.

    python studies/variational_autoregressive.py [--L 8] [--T 1.8 2.269 3.0] [--steps 3000]
"""

import argparse
from pathlib import Path

import jax

from qml_phys.generative.van import VANConfig, train_van
from qml_phys.runtime import plots
from qml_phys.runtime.checkpoint import Checkpoint
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, default=8)
    ap.add_argument("--T", type=float, nargs="+", default=[1.8, 2.0, 2.269, 2.6, 3.0])
    ap.add_argument("--model", default="made", choices=["made", "pixelcnn", "rnn", "transformer"])
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta-anneal", type=float, default=0.998)
    ap.add_argument("--samples", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/variational_autoregressive")
    args = ap.parse_args(argv)
    out = Path(args.out)
    config = VANConfig(
        model=args.model,
        hidden=args.width,
        n_steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        beta_anneal=args.beta_anneal,
        n_samples=args.samples,
    )
    key = jax.random.key(args.seed)  # the same at every T, so each T's run is reproducible
    rows = []
    for T in args.T:
        inputs = {"L": args.L, "T": T, "seed": args.seed}
        checkpoint = Checkpoint(out / f"train_T{T:g}", inputs=inputs)
        r = train_van(args.L, T, config, key=key, checkpoint=checkpoint)
        rows.append(
            {
                "T": T,
                "F_q": r.free_energy.mean,
                "error": r.free_energy.error,
                "F_exact": r.exact,
                "relative_error": r.relative_error,
                "status": r.status,
            }
        )
        print(f"T={T:g}: F_q/N = {r.free_energy} exact {r.exact:.6f} rel {r.relative_error:.2e}")
    fig, ax = plots.figure()
    ax.errorbar(
        [r["T"] for r in rows],
        [r["relative_error"] for r in rows],
        yerr=[r["error"] / abs(r["F_exact"]) for r in rows],
        fmt="o-",
    )
    ax.axhline(1e-3, color="grey", ls=":", label="1e-3")
    ax.axhline(0.0, **plots.EXACT)
    ax.set(xlabel="T / J", ylabel="(F_q - F) / |F|", title=f"VAN ({args.model}), {args.L}x{args.L}")
    ax.legend()
    plots.save(fig, out / "free_energy.png")
    write_record(out / "record.json", {"rows": rows}, config=vars(args), seed=args.seed)


if __name__ == "__main__":
    main()
