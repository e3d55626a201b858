r"""Variational ground states of the package's spin models with NetKet.

A model of :mod:`qml_phys.physics.models` (:class:`TransverseFieldIsing`,
:class:`Heisenberg` with optional ``J2``, chains and square lattices) is compiled to a
NetKet operator and optimised with stochastic reconfiguration (SR, Sorella, PRL 80, 4558
(1998), doi:10.1103/PhysRevLett.80.4558) or MinSR (Chen & Heyl, Nat. Phys. 20, 1476 (2024),
arXiv:2302.01941), both through ``nk.driver.VMC_SR`` (stable in NetKet >= 3.20; ``use_ntk``
switches SR to MinSR). NetKet does the sampling, the statistics and the solver; this module
adds physics defaults, checks, exact references, checkpoints and the log.

Ansatze (``VMCConfig.ansatz``):

* ``"rbm"`` -- ``nk.models.RBM`` (Carleo & Troyer, Science 355, 602 (2017),
  doi:10.1126/science.aag2302) with ``alpha * N`` hidden units;
* ``"rbm-symm"`` -- ``nk.models.RBMSymm`` symmetrised over the lattice translations;
* ``"ar"`` -- ``nk.models.ARNNDense`` (autoregressive, normalised) sampled exactly with
  ``nk.sampler.ARDirectSampler`` (Sharir et al., PRL 124, 020503 (2020),
  arXiv:1902.04057);
* any Flax module returning ``log psi(s)`` for spins ``(..., N)`` in {-1, +1}: the adapter
  for the package's own generative models (``log psi = log p / 2``; see
  :mod:`qml_phys.nqs.bridge`).

Signs. Real parameters make every ansatz above *positive*. The TFIM with ``gamma >= 0`` is
stoquastic, so its ground state is positive. The antiferromagnetic Heisenberg model is not;
on a bipartite lattice the Marshall sign rule (W. Marshall, Proc. R. Soc. A 232, 48
(1955), doi:10.1098/rspa.1955.0200) ``psi(s) = (-1)^{N_up on sublattice B} phi(s)``, with
``phi >= 0``, is exact for ``J2 = 0``. We apply it as the unitary rotation ``U = prod_{i in
B} Z_i`` of the Hamiltonian (the ``XX + YY`` terms of bonds between sublattices change
sign), which leaves the spectrum unchanged, and optimise a positive ``phi``. Without the
rule a positive ansatz cannot represent the state: that is an error. For ``J2 != 0`` the
rule is only approximate: a warning, and ``complex_params=True`` lets the network learn
the signs. The Heisenberg ground state on an even lattice has total ``S^z = 0``; with a
Metropolis sampler the Hilbert space is constrained to that sector and sampled with
exchange moves (which conserve it). A sampler that breaks a Hilbert-space constraint
(single-spin flips, or direct autoregressive sampling) is an error here, where NetKet
would silently sample outside the sector.

Energies are in the units of the model (Pauli matrices: the Heisenberg energy is ``4x``
the spin-1/2 ``S.S`` value). The V-score is ``N Var(E) / E^2`` (Wu et al., Science 386,
296 (2024), arXiv:2302.04919).

Several devices: NetKet 3.23 shards samples and chains over every visible JAX device by
default (``NETKET_SHARDING=1``, the default; ``NETKET_SHARDING=0`` turns it off). On CPU,
several virtual devices come from ``XLA_FLAGS=--xla_force_host_platform_device_count=4``
(or ``NETKET_EXPERIMENTAL_SHARDING_CPU=4``) set before JAX starts. The number of chains
is rounded up to a multiple of the device count.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from qml_phys.errors import (
    ExistingDataError,
    InvalidParameterError,
    QmlPhysError,
    UnknownNameError,
    check_positive_int,
)
from qml_phys.physics.models import Heisenberg, TransverseFieldIsing

ANSATZE = ("rbm", "rbm-symm", "ar")
SR_METHODS = ("sr", "minsr")
SAMPLERS = ("auto", "local", "exchange", "direct")

#: Published energies per site (spin-1/2 units, S.S) for lattices beyond exact
#: diagonalisation: ``(model, L, J2) -> (e_per_site, error, reference)``.
PUBLISHED = {
    ("heisenberg-square", 6, 0.0): (
        -0.678873,
        0.000004,
        "QMC, A. W. Sandvik, PRB 56, 11678 (1997), doi:10.1103/PhysRevB.56.11678",
    ),
}

#: Largest number of sites treated by exact diagonalisation (Lanczos) for the reference.
MAX_ED_SITES = 20


class NaNEnergyError(QmlPhysError, FloatingPointError):
    """The energy became NaN; the run stopped and its last good checkpoint was kept."""


@dataclasses.dataclass(frozen=True)
class VMCConfig:
    """How to optimise. Defaults converge without tuning on the package's studies.

    Attributes:
        ansatz: ``"rbm"``, ``"rbm-symm"`` or ``"ar"`` (see the module docstring).
        alpha: hidden-unit density (RBM, RBMSymm) or features per site (AR).
        complex_params: complex parameters (needed for sign structures without a rule).
        sign_rule: apply the Marshall sign rule (Heisenberg only); None: on for Heisenberg
            on a bipartite lattice.
        sampler: ``"auto"`` (exchange for Heisenberg, local spin flips for TFIM, direct for
            ``ar``), ``"local"``, ``"exchange"`` or ``"direct"``.
        n_samples: samples per iteration (all chains, all devices).
        n_chains: Markov chains (rounded up to a multiple of the device count).
        n_discard_per_chain: sweeps discarded per chain at every iteration.
        iters: optimisation steps.
        learning_rate: peak SR/MinSR step (``optax.sgd``); None: 0.05 on chains, 0.02 on
            square lattices (0.05 diverges there for the symmetric RBM); decays as a cosine to
            ``learning_rate * lr_final_fraction``.
        lr_final_fraction: final / peak learning rate.
        warmup: iterations of linear warm-up from ``learning_rate / 10`` (keeps the first
            SR steps, taken with a poorly estimated QGT, from freezing the chains).
        diag_shift: initial diagonal shift of the QGT/NTK; decays exponentially to
            ``diag_shift_final`` over the run.
        diag_shift_final: final diagonal shift.
        sr: ``"sr"`` (QGT, parameters space) or ``"minsr"`` (NTK, sample space).
        final_samples: samples of the closing energy estimate (0: skip; report the mean of
            the last ``tail`` iterations instead).
        tail: iterations averaged for the tail energy shown next to the final estimate.
        chunk_size: samples per forward pass (memory), None for all at once.
        checkpoint_every: write a checkpoint every this many iterations (with ``out``).
    """

    ansatz: str = "rbm"
    alpha: int = 1
    complex_params: bool = False
    sign_rule: bool | None = None
    sampler: str = "auto"
    n_samples: int = 2048
    n_chains: int = 16
    n_discard_per_chain: int = 8
    iters: int = 300
    learning_rate: float | None = None
    lr_final_fraction: float = 0.2
    warmup: int = 20
    diag_shift: float = 0.01
    diag_shift_final: float = 1e-4
    sr: str = "sr"
    final_samples: int = 32768
    tail: int = 50
    chunk_size: int | None = None
    checkpoint_every: int = 25

    def __post_init__(self):
        if isinstance(self.ansatz, str) and self.ansatz not in ANSATZE:
            raise UnknownNameError(f"ansatz: expected one of {ANSATZE}; got {self.ansatz!r}")
        if self.sr not in SR_METHODS:
            raise UnknownNameError(f"sr: expected one of {SR_METHODS}; got {self.sr!r}")
        if self.sampler not in SAMPLERS:
            raise UnknownNameError(f"sampler: expected one of {SAMPLERS}; got {self.sampler!r}")
        for name in ("alpha", "n_samples", "n_chains", "iters", "checkpoint_every"):
            check_positive_int(name, getattr(self, name))
        for name in ("n_discard_per_chain", "final_samples", "tail", "warmup"):
            check_positive_int(name, getattr(self, name), minimum=0)
        for name in ("learning_rate", "diag_shift", "diag_shift_final", "lr_final_fraction"):
            v = getattr(self, name)
            if name == "learning_rate" and v is None:
                continue
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise InvalidParameterError(f"{name}: expected a finite number > 0; got {v!r}")


@dataclasses.dataclass
class GroundStateResult:
    """Outcome of :func:`ground_state`.

    Attributes:
        energy, energy_error: final estimate and its standard error (model units).
        variance: energy variance ``<H^2> - <H>^2``; ``v_score``: ``N variance / energy^2``.
        exact_energy, exact_method: the reference (None when there is none) and its source.
        relative_error: ``|energy - exact| / |exact|``.
        log: per-iteration arrays ``step, energy, error, variance, r_hat, acceptance``.
        status: ``"completed"``, ``"nan"`` or ``"frozen"`` (stopped; see ``message``):
            a NaN energy, or Markov chains that accepted no move for :data:`FROZEN_STEPS`
            steps in a row.
        steps: iterations done in total (including resumed ones).
        resumed_from: the step a checkpoint was loaded at, or None.
        n_devices: JAX devices the samples were sharded over.
        vstate: the NetKet variational state (not serialised).
    """

    energy: float
    energy_error: float
    variance: float
    v_score: float
    exact_energy: float | None
    exact_method: str | None
    relative_error: float | None
    log: dict[str, np.ndarray]
    status: str
    message: str
    steps: int
    resumed_from: int | None
    n_devices: int
    n_parameters: int
    sign_rule: bool
    constraint: str | None
    tail_energy: float | None = None
    seconds: float = 0.0
    vstate: Any = dataclasses.field(default=None, repr=False)

    def summary(self) -> dict:
        """The JSON-able part (no NetKet objects)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.pop("vstate")
        out.pop("log")
        return out


# --------------------------------------------------------------------------- model checks
def _model_name(model) -> str:
    if isinstance(model, TransverseFieldIsing):
        return "tfim"
    if isinstance(model, Heisenberg):
        return "heisenberg"
    raise InvalidParameterError(
        f"model: expected a TransverseFieldIsing or Heisenberg model; got {type(model).__name__}"
    )


def exact_reference(model) -> tuple[float | None, str | None]:
    """The exact (or published) ground energy of ``model`` and how it was obtained.

    Periodic TFIM chains without longitudinal field: free fermions (any N). Up to
    :data:`MAX_ED_SITES` sites: Lanczos. The 6x6 periodic Heisenberg square lattice
    (``J2 = 0``): the QMC value of :data:`PUBLISHED` (times 4 for Pauli units, times
    ``J1 N``). Otherwise ``(None, None)``.
    """
    from qml_phys.physics import exact

    lat = model.lattice
    if isinstance(model, TransverseFieldIsing) and lat.kind == "chain" and lat.pbc:
        if model.h == 0.0 and model.J >= 0:
            e = exact.tfim_chain_ground_energy(lat.L, J=model.J, gamma=model.gamma)
            return float(e), "free fermions (Jordan-Wigner)"
    if isinstance(model, Heisenberg) and lat.kind == "square" and lat.pbc:
        key = ("heisenberg-square", lat.L, float(model.J2))
        if key in PUBLISHED and model.J1 > 0:
            e, _, ref = PUBLISHED[key]
            return 4.0 * e * model.J1 * lat.n_sites, ref
    if model.n_sites <= MAX_ED_SITES:
        return float(exact.lanczos(model)[0]), "exact diagonalisation (Lanczos)"
    return None, None


def _default_sign_rule(model) -> bool:
    return isinstance(model, Heisenberg) and model.lattice.is_bipartite and model.J1 > 0


def check_ansatz(model, config: VMCConfig, sign_rule: bool, positive: bool) -> None:
    """Raise (or warn) when a positive ansatz cannot represent the ground state's signs."""
    if isinstance(model, TransverseFieldIsing):
        if sign_rule:
            raise InvalidParameterError(
                "sign_rule: the Marshall sign rule applies to the Heisenberg model; the TFIM "
                "with gamma >= 0 has a positive ground state; got sign_rule=True"
            )
        if model.gamma < 0 and positive:
            warnings.warn(
                f"TFIM with gamma = {model.gamma} < 0 has a sign structure that a positive "
                "(real-parameter) ansatz cannot represent; use complex_params=True or gamma > 0",
                stacklevel=3,
            )
        return
    if sign_rule and not model.lattice.is_bipartite:
        raise InvalidParameterError(
            "sign_rule: the Marshall sign rule needs a bipartite lattice (open boundaries or "
            f"even L); got {model.lattice}"
        )
    if positive and not sign_rule and model.J1 > 0:
        raise InvalidParameterError(
            "the antiferromagnetic Heisenberg ground state has signs (Marshall) that a positive "
            "(real-parameter) ansatz cannot represent; use sign_rule=True (bipartite lattice) "
            "or complex_params=True; got sign_rule=False with real parameters"
        )
    if positive and sign_rule and model.J2 != 0.0:
        warnings.warn(
            f"J2 = {model.J2}: the Marshall sign rule is not exact for a frustrated "
            "Heisenberg model, and a positive (real-parameter) ansatz cannot learn the "
            "remaining signs; use complex_params=True for accurate energies",
            stacklevel=3,
        )


# --------------------------------------------------------------------------- NetKet objects
def _marshall_operator(model, hilbert):
    """``U H U^dag`` with ``U = prod_{i in B} Z_i`` as ``nk.operator.PauliStrings``."""
    import netket as nk

    sub = model.lattice.sublattice
    n = model.n_sites
    strings, weights = [], []
    for paulis, sites, coeff in model.pauli_terms():
        chars = ["I"] * n
        for p, i in zip(paulis, sites, strict=True):
            chars[i] = p
        flips = sum(1 for p, i in zip(paulis, sites, strict=True) if p in "XY" and sub[i])
        strings.append("".join(chars))
        weights.append(coeff * (-1.0) ** flips)
    return nk.operator.PauliStrings(hilbert, strings, weights, cutoff=0.0)


def _netket_graph(lattice):
    import netket as nk

    if lattice.kind == "chain":
        return nk.graph.Chain(lattice.L, pbc=lattice.pbc)
    return nk.graph.Square(lattice.L, pbc=lattice.pbc)


def build_problem(model, config: VMCConfig):
    """Hilbert space, NetKet operator, sign rule used and constraint name for ``model``."""
    import netket as nk

    _model_name(model)
    n = model.n_sites
    sign_rule = _default_sign_rule(model) if config.sign_rule is None else bool(config.sign_rule)
    sampler = _sampler_kind(model, config)
    constraint = None
    if isinstance(model, Heisenberg) and sampler == "exchange":
        if n % 2:
            raise InvalidParameterError(
                f"the total S^z = 0 sector needs an even number of sites; got N = {n}"
            )
        hilbert = nk.hilbert.Spin(0.5, n, total_sz=0)
        constraint = "total_sz=0"
    else:
        hilbert = nk.hilbert.Spin(0.5, n)
    if sign_rule and isinstance(model, Heisenberg):
        op = _marshall_operator(model, hilbert)
    else:
        op = model.to_netket(hilbert)
    return hilbert, op, sign_rule, constraint


def _sampler_kind(model, config: VMCConfig) -> str:
    if config.sampler != "auto":
        return config.sampler
    if config.ansatz == "ar":
        return "direct"
    return "exchange" if isinstance(model, Heisenberg) else "local"


def make_ansatz(config: VMCConfig, model, hilbert):
    """The Flax module of ``config.ansatz`` (or ``config.ansatz`` itself if it is a module)."""
    import jax
    import jax.numpy as jnp
    import netket as nk

    if not isinstance(config.ansatz, str):
        return config.ansatz
    dtype = jnp.complex128 if config.complex_params else jnp.float64
    if config.ansatz == "rbm":
        return nk.models.RBM(alpha=config.alpha, param_dtype=dtype)
    if config.ansatz == "rbm-symm":
        group = _netket_graph(model.lattice).translation_group()
        # NetKet's RBMSymm draws its weights with std 0.1; with alpha * |G| hidden units that
        # makes the initial log-amplitudes so rugged on larger lattices (6x6, alpha = 4) that
        # the exchange chains accept ~1% of moves and the first SR step diverges (measured).
        # The plain RBM's std 0.01 starts near the uniform state instead.
        init = jax.nn.initializers.normal(stddev=0.01)
        return nk.models.RBMSymm(
            symmetries=group,
            alpha=config.alpha,
            param_dtype=dtype,
            kernel_init=init,
            hidden_bias_init=init,
            visible_bias_init=init,
        )
    return nk.models.ARNNDense(
        hilbert=hilbert, layers=2, features=config.alpha * 2 + 8, param_dtype=dtype
    )


def make_sampler(config: VMCConfig, model, hilbert, n_devices: int = 1):
    """The NetKet sampler; raises if it would break the Hilbert-space constraint."""
    import netket as nk

    kind = _sampler_kind(model, config)
    constrained = getattr(hilbert, "constrained", False)
    is_ar = config.ansatz == "ar"
    if kind == "direct":
        if not is_ar:
            raise InvalidParameterError(
                f"sampler 'direct' needs an autoregressive ansatz ('ar'); got {config.ansatz!r}"
            )
        if constrained:
            raise InvalidParameterError(
                "sampler 'direct': autoregressive direct sampling ignores the Hilbert-space "
                "constraint (total_sz=0) and would sample outside it; use an unconstrained space"
            )
        return nk.sampler.ARDirectSampler(hilbert)
    if is_ar:
        raise InvalidParameterError(
            f"ansatz 'ar' is sampled exactly with sampler 'direct'; got sampler {kind!r}"
        )
    n_chains = int(math.ceil(config.n_chains / n_devices) * n_devices)
    if kind == "local":
        if constrained:
            raise InvalidParameterError(
                "sampler 'local' flips single spins and leaves the total_sz=0 sector of this "
                "Hilbert space; use sampler='exchange'"
            )
        return nk.sampler.MetropolisLocal(hilbert, n_chains=n_chains)
    if not constrained:
        raise InvalidParameterError(
            "sampler 'exchange' conserves the total S^z and is not ergodic on an "
            "unconstrained Hilbert space; use sampler='local'"
        )
    lat = model.lattice
    bonds = [lat.edges]
    if isinstance(model, Heisenberg) and model.J2 != 0.0:
        bonds.append(lat.next_nearest_edges)
    clusters = np.unique(np.sort(np.concatenate(bonds), axis=1), axis=0)
    return nk.sampler.MetropolisExchange(hilbert, clusters=clusters.tolist(), n_chains=n_chains)


def _seeds(key) -> tuple[int, int]:
    import jax

    k1, k2 = jax.random.split(key)
    a = jax.random.randint(k1, (), 0, 2**31 - 1)
    b = jax.random.randint(k2, (), 0, 2**31 - 1)
    return int(a), int(b)


def make_vstate(config: VMCConfig, model, hilbert, *, key, n_devices: int = 1, params=None):
    """The ``nk.vqs.MCState`` of ``config`` (``params``: initial parameters, e.g. a warm
    start from :mod:`qml_phys.nqs.bridge`)."""
    import netket as nk

    module = make_ansatz(config, model, hilbert)
    sampler = make_sampler(config, model, hilbert, n_devices)
    seed, sampler_seed = _seeds(key)
    kwargs = {"n_samples": config.n_samples, "seed": seed, "sampler_seed": sampler_seed}
    if config.ansatz != "ar":
        kwargs["n_discard_per_chain"] = config.n_discard_per_chain
    if config.chunk_size is not None:
        kwargs["chunk_size"] = config.chunk_size
    vstate = nk.vqs.MCState(sampler, module, **kwargs)
    if params is not None:
        vstate.parameters = params
    return vstate


def make_driver(config: VMCConfig, op, vstate):
    """``nk.driver.VMC_SR`` with the schedules of ``config``."""
    import netket as nk
    import optax

    lr = optax.warmup_cosine_decay_schedule(
        init_value=config.learning_rate * 0.1,
        peak_value=config.learning_rate,
        warmup_steps=min(config.warmup, max(config.iters - 1, 0)),
        decay_steps=max(config.iters, 1),
        end_value=config.learning_rate * config.lr_final_fraction,
    )
    ratio = config.diag_shift_final / config.diag_shift
    shift = optax.exponential_decay(
        config.diag_shift,
        transition_steps=max(config.iters, 1),
        decay_rate=ratio,
        end_value=min(config.diag_shift, config.diag_shift_final),
    )
    return nk.driver.VMC_SR(
        op,
        optax.sgd(lr),
        diag_shift=shift,
        variational_state=vstate,
        use_ntk=config.sr == "minsr",
        on_the_fly=False,
        mode="complex" if config.complex_params else "real",
    )


# --------------------------------------------------------------------------- the run
_LOG_KEYS = ("step", "energy", "error", "variance", "r_hat", "acceptance")
#: Consecutive steps with zero Markov-chain acceptance that stop a run (``status="frozen"``).
FROZEN_STEPS = 10


def _make_monitor(n_iters, ckpt, every, meta_fn, user_callback, bar):
    """A NetKet callback: log, NaN stop, atomic checkpoints of verified states."""
    import jax
    import netket as nk
    from flax import serialization

    from qml_phys.runtime.checkpoint import save_checkpoint

    class Monitor(nk.callbacks.AbstractCallback):
        log: dict = nk.utils.struct.field(pytree_node=False)
        pending: Any = nk.utils.struct.field(pytree_node=False)
        nan_step: Any = nk.utils.struct.field(pytree_node=False)
        frozen_step: Any = nk.utils.struct.field(pytree_node=False)
        frozen_run: Any = nk.utils.struct.field(pytree_node=False)
        last_checkpoint: Any = nk.utils.struct.field(pytree_node=False)

        def __init__(self, log):
            self.log = log
            self.pending = None
            self.nan_step = None
            self.frozen_step = None
            self.frozen_run = 0
            self.last_checkpoint = None

        @property
        def callback_order(self) -> int:
            return 100  # after the loggers; may raise StopRun

        def on_step_start(self, step, log_data, driver):
            # Snapshot the state *before* this step's sampling; written to disk only once
            # the step's energy is known to be finite, so a checkpoint is always good and
            # resuming from it repeats the uninterrupted run exactly.
            if ckpt is not None and step % every == 0 and step > 0:
                self.pending = (step, jax.device_get(serialization.to_state_dict(driver)))

        def before_parameter_update(self, step, log_data, driver):
            stats = log_data[driver._loss_name]
            e = float(np.real(stats.mean))
            finite_dp = all(
                bool(np.all(np.isfinite(np.asarray(x))))
                for x in jax.tree_util.tree_leaves(driver._dp)
            )
            if not (math.isfinite(e) and finite_dp):
                self.nan_step = step
                raise nk.callbacks.StopRun(f"NaN energy or update at step {step}")
            acc = getattr(driver.state.sampler_state, "acceptance", None)
            row = (
                step,
                e,
                float(stats.error_of_mean),
                float(stats.variance),
                float(stats.R_hat) if stats.R_hat is not None else math.nan,
                float(acc) if acc is not None else math.nan,
            )
            # Markov chains that accept nothing, step after step, sample one configuration:
            # the energy looks exact (zero variance) and is meaningless. Stop, as for NaN.
            self.frozen_run = self.frozen_run + 1 if acc is not None and float(acc) == 0 else 0
            if self.frozen_run >= FROZEN_STEPS:
                self.frozen_step = step
                raise nk.callbacks.StopRun(f"Markov chains frozen at step {step}")
            for k, v in zip(_LOG_KEYS, row, strict=True):
                self.log[k].append(v)
            if self.pending is not None and self.pending[0] == step:
                s, state = self.pending
                n_keep = len(self.log["step"]) - 1  # rows before this step
                meta = meta_fn(s, {k: v[:n_keep] for k, v in self.log.items()})
                save_checkpoint(ckpt, state, meta=meta)
                self.last_checkpoint = s
                self.pending = None

        def on_step_end(self, step, log_data, driver):
            bar.update(1)
            if user_callback is not None:
                user_callback(step, self.log, driver)

    return Monitor


@contextlib.contextmanager
def netket_context():
    """NetKet's internals rely on JAX's standard dtype and rank promotion; run them under
    it even when the caller (e.g. the test-suite) made promotion strict. Stdout goes to
    stderr: NetKet prints choices it makes, and ``--json`` output must stay clean."""
    import jax

    with (
        jax.numpy_dtype_promotion("standard"),
        jax.numpy_rank_promotion("allow"),
        contextlib.redirect_stdout(sys.stderr),
    ):
        yield


def _device_count() -> int:
    import jax

    return len(jax.devices())


def ground_state(
    model,
    config: VMCConfig | None = None,
    *,
    key,
    out: str | Path | None = None,
    resume: bool = False,
    params=None,
    callback: Callable | None = None,
) -> GroundStateResult:
    r"""Optimise a neural quantum state for the ground state of ``model``.

    Args:
        model: :class:`TransverseFieldIsing` or :class:`Heisenberg` (chain or square).
        config: :class:`VMCConfig` (defaults tuned on the studies).
        key: JAX PRNG key (parameters and sampler seeds are drawn from it).
        out: folder for ``checkpoint.msgpack``, ``log.json``, ``energy.png``,
            ``result.json``; None keeps everything in memory.
        resume: continue from ``out/checkpoint.msgpack`` if it exists (same model and
            config required); the resumed run repeats the uninterrupted one.
        params: initial parameters (warm start), a PyTree matching the ansatz.
        callback: ``f(step, log, driver)`` called after every iteration (may raise).

    Returns:
        :class:`GroundStateResult`. A NaN energy stops the run with ``status="nan"``; the
        last checkpoint (if any) is kept and named in ``message``.
    """
    import time

    from qml_phys.runtime.progress import progress

    config = config or VMCConfig()
    name = _model_name(model)
    if config.learning_rate is None:
        lr = 0.02 if model.lattice.kind == "square" else 0.05
        config = dataclasses.replace(config, learning_rate=lr)
    hilbert, op, sign_rule, constraint = build_problem(model, config)
    module = make_ansatz(config, model, hilbert)
    positive = not config.complex_params and not _is_complex_module(module)
    check_ansatz(model, config, sign_rule, positive)
    n_dev = _device_count()
    t0 = time.perf_counter()
    run_config = {
        "model": name,
        "model_repr": repr(model),
        **{
            k: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v))
            for k, v in _fields(config).items()
        },
        "n_devices": n_dev,
    }
    with netket_context():
        vstate = make_vstate(config, model, hilbert, key=key, n_devices=n_dev, params=params)
        driver = make_driver(config, op, vstate)
    ckpt = Path(out) / "checkpoint.msgpack" if out is not None else None
    log = {k: [] for k in _LOG_KEYS}
    resumed_from = None
    if resume and ckpt is not None and ckpt.exists():
        with netket_context():
            driver, log, resumed_from = _resume(driver, ckpt, run_config)
    elif ckpt is not None and ckpt.exists():
        raise ExistingDataError(
            f"{ckpt} exists; expected resume=True (--resume) to continue that run, or a new "
            "out folder; got resume=False"
        )

    def meta_fn(step, log_rows):
        return {"step": step, "config": run_config, "log": log_rows}

    remaining = config.iters - driver.step_count
    bar = progress(total=config.iters, initial=driver.step_count, desc=f"vmc {name}")
    monitor = _make_monitor(config.iters, ckpt, config.checkpoint_every, meta_fn, callback, bar)(
        log
    )
    status, message = "completed", ""
    try:
        with netket_context():
            if remaining > 0:
                driver.run(remaining, callback=monitor, show_progress=False)
    finally:
        bar.close()
    if monitor.nan_step is not None or monitor.frozen_step is not None:
        where = (
            f"the last good checkpoint (step {monitor.last_checkpoint or resumed_from}) is kept "
            f"at {ckpt}"
            if ckpt is not None and (monitor.last_checkpoint or resumed_from)
            else "no checkpoint was written"
        )
        if monitor.nan_step is not None:
            status = "nan"
            message = f"energy became NaN at step {monitor.nan_step}; stopped; {where}"
        else:
            status = "frozen"
            message = (
                f"the Markov chains accepted no move for {FROZEN_STEPS} steps (step "
                f"{monitor.frozen_step}): the energy of a frozen chain is meaningless; stopped; "
                f"{where}; lower learning_rate or raise diag_shift"
            )
        warnings.warn(message, stacklevel=2)
    log_arr = {k: np.asarray(v, dtype=np.float64) for k, v in log.items()}
    exact_e, exact_method = exact_reference(model)
    energy, err, var, tail = _final_estimate(driver, op, config, log_arr, status)
    rel = abs(energy - exact_e) / abs(exact_e) if exact_e not in (None, 0.0) else None
    result = GroundStateResult(
        energy=energy,
        energy_error=err,
        variance=var,
        v_score=model.n_sites * var / energy**2 if energy else math.nan,
        exact_energy=exact_e,
        exact_method=exact_method,
        relative_error=rel,
        log=log_arr,
        status=status,
        message=message,
        steps=int(driver.step_count),
        resumed_from=resumed_from,
        n_devices=n_dev,
        n_parameters=int(vstate.n_parameters),
        sign_rule=sign_rule,
        constraint=constraint,
        tail_energy=tail,
        seconds=time.perf_counter() - t0,
        vstate=driver.state,
    )
    if out is not None:
        _write_outputs(Path(out), result, run_config, model)
    return result


def _fields(config) -> dict:
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def _is_complex_module(module) -> bool:
    dtype = getattr(module, "param_dtype", None)
    return dtype is not None and np.issubdtype(np.dtype(dtype), np.complexfloating)


def _resume(driver, ckpt: Path, run_config: dict):
    from flax import serialization

    from qml_phys.runtime.checkpoint import CheckpointError, load_checkpoint, read_meta

    meta = read_meta(ckpt)
    old = meta.get("config", {})
    keys = (
        "model",
        "model_repr",
        "ansatz",
        "alpha",
        "complex_params",
        "sign_rule",
        "sampler",
        "n_samples",
        "n_chains",
        "sr",
        "iters",
        "learning_rate",
        "diag_shift",
        "n_devices",
    )
    diff = {k: (old.get(k), run_config.get(k)) for k in keys if old.get(k) != run_config.get(k)}
    if diff:
        raise CheckpointError(
            f"checkpoint {ckpt} was written by a different run; differing settings "
            f"(checkpoint, this run): {diff}. Use another --out folder or the same settings"
        )
    template = serialization.to_state_dict(driver)
    state, meta = load_checkpoint(ckpt, template)
    driver = serialization.from_state_dict(driver, state)
    log = {k: list(meta["log"][k]) for k in _LOG_KEYS}
    return driver, log, int(meta["step"])


def _final_estimate(driver, op, config: VMCConfig, log: dict, status: str):
    """Closing energy: a fresh high-sample estimate, or the last iterations' mean."""
    tail = None
    if len(log["energy"]):
        t = log["energy"][-min(config.tail, len(log["energy"])) :]
        tail = float(np.mean(t))
    vstate = driver.state
    if status != "completed" or config.final_samples == 0:
        e = tail if tail is not None else math.nan
        err = float(np.std(log["energy"][-config.tail :]) / math.sqrt(max(config.tail, 1)))
        var = float(log["variance"][-1]) if len(log["variance"]) else math.nan
        return e, err, var, tail
    with netket_context():
        old_n, old_chunk = vstate.n_samples, vstate.chunk_size
        vstate.n_samples = max(config.final_samples, old_n)
        # the closing estimate has many more samples than an iteration: evaluate them in
        # chunks of an iteration's size (65536 samples of a 320-unit RBM on 80 sites needed
        # 41 GB at once)
        if old_chunk is None and vstate.n_samples > old_n:
            vstate.chunk_size = old_n
        try:
            stats = vstate.expect(op)
        finally:
            vstate.n_samples, vstate.chunk_size = old_n, old_chunk
    return float(np.real(stats.mean)), float(stats.error_of_mean), float(stats.variance), tail


def _write_outputs(out: Path, result: GroundStateResult, run_config: dict, model) -> None:
    from qml_phys.runtime.records import write_json, write_record

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "log.json", {k: v for k, v in result.log.items()})
    write_record(out / "result.json", result.summary(), config=run_config, kind="nqs.ground_state")
    plot_convergence(result, out / "energy.png", title=run_config.get("model_repr", ""))


def plot_convergence(result: GroundStateResult, path, title: str = "", ax=None):
    """Energy vs iteration (with error bars) and the relative error against the exact value."""
    from qml_phys.runtime import plots

    log = result.log
    own = ax is None
    if own:
        fig, (ax, ax2) = plots.figure(1, 2)
    step, e, err = log["step"], log["energy"], log["error"]
    ax.errorbar(step, e, yerr=err, fmt=".", ms=2, lw=0.5, label="VMC")
    if result.exact_energy is not None:
        ax.axhline(result.exact_energy, label=f"exact ({result.exact_method})", **plots.EXACT)
    ax.set_xlabel("iteration")
    ax.set_ylabel("energy")
    ax.legend()
    if own:
        if result.exact_energy is not None and len(e):
            rel = np.abs(e - result.exact_energy) / abs(result.exact_energy)
            ax2.semilogy(step, np.maximum(rel, 1e-12))
            ax2.set_ylabel("|E - E_exact| / |E_exact|")
        ax2.set_xlabel("iteration")
        ax2.set_title(title[:60], fontsize=8)
        plots.save(fig, path)
    return ax
