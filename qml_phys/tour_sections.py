"""The sections of the tour, in page order. Each takes a :class:`TourContext` and returns a
:class:`Section`; the algorithms live in the library, a section only runs and shows them."""

from __future__ import annotations

import numpy as np

from qml_phys.runtime import plots
from qml_phys.tour import Section, TourContext


def exact_references(ctx: TourContext) -> Section:
    """Exact e(T), c(T) of finite tori against Onsager; exact TFIM chain energies vs N."""
    from qml_phys.physics import exact

    Tc = exact.onsager_tc()
    temps = np.linspace(1.0, 4.0, 121 if not ctx.quick else 41)
    sizes = [4, 8, 16, 32, 64] if not ctx.quick else [4, 16]
    fig, (ax_e, ax_c) = plots.figure(1, 2)
    results = {"Tc": Tc, "T": temps, "finite": {}}
    for L in sizes:
        th = exact.kaufman(L, temps)
        results["finite"][str(L)] = {"energy_per_site": th.energy_per_site,
                                     "specific_heat_per_site": th.specific_heat_per_site}
        ax_e.plot(temps, th.energy_per_site, label=f"L = {L}")
        ax_c.plot(temps, th.specific_heat_per_site, label=f"L = {L}")
    inf = exact.onsager(temps)
    results["infinite"] = {"energy_per_site": inf.energy_per_site,
                           "specific_heat_per_site": inf.specific_heat_per_site,
                           "magnetization": exact.yang_magnetization(temps)}
    ax_e.plot(temps, inf.energy_per_site, label="L = ∞ (Onsager)", **plots.EXACT)
    ax_c.plot(temps, np.minimum(inf.specific_heat_per_site, 4.0), label="L = ∞", **plots.EXACT)
    for ax, ylabel in ((ax_e, "energy per site e"), (ax_c, "specific heat per site c")):
        ax.axvline(Tc, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("temperature T / J")
        ax.set_ylabel(ylabel)
        ax.legend()
    ax_c.set_ylim(0, 3.0)
    plots.save(fig, ctx.out / "exact_ising.png")

    Ns = np.arange(2, 41 if not ctx.quick else 17)
    fields = [0.5, 1.0, 1.5]
    fig, ax = plots.figure()
    results["tfim"] = {}
    for g in fields:
        e = np.array([exact.tfim_chain_ground_energy(int(N), J=1.0, gamma=g) for N in Ns]) / Ns
        einf = exact.tfim_chain_energy_per_site_infinite(J=1.0, gamma=g)
        results["tfim"][str(g)] = {"N": Ns, "energy_per_site": e, "infinite": einf}
        (line,) = ax.plot(Ns, e, "o-", label=f"h/J = {g}")
        ax.axhline(einf, color=line.get_color(), lw=0.8, ls="--")
    ax.set_xlabel("chain length N")
    ax.set_ylabel("ground energy per site E0 / N")
    ax.set_title("TFIM chain, free fermions (dashed: N = ∞)")
    ax.legend()
    plots.save(fig, ctx.out / "exact_tfim.png")

    e_inf_at = exact.onsager([2.0, Tc, 3.0])
    table = [
        {"quantity": "Tc (Onsager)", "value": Tc},
        {"quantity": "e(T=2.0), L=∞", "value": float(e_inf_at.energy_per_site[0])},
        {"quantity": "e(T=Tc), L=∞ (= -√2)", "value": float(e_inf_at.energy_per_site[1])},
        {"quantity": "e(T=Tc), L=16 (Kaufman)",
         "value": float(exact.kaufman(16, Tc).energy_per_site)},
        {"quantity": "m(T=2.0), L=∞ (Yang)", "value": float(exact.yang_magnetization(2.0))},
        {"quantity": "E0/N, TFIM N=∞, h=J (= -4/π)",
         "value": float(exact.tfim_chain_energy_per_site_infinite(1.0, 1.0))},
    ]
    checks = {
        "e(Tc) = -sqrt(2)": abs(table[2]["value"] + np.sqrt(2)) < 1e-10,
        "TFIM h=J: E0/N = -4/pi": abs(table[5]["value"] + 4 / np.pi) < 1e-10,
        "Kaufman L=64 -> Onsager at T=3": abs(
            float(exact.kaufman(64, 3.0).energy_per_site) - float(e_inf_at.energy_per_site[2])
        ) < 1e-3,
    }
    return Section(
        title="Exact references",
        text=(
            "Kaufman's exact partition function of the L×L torus gives the energy and specific "
            "heat of every finite lattice; as L grows they approach Onsager's solution, whose "
            "specific heat diverges at T<sub>c</sub> = 2/ln(1+√2) ≈ 2.269. The periodic "
            "transverse-field Ising chain is solved exactly by free fermions for any N. These "
            "are the references every engine of the package is tested against."
        ),
        figures=["exact_ising.png", "exact_tfim.png"],
        table=table,
        results=results,
        checks=checks,
    )


def engine_consistency(ctx: TourContext) -> Section:
    """One model specification, four engines: their matrices agree to round-off."""
    from qml_phys.physics import (Graph, Heisenberg, Lattice, MaxCut, TransverseFieldIsing,
                                  exact)
    from qml_phys.physics.consistency import engine_deviations

    graph = Graph(5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)],
                  [1.0, 2.0, 0.5, 1.5, 1.0, 3.0])
    models = {
        "TFIM chain N=8, J=1, h=0.2, Γ=0.9": TransverseFieldIsing(
            Lattice.chain(8), J=1.0, h=0.2, gamma=0.9),
        "TFIM 2x2 torus, J=-0.5, Γ=1.3": TransverseFieldIsing(
            Lattice.square(2), J=-0.5, gamma=1.3),
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
            max(r["deviations"].values()) <= 1e-12 for r in results.values()),
        "free fermions = ED (TFIM N=8, Γ=0.9)": abs(e_ff - e_ed) < 1e-9,
        "Majumdar-Ghosh E0 = -3N/2 (Pauli units)": abs(mg + 12.0) < 1e-9,
        "MaxCut ground energy = -brute-force max cut": abs(
            results["MaxCut, weighted 5-node graph"]["ground_energy"] + mc_value) < 1e-9,
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


SECTIONS = {
    "exact": exact_references,
    "engines": engine_consistency,
}
