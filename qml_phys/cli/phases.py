"""The ``qml-phys phases`` commands: supervised, unsupervised and confusion estimates of Tc.

Cheap to import: the heavy modules are imported inside the command functions.
"""

from __future__ import annotations

from pathlib import Path

from qml_phys.cli import args as A


def _datasets(args):
    from qml_phys.phases.supervised import load_sizes

    return load_sizes(args.data, args.L)


def _record(args, name: str, results: dict, config: dict, plot) -> str | None:
    if not args.out:
        return None
    from qml_phys.runtime.records import write_record

    out = Path(args.out)
    write_record(
        out / f"{name}.json", results, config=config, seed=args.seed, kind=f"phases.{name}"
    )
    plot(out / f"{name}.png")
    return str(out)


def _train_config(args, module):
    overrides = {"seed": args.seed}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    return module.default_config(**overrides)


def cmd_supervised(args) -> dict:
    import jax

    from qml_phys.phases import supervised

    datasets = _datasets(args)
    config = _train_config(args, supervised)
    res = supervised.supervised_tc(
        datasets,
        model=args.model,
        config=config,
        key=jax.random.key(args.seed),
        exclude=args.exclude,
        n_networks=args.networks,
        fss=True if args.fss else None,
    )
    out = {
        "method": "supervised (Carrasquilla & Melko 2017): 0.5 crossing of the averaged output",
        "model": args.model,
        "exclude": args.exclude,
        "Tc_exact": res["Tc_exact"],
        "per_size": {
            str(L): {k: v[k] for k in ("Tc", "Tc_error", "network_spread")}
            | {"test_accuracy": [n["test_accuracy"] for n in v["networks"]]}
            for L, v in res["per_size"].items()
        },
    }
    if "fss" in res:
        f = res["fss"]
        out["Tc_inf"], out["Tc_inf_error"] = f["Tc"], f["Tc_error"]
        out["fss"] = f
    cfg = {
        "data": str(args.data),
        "sizes": res["sizes"],
        "model": args.model,
        "exclude": args.exclude,
        "networks": args.networks,
        "train": config.__dict__,
    }
    out["out"] = _record(args, "supervised", res, cfg, lambda p: supervised.plot_supervised(res, p))
    return out


def cmd_unsupervised(args) -> dict:
    import jax

    from qml_phys.phases import unsupervised
    from qml_phys.train import TrainConfig

    datasets = _datasets(args)
    ae_config = TrainConfig(
        epochs=args.epochs or 30,
        batch_size=64,
        learning_rate=2e-3,
        validation_fraction=0.1,
        patience=8,
        seed=args.seed,
    )
    res = unsupervised.unsupervised_tc(
        datasets,
        key=jax.random.key(args.seed),
        autoencoder=not args.no_autoencoder,
        ae_config=ae_config,
    )
    methods = ["pca", "clustering"] + ([] if args.no_autoencoder else ["autoencoder"])
    out = {
        "method": "PCA fluctuation peak, k-means on (PC1, PC2), autoencoder latent peak",
        "Tc_exact": res["Tc_exact"],
        "per_size": {},
    }
    for L, v in res["per_size"].items():
        row = {f"{m}_Tc": v[m]["Tc"] for m in methods} | {
            f"{m}_Tc_error": v[m]["Tc_error"] for m in methods
        }
        row["corr_pc1_m"] = v["pca"]["corr_pc1_m"]
        if "autoencoder" in v:
            row["corr_latent_m"] = v["autoencoder"]["corr_latent_m"]
        out["per_size"][str(L)] = row
    if "fss" in res:
        out["fss"] = {
            m: {
                "Tc_inf": f["Tc"],
                "Tc_inf_error": f["Tc_error"],
                "chi2": f["chi2"],
                "dof": f["dof"],
            }
            for m, f in res["fss"].items()
        }
    cfg = {"data": str(args.data), "sizes": res["sizes"], "autoencoder": not args.no_autoencoder}
    out["out"] = _record(
        args, "unsupervised", res, cfg, lambda p: unsupervised.plot_unsupervised(res, p)
    )
    return out


def cmd_confusion(args) -> dict:
    import jax

    from qml_phys.phases import confusion

    datasets = _datasets(args)
    config = _train_config(args, confusion)
    curves, per_size = {}, {}
    for L, k in zip(
        sorted(datasets), jax.random.split(jax.random.key(args.seed), len(datasets)), strict=True
    ):
        c = confusion.confusion_curve(datasets[L], model=args.model, config=config, key=k)
        curves[f"L = {L}"] = c
        per_size[str(L)] = confusion.summary(c)
    out = {
        "method": "learning by confusion (van Nieuwenburg, Liu & Huber 2017): middle peak of W",
        "model": args.model,
        "per_size": {
            L: {k: s[k] for k in ("Tc", "resolution", "deviation_in_spacings", "peak_accuracy")}
            for L, s in per_size.items()
        },
        "Tc_exact": next(iter(per_size.values()))["Tc_exact"],
    }
    cfg = {
        "data": str(args.data),
        "sizes": sorted(datasets),
        "model": args.model,
        "train": config.__dict__,
    }
    out["out"] = _record(
        args, "confusion", per_size, cfg, lambda p: confusion.plot_confusion(curves, p)
    )
    return out


def register(areas, add) -> None:
    """Add ``qml-phys phases supervised|unsupervised|confusion``."""

    sub = areas.add_parser(
        "phases", help="machine learning of the Ising transition"
    ).add_subparsers(dest="what", metavar="WHAT")
    sub.required = True

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
        p.add_argument("--seed", type=A.seed, default=0)
        p.add_argument("--out", default=None, help="folder for the JSON record and the plot")

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
        default=1,
        help="independently trained networks per size (default 1)",
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
