"""``qml-phys nqs ...``: neural-quantum-state ground states and tomography.

Only argparse-level code at import time; NetKet is imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path

from qml_phys.cli import args as A
from qml_phys.cli.outputs import save_record_and_plot
from qml_phys.errors import ExistingDataError, InvalidParameterError


def build_model(args):
    """The model named by ``--model``, ``--N`` (chain) or ``--L`` (square), ``--h``, ``--J2``."""
    from qml_phys.physics import Heisenberg, Lattice, TransverseFieldIsing

    if (args.N is None) == (args.L is None):
        raise InvalidParameterError(
            f"expected exactly one of --N (chain) or --L (square lattice); got N={args.N}, "
            f"L={args.L}"
        )
    lattice = Lattice.chain(args.N) if args.N is not None else Lattice.square(args.L)
    if args.model == "tfim":
        if args.J2 != 0.0:
            raise InvalidParameterError(f"--J2 applies to --model heisenberg; got J2={args.J2}")
        return TransverseFieldIsing(lattice, J=args.J, gamma=args.h)
    return Heisenberg(lattice, J1=args.J, J2=args.J2)


def _checkpoint(args, every: int, inputs: dict):
    """The run's :class:`~qml_phys.runtime.checkpoint.Checkpoint` in ``--out`` (None
    without it); an existing one is continued only with ``--resume``."""
    if args.out is None:
        return None
    from qml_phys.runtime.checkpoint import Checkpoint

    checkpoint = Checkpoint(args.out, every=every, resume=args.resume, inputs=inputs)
    if not args.resume and checkpoint.path.exists():
        raise ExistingDataError(
            f"{checkpoint.path} exists; expected resume=True (--resume) to continue that "
            "run, or a new out folder; got resume=False"
        )
    return checkpoint


def _check_resume(args) -> None:
    """``--resume`` continues the checkpoint in ``--out``: without a folder it would be
    ignored, so it is refused."""
    if getattr(args, "resume", False) and args.out is None:
        raise InvalidParameterError(
            "--resume: expected --out DIR (the folder of the run to continue); got no --out"
        )


def cmd_ground_state(args) -> dict:
    """``qml-phys nqs ground-state``: one :func:`~qml_phys.nqs.ground_state.ground_state` run;
    with ``--out DIR`` a checkpoint (resumed with ``--resume``), ``log.json``,
    ``result.json`` and ``energy.png`` in DIR."""
    import jax

    from qml_phys.nqs.ground_state import CHECKPOINT_EVERY, VMCConfig, ground_state

    _check_resume(args)
    model = build_model(args)
    overrides = {
        "ansatz": args.ansatz,
        "alpha": args.alpha,
        "n_steps": args.iters,
        "sr": args.sr,
        "complex_params": args.complex,
    } | A.given(args, n_samples="samples", learning_rate="lr", final_samples="final_samples")
    if args.no_sign_rule:
        overrides["sign_rule"] = False
    config = VMCConfig(**overrides)
    checkpoint = _checkpoint(args, CHECKPOINT_EVERY, {"model": repr(model), "seed": args.seed})
    res = ground_state(model, config, key=jax.random.key(args.seed), checkpoint=checkpoint)
    summary = res.summary()
    if args.out is not None:
        _save_ground_state(args.out, res, summary, model, args.seed)
    out = {
        "model": args.model,
        "lattice": "chain" if args.N is not None else "square",
        "n_sites": model.n_sites,
        "ansatz": args.ansatz,
        "sr": args.sr,
        **summary,
        "ok": res.status == "completed",
    }
    if args.out is not None:
        out["out"] = str(args.out)
    return out


def _save_ground_state(folder, res, summary: dict, model, seed: int) -> None:
    """``log.json``, ``result.json`` and ``energy.png`` of a run in ``folder``."""
    from qml_phys.nqs.ground_state import plot_convergence
    from qml_phys.runtime.records import write_json

    def draw(fig, axes):
        ax, error_ax = axes
        plot_convergence(ax, res, error_ax=error_ax)
        error_ax.set_title(repr(model)[:60], fontsize=8)

    write_json(Path(folder) / "log.json", dict(res.history))
    save_record_and_plot(
        folder,
        "result",
        summary,
        config={"model_repr": repr(model), **summary["config"]},
        seed=seed,
        kind="nqs.ground_state",
        draw=draw,
        axes=(1, 2),
        plot_name="energy",
    )


def cmd_tomography(args) -> dict:
    """``qml-phys nqs tomography``: one :func:`~qml_phys.nqs.tomography.tomography_demo`;
    with ``--out DIR`` the record ``tomography.json`` and ``tomography.png`` in DIR."""
    import jax

    from qml_phys.nqs.tomography import TomographyConfig, tomography_demo

    model = build_model(args)
    cfg = TomographyConfig(alpha=args.alpha, epochs=args.epochs, bootstrap=args.bootstrap)
    res = tomography_demo(model, n_samples=args.samples, config=cfg, key=jax.random.key(args.seed))
    summary = res.summary()
    if args.out is not None:
        from qml_phys.nqs.tomography import plot_training

        save_record_and_plot(
            args.out,
            "tomography",
            {k: v for k, v in summary.items() if k != "config"},
            config=summary["config"],
            seed=args.seed,
            kind="nqs.tomography",
            draw=lambda fig, ax: plot_training(ax, res),
        )
    return summary


def _field_or_inf(text: str) -> float:
    """An argparse type: a transverse field, a finite number or ``inf`` (``|+>^N``)."""
    import argparse
    import math

    if text.strip().lower() in ("inf", "infinity", "∞"):
        return math.inf
    try:
        return A.finite(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a finite number or 'inf'; got {text!r}"
        ) from None


def cmd_dynamics(args) -> dict:
    """``qml-phys nqs dynamics``: one :func:`~qml_phys.nqs.dynamics.quench_dynamics` run
    (quench h0 -> h1 of the periodic TFIM chain against free fermions); with ``--out DIR``
    a checkpoint (resumed with ``--resume``), ``dynamics.json`` and ``dynamics.png``."""
    import jax

    from qml_phys.errors import UnknownNameError
    from qml_phys.nqs.dynamics import (
        CHECKPOINT_EVERY,
        MODELS,
        DynamicsConfig,
        quench_dynamics,
    )

    _check_resume(args)
    if args.model not in MODELS:
        raise UnknownNameError(
            f"--model: expected one of {MODELS} (the quench has an exact reference for the "
            f"periodic TFIM chain); got {args.model!r}"
        )
    flags = A.given(
        args, ansatz="ansatz", alpha="alpha", integrator="integrator", n_samples="samples"
    )
    config = DynamicsConfig(t_end=args.t_end, dt=args.dt, **flags)
    inputs = {"model": args.model, "N": args.N, "h0": args.h0, "h1": args.h1, "seed": args.seed}
    checkpoint = _checkpoint(args, CHECKPOINT_EVERY, inputs)
    res = quench_dynamics(
        args.N, args.h0, args.h1, config, key=jax.random.key(args.seed), checkpoint=checkpoint
    )
    summary = res.summary()
    out = {"model": args.model, "seed": args.seed, **summary}
    if args.out is not None:
        from qml_phys.nqs.dynamics import plot_dynamics

        def draw(fig, axes):
            plot_dynamics(axes, res)
            fig.suptitle(f"TFIM chain N = {res.N}: quench h0 = {res.h0:g} -> h1 = {res.h1:g}")

        save_record_and_plot(
            args.out,
            "dynamics",
            out,
            config=summary["config"],
            seed=args.seed,
            kind="nqs.dynamics",
            draw=draw,
            axes=(1, 3),
        )
        out["out"] = str(Path(args.out))
    return out


def _add_out_resume(p, out_help: str) -> None:
    """``--out`` (what the run writes there: ``out_help``) and ``--resume`` (continue the
    checkpoint in it)."""
    p.add_argument("--out", default=None, help=out_help)
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.msgpack")


def register(areas, add) -> None:
    """Add the ``nqs`` area."""
    nqs = A.area(areas, "nqs", "neural quantum states (NetKet)")

    def model_args(p):
        p.add_argument("--model", choices=("tfim", "heisenberg"), default="tfim")
        p.add_argument("--N", type=A.size, default=None, help="chain length (periodic)")
        p.add_argument("--L", type=A.size, default=None, help="square lattice L x L (periodic)")
        p.add_argument("--h", type=A.finite, default=1.0, help="TFIM transverse field (default 1)")
        p.add_argument("--J", type=A.finite, default=1.0, help="TFIM J / Heisenberg J1 (default 1)")
        p.add_argument("--J2", type=A.finite, default=0.0, help="Heisenberg J2 (default 0)")
        p.add_argument("--seed", type=A.seed, default=0)

    p = add(
        nqs,
        "ground-state",
        cmd_ground_state,
        "variational ground state (RBM / symmetric RBM / autoregressive) with SR or MinSR, "
        "compared with the exact energy",
    )
    model_args(p)
    p.add_argument("--ansatz", choices=("rbm", "rbm-symm", "ar"), default="rbm")
    p.add_argument("--alpha", type=A.density, default=1, help="hidden-unit density")
    p.add_argument("--iters", type=A.positive_int, default=300)
    p.add_argument("--sr", choices=("sr", "minsr"), default="sr")
    p.add_argument("--samples", type=A.positive_int, default=None, help="samples per iteration")
    p.add_argument(
        "--final-samples",
        dest="final_samples",
        type=A.count,
        default=None,
        help="samples of the closing energy estimate (0: mean of the last iterations)",
    )
    p.add_argument("--lr", type=A.finite, default=None, help="peak learning rate")
    p.add_argument("--complex", action="store_true", help="complex parameters")
    p.add_argument(
        "--no-sign-rule",
        dest="no_sign_rule",
        action="store_true",
        help="Heisenberg: do not apply the Marshall sign rule",
    )
    _add_out_resume(p, "folder for log, plot, checkpoint, result")

    p = add(
        nqs,
        "tomography",
        cmd_tomography,
        "reconstruct the exact ground state from measurement samples (Z, X, Y bases); fidelity",
    )
    model_args(p)
    p.add_argument("--samples", type=A.positive_int, default=2000, help="samples per basis")
    p.add_argument("--alpha", type=A.density, default=2)
    p.add_argument("--epochs", type=A.positive_int, default=2000)
    p.add_argument(
        "--bootstrap",
        type=A.count,
        default=20,
        help="refits on resampled data for fidelity_error and energy_reconstructed_error "
        "(0: none, the errors are null; default 20)",
    )
    p.add_argument("--out", default=None, help="folder for the record and plot")

    p = add(
        nqs,
        "dynamics",
        cmd_dynamics,
        "real-time TDVP of a neural quantum state through a quench h0 -> h1 of the periodic "
        "TFIM chain, compared with the exact free-fermion curves",
    )
    p.add_argument("--model", default="tfim", help="model (only 'tfim': the exact reference)")
    p.add_argument("--N", type=A.size, required=True, help="chain length (periodic)")
    p.add_argument(
        "--h0", type=_field_or_inf, required=True, help="initial transverse field ('inf': |+>^N)"
    )
    p.add_argument("--h1", type=A.finite, required=True, help="transverse field of the evolution")
    p.add_argument("--t-end", dest="t_end", type=A.finite, required=True, help="final time (1/J)")
    p.add_argument("--dt", type=A.finite, required=True, help="time step (1/J)")
    p.add_argument(
        "--ansatz", default=None, help="'rbm-symm' (default) or 'rbm' (complex parameters)"
    )
    p.add_argument("--alpha", type=A.density, default=None, help="hidden-unit density")
    p.add_argument(
        "--integrator",
        default=None,
        help="rk4 (default), euler, heun, midpoint; adaptive rk12, rk23, rk45",
    )
    p.add_argument(
        "--samples",
        type=A.count,
        default=None,
        help="Monte Carlo samples (0: exact sums; default: exact up to N = 16)",
    )
    p.add_argument("--seed", type=A.seed, default=0)
    _add_out_resume(p, "folder for the record, plot and checkpoint")
