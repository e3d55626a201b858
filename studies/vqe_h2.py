"""VQE for the H2 molecule (STO-3G) with PennyLane's built-in quantum chemistry.

Method (Peruzzo et al., Nat. Commun. 5, 4213 (2014); O'Malley et al., PRX 6, 031007
(2016)): the 4-qubit Jordan-Wigner Hamiltonian from PennyLane's differentiable Hartree-Fock,
the Hartree-Fock state and all single and double excitations (AllSinglesDoubles), L-BFGS;
compare with FCI (the lowest eigenvalue of the same qubit Hamiltonian) and chemical accuracy
(1.6 mHa), at the equilibrium bond length and along a dissociation curve.
Writes results/vqe_h2/.

    python studies/vqe_h2.py [--bond-lengths 0.5 0.7414 1.0 1.5 2.0]
"""

import argparse
from pathlib import Path

from qml_phys.circuits.vqe import run_vqe_h2
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bond-lengths", type=float, nargs="+", default=[0.5, 0.7414, 1.0, 1.5])
    ap.add_argument("--out", default="results/vqe_h2")
    args = ap.parse_args(argv)
    out = Path(args.out)
    rows = []
    for r in args.bond_lengths:
        res = run_vqe_h2(r)
        rows.append(
            {
                "bond_length": r,
                "vqe": res.energy,
                "fci": res.exact_energy,
                "error_mHa": 1e3 * (res.energy - res.exact_energy),
                "converged": res.converged,
            }
        )
        print(rows[-1], flush=True)
    fig, ax = plots.figure()
    ax.plot([x["bond_length"] for x in rows], [x["fci"] for x in rows], label="FCI", **plots.EXACT)
    ax.plot([x["bond_length"] for x in rows], [x["vqe"] for x in rows], "o", label="VQE")
    ax.set_xlabel("bond length (Å)")
    ax.set_ylabel("energy (Ha)")
    ax.legend()
    plots.save(fig, out / "dissociation.png")
    write_record(out / "record.json", {"rows": rows}, config=vars(args))


if __name__ == "__main__":
    main()
