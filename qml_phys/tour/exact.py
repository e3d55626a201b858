"""Tour section: exact references (Kaufman, Onsager, Yang, free-fermion TFIM)."""

from __future__ import annotations

import numpy as np

from qml_phys.runtime import plots
from qml_phys.tour.common import save_figure
from qml_phys.tour.section import Section, TourContext


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
        results["finite"][str(L)] = {
            "energy_per_site": th.energy_per_site,
            "specific_heat_per_site": th.specific_heat_per_site,
        }
        ax_e.plot(temps, th.energy_per_site, label=f"L = {L}")
        ax_c.plot(temps, th.specific_heat_per_site, label=f"L = {L}")
    inf = exact.onsager(temps)
    results["infinite"] = {
        "energy_per_site": inf.energy_per_site,
        "specific_heat_per_site": inf.specific_heat_per_site,
        "magnetization": exact.yang_magnetization(temps),
    }
    ax_e.plot(temps, inf.energy_per_site, label="L = ∞ (Onsager)", **plots.EXACT)
    ax_c.plot(temps, np.minimum(inf.specific_heat_per_site, 4.0), label="L = ∞", **plots.EXACT)
    for ax, ylabel in ((ax_e, "energy per site e"), (ax_c, "specific heat per site c")):
        ax.axvline(Tc, color="grey", lw=0.8, ls=":")
        ax.set(xlabel="temperature T / J", ylabel=ylabel)
        ax.legend()
    ax_c.set_ylim(0, 3.0)
    figures = [save_figure(ctx, fig, "exact_ising.png")]

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
    ax.set(
        xlabel="chain length N",
        ylabel="ground energy per site E0 / N",
        title="TFIM chain, free fermions (dashed: N = ∞)",
    )
    ax.legend()
    figures.append(save_figure(ctx, fig, "exact_tfim.png"))

    e_inf_at = exact.onsager([2.0, Tc, 3.0])
    table = [
        {"quantity": "Tc (Onsager)", "value": Tc},
        {"quantity": "e(T=2.0), L=∞", "value": float(e_inf_at.energy_per_site[0])},
        {"quantity": "e(T=Tc), L=∞ (= -√2)", "value": float(e_inf_at.energy_per_site[1])},
        {
            "quantity": "e(T=Tc), L=16 (Kaufman)",
            "value": float(exact.kaufman(16, Tc).energy_per_site),
        },
        {"quantity": "m(T=2.0), L=∞ (Yang)", "value": float(exact.yang_magnetization(2.0))},
        {
            "quantity": "E0/N, TFIM N=∞, h=J (= -4/π)",
            "value": float(exact.tfim_chain_energy_per_site_infinite(1.0, 1.0)),
        },
    ]
    checks = {
        "e(Tc) = -sqrt(2)": abs(table[2]["value"] + np.sqrt(2)) < 1e-10,
        "TFIM h=J: E0/N = -4/pi": abs(table[5]["value"] + 4 / np.pi) < 1e-10,
        "Kaufman L=64 -> Onsager at T=3": abs(
            float(exact.kaufman(64, 3.0).energy_per_site) - float(e_inf_at.energy_per_site[2])
        )
        < 1e-3,
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
        figures=figures,
        table=table,
        results=results,
        checks=checks,
    )
