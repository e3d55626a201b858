"""``qml-phys generative ...``: train generative models on Monte Carlo data; the VAN.

Cheap to import: jax/flax are imported inside the command functions.

* ``generative train --model rbm|made|pixelcnn|rnn|transformer|local|vae|gan|diffusion --data
  FILE.h5 --L L --T T``: trains on the configurations at ``(L, T)`` of a dataset written by
  ``qml-phys ising dataset``; prints observables of generated samples against the data
  and, for ``L*L <= 20``, the exact KL divergence. ``vae``, ``gan`` and ``diffusion`` are
  trained and compared with the data by their own functions below.
* ``generative van --L 8 --T 2.269``: variational free energy per site vs Kaufman's.
* ``generative flow-phi4``: RealNVP flow-MCMC for lattice phi^4 against HMC.
"""

from __future__ import annotations

from pathlib import Path

from qml_phys.cli import args as A
from qml_phys.errors import InvalidParameterError

#: Names of ``--model`` (kept here so that ``--help`` needs no JAX import; a test checks
#: that they equal the library's ``generative.models`` names plus the three below).
AUTOREGRESSIVE = ("made", "pixelcnn", "rnn", "transformer", "local")
EXTERNAL = ("vae", "gan", "diffusion")
MODELS = ("rbm", *AUTOREGRESSIVE, *EXTERNAL)
#: ``flow-phi4`` defaults, equal to ``physics.phi4.DEFAULT_M2`` and ``generative.flows.ESTIMATORS``.
FLOW_DEFAULT_M2 = -4.0
FLOW_ESTIMATORS = ("path", "total")


def cmd_train(args) -> dict:
    name = args.model
    if name in EXTERNAL:  # vae, gan, diffusion: their own training and comparison
        return {"vae": _train_vae, "gan": _train_gan, "diffusion": _train_diffusion}[name](args)

    import warnings
    from pathlib import Path

    import jax
    import numpy as np

    from qml_phys.classical.datasets import load_dataset, spins_at
    from qml_phys.generative import base, evaluate, models
    from qml_phys.generative.models import make_spin_model
    from qml_phys.runtime.records import write_record
    from qml_phys.train import TrainConfig

    if args.T is None:
        raise InvalidParameterError(
            f"--T: model {name} is trained at one temperature; give one of the dataset's "
            "temperatures (only --model vae analyses the whole grid without --T)"
        )
    data = load_dataset(args.data, args.L)
    spins, T = spins_at(data, args.T)
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
    module = make_spin_model(name, L, hidden=args.hidden, z2=getattr(args, "z2", False))
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
        res = models.train_spin_model(
            module,
            spins,
            config=config,
            out=out / "train" if out else None,
            cd_k=args.cd_k,
            augment=getattr(args, "augment", False),
        )
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    key = jax.random.key(args.seed + 1)
    samples = models.draw_samples(
        module, res.params, key, args.samples, gibbs_steps=args.gibbs_steps
    )
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
            models.normalised_log_prob_fn(module, res.params), L, T
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

    gen = areas.add_parser("generative", help="generative models of spin configurations")
    sub = gen.add_subparsers(dest="what", metavar="WHAT")
    sub.required = True

    p = add(sub, "train", cmd_train, "train a generative model on Monte Carlo configurations")
    p.add_argument("--model", required=True, choices=MODELS, help="architecture")
    p.add_argument("--data", required=True, help="HDF5 dataset (qml-phys ising dataset)")
    p.add_argument("--L", type=A.size, required=True, help="lattice size in the dataset")
    p.add_argument(
        "--T",
        type=A.temperature,
        default=None,
        help="one of its temperatures (required except for --model vae, which without it "
        "analyses the whole temperature grid)",
    )
    p.add_argument("--epochs", type=A.positive_int, default=30, help="epochs (default 30)")
    p.add_argument("--batch-size", type=A.positive_int, default=128, help="default 128")
    p.add_argument(
        "--lr",
        type=A.finite,
        default=None,
        help="learning rate (default: the model's own; 3e-3 for rbm and autoregressive)",
    )
    p.add_argument("--seed", type=A.seed, default=0, help="seed (default 0)")
    p.add_argument("--out", default=None, help="folder for checkpoint and record (resumable)")
    p.add_argument("--hidden", type=A.positive_int, default=None, help="width (model default)")
    p.add_argument("--samples", type=A.positive_int, default=2000, help="generated samples")
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
        type=A.positive_int,
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
    p.add_argument("--cd-k", type=A.positive_int, default=10, help="Gibbs steps of CD-k (rbm)")
    p.add_argument(
        "--gibbs-steps", type=A.positive_int, default=1000, help="RBM burn-in per sample chain"
    )

    p = add(sub, "van", cmd_van, "variational autoregressive network: free energy vs Kaufman")
    p.add_argument("--L", type=A.size, default=8, help="lattice size (default 8)")
    p.add_argument("--T", type=A.temperature, default=2.269, help="temperature (default 2.269)")
    p.add_argument("--model", choices=AUTOREGRESSIVE, default="made", help="default made")
    p.add_argument("--steps", type=A.positive_int, default=1000, help="training steps")
    p.add_argument("--batch-size", type=A.positive_int, default=256, help="samples per step")
    p.add_argument("--lr", type=A.finite, default=3e-3, help="Adam learning rate")
    p.add_argument("--beta-anneal", type=A.finite, default=0.99, help="beta_t = beta(1-a^t)")
    p.add_argument("--no-z2", action="store_true", help="no spin-flip symmetrisation")
    p.add_argument("--samples", type=A.positive_int, default=20000, help="samples for F_q")
    p.add_argument("--seed", type=A.seed, default=0, help="seed (default 0)")
    p.add_argument("--out", default=None, help="folder for checkpoint and record (resumable)")

    _register_flow_phi4(sub, add)


# --------------------------------------------------------------------------- vae, gan, diffusion
def _load_training_spins(args):
    """``(IsingData, spins, T)`` from ``args.data`` / ``args.L`` / ``args.T`` (CLI contract)."""
    from qml_phys.classical.datasets import load_dataset, spins_at

    if not getattr(args, "data", None):
        raise InvalidParameterError(
            "expected --data PATH (an HDF5 dataset from `qml-phys ising dataset`); got none"
        )
    if not Path(args.data).is_file():
        raise InvalidParameterError(f"expected an existing dataset file; got {args.data!r}")
    data = load_dataset(args.data, getattr(args, "L", None))
    spins, T = spins_at(data, getattr(args, "T", None))
    return data, spins, T


def _fixed_temperature(args, name: str, config, train, sample, summary) -> dict:
    """Shared body of ``qml-phys generative train --model gan|diffusion``: train
    ``train(spins, config, out=...)`` on the configurations at ``args.T``, draw
    ``sample(model, key=, n=)``, compare with the data (:func:`compare_at`) and write
    ``<out>/record.json``. ``summary(model)`` is the JSON-able training summary."""
    import dataclasses

    import jax

    from qml_phys.generative.evaluate import compare_at
    from qml_phys.runtime.records import write_record

    _, spins, T = _load_training_spins(args)
    if T is None:
        raise InvalidParameterError(
            f"the {name} model is trained at one temperature: expected --T; got none"
        )
    seed = int(getattr(args, "seed", 0))
    out = getattr(args, "out", None)
    model = train(spins, config, out=None if out is None else Path(out) / "checkpoint")
    n = int(getattr(args, "samples", None) or max(len(spins), 2))
    samples = sample(model, key=jax.random.key(seed), n=n)
    result = {
        "model": name,
        "L": int(spins.shape[1]),
        "T": T,
        "training": summary(model),
        "comparison": compare_at(samples, spins, T),
    }
    if out is not None:
        write_record(
            Path(out) / "record.json",
            result,
            seed=seed,
            kind=f"generative.{name}",
            config=dataclasses.asdict(config) | {"data": str(args.data), "T": T},
        )
    return result


def _train_vae(args) -> dict:
    """``qml-phys generative train --model vae``: train on args.data (all T, or args.T)."""
    import jax

    from qml_phys.generative.evaluate import compare_at
    from qml_phys.generative.vae import analyse, sample_vae, train_vae
    from qml_phys.runtime.records import write_record

    data, spins, T = _load_training_spins(args)
    seed = int(getattr(args, "seed", 0))
    out = getattr(args, "out", None)
    decoder = getattr(args, "decoder", None) or ("factorised" if T is None else "autoregressive")
    vae = train_vae(
        spins,
        decoder=decoder,
        latent=int(getattr(args, "latent", 2)),
        hidden=int(getattr(args, "hidden", None) or 128),
        epochs=int(getattr(args, "epochs", 30)),
        batch_size=int(getattr(args, "batch_size", 128)),
        learning_rate=float(getattr(args, "lr", None) or 1e-3),
        seed=seed,
        out=None if out is None else Path(out) / "checkpoint",
    )
    key = jax.random.key(seed)
    result: dict = {
        "model": "vae",
        "decoder": decoder,
        "L": int(spins.shape[1]),
        "T": T,
        "training": vae.summary,
    }
    if T is None:
        ana = analyse(vae, data, key=key)
        result["latent_correlation"] = ana["correlation"]
        result["recon_steepest_rise_T"] = ana["recon_steepest_rise_T"]
        result["recon_fluctuation_peak_T"] = ana["recon_fluctuation_peak_T"]
    else:
        samples = sample_vae(
            vae, key=key, n=int(getattr(args, "samples", None) or max(len(spins), 2))
        )
        result["comparison"] = compare_at(samples, spins, T)
    if out is not None:
        write_record(
            Path(out) / "record.json",
            result,
            seed=seed,
            kind="generative.vae",
            config={"data": str(args.data), "T": T, "epochs": vae.summary["epochs"]},
        )
    return result


def _train_gan(args) -> dict:
    """``qml-phys generative train --model gan``: train at args.T; compare with the data."""
    from qml_phys.generative.gan import GANConfig, sample_gan, train_gan

    cfg = GANConfig(
        latent=int(getattr(args, "latent", 32)),
        hidden=int(getattr(args, "hidden", None) or 256),
        epochs=int(getattr(args, "epochs", 100)),
        batch_size=int(getattr(args, "batch_size", 128)),
        learning_rate=float(getattr(args, "lr", None) or 2e-4),
        seed=int(getattr(args, "seed", 0)),
    )

    def summary(gan):
        return {
            "status": gan.status,
            "epochs": len(gan.history),
            "resumed_from": gan.resumed_from,
            "final": gan.history[-1] if gan.history else None,
        }

    return _fixed_temperature(args, "gan", cfg, train_gan, sample_gan, summary)


def _train_diffusion(args) -> dict:
    """``qml-phys generative train --model diffusion``: train at args.T; compare with data."""
    from qml_phys.generative.diffusion import DiffusionConfig, sample_diffusion, train_diffusion

    cfg = DiffusionConfig(
        n_steps=int(getattr(args, "steps", None) or DiffusionConfig.n_steps),
        hidden=int(getattr(args, "hidden", None) or DiffusionConfig.hidden),
        epochs=int(getattr(args, "epochs", 100)),
        batch_size=int(getattr(args, "batch_size", 128)),
        learning_rate=float(getattr(args, "lr", None) or 1e-3),
        seed=int(getattr(args, "seed", 0)),
    )
    return _fixed_temperature(
        args, "diffusion", cfg, train_diffusion, sample_diffusion, lambda m: m.summary
    )


# --------------------------------------------------------------------------- flow-phi4
def _register_flow_phi4(sub, add) -> None:
    """Add ``flow-phi4`` to the ``generative`` area."""

    p = add(sub, "flow-phi4", cmd_flow_phi4, "normalizing-flow MCMC for lattice phi^4 vs HMC")
    p.add_argument("--L", type=A.size, default=8, help="lattice size (even; default 8)")
    p.add_argument("--m2", type=A.finite, default=FLOW_DEFAULT_M2, help="m^2 (default -4)")
    p.add_argument(
        "--lam",
        type=A.finite,
        default=None,
        help="lambda >= 0 (default: Albergo et al.'s ensemble for L, 6.008 at L = 8)",
    )
    p.add_argument(
        "--epochs",
        type=A.positive_int,
        default=600,
        help="of 100 steps (default 600: about 13 min on 2 CPU cores at batch 1024, L = 8)",
    )
    p.add_argument(
        "--net",
        choices=("cnn", "mlp"),
        default="mlp",
        help="coupling networks: dense on the V/2 frozen sites (default; the cheapest per "
        "sample) or periodic CNNs (translation-equivariant, as in Albergo et al.)",
    )
    p.add_argument(
        "--hidden", type=A.positive_int, default=None, help="width/channels (64 mlp, 8 cnn)"
    )
    p.add_argument("--batch-size", type=A.positive_int, default=1024, help="(default 1024)")
    p.add_argument("--samples", type=A.positive_int, default=40000, help="per sampler")
    p.add_argument(
        "--hmc-chains",
        type=A.positive_int,
        default=16,
        help="parallel HMC chains (default 16, HMC's cheapest per sample on 2 CPU cores)",
    )
    p.add_argument(
        "--no-z2", action="store_true", help="no Z2 (odd) coupling layers: q(-x) != q(x)"
    )
    p.add_argument(
        "--estimator",
        choices=FLOW_ESTIMATORS,
        default="path",
        help="reverse-KL gradient (default path: lower variance, one inverse pass more)",
    )
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--out", default=None, help="folder for record.json and the checkpoint")


def cmd_flow_phi4(args) -> dict:
    from pathlib import Path

    from qml_phys.generative.flows import DEFAULT_HIDDEN, FlowConfig, flow_vs_hmc
    from qml_phys.physics.phi4 import albergo_lambda
    from qml_phys.runtime.records import write_record

    if args.hidden is None:
        args.hidden = DEFAULT_HIDDEN[args.net]
    cfg = FlowConfig(
        hidden=args.hidden,
        net=args.net,
        z2=not args.no_z2,
        estimator=args.estimator,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    if args.lam is None:
        args.lam = albergo_lambda(args.L)
    res = flow_vs_hmc(
        args.L,
        args.m2,
        args.lam,
        config=cfg,
        n_samples=args.samples,
        hmc_chains=args.hmc_chains,
        seed=args.seed,
        out=args.out,
    )
    if args.out:
        keys = (
            *("L", "m2", "lam", "epochs", "net", "hidden", "batch_size", "samples"),
            *("hmc_chains", "no_z2", "estimator", "seed"),
        )
        config = {k: getattr(args, k) for k in keys}
        write_record(
            Path(args.out) / "record.json",
            res,
            config=config,
            seed=args.seed,
            kind="generative.flow_phi4",
        )
    res.pop("two_point")
    res["flow"].pop("loss_history")
    return res
