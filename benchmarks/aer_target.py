r"""One QAOA optimiser step (``<H>`` and its parameter-shift gradient) on ``qiskit.aer`` with
shots: the package's device against plain ``pennylane-qiskit``, in one run.

qiskit-aer builds a new ``Target`` every time ``AerSimulator.target`` is read (qiskit-aer
issue 2328), and the plugin's transpile of each circuit reads it about a hundred times. The
package's Aer devices keep the target until an option changes
(``circuits.devices._cached_target_class``). Both devices run the same seeded jobs, so the
values and gradients must agree exactly; the script checks that and prints the ratio.

MaxCut on a random 3-regular graph (n = 6, p = 1: 9 + 6 gates with an angle, 31 circuits
per step), 1000 shots, warm-up excluded, best of 3.

    python benchmarks/aer_target.py [--n 6] [--json PATH]
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np
import pennylane as qml
from pennylane import numpy as pnp

from qml_phys.circuits.devices import make_device
from qml_phys.circuits.qaoa import fixed_angles, qaoa_circuit
from qml_phys.physics import MaxCut
from qml_phys.physics.graphs import random_regular_graph
from qml_phys.runtime.records import write_record


def step_time(dev, model, repeats: int = 3) -> dict:
    circuit = qaoa_circuit(model, 1)
    H = model.to_pennylane()

    @qml.qnode(dev, diff_method="parameter-shift")
    def energy(a):
        circuit(a)
        return qml.expval(H)

    x = pnp.array(fixed_angles(1), requires_grad=True)
    grad = qml.grad(energy)
    energy(x), grad(x)  # warm-up
    times, values = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        values.append((float(energy(x)), np.asarray(grad(x), np.float64)))
        times.append(time.perf_counter() - t0)
    return {"seconds_per_step": min(times), "values": values}


def plain_device(n: int, seed: int):
    """pennylane-qiskit's own Aer device with the same per-job seeds, target uncached."""
    dev = make_device(f"qiskit.aer:shots=1000:seed={seed}", n)
    backend = dev.target_device.backend
    backend.__class__ = type(backend).__mro__[1]  # the class before the package's cache
    return dev


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    model = MaxCut(random_regular_graph(args.n, 3, key=jax.random.key(0)))
    ours = step_time(make_device("qiskit.aer:shots=1000:seed=7", args.n), model)
    plain = step_time(plain_device(args.n, 7), model)
    same = all(
        a[0] == b[0] and np.array_equal(a[1], b[1])
        for a, b in zip(ours["values"], plain["values"], strict=True)
    )
    ratio = plain["seconds_per_step"] / ours["seconds_per_step"]
    print(f"qiskit.aer, n = {args.n}, p = 1, 1000 shots: one step (value + gradient)")
    print(f"  pennylane-qiskit (target rebuilt per read): {plain['seconds_per_step']:.3f} s")
    print(f"  qml_phys device (target cached):            {ours['seconds_per_step']:.3f} s")
    print(f"  ratio {ratio:.1f}x; same values and gradients: {same}")
    if not same:
        raise SystemExit("the cached target changed the results")
    if args.json:
        results = {
            "seconds_plain": plain["seconds_per_step"],
            "seconds_cached": ours["seconds_per_step"],
            "ratio": ratio,
            "same_results": same,
        }
        write_record(args.json, results, config={"n": args.n, "shots": 1000}, seed=7)


if __name__ == "__main__":
    main()
