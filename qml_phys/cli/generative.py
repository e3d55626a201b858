"""``qml-phys generative ...``: train generative models on Monte Carlo data; the VAN.

Cheap to import: jax/flax are imported inside the command functions. Each command parses,
turns ``--seed`` into a key, makes the checkpoint of ``--out`` (its fingerprint holds the
data file's path and SHA-256, ``L``, ``T``, the model and the seed, so that a rerun over a
checkpoint of other inputs is refused), calls one library function and writes its record.

* ``generative train --model rbm|made|pixelcnn|rnn|lstm|transformer|local|vae|gan|diffusion --data
  FILE.h5 --L L --T T``: trains on the configurations at ``(L, T)`` of a dataset written by
  ``qml-phys ising dataset``; prints observables of generated samples against the data
  and, for ``L*L <= 20``, the exact KL divergence
  (:func:`qml_phys.generative.models.train_and_compare`). ``vae``, ``gan`` and
  ``diffusion`` train by their own functions
  (:func:`qml_phys.generative.models.fit_and_compare`).
* ``generative van --L 8 --T 2.269``: variational free energy per site vs Kaufman's.
* ``generative flow-phi4``: RealNVP flow-MCMC for lattice phi^4 against HMC.
* ``generative diffusion-phi4``: a denoising diffusion model (DDPM) of lattice phi^4
  trained on HMC fields, its samples against an independent HMC run (biased: no
  correction; :func:`qml_phys.generative.diffusion_phi4.diffusion_vs_hmc`).
"""

from __future__ import annotations

from pathlib import Path

from qml_phys.cli import args as A
from qml_phys.errors import InvalidParameterError

#: Names of ``--model`` (kept here so that ``--help`` needs no JAX import; a test checks
#: that they equal the library's ``generative.models`` names plus the three below).
AUTOREGRESSIVE = ("made", "pixelcnn", "rnn", "lstm", "transformer", "local")
EXTERNAL = ("vae", "gan", "diffusion")
MODELS = ("rbm", *AUTOREGRESSIVE, *EXTERNAL)
#: ``flow-phi4`` defaults, equal to ``physics.phi4.DEFAULT_M2`` and ``generative.flows.ESTIMATORS``.
FLOW_DEFAULT_M2 = -4.0
FLOW_ESTIMATORS = ("path", "total")


def _inputs(args, T) -> dict:
    """What a checkpoint of ``generative train`` depends on besides its config: the data
    file and its SHA-256, ``L``, ``T``, the model and the seed."""
    import hashlib

    digest = hashlib.sha256()
    with open(args.data, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {
        "data": str(Path(args.data).resolve()),
        "data_sha256": digest.hexdigest(),
        "L": args.L,
        "T": T,
        "model": args.model,
        "seed": args.seed,
    }


def _checkpoint(folder, inputs):
    """A checkpoint in ``folder`` (resumed when it matches) fingerprinted with
    ``inputs()``, or None without ``--out`` (``folder`` None)."""
    from qml_phys.runtime.checkpoint import Checkpoint

    return None if folder is None else Checkpoint(Path(folder), inputs=inputs())


def _with_record(out: Path | None, result: dict, args) -> dict:
    """``result``; with ``--out`` (``out``) also written to ``<out>/result.json`` with every
    argument as its config, and ``record`` its path."""
    if out is not None:
        from qml_phys.runtime.records import write_record

        config = {k: v for k, v in vars(args).items() if k != "func"}
        write_record(out / "result.json", result, config=config, seed=args.seed)
        result["record"] = str(out / "result.json")
    return result


def cmd_train(args) -> dict:
    name = args.model
    if name in EXTERNAL:  # vae, gan, diffusion: trained by their own functions
        return _train_external(args)

    import jax

    from qml_phys.generative import models

    if args.T is None:
        raise InvalidParameterError(
            f"--T: model {name} is trained at one temperature; give one of the dataset's "
            "temperatures (only --model vae analyses the whole grid without --T)"
        )
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
    _, spins, T = _load_training_spins(args)
    module = models.make_spin_model(name, args.L, hidden=args.hidden, z2=getattr(args, "z2", False))
    config = models.SpinTrainConfig(
        train=models.train_config(
            module,
            epochs=args.epochs,
            batch_size=args.batch_size,
            **A.given(args, learning_rate="lr"),
        ),
        cd_k=args.cd_k,
        augment=getattr(args, "augment", False),
    )
    compare = models.CompareConfig(
        n_samples=args.samples,
        gibbs_steps=args.gibbs_steps,
        n_proposals=args.mh_proposals if getattr(args, "mh", False) else None,
    )
    out = Path(args.out) if args.out else None
    res = models.train_and_compare(
        module,
        spins,
        T,
        config,
        key=jax.random.key(args.seed),
        compare=compare,
        checkpoint=_checkpoint(out and out / "train", lambda: _inputs(args, T)),
    )
    return _with_record(out, {"model": name, **res.summary()}, args)


def cmd_van(args) -> dict:
    import jax

    from qml_phys.generative import van

    config = van.VANConfig(
        model=args.model,
        z2=not args.no_z2,
        n_steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        beta_anneal=args.beta_anneal,
        n_samples=args.samples,
    )
    out = Path(args.out) if args.out else None
    inputs = {"L": args.L, "T": args.T, "model": args.model, "seed": args.seed}
    r = van.train_van(
        args.L,
        args.T,
        config,
        key=jax.random.key(args.seed),
        checkpoint=_checkpoint(out and out / "train", lambda: inputs),
    )
    return _with_record(out, r.summary(), args)


def register(areas, add) -> None:
    """Add the ``generative`` area (see the module docstring)."""

    sub = A.area(areas, "generative", "generative models of spin configurations")

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
    A.seed_and_out(p, "folder for checkpoint and record (resumable)", seed_help="seed (default 0)")
    p.add_argument("--hidden", type=A.width, default=None, help="width (model default)")
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
    A.seed_and_out(p, "folder for checkpoint and record (resumable)", seed_help="seed (default 0)")

    _register_flow_phi4(sub, add)
    _register_diffusion_phi4(sub, add)


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


def _train_external(args) -> dict:
    """``qml-phys generative train --model vae|gan|diffusion``: train on ``args.data`` at
    ``args.T`` (the VAE also over the whole grid without it), compare with the data
    (:func:`qml_phys.generative.models.fit_and_compare`) and write ``<out>/record.json``
    (the checkpoint goes to ``<out>/checkpoint``)."""
    import dataclasses

    import jax

    from qml_phys.generative import models
    from qml_phys.runtime.records import write_record

    name = args.model
    data, spins, T = _load_training_spins(args)
    if T is None and name != "vae":
        raise InvalidParameterError(
            f"the {name} model is trained at one temperature: expected --T; got none"
        )
    config = _external_config(args, T)
    out = getattr(args, "out", None)
    res = models.fit_and_compare(
        data,
        T,
        config,
        key=jax.random.key(args.seed),
        n_samples=args.samples,
        checkpoint=_checkpoint(out and Path(out) / "checkpoint", lambda: _inputs(args, T)),
    )
    result = res.summary()
    if out is not None:
        record = {"data": str(args.data), "T": T}
        if name == "vae":
            record["epochs"] = res.trained.epochs
        else:
            record = dataclasses.asdict(config) | record
        write_record(
            Path(out) / "record.json",
            result,
            seed=args.seed,
            kind=f"generative.{name}",
            config=record,
        )
    return result


def _external_config(args, T):
    """The VAE, GAN or diffusion config of ``args`` (the library's defaults where a flag
    is not given; the VAE's decoder: autoregressive at one --T, factorised over the grid)."""
    from qml_phys.generative.diffusion import DiffusionConfig
    from qml_phys.generative.gan import GANConfig
    from qml_phys.generative.vae import VAEConfig

    cls = {"vae": VAEConfig, "gan": GANConfig, "diffusion": DiffusionConfig}[args.model]
    given = A.given(
        args, hidden="hidden", epochs="epochs", batch_size="batch_size", learning_rate="lr"
    )
    if args.model == "vae":
        given["decoder"] = args.decoder or ("factorised" if T is None else "autoregressive")
    return cls(**given)


# --------------------------------------------------------------------------- flow-phi4
def _add_phi4_couplings(p) -> None:
    """``--m2`` and ``--lam`` of the phi^4 theory (flow-phi4, diffusion-phi4)."""
    p.add_argument("--m2", type=A.finite, default=FLOW_DEFAULT_M2, help="m^2 (default -4)")
    p.add_argument(
        "--lam",
        type=A.finite,
        default=None,
        help="lambda >= 0 (default: Albergo et al.'s ensemble for L, 6.008 at L = 8)",
    )


def _register_flow_phi4(sub, add) -> None:
    """Add ``flow-phi4`` to the ``generative`` area."""

    p = add(sub, "flow-phi4", cmd_flow_phi4, "normalizing-flow MCMC for lattice phi^4 vs HMC")
    p.add_argument("--L", type=A.size, default=8, help="lattice size (even; default 8)")
    _add_phi4_couplings(p)
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
    p.add_argument("--hidden", type=A.width, default=None, help="width/channels (64 mlp, 8 cnn)")
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
    p.add_argument(
        "--local-hmc",
        action="store_true",
        help="one HMC trajectory after every flow-MCMC step (for a briefly trained flow)",
    )
    A.seed_and_out(p, "folder for record.json and the checkpoint")


def cmd_flow_phi4(args) -> dict:
    import jax

    from qml_phys.generative.flows import DEFAULT_HIDDEN, FlowConfig, FlowVsHMCConfig, flow_vs_hmc
    from qml_phys.physics.phi4 import Phi4, albergo_lambda
    from qml_phys.runtime.records import write_record

    if args.hidden is None:
        args.hidden = DEFAULT_HIDDEN[args.net]
    if args.lam is None:
        args.lam = albergo_lambda(args.L)
    flow = FlowConfig(
        hidden=args.hidden,
        net=args.net,
        z2=not args.no_z2,
        estimator=args.estimator,
        epochs=args.epochs,
        batch_size=args.batch_size,
    )
    config = FlowVsHMCConfig(
        flow=flow, n_samples=args.samples, hmc_chains=args.hmc_chains, local_hmc=args.local_hmc
    )
    theory = Phi4(args.L, args.m2, args.lam)
    inputs = {"L": args.L, "m2": args.m2, "lam": args.lam, "seed": args.seed}
    out = Path(args.out) if args.out else None
    res = flow_vs_hmc(
        theory,
        config,
        key=jax.random.key(args.seed),
        checkpoint=_checkpoint(out and out / "checkpoint", lambda: inputs),
    ).summary()
    res["flow"]["config"]["seed"] = args.seed  # the seed of the whole run, as before
    if out is not None:
        keys = (
            *("L", "m2", "lam", "epochs", "net", "hidden", "batch_size", "samples"),
            *("hmc_chains", "no_z2", "estimator", "seed"),
        )
        config_record = {k: getattr(args, k) for k in keys}
        write_record(
            out / "record.json",
            res,
            config=config_record,
            seed=args.seed,
            kind="generative.flow_phi4",
        )
    res.pop("two_point")
    res["flow"].pop("loss_history")
    return res


# --------------------------------------------------------------------------- diffusion-phi4
def _register_diffusion_phi4(sub, add) -> None:
    """Add ``diffusion-phi4`` to the ``generative`` area (defaults: the library's configs)."""

    p = add(
        sub,
        "diffusion-phi4",
        cmd_diffusion_phi4,
        "denoising diffusion (DDPM) for lattice phi^4, trained on HMC, against HMC",
    )
    p.add_argument("--L", type=A.size, default=8, help="lattice size (default 8)")
    _add_phi4_couplings(p)
    p.add_argument(
        "--steps", type=A.positive_int, default=None, help="training steps (library default)"
    )
    p.add_argument(
        "--denoise-steps",
        type=A.positive_int,
        default=None,
        help="denoising steps K of sampling (library default)",
    )
    p.add_argument(
        "--samples",
        type=A.positive_int,
        default=None,
        help="diffusion samples, and fields of the reference HMC run (library default)",
    )
    p.add_argument(
        "--train-samples",
        type=A.positive_int,
        default=None,
        help="HMC fields to train on (library default)",
    )
    A.seed_and_out(p, "folder for record.json and the checkpoint")


def cmd_diffusion_phi4(args) -> dict:
    import dataclasses

    import jax

    from qml_phys.generative import diffusion_phi4 as D
    from qml_phys.physics.phi4 import Phi4, albergo_lambda
    from qml_phys.runtime.records import write_record

    if args.lam is None:
        args.lam = albergo_lambda(args.L)
    model = D.Phi4DiffusionConfig(**A.given(args, n_steps="steps", denoise_steps="denoise_steps"))
    config = D.DiffusionVsHMCConfig(
        diffusion=model, **A.given(args, n_samples="samples", n_train="train_samples")
    )
    theory = Phi4(args.L, args.m2, args.lam)
    inputs = {"L": args.L, "m2": args.m2, "lam": args.lam, "seed": args.seed}
    out = Path(args.out) if args.out else None
    res = D.diffusion_vs_hmc(
        theory,
        config,
        key=jax.random.key(args.seed),
        checkpoint=_checkpoint(out and out / "checkpoint", lambda: inputs),
    ).summary()
    if out is not None:
        write_record(
            out / "record.json",
            res,
            config=dataclasses.asdict(config) | inputs,
            seed=args.seed,
            kind="generative.diffusion_phi4",
        )
        res["record"] = str(out / "record.json")
    return res
