"""The ``qml-phys phases`` commands: supervised, unsupervised and confusion estimates of Tc.

Cheap to import: the heavy modules are imported inside the command functions. Each command
turns ``--seed`` into a key, calls one library function and prints its ``summary()``;
with ``--out`` it also writes ``<name>.json`` (the summary as a record) and ``<name>.png``.
"""

from __future__ import annotations

from qml_phys.cli import args as A
from qml_phys.cli.outputs import save_record_and_plot


def _datasets(args):
    from qml_phys.phases.supervised import load_sizes

    return load_sizes(args.data, args.L)


def _overrides(args) -> dict:
    """TrainConfig overrides given on the command line."""
    return A.given(args, epochs="epochs")


def _finish(args, name: str, result, draw, n_axes: int) -> dict:
    """``result.summary()`` with ``out``; with ``--out``, the record and the plot."""
    summary = result.summary()
    summary["out"] = None
    if args.out:
        from pathlib import Path

        save_record_and_plot(
            args.out,
            name,
            summary,
            config={"data": str(args.data), "sizes": summary["sizes"]} | summary["config"],
            seed=args.seed,
            kind=f"phases.{name}",
            draw=lambda fig, axes: draw(axes, result),
            axes=(1, n_axes),
        )
        summary["out"] = str(Path(args.out))
    return summary


def cmd_supervised(args) -> dict:
    """``qml-phys phases supervised``: Carrasquilla-Melko T_c with finite-size scaling."""
    import jax

    from qml_phys.phases import supervised

    config = supervised.SupervisedConfig(
        model=args.model,
        exclude=args.exclude,
        n_networks=args.networks,
        fss=True if args.fss else None,
        train=supervised.default_config(**_overrides(args)),
    )
    res = supervised.supervised_tc(_datasets(args), config, key=jax.random.key(args.seed))
    return _finish(args, "supervised", res, supervised.plot_supervised, 2)


def cmd_unsupervised(args) -> dict:
    """``qml-phys phases unsupervised``: PCA, k-means and the autoencoder on a dataset."""
    import jax

    from qml_phys.phases import unsupervised

    config = unsupervised.UnsupervisedConfig(
        autoencoder=None
        if args.no_autoencoder
        else unsupervised.AutoencoderConfig(train=unsupervised.default_config(**_overrides(args)))
    )
    res = unsupervised.unsupervised_tc(_datasets(args), config, key=jax.random.key(args.seed))
    return _finish(args, "unsupervised", res, unsupervised.plot_unsupervised, len(res.methods))


def cmd_confusion(args) -> dict:
    """``qml-phys phases confusion``: T_c by learning by confusion."""
    import jax

    from qml_phys.phases import confusion

    config = confusion.ConfusionConfig(
        model=args.model,
        train=confusion.default_config(**_overrides(args)),
        n_bootstrap=args.bootstrap,
    )
    res = confusion.confusion_tc(_datasets(args), config, key=jax.random.key(args.seed))
    return _finish(args, "confusion", res, confusion.plot_confusion, 1)


def register(areas, add) -> None:
    """Add ``qml-phys phases supervised|unsupervised|confusion``."""

    sub = A.area(areas, "phases", "machine learning of the Ising transition")

    def common(p, model: bool = True):
        p.add_argument("--data", required=True, help="dataset file (qml-phys ising dataset)")
        p.add_argument(
            "--L",
            type=A.size,
            nargs="+",
            default=None,
            help="sizes to use (default: all in the file)",
        )
        if model:
            p.add_argument(
                "--model",
                choices=("dense", "cnn"),
                default="dense",
                help="dense (one hidden layer) | cnn (default dense)",
            )
        p.add_argument("--epochs", type=A.positive_int, default=None, help="training epochs")
        A.seed_and_out(p, "folder for the JSON record and the plot")

    p = add(
        sub,
        "supervised",
        cmd_supervised,
        "Tc(L) from a classifier trained far from Tc; finite-size scaling to Tc(inf)",
    )
    common(p)
    p.add_argument(
        "--exclude",
        type=A.finite,
        default=0.0,
        help="train only on |T - Tc| >= this (default 0: the whole grid)",
    )
    p.add_argument(
        "--networks",
        type=A.positive_int,
        default=5,
        help="independently trained networks per size; their spread (the training variance) "
        "enters the error (default 5; with one, network_spread is null: not measured)",
    )
    p.add_argument(
        "--fss",
        action="store_true",
        help="require finite-size scaling (an error with a single size)",
    )
    p = add(
        sub,
        "unsupervised",
        cmd_unsupervised,
        "Tc from PCA, k-means clustering and an autoencoder latent variable",
    )
    common(p, model=False)
    p.add_argument("--no-autoencoder", action="store_true", help="skip the autoencoder")
    p = add(
        sub,
        "confusion",
        cmd_confusion,
        "learning by confusion: accuracy vs proposed Tc (W shape), Tc from the middle peak",
    )
    common(p)
    p.add_argument(
        "--bootstrap",
        type=A.count,
        default=0,
        help="bootstrap replicates for Tc_error, the error of Tc_vertex (resampled training "
        "and test data, fresh networks; each adds the cost of one fit; 20 is calibrated; "
        "default 0: Tc_error null)",
    )
