r"""Cost of one VQE step (energy + full gradient) on three backends, in one run.

TFIM chain (periodic, J = Gamma = 1), the package's Hamiltonian-variational ansatz with N/2
layers, the Hamiltonian from ``model.to_pennylane()``:

* ``lightning.qubit`` with adjoint differentiation (one forward + one backward pass),
* ``default.qubit`` with parameter-shift (2 circuits per parameter),
* ``qiskit.aer`` statevector with parameter-shift (2 circuits per parameter, each a job).

Warm-up call excluded; best of 3; prints seconds per step and ratios to the adjoint path.

    python benchmarks/vqe_gradients.py [--N 8] [--json PATH]
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np
import pennylane as qml
from pennylane import numpy as pnp

from qml_phys.circuits.ansatz import init_params, make_ansatz
from qml_phys.circuits.devices import get_device
from qml_phys.physics import Lattice, TransverseFieldIsing
from qml_phys.runtime.records import write_record

BACKENDS = (
    ("lightning.qubit", "adjoint"),
    ("default.qubit", "parameter-shift"),
    ("qiskit.aer", "parameter-shift"),
)


def step_time(name: str, diff_method: str, model, ansatz, params, repeats: int = 3) -> dict:
    dev = get_device(name, wires=model.n_sites)
    H = model.to_pennylane()

    @qml.qnode(dev, diff_method=diff_method)
    def energy(p):
        ansatz(p)
        return qml.expval(H)

    grad = qml.grad(energy)
    x = pnp.array(params, requires_grad=True)
    e0, g0 = energy(x), grad(x)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        energy(x)
        grad(x)
        times.append(time.perf_counter() - t0)
    return {
        "backend": name,
        "diff_method": diff_method,
        "seconds_per_step": min(times),
        "energy": float(e0),
        "gradient": np.asarray(g0, np.float64),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--N", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    model = TransverseFieldIsing(Lattice.chain(args.N), J=1.0, gamma=1.0)
    ansatz = make_ansatz("hva", model)
    layers = args.N // 2
    params = init_params(ansatz, layers, key=jax.random.key(args.seed))
    rows = [step_time(n, d, model, ansatz, params) for n, d in BACKENDS]
    ref = rows[0]
    print(
        f"VQE step (energy + gradient), TFIM N={args.N}, HVA {layers} layers "
        f"({params.size} parameters)"
    )
    print(f"{'backend':<18}{'gradient':<18}{'s/step':>10}{'ratio':>9}{'max |dgrad|':>14}")
    for r in rows:
        dg = float(np.max(np.abs(r["gradient"] - ref["gradient"])))
        r["ratio_to_adjoint"] = r["seconds_per_step"] / ref["seconds_per_step"]
        r["max_gradient_difference"] = dg
        print(
            f"{r['backend']:<18}{r['diff_method']:<18}{r['seconds_per_step']:>10.4f}"
            f"{r['ratio_to_adjoint']:>9.1f}{dg:>14.2e}"
        )
    if args.json:
        write_record(args.json, {"rows": rows}, config=vars(args), seed=args.seed, kind="benchmark")
    return rows


if __name__ == "__main__":
    main()
