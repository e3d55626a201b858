"""Learning by confusion on the 2D Ising model: the W-shaped accuracy curve.

Method (van Nieuwenburg, Liu & Huber, Nat. Phys. 13, 435 (2017), arXiv:1610.02048): for
every proposed critical temperature T' (midpoints of the temperature grid) the
configurations are relabelled T < T' and a classifier is trained (all proposals at once, on
stacked parameters) on a uniform grid (spacing 0.1); its accuracy on held-out
configurations against T' is W-shaped, and the middle peak estimates Tc.
Writes results/confusion_scheme/.

    python studies/confusion_scheme.py [--L 16 32] [--samples 400] [--model dense]
"""

import argparse
from pathlib import Path

import jax
import numpy as np

from qml_phys.classical.datasets import DatasetConfig, write_dataset
from qml_phys.phases import confusion, supervised
from qml_phys.runtime import plots
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, nargs="+", default=[16, 32])
    ap.add_argument("--samples", type=int, default=400, help="configurations per (L, T)")
    ap.add_argument("--model", default="dense", choices=("dense", "cnn"))
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None, help="an existing dataset (default: write one)")
    ap.add_argument("--out", default="results/confusion_scheme")
    args = ap.parse_args(argv)
    out = Path(args.out)
    k_data, k_fit = jax.random.split(jax.random.key(args.seed))
    data_path = args.data or out / f"ising_{'_'.join(map(str, args.L))}_{args.samples}.h5"
    if args.data is None:
        write_dataset(
            data_path,
            DatasetConfig(
                sizes=args.L,
                temperatures=np.linspace(1.0, 3.5, 26).tolist(),
                n_samples=args.samples,
            ),
            key=k_data,
        )
    config = confusion.ConfusionConfig(
        model=args.model, train=confusion.default_config(epochs=args.epochs)
    )
    res = confusion.confusion_tc(supervised.load_sizes(data_path, args.L), config, key=k_fit)
    summary = res.summary()
    for L, s in summary["per_size"].items():
        print(
            f"L = {L:>3}: confusion peak Tc = {s['Tc']:.4f} (grid +- {s['resolution']:.4f}); "
            f"Onsager {s['Tc_exact']:.5f}; {s['deviation_in_spacings']:.2f} grid spacings away"
        )
    write_record(
        out / "confusion_scheme.json",
        summary,
        config=vars(args),
        seed=args.seed,
        kind="study.confusion_scheme",
    )
    fig, ax = plots.figure()
    confusion.plot_confusion(ax, res)
    plots.save(fig, out / "confusion_scheme.png")


if __name__ == "__main__":
    main()
