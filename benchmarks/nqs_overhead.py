r"""Overhead of ``qml_phys.nqs.ground_state`` over the same NetKet run written plainly.

TFIM chain N = 20, h = 1 (periodic), ``nk.models.RBM(alpha=1)``, ``MetropolisLocal`` with
16 chains, 2048 samples, 8 discarded sweeps per chain, ``nk.driver.VMC_SR`` with the same
learning-rate and diagonal-shift schedules. The package run adds its log, NaN checks,
progress bookkeeping and the exact reference; checkpoints and the closing high-sample
estimate are off (``final_samples=0``, no checkpoint) so the two runs do the same work,
both in float64 (:func:`qml_phys.runtime.precision.float64`).
Both are compiled by a warm-up run first; then each is timed ``--repeats`` times,
interleaved; the best time of each is used. Prints seconds per iteration and the ratio
(target <= 1.05).

    python benchmarks/nqs_overhead.py [--N 20] [--iters 100] [--repeats 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import time

import jax
import netket as nk
import numpy as np
import optax

from qml_phys.nqs.ground_state import VMCConfig, build_problem, ground_state
from qml_phys.physics import Lattice, TransverseFieldIsing
from qml_phys.runtime.precision import float64
from qml_phys.runtime.records import write_record


def plain_netket(model, cfg: VMCConfig, seed: int) -> float:
    """The same run with NetKet only; returns wall seconds (construction included)."""
    with float64():
        return _plain_netket(model, cfg, seed)


def _plain_netket(model, cfg: VMCConfig, seed: int) -> float:
    seeds = np.random.SeedSequence(seed).generate_state(2)  # parameters, sampler
    t0 = time.perf_counter()
    hi = nk.hilbert.Spin(0.5, model.n_sites)
    op = model.to_netket(hi)
    sampler = nk.sampler.MetropolisLocal(hi, n_chains=cfg.n_chains)
    vs = nk.vqs.MCState(
        sampler,
        nk.models.RBM(alpha=cfg.alpha),
        n_samples=cfg.n_samples,
        n_discard_per_chain=cfg.n_discard_per_chain,
        seed=int(seeds[0]),
        sampler_seed=int(seeds[1]),
    )
    lr = optax.warmup_cosine_decay_schedule(
        init_value=cfg.learning_rate * 0.1,
        peak_value=cfg.learning_rate,
        warmup_steps=min(cfg.warmup, max(cfg.n_steps - 1, 0)),  # as the library does
        decay_steps=max(cfg.n_steps, 1),
        end_value=cfg.learning_rate * cfg.lr_final_fraction,
    )
    shift = optax.exponential_decay(
        cfg.diag_shift,
        cfg.n_steps,
        cfg.diag_shift_final / cfg.diag_shift,
        end_value=cfg.diag_shift_final,
    )
    driver = nk.driver.VMC_SR(
        op,
        optax.sgd(lr),
        diag_shift=shift,
        variational_state=vs,
        use_ntk=False,
        on_the_fly=False,
        mode="real",
    )
    driver.run(cfg.n_steps, show_progress=False)
    jax.block_until_ready(vs.parameters)
    return time.perf_counter() - t0


def package(model, cfg: VMCConfig, seed: int) -> float:
    t0 = time.perf_counter()
    res = ground_state(model, cfg, key=jax.random.key(seed))
    jax.block_until_ready(res.vstate.parameters)  # parameters only: no sampling here
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--N", type=int, default=20)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    model = TransverseFieldIsing(Lattice.chain(args.N), J=1.0, gamma=1.0)
    cfg = VMCConfig(n_steps=args.iters, final_samples=0, learning_rate=0.05)
    build_problem(model, cfg)
    plain_netket(model, cfg, 0), package(model, cfg, 0)  # compile both
    t_plain, t_pkg = [], []
    for r in range(args.repeats):
        t_plain.append(plain_netket(model, cfg, r))
        t_pkg.append(package(model, cfg, r))
    best_plain, best_pkg = min(t_plain), min(t_pkg)
    ratio = best_pkg / best_plain
    print(f"plain NetKet : {best_plain / args.iters * 1e3:8.2f} ms/iteration")
    print(f"qml_phys.nqs : {best_pkg / args.iters * 1e3:8.2f} ms/iteration")
    print(f"ratio        : {ratio:.3f} (target <= 1.05)")
    if args.json:
        write_record(
            args.json,
            {"plain_s": t_plain, "package_s": t_pkg, "ratio": ratio},
            config=vars(args),
            kind="bench.nqs_overhead",
        )


if __name__ == "__main__":
    main()
