r"""Flow-based MCMC against Hybrid Monte Carlo for 2D lattice phi^4: wall time per
independent sample of |M| (Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019)).

The figure of merit is the wall time per independent sample of the order parameter,

    cost = 2 tau_int(|M|) * (wall time per recorded sample),

with tau_int in Sokal's convention (``qml_phys.classical.statistics``). One flow is trained
by reverse KL (its training time is reported apart, with the number of independent
samples after which it has paid for itself) and used as the independence-Metropolis
proposal (``qml_phys.generative.flows.flow_mcmc``); HMC (``qml_phys.classical.hmc``) is
run in the same process on the same device with several numbers of parallel chains, since
a GPU needs many chains to be busy, and several (step size, leapfrog steps) settings
(``--hmc``, trajectory lengths 1 to 2.5 by default); every row is reported and the flow
is compared with the cheapest. Compilation is excluded from every timing; HMC's thermalisation
trajectories are timed as trajectories (its cost per sample is the time per trajectory).

    python benchmarks/flow_vs_hmc.py                       # CPU defaults, a few minutes
    python benchmarks/flow_vs_hmc.py --layers 16 --hidden 32 --batch-size 1024 \
        --epochs 100 --samples 100000 --hmc-chains 4 64 1024 --json out.json   # a GPU

Measured results are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.classical.hmc import HMCConfig, run_hmc
from qml_phys.generative.flows import (
    DEFAULT_HIDDEN,
    ESTIMATORS,
    FlowConfig,
    chain_estimates,
    flow_mcmc,
    train_flow,
)
from qml_phys.physics.phi4 import DEFAULT_M2, Phi4, albergo_lambda

SEED = 0


def _cost(samples: np.ndarray, seconds_per_sample: float) -> dict:
    """``samples`` ``(n_chains, n, L, L)``: the observables (mean, error, tau_int) and the
    cost per independent sample of |M|."""
    est = chain_estimates(samples)
    tau = est["abs_m"]["tau_int"]
    return {
        "observables": est,
        "tau_int": tau,
        "seconds_per_sample": seconds_per_sample,
        "cost_per_independent_s": 2 * tau * seconds_per_sample,
    }


def _z(a: dict, b: dict) -> dict:
    """Per observable, (a - b) / combined error."""
    out = {}
    for k in a["observables"]:
        x, y = a["observables"][k], b["observables"][k]
        out[k] = float((x["mean"] - y["mean"]) / np.hypot(x["error"], y["error"]))
    return out


def _hmc_setting(text: str) -> tuple[float, int]:
    """``"0.1:10"`` -> ``(0.1, 10)`` (leapfrog step size, steps per trajectory)."""
    try:
        eps, n = text.split(":")
        eps, n = float(eps), int(n)
    except ValueError:
        raise SystemExit(f"--hmc: expected STEP:LEAPFROG such as 0.1:10; got {text!r}") from None
    if not (eps > 0 and n > 0):
        raise SystemExit(f"--hmc: expected a step > 0 and leapfrog steps > 0; got {text!r}")
    return eps, n


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, default=8)
    ap.add_argument("--m2", type=float, default=DEFAULT_M2)
    ap.add_argument("--lam", type=float, default=None, help="default: Albergo et al.'s for L")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=None, help="default 8 (cnn), 64 (mlp)")
    ap.add_argument("--net", choices=("cnn", "mlp"), default="cnn", help="coupling networks")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--no-z2", action="store_true", help="coupling layers without Z2 symmetry")
    ap.add_argument("--estimator", choices=ESTIMATORS, default="path", help="KL gradient")
    ap.add_argument("--epochs", type=int, default=20, help="of 100 steps")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--samples", type=int, default=20000, help="per sampler and chain count")
    ap.add_argument("--chains", type=int, default=4, help="flow-MCMC chains")
    ap.add_argument("--hmc-chains", type=int, nargs="+", default=[4, 64])
    ap.add_argument(
        "--hmc",
        nargs="+",
        default=["0.1:10", "0.08:15", "0.1:20", "0.08:25", "0.1:25"],
        help="HMC settings STEP:LEAPFROG, each run at every chain count (the best is used)",
    )
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    lam = albergo_lambda(args.L) if args.lam is None else args.lam
    if args.hidden is None:
        args.hidden = DEFAULT_HIDDEN[args.net]
    theory = Phi4(args.L, args.m2, lam)
    dev = jax.devices()[0]
    device = f"{dev.platform}: {dev.device_kind}"
    print(f"phi^4 L={args.L} m2={args.m2} lambda={lam}; device {device}")

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
    k_train, k_mcmc, k_x0, k_hmc = jax.random.split(jax.random.key(SEED), 4)
    flow = train_flow(theory, cfg, key=k_train)
    fm = flow_mcmc(flow, key=k_mcmc, n_samples=args.samples, n_chains=args.chains)
    flow_row = _cost(fm.samples, fm.seconds_per_sample) | {
        "acceptance": fm.acceptance,
        "ess_fraction": fm.ess,
        "training_seconds": flow.wall_time_s,
        "training_status": flow.status,
    }
    print(
        f"flow ({args.net}, {args.layers} layers x {args.hidden}, z2 {not args.no_z2}, "
        f"{args.estimator} gradient, batch {args.batch_size}, "
        f"{args.epochs * 100} steps, {flow.wall_time_s:.0f} s): acceptance {fm.acceptance:.3f}, "
        f"ESS {fm.ess:.3f}, tau_int {flow_row['tau_int']:.2f}, "
        f"{1e6 * fm.seconds_per_sample:.2f} us/sample, "
        f"{1e6 * flow_row['cost_per_independent_s']:.2f} us per independent |M|"
    )

    rows = []
    settings = [_hmc_setting(h) for h in args.hmc]
    # every HMC row starts from the same draws and uses the same key: common random numbers
    for c, (eps, n_lf) in ((c, h) for c in args.hmc_chains for h in settings):
        per = max(args.samples // c, 50)
        x0 = 0.1 * jax.random.normal(k_x0, (c, args.L, args.L), jnp.float32)
        hmc_config = HMCConfig(
            n_samples=per, step_size=eps, n_leapfrog=n_lf, n_therm=max(per // 10, 20)
        )
        h = run_hmc(theory.action, x0, hmc_config, key=k_hmc, grad=theory.grad)
        row = {"n_chains": c, "step_size": eps, "n_leapfrog": n_lf, "acceptance": h.acceptance}
        row |= _cost(h.samples, h.seconds_per_sample / c)
        ratio = row["cost_per_independent_s"] / flow_row["cost_per_independent_s"]
        saving = row["cost_per_independent_s"] - flow_row["cost_per_independent_s"]
        row["hmc_over_flow"] = ratio
        row["break_even_independent_samples"] = flow.wall_time_s / saving if saving > 0 else None
        row["z_flow_minus_hmc"] = z = _z(flow_row, row)
        rows.append(row)
        be = row["break_even_independent_samples"]
        print(
            f"HMC {c:5d} chains, eps {eps:g} x {n_lf}: acceptance {h.acceptance:.3f}, "
            f"tau_int {row['tau_int']:.2f}, "
            f"{1e6 * row['seconds_per_sample']:.2f} us/sample, "
            f"{1e6 * row['cost_per_independent_s']:.2f} us per independent |M|; "
            f"HMC/flow {ratio:.2f}; z(flow - HMC) "
            + " ".join(f"{k} {v:+.2f}" for k, v in z.items())
            + "; training pays off after "
            + ("never" if be is None else f"{be:.3g} independent samples")
        )
    best = min(rows, key=lambda r: r["cost_per_independent_s"])
    res = {
        "device": device,
        "L": args.L,
        "m2": args.m2,
        "lam": lam,
        "flow": flow_row,
        "hmc": rows,
        "hmc_best_over_flow": best["hmc_over_flow"],
        "flow_cheaper_than_best_hmc": best["hmc_over_flow"] > 1,
    }
    print(
        f"best HMC ({best['n_chains']} chains, eps {best['step_size']:g} x "
        f"{best['n_leapfrog']}) / flow cost per independent |M|: "
        f"{best['hmc_over_flow']:.2f}"
    )
    if args.json:
        from qml_phys.runtime.records import write_record

        write_record(args.json, res, config=vars(args), seed=SEED, kind="benchmark.flow_vs_hmc")
    return res


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.0f} s")
