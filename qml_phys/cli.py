"""The ``qml-phys`` command line.

Subcommands are grouped by area (``qml-phys exact ...``, ``qml-phys ising ...``,
``qml-phys tour``). Every subcommand takes ``--json`` and then prints exactly one JSON
object on stdout (progress and messages go to stderr). Bad input exits with status 2 and
a message naming what was expected and what was given.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence

from qml_phys._plugins import optional_module
from qml_phys.errors import InvalidParameterError, QmlPhysError, check_temperature


# --------------------------------------------------------------------------- parsing helpers
def _parse_int(text: str, minimum: int) -> int | None:
    """``text`` as an integer >= ``minimum`` (``"8"`` and ``"8.0"`` alike), or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and value >= minimum else None


def _integer(minimum: int, expected: str):
    """An argparse type: an integer >= ``minimum``, else "expected <expected>; got <text>"."""

    def parse(text: str) -> int:
        value = _parse_int(text, minimum)
        if value is None:
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
        return value

    return parse


_size = _integer(2, "a finite lattice size (integer >= 2)")
_seed = _integer(0, "a seed (integer >= 0)")
_count_arg = _integer(0, "an integer >= 0")
_positive_int = _integer(1, "a positive integer")


def _size_or_inf(text: str) -> float | int:
    """Parse a lattice size: an integer >= 2, or ``inf`` for the thermodynamic limit."""
    if text.strip().lower() in ("inf", "infinity", "∞"):
        return math.inf
    value = _parse_int(text, 2)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected a lattice size (integer >= 2) or 'inf'; got {text!r}"
        )
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number; got {text!r}")
    return value


def _temperature(text: str) -> float:
    try:
        return check_temperature(text)
    except InvalidParameterError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _count(text: str) -> int:
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError as err:
        raise InvalidParameterError(f"temperature range count: {err}") from None


def parse_temperatures(items: Sequence[str]) -> list[float]:
    """Temperatures from ``2.3``-style values and ``start:stop:count`` ranges (inclusive)."""
    temps: list[float] = []
    for item in items:
        if ":" in item:
            parts = item.split(":")
            if len(parts) != 3:
                raise InvalidParameterError(
                    f"expected a temperature range start:stop:count; got {item!r}"
                )
            start, stop = check_temperature(parts[0]), check_temperature(parts[1])
            count = _count(parts[2])
            if count == 1:
                temps.append(start)
            else:
                temps.extend(start + (stop - start) * k / (count - 1) for k in range(count))
        else:
            temps.append(check_temperature(item))
    return temps


# --------------------------------------------------------------------------- output
def emit(result: dict, as_json: bool, stream=None) -> None:
    """Print ``result`` as one JSON object (``--json``) or as readable ``key: value`` lines."""
    from qml_phys.runtime.records import to_jsonable

    stream = stream or sys.stdout
    data = to_jsonable(result)
    if as_json:
        stream.write(json.dumps(data, allow_nan=False) + "\n")
        return
    for k, v in data.items():
        if isinstance(v, float):
            v = f"{v:.12g}"
        elif isinstance(v, (list, dict)):
            v = json.dumps(v)
            if len(v) > 200:
                v = v[:197] + "..."
        stream.write(f"{k}: {v}\n")


# --------------------------------------------------------------------------- exact
def cmd_exact_ising(args) -> dict:
    from qml_phys.physics import exact

    temps = parse_temperatures(args.T)
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


# --------------------------------------------------------------------------- ising
def cmd_ising_sample(args) -> dict:
    from qml_phys.classical.observables import observables_to_dict
    from qml_phys.classical.simulate import simulate
    from qml_phys.physics import exact

    sim = simulate(
        args.L,
        args.T,
        algorithm=args.algorithm,
        n_sweeps=args.sweeps,
        n_therm=args.therm,
        n_chains=args.chains,
        seed=args.seed,
        J=args.J,
        h=args.h,
    )
    obs = observables_to_dict(sim.observables)
    out = {
        "L": sim.L,
        "T": sim.T,
        "J": args.J,
        "h": args.h,
        "algorithm": sim.algorithm,
        "sweeps": args.sweeps,
        "chains": args.chains,
        "seed": args.seed,
        "sweeps_per_measurement": sim.sweeps_per_measurement,
        "observables": obs,
        "tau_int": {k: v["tau_int"] for k, v in obs.items()},
        "tau_int_units": "measurements (one every sweeps_per_measurement sweeps)",
    }
    if args.h == 0.0 and args.J > 0:
        ref = exact.kaufman(sim.L, sim.T, J=args.J)
        out["exact"] = {
            "energy_per_site": float(ref.energy_per_site),
            "specific_heat_per_site": float(ref.specific_heat_per_site),
            "method": "kaufman",
        }
    return out


def cmd_ising_dataset(args) -> dict:
    from qml_phys.classical.datasets import write_dataset

    return write_dataset(
        args.out,
        sizes=args.L,
        temperatures=parse_temperatures(args.T),
        n_samples=args.samples,
        seed=args.seed,
        J=args.J,
        algorithm=args.algorithm,
    )


def cmd_ising_scan(args) -> dict:
    from qml_phys.classical.scan import binder_scan
    from qml_phys.physics.exact import onsager_tc

    result = binder_scan(
        args.L,
        parse_temperatures(args.T),
        seeds=range(args.seeds),
        out=args.out,
        algorithm=args.algorithm,
        n_sweeps=args.sweeps,
        scheduler=args.scheduler,
        workers=args.workers,
    )
    result["exact_Tc"] = onsager_tc()
    return result


# --------------------------------------------------------------------------- circuits
def _graph_from_args(args):
    """``--graph d-regular --n N --seed S`` (random regular graph) or an edge-list file."""
    import re

    from qml_phys.physics import Graph

    m = re.fullmatch(r"(\d+)-regular", args.graph.strip().lower())
    if m:
        from qml_phys.circuits.qaoa import random_regular_graph

        if args.n is None:
            raise InvalidParameterError(
                f"--graph {args.graph} needs --n (number of nodes); got none"
            )
        return random_regular_graph(args.n, int(m.group(1)), seed=args.seed)
    return Graph.from_file(args.graph)


def cmd_vqe(args) -> dict:
    from qml_phys.circuits import vqe
    from qml_phys.physics import Heisenberg, Lattice, TransverseFieldIsing

    model_name = args.model.strip().lower()
    if model_name == "h2":
        res = vqe.run_vqe_h2(
            args.bond_length,
            device=args.device,
            optimizer=args.optimizer,
            steps=args.steps,
            out=args.out,
        )
        head = {"model": "h2", "basis": "sto-3g", "bond_length": args.bond_length}
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
        res = vqe.run_vqe(
            model,
            ansatz=args.ansatz,
            layers=layers,
            device=args.device,
            optimizer=args.optimizer,
            steps=args.steps,
            lr=args.lr,
            seed=args.seed,
            out=args.out,
        )
        head |= {
            "boundary": "open" if args.open else "periodic",
            "ansatz": args.ansatz,
            "layers": layers,
        }
    return head | {
        "device": str(args.device),
        "optimizer": args.optimizer,
        "seed": args.seed,
        "energy": res.energy,
        "exact_energy": res.exact_energy,
        "relative_error": res.relative_error,
        "absolute_error": None if res.exact_energy is None else res.energy - res.exact_energy,
        "iterations": len(res.energies) - 1,
        "params": res.params,
        "wall_time_s": res.wall_time_s,
    }


def cmd_qaoa(args) -> dict:
    from qml_phys.circuits.qaoa import compare_with_annealing

    graph = _graph_from_args(args)
    cmp = compare_with_annealing(
        graph, p=args.p, seed=args.seed, device=args.device, shots=args.shots
    )
    q = cmp.qaoa
    return {
        "graph": args.graph,
        "n_nodes": graph.n_nodes,
        "n_edges": graph.n_edges,
        "p": q.p,
        "device": args.device,
        "shots": args.shots,
        "seed": args.seed,
        "max_cut": cmp.maxcut,
        "expected_cut": q.expectation,
        "approximation_ratio": q.approximation_ratio,
        "gammas": q.gammas,
        "betas": q.betas,
        "most_probable_bitstring": "".join("1" if s < 0 else "0" for s in q.most_probable),
        "most_probable_cut": q.most_probable_value,
        "most_probable_probability": q.most_probable_probability,
        "annealing_cut": cmp.sa_cut,
        "annealing_ratio": cmp.sa_ratio,
        "evaluations": q.n_evaluations,
        "wall_time_s": q.wall_time,
    }


# --------------------------------------------------------------------------- tour
def cmd_tour(args) -> dict:
    from qml_phys.tour import run_tour

    return run_tour(args.out, quick=args.quick, only=args.only)


# --------------------------------------------------------------------------- parser
AREA_MODULES = (
    "qml_phys.phases.commands",
    "qml_phys.generative.commands",
    "qml_phys.nqs.commands",
    "qml_phys.circuits.commands",
    "qml_phys.learning.commands",
)
"""Modules that add an area to the command line. Each defines ``register(areas, add)``:
``areas`` is the argparse sub-parser collection and ``add(sub, name, func, help)`` makes a
subcommand that takes ``--json`` and calls ``func(args) -> dict``. These modules import
only argparse-level code at import time (heavy imports inside the command functions), so
``qml-phys --help`` stays fast."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qml-phys",
        description="Machine learning in physics: exact references, Monte Carlo, the tour.",
    )
    areas = parser.add_subparsers(dest="area", metavar="AREA")
    areas.required = True

    def add(sub, name: str, func: Callable, help: str):
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        p.set_defaults(func=func)
        return p

    # exact ---------------------------------------------------------------
    exact = areas.add_parser("exact", help="exact reference values").add_subparsers(
        dest="what", metavar="WHAT"
    )
    exact.required = True
    p = add(
        exact,
        "ising",
        cmd_exact_ising,
        "2D Ising on the L x L torus (Kaufman) or the infinite lattice (Onsager, Yang)",
    )
    p.add_argument("--L", type=_size_or_inf, required=True, help="linear size, or 'inf'")
    p.add_argument(
        "--T", nargs="+", required=True, help="temperature(s): values or start:stop:count ranges"
    )
    p.add_argument("--J", type=_finite, default=1.0, help="coupling (default 1)")
    p = add(
        exact,
        "tfim",
        cmd_exact_tfim,
        "ground energy of the periodic transverse-field Ising chain (free fermions)",
    )
    p.add_argument("--N", type=_positive_int, required=True, help="number of sites")
    p.add_argument(
        "--h", "--gamma", dest="h", type=_finite, default=1.0, help="transverse field h (default 1)"
    )
    p.add_argument("--J", type=_finite, default=1.0, help="Ising coupling (default 1)")
    p = add(exact, "maxcut", cmd_exact_maxcut, "maximum cut of a weighted graph, by brute force")
    p.add_argument("--graph", required=True, help="edge-list file: lines 'i j [weight]'")

    # ising ---------------------------------------------------------------
    ising = areas.add_parser("ising", help="2D Ising Monte Carlo").add_subparsers(
        dest="what", metavar="WHAT"
    )
    ising.required = True
    p = add(
        ising,
        "sample",
        cmd_ising_sample,
        "sample the L x L periodic Ising model; observables with errors and tau_int",
    )
    p.add_argument("--L", type=_size, required=True, help="linear size (even for metropolis)")
    p.add_argument("--T", type=_temperature, required=True, help="temperature (units of J)")
    p.add_argument(
        "--algorithm",
        default="metropolis",
        help="metropolis | wolff | swendsen-wang (default metropolis)",
    )
    p.add_argument("--sweeps", type=_positive_int, default=20000, help="measured sweeps")
    p.add_argument("--therm", type=_count_arg, default=None, help="thermalisation sweeps")
    p.add_argument("--chains", type=_positive_int, default=4, help="independent chains")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--J", type=_finite, default=1.0)
    p.add_argument("--h", type=_finite, default=0.0, help="field (metropolis only)")
    p = add(
        ising,
        "dataset",
        cmd_ising_dataset,
        "write a labelled, decorrelated dataset (HDF5, resumable)",
    )
    p.add_argument("--L", type=_size, nargs="+", required=True, help="linear size(s)")
    p.add_argument("--T", nargs="+", required=True, help="temperatures or start:stop:count")
    p.add_argument("--samples", type=_positive_int, required=True, help="configurations per (L, T)")
    p.add_argument("--out", required=True, help="output .h5 file")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--J", type=_finite, default=1.0)
    p.add_argument(
        "--algorithm",
        default="auto",
        help="auto (Wolff near Tc, else Metropolis) | metropolis | wolff",
    )

    p = add(
        ising,
        "scan",
        cmd_ising_scan,
        "sizes x temperatures x seeds sweep (local processes or a Dask cluster); Binder crossings",
    )
    p.add_argument("--L", type=_size, nargs="+", required=True, help="linear sizes (>= 2)")
    p.add_argument("--T", nargs="+", required=True, help="temperatures or start:stop:count")
    p.add_argument("--seeds", type=_positive_int, default=1, help="independent runs per point")
    p.add_argument("--sweeps", type=_positive_int, default=2000, help="measured sweeps per run")
    p.add_argument("--algorithm", default="wolff", help="wolff | swendsen-wang | metropolis")
    p.add_argument("--out", default="results/ising_scan", help="sweep folder (resumable)")
    p.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address, e.g. tcp://host:8786 (default $DASK_SCHEDULER_ADDRESS, "
        "else local processes)",
    )
    p.add_argument(
        "--workers", type=_count_arg, default=None, help="local processes (0: in-process)"
    )

    # vqe -----------------------------------------------------------------
    p = add(areas, "vqe", cmd_vqe, "variational ground state on a PennyLane device")
    p.add_argument("--model", required=True, help="tfim | heisenberg | h2")
    p.add_argument("--N", type=_positive_int, default=None, help="chain length (tfim, heisenberg)")
    p.add_argument(
        "--h", "--gamma", dest="h", type=_finite, default=1.0, help="transverse field (tfim)"
    )
    p.add_argument("--J", type=_finite, default=1.0, help="coupling (J, or J1 for heisenberg)")
    p.add_argument("--J2", type=_finite, default=0.0, help="next-nearest coupling (heisenberg)")
    p.add_argument("--open", action="store_true", help="open instead of periodic chain")
    p.add_argument("--bond-length", type=_finite, default=0.7414, help="H2 bond length (Å)")
    p.add_argument("--ansatz", default="hva", help="hva | hea (default hva)")
    p.add_argument("--layers", type=_positive_int, default=None, help="default N/2")
    p.add_argument(
        "--device",
        default="lightning.qubit",
        help="device name or 'name:shots=..:seed=..:noise=..'",
    )
    p.add_argument("--optimizer", default="lbfgs", help="lbfgs | adam | qng")
    p.add_argument("--steps", type=_positive_int, default=500)
    p.add_argument("--lr", type=_finite, default=0.05)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--out", default=None, help="folder for the record and the plot")

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
    p.add_argument("--n", type=_positive_int, default=None, help="nodes of a random graph")
    p.add_argument("--p", type=_positive_int, default=1, help="QAOA depth (default 1)")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument(
        "--device",
        default="lightning.qubit",
        help="default.qubit | lightning.qubit | qiskit.aer | ...",
    )
    p.add_argument("--shots", type=_positive_int, default=None, help="shots (default: exact)")

    # areas that live next to their code ---------------------------------
    for name in AREA_MODULES:
        module = optional_module(name)
        if module is not None:
            module.register(areas, add)

    # tour ----------------------------------------------------------------
    p = add(areas, "tour", cmd_tour, "run a small version of every capability; write a report")
    p.add_argument("--out", default="results/tour", help="output folder (default results/tour)")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    p.add_argument("--only", nargs="*", default=None, help="run only these sections")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except QmlPhysError as err:
        print(f"qml-phys: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "qml-phys: interrupted; finished results are saved and a rerun resumes", file=sys.stderr
        )
        return 130
    emit(result, args.json)
    if result.get("ok") is False:  # e.g. a tour section failed or missed its exact check
        print("qml-phys: some checks failed; see the output above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
