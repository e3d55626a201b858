"""The sections of the tour, in page order. Each takes a :class:`TourContext` and returns a
:class:`Section`; the algorithms live in the library, a section only runs and shows them."""

from __future__ import annotations

import numpy as np

from qml_phys._plugins import optional_module
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
        figures=["exact_ising.png", "exact_tfim.png"],
        table=table,
        results=results,
        checks=checks,
    )


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


def monte_carlo(ctx: TourContext) -> Section:
    """Metropolis across T for several L against Kaufman/Yang; the Binder crossing."""
    from qml_phys.classical.simulate import binder_crossing, simulate, temperature_scan
    from qml_phys.physics import exact

    Tc = exact.onsager_tc()
    sizes = [8, 16, 32, 64] if not ctx.quick else [8, 16]
    n_sweeps = 20000 if not ctx.quick else 2000
    coarse = np.linspace(1.5, 3.5, 11)
    fine = np.linspace(2.15, 2.40, 11)
    temps = np.unique(np.round(np.concatenate([coarse, fine]), 6))
    scans = {L: temperature_scan(L, temps, n_sweeps=n_sweeps, seed=ctx.seed + L) for L in sizes}
    fig, axes = plots.figure(2, 3)
    axes = axes.ravel()
    tt = np.linspace(1.5, 3.5, 201)
    panels = [
        ("energy", "energy per site e"),
        ("abs_m", "⟨|m|⟩"),
        ("specific_heat", "specific heat c"),
        ("susceptibility", "susceptibility χ"),
        ("binder", "Binder cumulant U"),
    ]
    for ax, (name, label) in zip(axes, panels, strict=False):
        for L, r in scans.items():
            (line,) = ax.plot([], [])
            ax.errorbar(
                r["T"],
                r[name],
                yerr=r[f"{name}_error"],
                fmt="o",
                ms=3,
                color=line.get_color(),
                label=f"L = {L}",
            )
            if name in ("energy", "specific_heat"):
                ref = exact.kaufman(L, tt)
                ax.plot(
                    tt,
                    ref.energy_per_site if name == "energy" else ref.specific_heat_per_site,
                    color=line.get_color(),
                    lw=0.8,
                )
        if name == "abs_m":
            ax.plot(tt, exact.yang_magnetization(tt), label="Yang (L = ∞)", **plots.EXACT)
        ax.axvline(Tc, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("T / J")
        ax.set_ylabel(label)
        ax.legend()
    ax = axes[5]
    sel = (temps >= 2.15) & (temps <= 2.40)
    crossings = {}
    for (La, ra), (Lb, rb) in zip(list(scans.items())[:-1], list(scans.items())[1:], strict=True):
        crossings[f"{La}-{Lb}"] = binder_crossing(temps[sel], ra["binder"][sel], rb["binder"][sel])
    for L, r in scans.items():
        ax.errorbar(
            temps[sel],
            r["binder"][sel],
            yerr=r["binder_error"][sel],
            fmt="o-",
            ms=3,
            label=f"L = {L}",
        )
    ax.axvline(Tc, label="Onsager Tc", **plots.EXACT)
    ax.set_xlabel("T / J")
    ax.set_ylabel("U near Tc")
    ax.legend()
    plots.save(fig, ctx.out / "monte_carlo.png")

    # the energy and c of every point against Kaufman's exact finite-lattice values
    z = {
        L: (r["energy"] - exact.kaufman(L, r["T"]).energy_per_site) / r["energy_error"]
        for L, r in scans.items()
    }
    zc = {
        L: (r["specific_heat"] - exact.kaufman(L, r["T"]).specific_heat_per_site)
        / r["specific_heat_error"]
        for L, r in scans.items()
    }
    # Wolff against Metropolis at Tc: autocorrelation time of |m| in sweeps
    Lw = 32 if not ctx.quick else 16
    compare = {}
    for alg in ("metropolis", "wolff"):
        sim = simulate(Lw, Tc, algorithm=alg, n_sweeps=n_sweeps // 2, seed=ctx.seed)
        est = sim.observables["abs_m"]
        compare[alg] = {
            "tau_int_abs_m_sweeps": est.tau_int * sim.sweeps_per_measurement,
            "abs_m": est.mean,
            "abs_m_error": est.error,
        }
    table = [
        {
            "quantity": f"L = {L}: largest |z| of e and of c vs Kaufman ({len(temps)} T)",
            "value": f"{np.max(np.abs(z[L])):.2f}, {np.max(np.abs(zc[L])):.2f}",
            "reference": "|z| < 4",
        }
        for L in sizes
    ]
    table += [
        {
            "quantity": f"Binder crossing L = {k}",
            "value": v,
            "reference": f"Tc = {Tc:.6f} ({100 * (v / Tc - 1):+.2f}%)",
        }
        for k, v in crossings.items()
    ]
    table += [
        {
            "quantity": f"τ_int(|m|) at Tc, L = {Lw}, {alg}",
            "value": f"{c['tau_int_abs_m_sweeps']:.1f} sweeps",
            "reference": f"|m| = {c['abs_m']:.4f} ± {c['abs_m_error']:.4f}",
        }
        for alg, c in compare.items()
    ]
    n_points = sum(len(v) for v in z.values())
    checks = {
        "energies within 4σ of Kaufman (all points)": all(
            np.all(np.abs(v) < 4) for v in z.values()
        ),
        "specific heats within 4σ of Kaufman": all(np.all(np.abs(v) < 4) for v in zc.values()),
        "last Binder crossing within 2% of Tc": abs(list(crossings.values())[-1] / Tc - 1) < 0.02,
        "Wolff decorrelates faster than Metropolis at Tc": (
            compare["wolff"]["tau_int_abs_m_sweeps"] < compare["metropolis"]["tau_int_abs_m_sweeps"]
        ),
    }
    return Section(
        title="Ising Monte Carlo with honest error bars",
        text=(
            f"Checkerboard Metropolis (bit-packed multi-spin coding, all temperatures and 4 "
            f"chains per temperature in one compiled call), {n_sweeps} sweeps per chain. Error "
            "bars come from the integrated autocorrelation time (Sokal windowing) and a "
            "blocked jackknife for c, χ and U. Lines: Kaufman's exact finite-lattice e and c "
            "and Yang's spontaneous magnetization. Each of the "
            f"{n_points} energies is compared with the exact value (z = deviation / error). "
            "The Binder cumulants of successive sizes cross near Onsager's Tc; Wolff's cluster "
            "updates beat Metropolis's critical slowing down at Tc."
        ),
        figures=["monte_carlo.png"],
        table=table,
        results={
            "scans": {str(L): r for L, r in scans.items()},
            "binder_crossings": crossings,
            "tc": Tc,
            "wolff_vs_metropolis": compare,
        },
        checks=checks,
    )


def annealing(ctx: TourContext) -> Section:
    """Simulated annealing against brute-force MaxCut on random weighted graphs."""
    import jax

    from qml_phys.classical.annealing import anneal
    from qml_phys.physics import Graph, MaxCut, exact

    rng = np.random.default_rng(ctx.seed)
    n_graphs, n_nodes = (6, 16) if not ctx.quick else (3, 12)
    table, sweeps_grid = [], [2, 5, 20, 100, 400]
    success = {n: 0 for n in sweeps_grid}
    per_restart = {n: [] for n in sweeps_grid}
    for g in range(n_graphs):
        # Erdős–Rényi graph with p = 0.4 and weights uniform in [0.1, 1]
        pairs = [
            (i, j) for i in range(n_nodes) for j in range(i + 1, n_nodes) if rng.random() < 0.4
        ]
        graph = Graph(n_nodes, pairs, rng.uniform(0.1, 1.0, len(pairs)))
        best, _ = exact.maxcut_brute_force(graph)
        row = {"graph": g, "nodes": n_nodes, "edges": graph.n_edges, "max cut (brute force)": best}
        for n in sweeps_grid:
            res = anneal(jax.random.key(ctx.seed + g), MaxCut(graph), n_sweeps=n, n_restarts=16)
            cut = -float(res.best_energy)
            row[f"SA {n} sweeps"] = cut
            success[n] += abs(cut - best) < 1e-9
            per_restart[n].append(float(np.mean(np.abs(-np.asarray(res.energies) - best) < 1e-9)))
        table.append(row)
    fig, ax = plots.figure()
    ax.plot(
        sweeps_grid, [success[n] / n_graphs for n in sweeps_grid], "o-", label="best of 16 restarts"
    )
    ax.plot(
        sweeps_grid, [np.mean(per_restart[n]) for n in sweeps_grid], "s-", label="single restart"
    )
    ax.set_xscale("log")
    ax.set_xlabel("annealing sweeps")
    ax.set_ylabel("fraction reaching the exact max cut")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(f"SA vs brute force, {n_nodes}-node weighted MaxCut")
    ax.legend()
    plots.save(fig, ctx.out / "annealing.png")
    return Section(
        title="Simulated annealing: the classical baseline for QAOA",
        text=(
            "Weighted MaxCut on random graphs, specified once as <code>physics.MaxCut</code> "
            "and solved by the package's simulated annealing (random-order single-spin "
            "Metropolis, geometric schedule, restarts in one vmap) and by brute force. Longer "
            "schedules solve every instance; very short ones do not."
        ),
        figures=["annealing.png"],
        table=table,
        results={
            "success_fraction": {str(n): success[n] / n_graphs for n in sweeps_grid},
            "single_restart_fraction": {str(n): float(np.mean(v)) for n, v in per_restart.items()},
        },
        checks={"400 sweeps solve every graph exactly": success[sweeps_grid[-1]] == n_graphs},
    )


def vqe(ctx: TourContext) -> Section:
    """VQE on lightning.qubit: TFIM and Heisenberg chains with the HVA, H2 vs FCI."""
    from qml_phys.circuits.vqe import energy_of, run_vqe, run_vqe_h2
    from qml_phys.physics import Heisenberg, Lattice, TransverseFieldIsing

    N = 8 if not ctx.quick else 4
    runs = {
        f"TFIM N={N}, h=1, HVA {N // 2} layers": run_vqe(
            TransverseFieldIsing(Lattice.chain(N), J=1.0, gamma=1.0),
            ansatz="hva",
            layers=N // 2,
            optimizer="lbfgs",
            steps=500,
            seed=ctx.seed,
        ),
        f"TFIM N={N}, h=1, HVA {N // 2} layers, Adam (200 steps)": run_vqe(
            TransverseFieldIsing(Lattice.chain(N), J=1.0, gamma=1.0),
            ansatz="hva",
            layers=N // 2,
            optimizer="adam",
            steps=200,
            lr=0.05,
            seed=ctx.seed,
        ),
        f"Heisenberg N={N}, HVA {N // 2} layers, best of 3 starts": min(
            (
                run_vqe(
                    Heisenberg(Lattice.chain(N)),
                    ansatz="hva",
                    layers=N // 2,
                    optimizer="lbfgs",
                    steps=500,
                    seed=ctx.seed + k,
                )
                for k in range(3)
            ),
            key=lambda r: r.energy,
        ),
        "H2 STO-3G 0.7414 Å, singles+doubles": run_vqe_h2(0.7414),
    }
    fig, ax = plots.figure()
    for name, r in runs.items():
        ax.semilogy(np.maximum(np.abs(r.energies - r.exact_energy), 1e-16), label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("|E − E_exact|")
    ax.set_title("VQE convergence (lightning.qubit, adjoint gradients)")
    ax.legend()
    plots.save(fig, ctx.out / "vqe.png")
    table = [
        {
            "run": k,
            "E VQE": r.energy,
            "E exact": r.exact_energy,
            "relative error": r.relative_error,
            "iterations": len(r.energies) - 1,
        }
        for k, r in runs.items()
    ]
    # the optimal TFIM circuit on a noisy simulator (fake IBM backend), 4000 shots
    tfim = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    small = run_vqe(tfim, ansatz="hva", layers=2, optimizer="lbfgs", steps=300)
    noisy = {
        label: energy_of(tfim, small.params, device=spec)
        for label, spec in (
            ("shots", "qiskit.aer:shots=4000:seed=1"),
            ("noisy", "qiskit.aer:shots=4000:seed=1:noise=fake_manila"),
        )
    }
    table.append(
        {
            "run": "TFIM N=4 optimum on qiskit.aer, 4000 shots / + fake_manila noise",
            "E VQE": f"{noisy['shots']:.4f} / {noisy['noisy']:.4f}",
            "E exact": small.exact_energy,
            "relative error": "",
            "iterations": "",
        }
    )
    h2 = runs["H2 STO-3G 0.7414 Å, singles+doubles"]
    tf = runs[f"TFIM N={N}, h=1, HVA {N // 2} layers"]
    return Section(
        title="Variational quantum eigensolver (PennyLane)",
        text=(
            "Models from <code>qml_phys.physics</code> compiled to PennyLane Hamiltonians; the "
            "Hamiltonian-variational ansatz (N/2 layers) reaches the free-fermion TFIM energy "
            "to round-off with L-BFGS on adjoint gradients, while first-order Adam is still far "
            "from it after 200 steps; the Heisenberg HVA landscape has local minima (the best of "
            "three random starts is shown); H2 (PennyLane's built-in Hartree–Fock, STO-3G) "
            "reaches FCI. The last row evaluates "
            "the optimal circuit on Qiskit Aer with shots, without and with the noise model of "
            "a fake IBM backend: noise, not the ansatz, then dominates the error."
        ),
        figures=["vqe.png"],
        table=table,
        results={k: r.summary() for k, r in runs.items()} | {"noisy_tfim4": noisy},
        checks={
            "TFIM HVA relative error ≤ 1e-6": tf.relative_error <= 1e-6,
            "H2 within chemical accuracy (1.6 mHa) of FCI": abs(h2.energy - h2.exact_energy)
            < 1.6e-3,
        },
    )


def qaoa(ctx: TourContext) -> Section:
    """QAOA depth sweep on random 3-regular graphs against brute force and annealing."""
    from qml_phys.circuits.qaoa import compare_with_annealing, random_regular_graph, sweep_depth
    from qml_phys.physics import MaxCut

    sizes = [10, 12, 14] if not ctx.quick else [10]
    ps = (1, 2, 3)
    ratios, table, sa_ratios = {p: [] for p in ps}, [], []
    for i, n in enumerate(sizes):
        graph = random_regular_graph(n, 3, seed=ctx.seed + i)
        results = sweep_depth(MaxCut(graph), ps=ps, init="fixed", device="lightning.qubit")
        cmp = compare_with_annealing(graph, p=1, seed=ctx.seed + i)
        sa_ratios.append(cmp.sa_ratio)
        row = {"graph": f"3-regular, n = {n}", "max cut": cmp.maxcut, "SA best cut": cmp.sa_cut}
        for r in results:
            ratios[r.p].append(r.approximation_ratio)
            row[f"QAOA p={r.p} ⟨cut⟩/max"] = r.approximation_ratio
        table.append(row)
    fig, ax = plots.figure()
    for i, n in enumerate(sizes):
        ax.plot(ps, [ratios[p][i] for p in ps], "o-", label=f"n = {n}")
    bounds = {1: 0.6925, 2: 0.7559, 3: 0.7923}
    ax.plot(ps, [bounds[p] for p in ps], label="fixed-angle worst case", **plots.EXACT)
    ax.axhline(
        float(np.mean(sa_ratios)),
        color="grey",
        lw=1.0,
        ls=":",
        label="simulated annealing (mean ratio)",
    )
    ax.set_xticks(ps)
    ax.set_xlabel("QAOA depth p")
    ax.set_ylabel("approximation ratio ⟨cut⟩ / max cut")
    ax.set_title("QAOA on random 3-regular graphs (lightning.qubit)")
    ax.legend()
    plots.save(fig, ctx.out / "qaoa.png")
    means = {p: float(np.mean(ratios[p])) for p in ps}
    return Section(
        title="QAOA for weighted MaxCut, with annealing as the baseline",
        text=(
            "QAOA (cost layer from the model's weighted Pauli terms, X mixer) on random "
            "3-regular graphs, p = 1→3 with fixed-angle initialisation (Wurtz & Lykov) and "
            "INTERP from p to p+1, optimised with L-BFGS on adjoint gradients. The exact max "
            "cut comes from brute force; the package's simulated annealing solves the same "
            "instances exactly — the classical baseline the quantum side must beat."
        ),
        figures=["qaoa.png"],
        table=table,
        results={
            "mean_ratio": means,
            "ratios": {str(p): v for p, v in ratios.items()},
            "annealing_ratios": sa_ratios,
        },
        checks={f"mean ratio at p={p} ≥ {bounds[p]}": means[p] >= bounds[p] for p in ps},
    )


SECTIONS = {
    "exact": exact_references,
    "engines": engine_consistency,
    "monte_carlo": monte_carlo,
    "annealing": annealing,
    "vqe": vqe,
    "qaoa": qaoa,
}

SECTION_MODULES = (
    "qml_phys.phases.tour",
    "qml_phys.generative.tour",
    "qml_phys.learning.tour",
    "qml_phys.nqs.tour",
    "qml_phys.circuits.barren_tour",
)
"""Modules that add tour sections, in page order after the ones above; each defines a
``SECTIONS`` dict of name -> ``f(ctx: TourContext) -> Section``."""

for _name in SECTION_MODULES:
    _module = optional_module(_name)
    if _module is not None:
        SECTIONS.update(_module.SECTIONS)
