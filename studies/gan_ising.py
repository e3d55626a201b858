"""A GAN for Ising configurations, and its mode collapse below T_c.

Method (Liu, Rodrigues, Cai, arXiv:1710.04987): train a GAN (hard-sign generator with
straight-through gradients) on Monte Carlo configurations at one temperature each, above,
at and below T_c; compare the energy, |m| and specific heat of its samples with Monte
Carlo and measure the +-m symmetry below T_c (fraction of samples with m > 0). Writes
results/gan_ising/record.json.

    python studies/gan_ising.py [--L 8] [--samples 3000] [--epochs 100] [--r1 1] [--snapshots 10]

``--r1 0 --snapshots 1`` is the plain GAN (last iterate, no gradient penalty).

Measured (2-core CPU, defaults: 2250 training and 750 held-out configurations per T),
z-scores of the sample mean against the held-out Monte Carlo samples:

    =====  ======  =====  =============  ==============
    T      energy  |m|    specific heat  m > 0 fraction
    =====  ======  =====  =============  ==============
    1.8    +7.2    -8.5   +21.0          0.580 (flagged)
    2.269  +1.8    -3.2   +21.6          0.507
    3.0    +1.1    -1.3   +0.9           0.501
    =====  ======  =====  =============  ==============

The GAN matches T = 3; below and at T_c its energy fluctuations are several times too large
(the specific heat) and at 1.8 the two magnetisation modes are unevenly populated, which
the study flags. Robustness at T = 3 (2000 training configurations, 8 training seeds):
|z| of the energy at most 2.3 with the defaults, against 4 of 8 seeds above 3 (up to 9.3)
for the plain GAN.
"""

import argparse
import hashlib
from pathlib import Path

import jax

from qml_phys.classical.datasets import DatasetConfig, load_dataset, spins_at, write_dataset
from qml_phys.generative.evaluate import compare_at
from qml_phys.generative.gan import GANConfig, sample_gan, train_gan
from qml_phys.physics.exact import onsager_tc
from qml_phys.runtime.checkpoint import Checkpoint
from qml_phys.runtime.records import write_record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--L", type=int, default=8)
    ap.add_argument("--samples", type=int, default=3000, help="per temperature")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--r1", type=float, default=GANConfig.r1, help="R1 penalty weight")
    ap.add_argument(
        "--snapshots", type=int, default=GANConfig.snapshots, help="generators in the mixture"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/gan_ising")
    args = ap.parse_args(argv)
    out = Path(args.out)
    temps = [1.8, round(onsager_tc(), 3), 3.0]
    write_dataset(
        out / "ising.h5",
        DatasetConfig(sizes=[args.L], temperatures=temps, n_samples=args.samples),
        key=jax.random.key(args.seed),
    )
    data = load_dataset(out / "ising.h5", args.L)
    sha256 = hashlib.sha256((out / "ising.h5").read_bytes()).hexdigest()
    # the same keys at every T, so that each T's run (and its checkpoint) is reproducible
    k_train, k_sample = jax.random.split(jax.random.fold_in(jax.random.key(args.seed), 1))
    results = {}
    for T in temps:
        s, T = spins_at(data, T)
        inputs = {"data_sha256": sha256, "L": args.L, "T": T, "seed": args.seed}
        checkpoint = Checkpoint(out / f"checkpoint_T{T}", inputs=inputs)
        n_train = int(0.75 * len(s))  # held-out Monte Carlo samples are the reference
        config = GANConfig(epochs=args.epochs, r1=args.r1, snapshots=args.snapshots)
        model = train_gan(s[:n_train], config, key=k_train, checkpoint=checkpoint)
        comp = compare_at(sample_gan(model, key=k_sample, n=4000), s[n_train:], T)
        results[str(T)] = comp | {"status": model.status, "last_epoch": model.summary()["final"]}
        print(
            f"T={T}: "
            + ", ".join(
                f"{k} {v['model']['mean']:.4f} vs {v['reference']['mean']:.4f} (z={v['z']:+.1f})"
                for k, v in comp["observables"].items()
            )
            + f"; m>0 fraction {comp['fraction_m_positive']:.3f}, "
            f"mode collapse {comp['mode_collapse']}"
        )
    write_record(
        out / "record.json", results, config=vars(args), seed=args.seed, kind="study.gan_ising"
    )


if __name__ == "__main__":
    main()
