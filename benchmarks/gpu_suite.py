"""GPU benchmark suite: each measurement against its reference in the same run.

    python benchmarks/gpu_suite.py [--json PATH] [--budget 300]

Parts (each is skipped with a reason rather than failing the others):

1. **Ising** flips/ns: the package's checkerboard Metropolis (packed multi-spin and general
   engines) against a plain ``jax.jit`` ``jnp`` checkerboard (``jax.random.uniform`` per
   site), on one large lattice and on a batch of small ones.
2. **VMC** iteration time: the package's ground-state driver against the same NetKet run
   written plainly (TFIM chain, RBM, SR) — see ``benchmarks/nqs_overhead.py``.
3. **Barren plateaus**: the gradient-variance sweep (n = 2..10, 50 layers, 200 draws) and
   how far n goes in a minute — see ``benchmarks/barren_speed.py``.
4. **PennyLane**: ``lightning.gpu`` against ``lightning.qubit`` (adjoint gradient of a
   hardware-efficient circuit), where ``lightning.gpu`` is installed.
5. **Flow vs HMC** (phi^4, 8x8, Albergo et al.'s E2): wall time per independent |M| sample
   of flow-MCMC (Z2-odd dense couplings, 8 layers x 64, batch 4096, 6x10^4 steps: the
   best family on the CPU) against HMC with 16 to 8192 parallel chains and trajectory
   lengths 1 to 2.5 — see ``benchmarks/flow_vs_hmc.py``.

It runs on CPU too (smaller sizes are not chosen automatically: the point is the GPU), and
prints the device it ran on. Results go to ``--json`` as a self-describing record.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
import traceback
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent


def _sibling(name: str):
    """Import ``benchmarks/<name>.py`` (benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- parts
def part_ising(budget: float) -> dict:
    ising = _sibling("ising_throughput")
    key = jax.random.key(ising.SEED)
    workloads = {
        "L=4096": dict(L=4096, temps=np.array([ising.TC])),
        "L=1024": dict(L=1024, temps=np.array([ising.TC])),
        "256 x L=64": dict(L=64, temps=np.linspace(1.5, 3.5, 256)),
    }
    keep = ("qml_phys packed", "qml_phys general", "jax.random")
    out = {}
    target = min(0.5, budget / 30)
    for wname, w in workloads.items():
        n_sites = len(w["temps"]) * w["L"] ** 2
        runs = {k: v for k, v in ising.engines(w, key).items() if k in keep}
        out[wname] = {name: ising.measure(run, n_sites, target) for name, run in runs.items()}
        ref = out[wname]["jax.random"]["flips_per_ns"]
        for name in keep:
            r = out[wname][name]["flips_per_ns"]
            print(f"  ising {wname:>11}  {name:<17} {r:9.4g} flips/ns   x{r / ref:6.2f} vs jnp")
    return out


def _run_script(name: str, argv: list[str]) -> dict:
    """Run ``benchmarks/<name>.py``'s ``main(argv + --json tmp)`` and return its record."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record.json"
        _sibling(name).main([*argv, "--json", str(path)])
        return json.loads(path.read_text())["results"]


def part_vmc(budget: float) -> dict:
    return _run_script("nqs_overhead", ["--N", "20", "--iters", "50", "--repeats", "2"])


def part_barren(budget: float) -> dict:
    return _run_script("barren_speed", ["--max-seconds", str(min(60.0, budget / 3))])


def part_lightning(budget: float) -> dict:
    import pennylane as qml

    try:
        qml.device("lightning.gpu", wires=2)
    except Exception as err:  # noqa: BLE001 - a missing plugin is a reason, not a failure
        return {"skipped": f"lightning.gpu unavailable: {type(err).__name__}: {err}"[:300]}
    from pennylane import numpy as pnp

    out = {}
    for n in (16, 20, 24):
        shape = qml.StronglyEntanglingLayers.shape(n_layers=4, n_wires=n)
        params = pnp.array(
            np.random.default_rng(0).uniform(0, 2 * np.pi, shape), requires_grad=True
        )
        times = {}
        for name in ("lightning.qubit", "lightning.gpu"):
            dev = qml.device(name, wires=n)

            @qml.qnode(dev, diff_method="adjoint")
            def cost(p, n=n):
                qml.StronglyEntanglingLayers(p, wires=range(n))
                return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))

            qml.grad(cost)(params)  # warm-up
            t = time.perf_counter()
            qml.grad(cost)(params)
            times[name] = time.perf_counter() - t
        out[f"n={n}"] = {**times, "speedup": times["lightning.qubit"] / times["lightning.gpu"]}
        print(
            f"  lightning n={n}: qubit {times['lightning.qubit']:.3f} s, gpu "
            f"{times['lightning.gpu']:.3f} s, x{out[f'n={n}']['speedup']:.1f}"
        )
    return out


def part_flow(budget: float) -> dict:
    epochs = "600" if budget > 200 else "200"
    argv = ["--net", "mlp", "--hidden", "64", "--batch-size", "4096", "--epochs", epochs]
    argv += ["--samples", "100000", "--chains", "16", "--hmc-chains", "16", "1024", "8192"]
    return _run_script("flow_vs_hmc", argv)


PARTS = {
    "ising": part_ising,
    "vmc": part_vmc,
    "barren": part_barren,
    "lightning": part_lightning,
    "flow": part_flow,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds for the suite")
    parser.add_argument("--only", nargs="*", default=list(PARTS), choices=list(PARTS))
    args = parser.parse_args(argv)
    dev = jax.devices()[0]
    print(
        f"device: {dev.platform} {getattr(dev, 'device_kind', '')}; jax {jax.__version__}; "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    start = time.perf_counter()
    results = {"device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}"}
    for name in args.only:
        left = args.budget - (time.perf_counter() - start)
        t = time.perf_counter()
        print(f"[{name}] ({left:.0f} s left)", flush=True)
        try:
            results[name] = PARTS[name](max(left, 30.0))
        except Exception as err:  # noqa: BLE001 - report and go on with the other parts
            traceback.print_exc()
            results[name] = {"error": f"{type(err).__name__}: {err}"[:500]}
        results[name + "_seconds"] = time.perf_counter() - t
    print(f"total {time.perf_counter() - start:.1f} s")
    if args.json:
        from qml_phys.runtime.records import write_record

        write_record(args.json, results, config=vars(args), kind="benchmark")
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
