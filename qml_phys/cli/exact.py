"""``qml-phys exact ...``: exact reference values (Kaufman, Onsager, free fermions, MaxCut)."""

from __future__ import annotations

import math
import os

from qml_phys.cli import args as A


def cmd_exact_ising(args) -> dict:
    """``qml-phys exact ising``: Kaufman on the L x L torus, Onsager and Yang for L = inf."""
    from qml_phys.physics import exact

    temps = A.parse_temperatures(args.T)
    rows = []
    for T in temps:
        if math.isinf(args.L):
            th = exact.onsager(T, J=args.J)
        else:
            th = exact.kaufman(args.L, T, J=args.J)
        row = {
            "T": T,
            "energy_per_site": float(th.energy_per_site),
            "specific_heat_per_site": float(th.specific_heat_per_site),
            "ln_z_per_site": float(th.ln_z_per_site),
            "free_energy_per_site": float(th.free_energy_per_site),
        }
        if math.isinf(args.L):
            row["magnetization"] = float(exact.yang_magnetization(T, J=args.J))
        rows.append(row)
    head = {
        "model": "ising-2d-square-periodic",
        "L": "inf" if math.isinf(args.L) else args.L,
        "J": args.J,
        "method": "onsager" if math.isinf(args.L) else "kaufman",
        "Tc": exact.onsager_tc(args.J),
    }
    if len(rows) == 1:
        return head | rows[0]
    return head | {k: [r[k] for r in rows] for k in rows[0]}


def cmd_exact_tfim(args) -> dict:
    """``qml-phys exact tfim``: the free-fermion ground energy of the periodic TFIM chain."""
    from qml_phys.physics import exact

    N = args.N
    gamma = args.h
    e0 = exact.tfim_chain_ground_energy(N, J=args.J, gamma=gamma)
    return {
        "model": "tfim-chain-periodic",
        "hamiltonian": "H = -J sum_i Z_i Z_{i+1} - h sum_i X_i",
        "N": N,
        "J": args.J,
        "h": gamma,
        "ground_energy": float(e0),
        "ground_energy_per_site": float(e0) / N,
        "ground_energy_per_site_infinite": float(
            exact.tfim_chain_energy_per_site_infinite(J=args.J, gamma=gamma)
        ),
        "method": "free fermions (Jordan-Wigner)",
    }


def cmd_exact_maxcut(args) -> dict:
    """``qml-phys exact maxcut``: the brute-force maximum cut of a graph file."""
    from qml_phys.physics import Graph, exact

    graph = Graph.from_file(args.graph)
    value, spins = exact.maxcut_brute_force(graph)
    part = [int(i) for i in range(graph.n_nodes) if spins[i] < 0]
    return {
        "graph": os.fspath(args.graph),
        "n_nodes": graph.n_nodes,
        "n_edges": graph.n_edges,
        "total_weight": float(graph.weights.sum()),
        "max_cut": float(value),
        "assignment": [int(s) for s in spins],
        "partition": part,
        "bitstring": "".join("1" if s < 0 else "0" for s in spins),
        "method": "brute force",
    }


def register(areas, add) -> None:
    """Add the ``exact`` area."""
    # exact ---------------------------------------------------------------
    exact = A.area(areas, "exact", "exact reference values")
    p = add(
        exact,
        "ising",
        cmd_exact_ising,
        "2D Ising on the L x L torus (Kaufman) or the infinite lattice (Onsager, Yang)",
    )
    p.add_argument("--L", type=A.size_or_inf, required=True, help="linear size, or 'inf'")
    p.add_argument(
        "--T", nargs="+", required=True, help="temperature(s): values or start:stop:count ranges"
    )
    p.add_argument("--J", type=A.finite, default=1.0, help="coupling (default 1)")
    p = add(
        exact,
        "tfim",
        cmd_exact_tfim,
        "ground energy of the periodic transverse-field Ising chain (free fermions)",
    )
    p.add_argument("--N", type=A.positive_int, required=True, help="number of sites")
    p.add_argument(
        "--h",
        "--gamma",
        dest="h",
        type=A.finite,
        default=1.0,
        help="transverse field h (default 1)",
    )
    p.add_argument("--J", type=A.finite, default=1.0, help="Ising coupling (default 1)")
    p = add(exact, "maxcut", cmd_exact_maxcut, "maximum cut of a weighted graph, by brute force")
    p.add_argument("--graph", required=True, help="edge-list file: lines 'i j [weight]'")
