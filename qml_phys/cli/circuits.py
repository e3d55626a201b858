"""``qml-phys vqe``, ``qml-phys qaoa``, ``qml-phys barren``: variational circuits (PennyLane).

Only the standard library at import time; JAX and PennyLane are imported inside the commands.
"""

from __future__ import annotations

from qml_phys.cli import args as A
from qml_phys.cli.outputs import save_record_and_plot
from qml_phys.errors import InvalidParameterError


def _graph_from_args(args, key):
    """``--graph d-regular --n N`` (random regular graph from ``key``) or an edge-list file."""
    import re

    from qml_phys.physics import Graph

    m = re.fullmatch(r"(\d+)-regular", args.graph.strip().lower())
    if m:
        from qml_phys.physics.graphs import random_regular_graph

        if args.n is None:
            raise InvalidParameterError(
                f"--graph {args.graph} needs --n (number of nodes); got none"
            )
        return random_regular_graph(args.n, int(m.group(1)), key=key)
    return Graph.from_file(args.graph)


def _save_vqe(folder, stem: str, result, seed: int, title: str) -> dict:
    """``--out``: the record ``<stem>.json`` and the plot ``<stem>.png``."""
    from qml_phys.circuits.vqe import plot_convergence

    def draw(fig, ax):
        plot_convergence(ax, result)
        ax.set_title(title)
        ax.legend()

    summary = result.summary()
    return save_record_and_plot(
        folder, stem, summary, config=summary["config"], seed=seed, kind="vqe", draw=draw
    )


def _mitigation_config(args, device: str, model_name: str = ""):
    """``--mitigate`` and friends as a ``MitigationConfig`` checked against ``device``
    (``None`` without it), before anything runs."""
    if args.mitigate is None:
        return None
    from qml_phys.circuits.mitigation import MitigationConfig, check_mitigable

    if model_name == "h2":
        raise InvalidParameterError(
            f"--mitigate: expected --model tfim or heisenberg; got {args.model!r}"
        )
    fields = {"method": args.mitigate, "extrapolation": args.extrapolation}
    if args.scale_factors is not None:
        fields["scale_factors"] = args.scale_factors
    config = MitigationConfig(shots=args.shot_budget, **fields)
    check_mitigable(device, config)
    return config


_MITIGATION_KEYS = (
    "energy_raw",
    "energy_raw_error",
    "energy_mitigated",
    "energy_mitigated_error",
)


def cmd_vqe(args) -> dict:
    import dataclasses

    import jax

    from qml_phys.circuits import vqe
    from qml_phys.physics import Heisenberg, Lattice, TransverseFieldIsing

    key = jax.random.key(args.seed)
    model_name = args.model.strip().lower()
    mitigation = _mitigation_config(args, args.device, model_name)
    if model_name == "h2":
        config = dataclasses.replace(
            vqe.H2_OPTIMIZATION,
            optimizer=args.optimizer,
            n_steps=args.steps,
            **A.given(args, learning_rate="lr"),
        )
        res = vqe.run_vqe_h2(args.bond_length, config, device=args.device, key=key)
        head = {"model": "h2", "basis": "sto-3g", "bond_length": args.bond_length}
        stem, title = "vqe_h2", f"VQE H2 STO-3G, R = {args.bond_length} A"
    else:
        if args.N is None:
            raise InvalidParameterError(f"--model {args.model} needs --N; got none")
        lattice = Lattice.chain(args.N, pbc=not args.open)
        if model_name == "tfim":
            model = TransverseFieldIsing(lattice, J=args.J, gamma=args.h)
            head = {"model": "tfim", "N": args.N, "J": args.J, "h": args.h}
        elif model_name == "heisenberg":
            model = Heisenberg(lattice, J1=args.J, J2=args.J2)
            head = {"model": "heisenberg", "N": args.N, "J1": args.J, "J2": args.J2}
        else:
            from qml_phys.errors import UnknownNameError

            raise UnknownNameError(
                f"unknown model {args.model!r}; expected one of ['tfim', 'heisenberg', 'h2']"
            )
        layers = args.layers if args.layers is not None else max(1, args.N // 2)
        config = vqe.VQEConfig(
            n_layers=layers,
            ansatz=args.ansatz,
            optimizer=args.optimizer,
            n_steps=args.steps,
            **A.given(args, learning_rate="lr"),
        )
        res = vqe.run_vqe(model, config, key=key, device=args.device)
        head |= {
            "boundary": "open" if args.open else "periodic",
            "ansatz": args.ansatz,
            "layers": layers,
        }
        stem = "vqe"
        title = f"VQE {type(model).__name__} N={args.N}, {args.ansatz} p={layers}"
    out = head | {
        "device": str(args.device),
        "optimizer": args.optimizer,
        "seed": args.seed,
        "energy": res.energy,
        "energy_error": res.energy_error,
        "exact_energy": res.exact_energy,
        "relative_error": res.relative_error,
        "absolute_error": res.absolute_error,
        "iterations": res.iterations,
        "converged": res.converged,
        "params": res.params,
        "wall_time_s": res.wall_time_s,
    }
    if mitigation is not None:  # at the optimum, raw and mitigated on one shot budget
        from qml_phys.circuits.mitigation import mitigate_model

        mit = mitigate_model(
            model,
            res.params,
            mitigation,
            ansatz=args.ansatz,
            device=args.device,
            key=jax.random.fold_in(key, 1),
        ).summary()
        out |= {k: mit[k] for k in _MITIGATION_KEYS} | {"mitigation": mit}
    if args.out:
        out |= _save_vqe(args.out, stem, res, args.seed, title)
    return out


def cmd_qaoa(args) -> dict:
    import jax

    from qml_phys.circuits.qaoa import ComparisonConfig, QAOAConfig, compare_with_annealing

    k_graph, k_run = jax.random.split(jax.random.key(args.seed))
    device = args.device if args.shots is None else f"{args.device}:shots={args.shots}"
    mitigation = _mitigation_config(args, device)
    graph = _graph_from_args(args, k_graph)
    qaoa = QAOAConfig(n_layers=args.p, optimizer=args.optimizer, n_steps=args.steps)
    config = ComparisonConfig(qaoa=qaoa)
    cmp = compare_with_annealing(graph, config, key=k_run, device=device)
    q = cmp.qaoa
    out = {
        "graph": args.graph,
        "n_nodes": graph.n_nodes,
        "n_edges": graph.n_edges,
        "p": q.p,
        "device": args.device,
        "shots": args.shots,
        "seed": args.seed,
        "max_cut": cmp.maxcut,
        "expected_cut": q.expectation,
        "expected_cut_error": q.expectation_error,
        "approximation_ratio": q.approximation_ratio,
        "gammas": q.gammas,
        "betas": q.betas,
        "most_probable_bitstring": q.most_probable_bitstring,
        "most_probable_cut": q.most_probable_value,
        "most_probable_probability": q.most_probable_probability,
        "annealing_cut": cmp.sa_cut,
        "annealing_ratio": cmp.sa_ratio,
        "optimizer": q.config.optimizer,
        "evaluations": q.n_evaluations,
        "converged": q.converged,
        "wall_time_s": q.wall_time_s,
    }
    if mitigation is not None:  # at the optimum: energies of H, the expected cut is -E
        from qml_phys.circuits.qaoa import mitigate_qaoa

        mit = mitigate_qaoa(
            graph, q.angles, mitigation, device=device, key=jax.random.fold_in(k_run, 1)
        ).summary()
        out |= {k: mit[k] for k in _MITIGATION_KEYS} | {"mitigation": mit}
    return out


def cmd_barren(args) -> dict:
    import jax

    from qml_phys.circuits.barren import PlateauConfig, plateau_scan

    config = PlateauConfig(
        layers=args.layers,
        n_draws=args.draws,
        cost=args.cost,
        init=args.init,
        sigma=args.sigma,
        gates=args.gates,
        n_blocks=args.blocks,
        shots=args.shots,
        n_boot=args.bootstrap,
    )
    scan = plateau_scan(args.qubits, config, key=jax.random.key(args.seed), progress=not args.json)
    out = scan.summary()
    out["config"] |= {"seed": args.seed}
    if args.out:
        out |= _save_barren(args.out, scan, out["config"], args.seed)
    return out


def _save_barren(folder, scan, config: dict, seed: int) -> dict:
    """``--out``: the record ``barren.json`` (every detail) and the plot ``barren.png``."""
    from qml_phys.circuits.barren import plot_scan

    def draw(fig, ax):
        plot_scan(ax, scan, which="mean")
        ax.set_title("gradient variance (mean over parameters)")
        ax.legend()

    return save_record_and_plot(
        folder, "barren", scan.as_dict(), config=config, seed=seed, kind="barren", draw=draw
    )


def _scale_factors(text: str) -> tuple[float, ...]:
    """``"1,3,5"`` as ``(1.0, 3.0, 5.0)`` (the library checks the values)."""
    import argparse

    try:
        return tuple(A.finite(t) for t in text.split(","))
    except (argparse.ArgumentTypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 1,3,5; got {text!r}"
        ) from None


#: The names of ``circuits.mitigation.METHODS`` and ``EXTRAPOLATIONS`` (not imported: the
#: command line starts without PennyLane; tests/cli/test_circuits.py keeps them equal).
MITIGATIONS = ("none", "zne", "readout", "both")
EXTRAPOLATIONS = ("richardson", "linear", "quadratic")


def _add_mitigation_arguments(p) -> None:
    """``--mitigate``, ``--extrapolation``, ``--scale-factors``, ``--shot-budget``."""
    p.add_argument(
        "--mitigate",
        default=None,
        choices=MITIGATIONS,
        help="none | zne | readout | both: evaluate the optimum raw and mitigated on one shot "
        "budget (keys energy_raw, energy_mitigated and their errors)",
    )
    p.add_argument(
        "--extrapolation",
        default="richardson",
        choices=EXTRAPOLATIONS,
        help="richardson | linear | quadratic (ZNE)",
    )
    p.add_argument(
        "--scale-factors",
        type=_scale_factors,
        default=None,
        help="noise scale factors of the folding, e.g. 1,3,5 (the default)",
    )
    p.add_argument(
        "--shot-budget",
        type=A.positive_int,
        default=None,
        help="total shots of each of the raw and mitigated estimates (default: the device's)",
    )


def register(areas, add) -> None:
    """Add ``qml-phys vqe``, ``qml-phys qaoa`` and ``qml-phys barren``."""
    # vqe -----------------------------------------------------------------
    p = add(areas, "vqe", cmd_vqe, "variational ground state on a PennyLane device")
    p.add_argument("--model", required=True, help="tfim | heisenberg | h2")
    p.add_argument("--N", type=A.positive_int, default=None, help="chain length (tfim, heisenberg)")
    p.add_argument(
        "--h", "--gamma", dest="h", type=A.finite, default=1.0, help="transverse field (tfim)"
    )
    p.add_argument("--J", type=A.finite, default=1.0, help="coupling (J, or J1 for heisenberg)")
    p.add_argument("--J2", type=A.finite, default=0.0, help="next-nearest coupling (heisenberg)")
    p.add_argument("--open", action="store_true", help="open instead of periodic chain")
    p.add_argument("--bond-length", type=A.finite, default=0.7414, help="H2 bond length (Å)")
    p.add_argument("--ansatz", default="hva", help="hva | hea (default hva)")
    p.add_argument("--layers", type=A.positive_int, default=None, help="default N/2")
    p.add_argument(
        "--device",
        default="lightning.qubit",
        help="device name or 'name:shots=..:seed=..:noise=..'",
    )
    p.add_argument("--optimizer", default="lbfgs", help="lbfgs | adam | qng")
    p.add_argument("--steps", type=A.positive_int, default=500)
    p.add_argument(
        "--lr", type=A.finite, default=None, help="Adam/QNG step (default 0.05; H2: 0.1)"
    )
    A.seed_and_out(p, "folder for the record and the plot")
    _add_mitigation_arguments(p)

    # qaoa ----------------------------------------------------------------
    p = add(
        areas,
        "qaoa",
        cmd_qaoa,
        "QAOA for weighted MaxCut against brute force and simulated annealing",
    )
    p.add_argument(
        "--graph",
        required=True,
        help="'3-regular' (random d-regular, with --n) or an edge-list file",
    )
    p.add_argument("--n", type=A.positive_int, default=None, help="nodes of a random graph")
    p.add_argument("--p", type=A.positive_int, default=1, help="QAOA depth (default 1)")
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument(
        "--device",
        default="lightning.qubit",
        help="default.qubit | lightning.qubit | qiskit.aer | ...",
    )
    p.add_argument("--shots", type=A.positive_int, default=None, help="shots (default: exact)")
    p.add_argument(
        "--optimizer",
        choices=("auto", "lbfgs", "adam", "qng"),
        default="auto",
        help="auto (default): lbfgs without shots, adam with shots",
    )
    p.add_argument("--steps", type=A.count, default=200, help="most optimiser steps (default 200)")
    _add_mitigation_arguments(p)

    # barren --------------------------------------------------------------
    p = add(
        areas,
        "barren",
        cmd_barren,
        "gradient variance of random circuits vs qubit number, with intervals and decay fits",
    )
    p.add_argument(
        "--qubits",
        type=A.qubits,
        default=[2, 4, 6, 8, 10],
        help="qubit counts: start:stop:step (inclusive) or a list 2,4,6 (default 2:10:2)",
    )
    p.add_argument(
        "--layers",
        type=A.layers,
        default=50,
        help="layers: an integer, 'n' (depth = n) or 'log' (ceil log2 n) (default 50)",
    )
    p.add_argument("--draws", type=A.positive_int, default=200, help="random circuits per n")
    p.add_argument("--cost", default="global", help="global | local | zz (default global)")
    p.add_argument("--init", default="uniform", help="uniform | small | identity")
    p.add_argument("--gates", default="hea", help="hea | random | mcclean (default hea)")
    p.add_argument(
        "--blocks", type=A.positive_int, default=1, help="identity blocks (--init identity)"
    )
    p.add_argument("--sigma", type=A.finite, default=0.1, help="std of --init small (radians)")
    p.add_argument(
        "--shots",
        type=A.positive_int,
        default=None,
        help="also estimate the first parameter's gradient from this many shots per shift "
        "term and separate shot noise from landscape variance",
    )
    p.add_argument("--bootstrap", type=A.positive_int, default=1000, help="bootstrap replicas")
    A.seed_and_out(p, "folder for barren.json and barren.png")
