"""``qml-phys ising ...``: 2D Ising Monte Carlo, datasets and sweeps."""

from __future__ import annotations

from qml_phys.cli import args as A


def cmd_ising_sample(args) -> dict:
    """``qml-phys ising sample``: observables with error bars at one (L, T)."""
    import jax

    from qml_phys.classical.simulate import SimulationConfig, simulate
    from qml_phys.physics import IsingModel, Lattice, exact

    model = IsingModel(Lattice.square(args.L), J=args.J, h=args.h)
    config = SimulationConfig(
        algorithm=args.algorithm, n_sweeps=args.sweeps, n_therm=args.therm, n_chains=args.chains
    )
    sim = simulate(model, args.T, config, key=jax.random.key(args.seed))
    out = {
        "L": sim.L,
        "T": sim.T,
        "J": args.J,
        "h": args.h,
        "algorithm": sim.algorithm,
        "sweeps": args.sweeps,
        "chains": args.chains,
        "seed": args.seed,
        **sim.summary(),
        "tau_int_units": "measurements (one every sweeps_per_measurement sweeps)",
    }
    ref = exact.reference(model, T=sim.T)
    if ref is not None:
        out["exact"] = {
            "energy_per_site": ref["energy_per_site"],
            "specific_heat_per_site": ref["specific_heat_per_site"],
            "method": ref.method,
        }
    return out


def cmd_ising_dataset(args) -> dict:
    """``qml-phys ising dataset``: labelled configurations into an HDF5 file (resumable)."""
    import jax

    from qml_phys.classical.datasets import DatasetConfig, write_dataset

    config = DatasetConfig(
        sizes=args.L,
        temperatures=A.parse_temperatures(args.T),
        n_samples=args.samples,
        J=args.J,
        algorithm=args.algorithm,
    )
    out = write_dataset(args.out, config, key=jax.random.key(args.seed))
    out["config"] = out["config"] | {"seed": args.seed}  # the key's seed, as before
    return out | {"seed": args.seed}


def cmd_ising_scan(args) -> dict:
    """``qml-phys ising scan``: a grid of (L, T, seed) jobs, local or on Dask."""
    import jax

    from qml_phys.classical.scan import BinderScanConfig, binder_scan
    from qml_phys.physics.exact import onsager_tc

    config = BinderScanConfig(algorithm=args.algorithm, n_sweeps=args.sweeps, n_replicas=args.seeds)
    result = binder_scan(
        args.L,
        A.parse_temperatures(args.T),
        config,
        key=jax.random.key(args.seed),
        out=args.out,
        scheduler=args.scheduler,
        workers=args.workers,
    )
    return result.summary() | {"exact_Tc": onsager_tc(), "seed": args.seed}


def _add_grid(p, sizes_help: str) -> None:
    """``--L`` (one or more sizes) and ``--T`` (temperatures, read by
    :func:`~qml_phys.cli.args.parse_temperatures`): the grid of a dataset or a scan."""
    p.add_argument("--L", type=A.size, nargs="+", required=True, help=sizes_help)
    p.add_argument("--T", nargs="+", required=True, help="temperatures or start:stop:count")


def register(areas, add) -> None:
    """Add the ``ising`` area."""
    # ising ---------------------------------------------------------------
    ising = A.area(areas, "ising", "2D Ising Monte Carlo")
    p = add(
        ising,
        "sample",
        cmd_ising_sample,
        "sample the L x L periodic Ising model; observables with errors and tau_int",
    )
    p.add_argument("--L", type=A.size, required=True, help="linear size (even for metropolis)")
    p.add_argument("--T", type=A.temperature, required=True, help="temperature (units of J)")
    p.add_argument(
        "--algorithm",
        default="metropolis",
        help="metropolis | wolff | swendsen-wang (default metropolis)",
    )
    p.add_argument("--sweeps", type=A.positive_int, default=20000, help="measured sweeps")
    p.add_argument("--therm", type=A.count, default=None, help="thermalisation sweeps")
    p.add_argument("--chains", type=A.positive_int, default=4, help="independent chains")
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--J", type=A.finite, default=1.0)
    p.add_argument("--h", type=A.finite, default=0.0, help="field (metropolis only)")
    p = add(
        ising,
        "dataset",
        cmd_ising_dataset,
        "write a labelled, decorrelated dataset (HDF5, resumable)",
    )
    _add_grid(p, "linear size(s)")
    p.add_argument(
        "--samples", type=A.positive_int, required=True, help="configurations per (L, T)"
    )
    p.add_argument("--out", required=True, help="output .h5 file")
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--J", type=A.finite, default=1.0)
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
    _add_grid(p, "linear sizes (>= 2)")
    p.add_argument("--seeds", type=A.positive_int, default=1, help="independent runs per point")
    p.add_argument("--seed", type=A.seed, default=0, help="seed of the runs (default 0)")
    p.add_argument("--sweeps", type=A.positive_int, default=2000, help="measured sweeps per run")
    p.add_argument("--algorithm", default="wolff", help="wolff | swendsen-wang | metropolis")
    p.add_argument("--out", default="results/ising_scan", help="sweep folder (resumable)")
    p.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address, e.g. tcp://host:8786 (default $DASK_SCHEDULER_ADDRESS, "
        "else local processes)",
    )
    p.add_argument(
        "--workers", type=A.workers, default=None, help="local processes (0: in-process)"
    )
