"""``qml-phys generative ...``: train generative models on Monte Carlo data; the VAN.

Cheap to import: jax/flax are imported inside the command functions.

* ``generative train --model rbm|made|pixelcnn|rnn|transformer|local|vae|gan|diffusion --data
  FILE.h5 --L L --T T``: trains on the configurations at ``(L, T)`` of a dataset written by
  ``qml-phys ising dataset``; prints observables of generated samples against the data
  and, for ``L*L <= 20``, the exact KL divergence. ``vae``, ``gan`` and ``diffusion`` are
  handed to ``qml_phys.generative.<name>.train_command(args)`` when that module exists.
* ``generative van --L 8 --T 2.269``: variational free energy per site vs Kaufman's.
* ``generative flow-phi4`` is added by ``qml_phys.generative.flows.register_commands`` when
  that module exists.
"""

from __future__ import annotations

import math

from qml_phys.errors import InvalidParameterError

AUTOREGRESSIVE = ("made", "pixelcnn", "rnn", "transformer", "local")
EXTERNAL = ("vae", "gan", "diffusion")
MODELS = ("rbm", *AUTOREGRESSIVE, *EXTERNAL)


def _select_temperature(data, T: float):
    temps = sorted({float(t) for t in data.temperatures})
    for t in temps:
        if math.isclose(t, T, rel_tol=1e-6, abs_tol=1e-9):
            return data.spins[abs(data.T - t) <= 1e-9 * max(1.0, abs(t))], t
    shown = ", ".join(f"{t:.6g}" for t in temps)
    raise InvalidParameterError(
        f"expected T to be one of the dataset's temperatures ({shown}); got {T:g}"
    )


def build_model(name: str, L: int, *, hidden: int | None = None, z2: bool = False):
    """The module for ``--model`` ``name`` on an ``L x L`` lattice (``hidden``: width;
    ``z2``: symmetrise an autoregressive model under a global spin flip)."""
    from qml_phys.generative import autoregressive, rbm

    if name == "rbm":
        return rbm.RBM(shape=(L, L), n_hidden=hidden or L * L)
    kwargs = {}
    if hidden:
        kwargs = {
            "made": {"hidden": (hidden,)},
            "pixelcnn": {"features": hidden},
            "rnn": {"hidden": hidden},
            "transformer": {"d_model": hidden},
            "local": {"hidden": (hidden, hidden)},
        }[name]
    return autoregressive.make_model(name, L, z2=z2, **kwargs)


def cmd_train(args) -> dict:
    name = args.model
    if name in EXTERNAL:  # vae, gan, diffusion: each module owns its command body
        import importlib

        return importlib.import_module(f"qml_phys.generative.{name}").train_command(args)

    import warnings
    from pathlib import Path

    import jax
    import numpy as np

    from qml_phys.classical.datasets import load_dataset
    from qml_phys.generative import base, evaluate
    from qml_phys.runtime.records import write_record
    from qml_phys.train import TrainConfig

    if args.T is None:
        raise InvalidParameterError(
            f"--T: model {name} is trained at one temperature; give one of the dataset's "
            "temperatures (only --model vae analyses the whole grid without --T)"
        )
    data = load_dataset(args.data, args.L)
    spins, T = _select_temperature(data, args.T)
    L = args.L
    if getattr(args, "z2", False) and name == "rbm":
        raise InvalidParameterError(
            f"--z2: expected an autoregressive model ({', '.join(AUTOREGRESSIVE)}); the "
            "RBM with zero visible biases is already symmetric"
        )
    if getattr(args, "mh", False) and name == "rbm":
        raise InvalidParameterError(
            "--mh: expected a model with exact sampling and a normalised log p (autoregressive); "
            "got rbm"
        )
    module = build_model(name, L, hidden=args.hidden, z2=getattr(args, "z2", False))
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=3e-3 if args.lr is None else args.lr,
        validation_fraction=0.0 if name == "rbm" else 0.1,
        seed=args.seed,
    )
    out = Path(args.out) if args.out else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        res = base.train_spin_model(
            module,
            spins,
            config=config,
            out=out / "train" if out else None,
            cd_k=args.cd_k,
            augment=getattr(args, "augment", False),
        )
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    key = jax.random.key(args.seed + 1)
    samples = base.draw_samples(module, res.params, key, args.samples, gibbs_steps=args.gibbs_steps)
    comparison = evaluate.compare_with_reference(samples, spins, T=T)
    result = {
        "model": name,
        "L": L,
        "T": T,
        "n_train": int(spins.shape[0]),
        **res.summary(),
        "comparison": comparison,
        "exact_kl": None,
    }
    if getattr(args, "mh", False):
        chain = base.independence_metropolis(
            module,
            res.params,
            jax.random.fold_in(key, 1),
            args.mh_proposals,
            evaluate.boltzmann_log_weight(T),
        )
        result["comparison_mh"] = {
            "acceptance": chain["acceptance"],
            "ess_fraction": chain["ess_fraction"],
            **evaluate.compare_with_reference(
                np.asarray(chain["samples"]), spins, T=T, independent=False
            ),
        }
    if messages:
        result["warnings"] = messages
    if L * L <= evaluate.MAX_KL_SITES:
        result["exact_kl"] = evaluate.exact_kl(
            base.normalised_log_prob_fn(module, res.params), L, T
        )
    if out is not None:
        config_record = {k: v for k, v in vars(args).items() if k != "func"}
        write_record(out / "result.json", result, config=config_record, seed=args.seed)
        result["record"] = str(out / "result.json")
    return result


def cmd_van(args) -> dict:
    from pathlib import Path

    from qml_phys.generative import van
    from qml_phys.runtime.records import write_record

    out = Path(args.out) if args.out else None
    r = van.train_van(
        args.L,
        args.T,
        model=args.model,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        beta_anneal=args.beta_anneal,
        z2=not args.no_z2,
        n_eval=args.samples,
        seed=args.seed,
        out=out / "train" if out else None,
    )
    result = {
        "L": args.L,
        "T": args.T,
        "model": args.model,
        "status": r.status,
        "steps": len(r.history) * min(100, args.steps),
        "free_energy_per_site": r.free_energy.mean,
        "free_energy_error": r.free_energy.error,
        "exact_free_energy_per_site": r.exact,
        "relative_error": r.relative_error,
        "upper_bound_holds": bool(r.free_energy.mean >= r.exact - 3 * r.free_energy.error),
    }
    if out is not None:
        config_record = {k: v for k, v in vars(args).items() if k != "func"}
        write_record(out / "result.json", result, config=config_record, seed=args.seed)
        result["record"] = str(out / "result.json")
    return result


def register(areas, add) -> None:
    """Add the ``generative`` area (see the module docstring)."""
    from qml_phys.cli import _finite, _positive_int, _seed, _size, _temperature

    gen = areas.add_parser("generative", help="generative models of spin configurations")
    sub = gen.add_subparsers(dest="what", metavar="WHAT")
    sub.required = True

    p = add(sub, "train", cmd_train, "train a generative model on Monte Carlo configurations")
    p.add_argument("--model", required=True, choices=MODELS, help="architecture")
    p.add_argument("--data", required=True, help="HDF5 dataset (qml-phys ising dataset)")
    p.add_argument("--L", type=_size, required=True, help="lattice size in the dataset")
    p.add_argument(
        "--T",
        type=_temperature,
        default=None,
        help="one of its temperatures (required except for --model vae, which without it "
        "analyses the whole temperature grid)",
    )
    p.add_argument("--epochs", type=_positive_int, default=30, help="epochs (default 30)")
    p.add_argument("--batch-size", type=_positive_int, default=128, help="default 128")
    p.add_argument(
        "--lr",
        type=_finite,
        default=None,
        help="learning rate (default: the model's own; 3e-3 for rbm and autoregressive)",
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed (default 0)")
    p.add_argument("--out", default=None, help="folder for checkpoint and record (resumable)")
    p.add_argument("--hidden", type=_positive_int, default=None, help="width (model default)")
    p.add_argument("--samples", type=_positive_int, default=2000, help="generated samples")
    p.add_argument(
        "--decoder",
        choices=("factorised", "autoregressive"),
        default=None,
        help="VAE decoder (default: autoregressive at one --T, factorised over the grid)",
    )
    p.add_argument(
        "--z2", action="store_true", help="symmetrise p(s) = (q(s) + q(-s)) / 2 (autoregressive)"
    )
    p.add_argument(
        "--mh",
        action="store_true",
        help="also correct the samples to the Boltzmann distribution at T by independence "
        "Metropolis (autoregressive): 'comparison_mh' next to the raw 'comparison'",
    )
    p.add_argument(
        "--mh-proposals",
        type=_positive_int,
        default=100000,
        help="length of the --mh chain (default 100000: about 20 s for the local model at "
        "L = 16 on 2 CPU cores; a shorter chain under-estimates its error when the model "
        "misses rare configurations)",
    )
    p.add_argument(
        "--augment",
        action="store_true",
        help="train on random symmetry images of each batch: translations, D4, spin flip "
        "(autoregressive)",
    )
    p.add_argument("--cd-k", type=_positive_int, default=10, help="Gibbs steps of CD-k (rbm)")
    p.add_argument(
        "--gibbs-steps", type=_positive_int, default=1000, help="RBM burn-in per sample chain"
    )

    p = add(sub, "van", cmd_van, "variational autoregressive network: free energy vs Kaufman")
    p.add_argument("--L", type=_size, default=8, help="lattice size (default 8)")
    p.add_argument("--T", type=_temperature, default=2.269, help="temperature (default 2.269)")
    p.add_argument("--model", choices=AUTOREGRESSIVE, default="made", help="default made")
    p.add_argument("--steps", type=_positive_int, default=1000, help="training steps")
    p.add_argument("--batch-size", type=_positive_int, default=256, help="samples per step")
    p.add_argument("--lr", type=_finite, default=3e-3, help="Adam learning rate")
    p.add_argument("--beta-anneal", type=_finite, default=0.99, help="beta_t = beta(1-a^t)")
    p.add_argument("--no-z2", action="store_true", help="no spin-flip symmetrisation")
    p.add_argument("--samples", type=_positive_int, default=20000, help="samples for F_q")
    p.add_argument("--seed", type=_seed, default=0, help="seed (default 0)")
    p.add_argument("--out", default=None, help="folder for checkpoint and record (resumable)")

    from qml_phys.generative import flows  # adds flow-phi4 (its own options)

    flows.register_commands(sub, add)
