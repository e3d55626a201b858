"""The same VQE on a noisy simulator: what hardware noise and shot noise do to the energy.

Method (Kandala et al., Nature 549, 242 (2017)): optimise the TFIM Hamiltonian-variational
ansatz exactly (lightning.qubit, adjoint gradients), then evaluate the optimal circuit on
qiskit.aer with shots, without noise and with the noise model of an offline fake IBM
backend, several seeds each; optionally continue the optimisation on the noisy device
(Adam on parameter-shift gradients; slow). Reports the noise-induced energy bias against
the shot-noise spread and the exact energy. Writes results/noisy_vqe/record.json.

    python studies/noisy_vqe.py [--N 4] [--shots 4000] [--noise fake_manila] [--train-steps 0]
"""

import argparse
from pathlib import Path

import numpy as np

from qml_phys.circuits.vqe import energy_of, run_vqe
from qml_phys.physics import Lattice, TransverseFieldIsing
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--N", type=int, default=4)
    ap.add_argument("--h", type=float, default=1.0)
    ap.add_argument("--shots", type=int, default=4000)
    ap.add_argument("--noise", default="fake_manila")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--train-steps", type=int, default=0)
    ap.add_argument("--out", default="results/noisy_vqe")
    args = ap.parse_args(argv)
    model = TransverseFieldIsing(Lattice.chain(args.N), J=1.0, gamma=args.h)
    exact_run = run_vqe(
        model,
        ansatz="hva",
        layers=args.N // 2,
        device="lightning.qubit",
        optimizer="lbfgs",
        steps=300,
    )
    out = {"exact_energy": exact_run.exact_energy, "vqe_energy": exact_run.energy}
    for label, noise in (("shots", None), ("noisy", args.noise)):
        spec = f"qiskit.aer:shots={args.shots}" + (f":noise={noise}" if noise else "")
        e = [
            energy_of(model, exact_run.params, device=f"{spec}:seed={s}") for s in range(args.seeds)
        ]
        out[label] = {
            "device": spec,
            "mean": float(np.mean(e)),
            "std_error": float(np.std(e, ddof=1) / np.sqrt(len(e))),
        }
        print(label, out[label], flush=True)
    if args.train_steps:
        noisy = run_vqe(
            model,
            ansatz="hva",
            layers=args.N // 2,
            optimizer="adam",
            device=f"qiskit.aer:shots={args.shots}:noise={args.noise}:seed=0",
            steps=args.train_steps,
            init=exact_run.params,
        )
        out["trained_on_noisy"] = noisy.summary()
    print(
        f"exact {out['exact_energy']:.6f}  noiseless VQE {out['vqe_energy']:.6f}  "
        f"shots {out['shots']['mean']:.4f}  noisy {out['noisy']['mean']:.4f}"
    )
    write_record(Path(args.out) / "record.json", out, config=vars(args))


if __name__ == "__main__":
    main()
