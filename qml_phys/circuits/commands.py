"""``qml-phys barren``: gradient variance of random circuits against qubit number.

Only argparse-level code at import time; JAX and PennyLane are imported inside the command.
"""

from __future__ import annotations

import argparse


def _qubits(text: str) -> list[int]:
    """``start:stop:step`` (inclusive; step defaults to 1) or a comma list of integers >= 1."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3) or parts[0] < 1 or parts[-1 if len(parts) == 3 else 1] < 1:
                raise ValueError
            start, stop, step = parts if len(parts) == 3 else (*parts, 1)
            values = list(range(start, stop + 1, step))
        else:
            values = [int(p) for p in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            "expected qubit counts as start:stop:step (e.g. 2:14:2) or a list (2,4,6); "
            f"got {text!r}"
        )
    return values


def _layers(text: str):
    if text in ("n", "log"):
        return text
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value.is_integer() or value < 1:
        raise argparse.ArgumentTypeError(
            "expected a number of layers >= 1, 'n' (depth = n) or 'log' (ceil log2 n); "
            f"got {text!r}"
        )
    return int(value)


def _interval(est: dict) -> dict:
    return {"value": est["value"], "low": est["low"], "high": est["high"]}


def summarize(scan: dict) -> dict:
    """The numbers of a :func:`~qml_phys.circuits.barren.plateau_scan` a reader wants."""
    rows = []
    for r in scan["rows"]:
        row = {
            "n": r["n"],
            "layers": r["layers"],
            "var_mean": _interval(r["var_mean"]),
            "var_first": _interval(r["var_first"]),
            "two_design_mean": r["two_design_mean"],
        }
        if "shots" in r:
            s = r["shots"]
            row["shots"] = {
                "observed_var_first": _interval(s["observed"]),
                "mean_shot_variance": s["mean_shot_variance"],
                "corrected_var_first": _interval(s["corrected"]),
                "corrected_var_first_from_samples": _interval(s["corrected_from_samples"]),
            }
        rows.append(row)
    fits = {}
    for which, fit in scan["fit"].items():
        if fit is None:
            fits[which] = None
            continue
        e = fit["exponential"]
        fits[which] = {
            "rate_per_qubit": e["rate"],
            "low": e["low"],
            "high": e["high"],
            "level": e["level"],
            "chi2": e["chi2"],
            "dof": e["dof"],
        }
        if "comparison" in fit:
            c = fit["comparison"]
            fits[which] |= {
                "polynomial_power": c["polynomial"]["rate"],
                "p_value_exponential": c["exponential"]["p_value"],
                "p_value_polynomial": c["polynomial"]["p_value"],
                "delta_aic": c["delta_aic"],
                "preferred": c["preferred"],
                "exponential_rejected": c["exponential_rejected"],
                "polynomial_rejected": c["polynomial_rejected"],
            }
    return {"rows": rows, "fit": fits, "two_design_rate": scan["two_design_rate"]}


def cmd_barren(args) -> dict:
    import time
    from pathlib import Path

    import jax

    from qml_phys.circuits.barren import plateau_scan, plot_scan

    t0 = time.perf_counter()
    scan = plateau_scan(
        jax.random.key(args.seed),
        args.qubits,
        layers=args.layers,
        n_draws=args.draws,
        cost=args.cost,
        init=args.init,
        sigma=args.sigma,
        gates=args.gates,
        n_blocks=args.blocks,
        shots=args.shots,
        n_boot=args.bootstrap,
        progress=not args.json,
    )
    out = {"config": scan["config"] | {"seed": args.seed}, **summarize(scan)}
    out["wall_time_s"] = time.perf_counter() - t0
    if args.out:
        from qml_phys.runtime import plots
        from qml_phys.runtime.records import write_record

        folder = Path(args.out)
        out["record"] = str(
            write_record(
                folder / "barren.json", scan, config=out["config"], seed=args.seed, kind="barren"
            )
        )
        fig, ax = plots.figure()
        plot_scan(ax, scan, which="mean")
        ax.set_title("gradient variance (mean over parameters)")
        ax.legend()
        out["plot"] = str(plots.save(fig, folder / "barren.png"))
    return out


def register(areas, add) -> None:
    """Add ``qml-phys barren`` (see :func:`cmd_barren`)."""
    from qml_phys.cli import _finite, _positive_int, _seed

    p = add(
        areas,
        "barren",
        cmd_barren,
        "gradient variance of random circuits vs qubit number, with intervals and decay fits",
    )
    p.add_argument(
        "--qubits",
        type=_qubits,
        default=[2, 4, 6, 8, 10],
        help="qubit counts: start:stop:step (inclusive) or a list 2,4,6 (default 2:10:2)",
    )
    p.add_argument(
        "--layers",
        type=_layers,
        default=50,
        help="layers: an integer, 'n' (depth = n) or 'log' (ceil log2 n) (default 50)",
    )
    p.add_argument("--draws", type=_positive_int, default=200, help="random circuits per n")
    p.add_argument("--cost", default="global", help="global | local | zz (default global)")
    p.add_argument("--init", default="uniform", help="uniform | small | identity")
    p.add_argument("--gates", default="hea", help="hea | random | mcclean (default hea)")
    p.add_argument(
        "--blocks", type=_positive_int, default=1, help="identity blocks (--init identity)"
    )
    p.add_argument("--sigma", type=_finite, default=0.1, help="std of --init small (radians)")
    p.add_argument(
        "--shots",
        type=_positive_int,
        default=None,
        help="also estimate the first parameter's gradient from this many shots per shift "
        "term and separate shot noise from landscape variance",
    )
    p.add_argument("--bootstrap", type=_positive_int, default=1000, help="bootstrap replicas")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--out", default=None, help="folder for barren.json and barren.png")
