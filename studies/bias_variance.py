"""Bias-variance trade-off for energy models of growing range (Mehta et al.,
arXiv:1803.08823, sec. III; Geman et al. 1992).

Method: a periodic Ising chain with couplings J_r = 0.5^(r-1) at every distance r, energies
plus Gaussian noise (sigma = 1); least-squares models with the bond features of every range
up to R; bias^2 and variance over fresh (or bootstrapped) training sets, checked against the
test error on fresh noisy labels. Writes results/bias_variance/{record.json, bias_variance.png}.

    python studies/bias_variance.py [--L 12] [--train 80] [--rounds 100] [--resample fresh]
"""

import argparse
from pathlib import Path

import jax

from qml_phys.learning.bias_variance import ChainRangeConfig, chain_range_study
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, default=12)
    ap.add_argument("--train", type=int, default=80)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--noise", type=float, default=1.0)
    ap.add_argument("--resample", default="fresh", choices=("fresh", "bootstrap"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/bias_variance")
    args = ap.parse_args(argv)
    ranges = list(range(0, (args.L + 1) // 2))
    config = ChainRangeConfig(
        L=args.L,
        ranges=tuple(ranges),
        n_train=args.train,
        n_rounds=args.rounds,
        noise_std=args.noise,
        resample=args.resample,
    )
    r = chain_range_study(config, key=jax.random.key(args.seed))
    rows = [r.by_range[R] for R in ranges]
    fig, ax = plots.figure()
    ax.plot(ranges, [max(x["bias2_corrected"], 1e-3) for x in rows], "o-", label="bias²")
    ax.plot(ranges[:-1], [x["exact_bias2"] for x in rows[:-1]], "k:", label="bias² (n → ∞)")
    ax.plot(ranges, [x["variance"] for x in rows], "s-", label="variance")
    ax.plot(ranges, [x["expected_error"] for x in rows], "^-", label="bias² + variance + σ²")
    ax.errorbar(
        ranges,
        [x["test_error"] for x in rows],
        [x["test_error_se"] for x in rows],
        fmt="k--",
        label="test error",
    )
    ax.set_yscale("log")
    ax.set_xlabel("coupling range R of the model")
    ax.set_ylabel("squared error")
    ax.legend()
    plots.save(fig, Path(args.out) / "bias_variance.png")
    for R, x in zip(ranges, rows, strict=True):
        print(
            f"R={R} params={x['n_parameters']:3d} bias2={x['bias2_corrected']:.4f} "
            f"(exact {x['exact_bias2']:.4f}) "
            f"var={x['variance']:.4f} sum={x['expected_error']:.4f} "
            f"test={x['test_error']:.4f}±{x['test_error_se']:.4f}"
        )
    write_record(Path(args.out) / "record.json", r.summary(), config=vars(args), seed=args.seed)


if __name__ == "__main__":
    main()
