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

import jax
import numpy as np

from qml_phys.circuits.vqe import VQEConfig, energy_of, run_vqe
from qml_phys.physics import Lattice, TransverseFieldIsing
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--N", type=int, default=4)
    ap.add_argument("--h", type=float, default=1.0)
    ap.add_argument("--shots", type=int, default=4000)
    ap.add_argument("--noise", default="fake_manila")
    ap.add_argument("--repeats", type=int, default=5, help="sampled evaluations per device")
    ap.add_argument("--train-steps", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/noisy_vqe")
    args = ap.parse_args(argv)
    k_exact, k_eval, k_train = jax.random.split(jax.random.key(args.seed), 3)
    model = TransverseFieldIsing(Lattice.chain(args.N), J=1.0, gamma=args.h)
    config = VQEConfig(n_layers=args.N // 2, ansatz="hva", optimizer="lbfgs", n_steps=300)
    exact_run = run_vqe(model, config, key=k_exact, device="lightning.qubit")
    out = {"exact_energy": exact_run.exact_energy, "vqe_energy": exact_run.energy}
    # the same sampling seeds on both devices (common random numbers): the difference is noise
    keys = jax.random.split(k_eval, args.repeats)
    for label, noise in (("shots", None), ("noisy", args.noise)):
        spec = f"qiskit.aer:shots={args.shots}" + (f":noise={noise}" if noise else "")
        e = [energy_of(model, exact_run.params, device=spec, key=k) for k in keys]
        out[label] = {
            "device": spec,
            "mean": float(np.mean(e)),
            "std_error": float(np.std(e, ddof=1) / np.sqrt(len(e))),
        }
        print(label, out[label], flush=True)
    if args.train_steps:
        noisy = run_vqe(
            model,
            VQEConfig(n_layers=args.N // 2, optimizer="adam", n_steps=args.train_steps),
            key=k_train,
            device=f"qiskit.aer:shots={args.shots}:noise={args.noise}",
            params=exact_run.params,
        )
        out["trained_on_noisy"] = noisy.summary()
    print(
        f"exact {out['exact_energy']:.6f}  noiseless VQE {out['vqe_energy']:.6f}  "
        f"shots {out['shots']['mean']:.4f}  noisy {out['noisy']['mean']:.4f}"
    )
    write_record(Path(args.out) / "record.json", out, config=vars(args), seed=args.seed)


if __name__ == "__main__":
    main()
