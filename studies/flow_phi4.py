"""Normalizing-flow MCMC for 2D lattice phi^4 theory, against Hybrid Monte Carlo.

Method (Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019), arXiv:1904.12072): train a
RealNVP flow (affine couplings on the two checkerboard sublattices, Z2-odd so that
q(-phi) = q(phi)) by reverse KL on the action alone (path gradient), use it as the
proposal of an independence Metropolis chain (exact whatever the flow's quality), and
compare <phi^2>, <|m|>, chi, G(1) and the zero-momentum two-point function with HMC, with
error bars from tau_int, and the wall-time cost per independent sample of |M|. Writes
results/flow_phi4/record.json and two_point.png.

    python studies/flow_phi4.py [--L 8] [--m2 -4] [--lam LAMBDA] [--epochs 600]
        [--samples 40000] [--layers 8] [--net mlp|cnn] [--hidden H] [--batch-size 1024]
        [--no-z2] [--estimator path|total] [--chains 4] [--hmc-chains 16]

The defaults are the configuration that meets the wall-time comparison on 2 CPU cores
(about 13 min of training): dense coupling networks 8 x 64, batch 1024, 6x10^4 steps; HMC
with 16 parallel chains (its cheapest per sample there) and trajectory 0.08 x 25 (the best
of lengths 0.6 to 4). ``benchmarks/flow_vs_hmc.py`` runs HMC at several chain counts and
trajectory lengths in the same process; its measured table is in benchmarks/README.md.
"""

import argparse
from pathlib import Path

import jax

from qml_phys.generative.flows import (
    DEFAULT_HIDDEN,
    ESTIMATORS,
    FlowConfig,
    FlowVsHMCConfig,
    flow_vs_hmc,
)
from qml_phys.physics.phi4 import Phi4, albergo_lambda
from qml_phys.runtime import plots
from qml_phys.runtime.checkpoint import Checkpoint
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, default=8)
    ap.add_argument("--m2", type=float, default=-4.0)
    ap.add_argument("--lam", type=float, default=None, help="default: Albergo et al.'s for L")
    ap.add_argument("--epochs", type=int, default=600, help="of 100 steps")
    ap.add_argument("--layers", type=int, default=8, help="coupling layers")
    ap.add_argument("--net", choices=("cnn", "mlp"), default="mlp", help="coupling networks")
    ap.add_argument("--hidden", type=int, default=None, help="channels/width (8 cnn, 64 mlp)")
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--no-z2", action="store_true", help="coupling layers without Z2 symmetry")
    ap.add_argument("--estimator", choices=ESTIMATORS, default="path", help="KL gradient")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak Adam learning rate (cosine)")
    ap.add_argument("--chains", type=int, default=4, help="flow-MCMC chains")
    ap.add_argument("--hmc-chains", type=int, default=16, help="parallel HMC chains")
    ap.add_argument("--samples", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/flow_phi4")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.lam is None:
        args.lam = albergo_lambda(args.L)
    if args.hidden is None:
        args.hidden = DEFAULT_HIDDEN[args.net]
    cfg = FlowConfig(
        n_layers=args.layers,
        hidden=args.hidden,
        net=args.net,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        z2=not args.no_z2,
        estimator=args.estimator,
    )
    config = FlowVsHMCConfig(
        flow=cfg, n_samples=args.samples, n_chains=args.chains, hmc_chains=args.hmc_chains
    )
    inputs = {"L": args.L, "m2": args.m2, "lam": args.lam, "seed": args.seed}
    res = flow_vs_hmc(
        Phi4(args.L, args.m2, args.lam),
        config,
        key=jax.random.key(args.seed),
        checkpoint=Checkpoint(out / "checkpoint", inputs=inputs),
    ).summary()
    fig, (ax_l, ax_g) = plots.figure(1, 2)
    ax_l.plot(res["flow"]["loss_history"], "-")
    ax_l.set_xlabel("epoch (100 steps)")
    ax_l.set_ylabel("reverse KL loss  E_q[log q + S]")
    for name, curve in res["two_point"].items():
        ax_g.errorbar(curve["t"], curve["mean"], yerr=curve["error"], fmt="o-", label=name)
    ax_g.set_yscale("log")
    ax_g.set_xlabel("t")
    ax_g.set_ylabel("zero-momentum C(t)")
    ax_g.legend()
    plots.save(fig, out / "two_point.png")
    write_record(
        out / "record.json", res, config=vars(args), seed=args.seed, kind="study.flow_phi4"
    )
    f, h = res["flow"], res["hmc"]
    print(f"device {res['device']}")
    print(
        f"flow: acceptance {f['acceptance']:.3f}, ESS {f['ess_fraction']:.3f}, "
        f"training {f['training_seconds']:.0f} s; HMC acceptance {h['acceptance']:.3f} "
        f"({h['n_chains']} chains)"
    )
    for name, c in res["observables"].items():
        cost_f = c["flow_cost_per_independent_sample_s"]
        cost_h = c["hmc_cost_per_independent_sample_s"]
        print(
            f"{name:6s} flow {c['flow']['mean']:.5f}({c['flow']['error']:.5f}) "
            f"tau {c['flow']['tau_int']:.2f}  HMC {c['hmc']['mean']:.5f}"
            f"({c['hmc']['error']:.5f}) tau {c['hmc']['tau_int']:.2f}  z {c['z']:+.2f}  "
            f"cost/indep. s: flow {cost_f:.2e} HMC {cost_h:.2e} (HMC/flow {cost_h / cost_f:.2f})"
        )


if __name__ == "__main__":
    main()
