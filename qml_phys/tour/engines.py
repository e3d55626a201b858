"""Tour section: one model specification, every engine (NetKet, PennyLane, Qiskit, sparse)."""

from __future__ import annotations

from qml_phys.tour.section import Section, TourContext


def engine_consistency(ctx: TourContext) -> Section:
    """One model specification, four engines: their matrices agree to round-off."""
    from qml_phys.physics import Graph, Heisenberg, Lattice, MaxCut, TransverseFieldIsing, exact
    from qml_phys.physics.consistency import engine_deviations

    graph = Graph(
        5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)], [1.0, 2.0, 0.5, 1.5, 1.0, 3.0]
    )
    models = {
        "TFIM chain N=8, J=1, h=0.2, Γ=0.9": TransverseFieldIsing(
            Lattice.chain(8), J=1.0, h=0.2, gamma=0.9
        ),
        "TFIM 2x2 torus, J=-0.5, Γ=1.3": TransverseFieldIsing(Lattice.square(2), J=-0.5, gamma=1.3),
        "Heisenberg J1-J2 chain N=8, J2=0.5": Heisenberg(Lattice.chain(8), J1=1.0, J2=0.5),
        "MaxCut, weighted 5-node graph": MaxCut(graph),
    }
    table, results = [], {}
    for name, model in models.items():
        dev = engine_deviations(model)
        e0 = float(exact.lanczos(model)[0])
        row = {"model": name, "E0 (Lanczos)": e0}
        row |= {f"max |Δ| {k}": v for k, v in dev.items()}
        table.append(row)
        results[name] = {"ground_energy": e0, "deviations": dev}
    e_ff = exact.tfim_chain_ground_energy(8, J=1.0, gamma=0.9)
    e_ed = float(exact.lanczos(TransverseFieldIsing(Lattice.chain(8), J=1.0, gamma=0.9))[0])
    mg = results["Heisenberg J1-J2 chain N=8, J2=0.5"]["ground_energy"]
    mc_value, _ = exact.maxcut_brute_force(graph)
    checks = {
        "all engines agree to 1e-12": all(
            max(r["deviations"].values()) <= 1e-12 for r in results.values()
        ),
        "free fermions = ED (TFIM N=8, Γ=0.9)": abs(e_ff - e_ed) < 1e-9,
        "Majumdar-Ghosh E0 = -3N/2 (Pauli units)": abs(mg + 12.0) < 1e-9,
        "MaxCut ground energy = -brute-force max cut": abs(
            results["MaxCut, weighted 5-node graph"]["ground_energy"] + mc_value
        )
        < 1e-9,
    }
    results["tfim_free_fermion_vs_ed"] = {"free_fermion": e_ff, "lanczos": e_ed}
    return Section(
        title="One model, every engine",
        text=(
            "Each model is specified once in <code>qml_phys.physics</code> and compiled to a "
            "NetKet operator, a PennyLane Hamiltonian, a Qiskit SparsePauliOp and a scipy "
            "sparse matrix. The table shows the largest entry-wise difference of each engine's "
            "matrix from the sparse one (after mapping NetKet's basis order and Qiskit's "
            "little-endian qubit order to ours), and of the classical energy function from the "
            "matrix diagonal, next to the exact ground energy."
        ),
        table=table,
        results=results,
        checks=checks,
    )
