r"""Variational ground states of the package's spin models with NetKet.

A model of :mod:`qml_phys.physics.models` (:class:`TransverseFieldIsing`,
:class:`Heisenberg` with optional ``J2``, chains and square lattices) is compiled to a
NetKet operator and optimised with stochastic reconfiguration (SR, Sorella, PRL 80, 4558
(1998), doi:10.1103/PhysRevLett.80.4558) or MinSR (Chen & Heyl, Nat. Phys. 20, 1476 (2024),
arXiv:2302.01941), both through ``nk.driver.VMC_SR`` (stable in NetKet >= 3.20; ``use_ntk``
switches SR to MinSR). NetKet does the sampling, the statistics and the solver; this module
adds physics defaults, checks, the exact reference (:func:`qml_phys.physics.exact.reference`),
checkpoints, a convergence check and the log. It never chooses paths or writes files: the
caller hands it a :class:`~qml_phys.runtime.checkpoint.Checkpoint` and saves the
:class:`GroundStateResult` it gets back.

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

Precision: every NetKet computation here runs under
:func:`qml_phys.runtime.precision.float64` (thread-local float64 and standard promotion);
nothing relies on NetKet switching float64 on globally when it is imported.

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
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    UnknownNameError,
    check_number,
    check_positive_int,
)
from qml_phys.nqs._config import iters_alias
from qml_phys.physics.models import Heisenberg, TransverseFieldIsing
from qml_phys.runtime.precision import float64
from qml_phys.runtime.results import Result

ANSATZE = ("rbm", "rbm-symm", "ar")
SR_METHODS = ("sr", "minsr")
SAMPLERS = ("auto", "local", "exchange", "direct")

#: Checkpoint interval (iterations) the command line and the studies use
#: (``Checkpoint(folder, every=CHECKPOINT_EVERY)``).
CHECKPOINT_EVERY = 25

#: Settings that may differ between a checkpoint and the run that resumes it: they do not
#: change the optimisation trajectory (the closing estimate and memory use only).
RESUMABLE_CHANGES = ("final_samples", "tail", "chunk_size")


@iters_alias
@dataclasses.dataclass(frozen=True)
class VMCConfig:
    """How to optimise. Defaults converge without tuning on the package's studies.

    ``iters`` (the name before ``n_steps``) is still accepted, with a
    :class:`DeprecationWarning`, and still readable (``config.n_steps == config.n_steps``).
    """

    ansatz: Any = "rbm"
    """``"rbm"``, ``"rbm-symm"``, ``"ar"`` (see the module docstring), or a Flax module
    returning ``log psi(s)``."""
    alpha: int = 1
    """Hidden-unit density (RBM, RBMSymm) or features per site (AR)."""
    complex_params: bool = False
    """Complex parameters (needed for sign structures without a rule)."""
    sign_rule: bool | None = None
    """Apply the Marshall sign rule (Heisenberg only); None: on for the antiferromagnetic
    Heisenberg model on a bipartite lattice."""
    sampler: str = "auto"
    """``"auto"`` (exchange for Heisenberg, local spin flips for TFIM, direct for ``ar``),
    ``"local"``, ``"exchange"`` or ``"direct"``."""
    n_samples: int = 2048
    """Samples per iteration (all chains, all devices)."""
    n_chains: int = 16
    """Markov chains (rounded up to a multiple of the device count)."""
    n_discard_per_chain: int = 8
    """Sweeps discarded per chain at every iteration."""
    n_steps: int = 300
    """Optimisation steps (SR/MinSR iterations)."""
    learning_rate: float | None = None
    """Peak SR/MinSR step (``optax.sgd``); None: 0.05 on chains, 0.02 on square lattices
    (0.05 diverges there for the symmetric RBM); decays as a cosine to
    ``learning_rate * lr_final_fraction``."""
    lr_final_fraction: float = 0.2
    """Final / peak learning rate."""
    warmup: int = 20
    """Iterations of linear warm-up from ``learning_rate / 10`` (keeps the first SR steps,
    taken with a poorly estimated QGT, from freezing the chains)."""
    diag_shift: float = 0.01
    """Initial diagonal shift of the QGT/NTK; decays exponentially to ``diag_shift_final``
    over the run."""
    diag_shift_final: float = 1e-4
    """Final diagonal shift."""
    sr: str = "sr"
    """``"sr"`` (QGT, parameter space) or ``"minsr"`` (NTK, sample space)."""
    final_samples: int = 32768
    """Samples of the closing energy estimate (0: skip; report the mean of the last
    ``tail`` iterations instead)."""
    tail: int = 50
    """Iterations averaged for the tail energy shown next to the final estimate."""
    chunk_size: int | None = None
    """Samples per forward pass (memory), None for all at once."""

    def __post_init__(self):
        if isinstance(self.ansatz, str) and self.ansatz not in ANSATZE:
            raise UnknownNameError(f"ansatz: expected one of {ANSATZE}; got {self.ansatz!r}")
        if self.sr not in SR_METHODS:
            raise UnknownNameError(f"sr: expected one of {SR_METHODS}; got {self.sr!r}")
        if self.sampler not in SAMPLERS:
            raise UnknownNameError(f"sampler: expected one of {SAMPLERS}; got {self.sampler!r}")
        for name in ("alpha", "n_samples", "n_chains", "n_steps"):
            check_positive_int(name, getattr(self, name))
        for name in ("n_discard_per_chain", "final_samples", "tail", "warmup"):
            check_positive_int(name, getattr(self, name), minimum=0)
        if self.chunk_size is not None:
            check_positive_int("chunk_size", self.chunk_size)
        for name in ("learning_rate", "diag_shift", "diag_shift_final", "lr_final_fraction"):
            v = getattr(self, name)
            if name == "learning_rate" and v is None:
                continue
            check_number(name, v, minimum=0, strict=True)


# --------------------------------------------------------------------------- results
#: The convergence criterion of :func:`energy_convergence`, in words (also in the summary).
CONVERGENCE_CRITERION = (
    "weighted linear fit of the energy over the last 20% of iterations (at least 5); "
    "converged when the fitted drift over that window is below 2 of its errors"
)


class Convergence(NamedTuple):
    """Whether the energy stopped drifting, and the numbers behind it (see
    :func:`energy_convergence`)."""

    converged: bool
    """``|drift| < 2 drift_error`` (and the run completed with enough iterations)."""
    window: int
    """Iterations in the fit window."""
    drift: float
    """Fitted change of the energy from the first to the last iteration of the window
    (model units); ``nan`` without a fit."""
    drift_error: float
    """Standard error of ``drift``, from the per-iteration Monte Carlo errors, scaled by
    ``sqrt(chi2/dof)`` when the scatter exceeds them (model units)."""
    reduced_chi2: float
    """``chi2 / dof`` of the linear fit with the Monte Carlo errors."""


def energy_convergence(
    history: Mapping[str, np.ndarray],
    *,
    fraction: float = 0.2,
    min_window: int = 5,
    n_sigma: float = 2.0,
) -> Convergence:
    r"""Has the VMC energy stopped drifting? A separate claim from how precise it is.

    Fits :math:`E_t = a + b\,t` by weighted least squares over the last ``fraction`` of
    the iterations (at least ``min_window``), with weights :math:`1/\sigma_t^2` from the
    Monte Carlo error of each iteration's energy (``history["error"]``). The drift over
    the window is :math:`D = b\,(w - 1)`; its error :math:`\sigma_D` comes from the fit,
    scaled by :math:`\sqrt{\chi^2/\mathrm{dof}}` when that exceeds 1 (scatter beyond the
    Monte Carlo errors, e.g. optimiser jitter, then counts as noise, not as drift). The
    run is *converged* when :math:`|D| < n_\sigma\,\sigma_D`: over the window the energy
    moved by less than its statistical resolution. A slow, steady descent that is larger
    than the noise is not converged.

    Args:
        history: ``{"energy": (n_steps,), "error": (n_steps,)}`` per iteration.
        fraction: share of the iterations in the window.
        min_window: fewest iterations to fit; with fewer the run is not converged.
        n_sigma: threshold on ``|drift| / drift_error``.
    """
    check_positive_int("min_window", min_window, minimum=3)
    if not (0 < fraction <= 1 and n_sigma > 0):
        raise InvalidParameterError(
            f"expected 0 < fraction <= 1 and n_sigma > 0; got fraction={fraction!r}, "
            f"n_sigma={n_sigma!r}"
        )
    e = np.asarray(history.get("energy", ()), np.float64)
    s = np.asarray(history.get("error", ()), np.float64)
    window = max(min_window, int(round(fraction * len(e))))
    if len(e) < window:
        return Convergence(False, len(e), math.nan, math.nan, math.nan)
    y, sig = e[-window:], s[-window:]
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(sig)) and np.all(sig > 0)):
        return Convergence(False, window, math.nan, math.nan, math.nan)
    t = np.arange(window, dtype=np.float64)
    w = 1.0 / sig**2
    t_bar = np.sum(w * t) / np.sum(w)
    y_bar = np.sum(w * y) / np.sum(w)
    sxx = np.sum(w * (t - t_bar) ** 2)
    slope = np.sum(w * (t - t_bar) * (y - y_bar)) / sxx
    resid = y - (y_bar + slope * (t - t_bar))
    reduced_chi2 = float(np.sum(w * resid**2) / (window - 2))
    span = window - 1
    drift = float(slope * span)
    drift_error = float(math.sqrt(max(reduced_chi2, 1.0) / sxx) * span)
    return Convergence(
        bool(abs(drift) < n_sigma * drift_error), window, drift, drift_error, reduced_chi2
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class GroundStateResult(Result):
    """Outcome of :func:`ground_state`.

    ``history`` (also readable as ``log``) holds per-iteration arrays ``step, energy,
    error, variance, r_hat, acceptance`` (model units; resumed runs include the
    iterations before the checkpoint). ``status`` is ``"completed"``, ``"diverged"`` (a
    NaN energy or update) or ``"frozen"`` (Markov chains that accepted no move for
    :data:`FROZEN_STEPS` steps in a row); a stopped run says why in ``message``.
    ``converged`` is a separate claim from the precision (``energy_error``, ``v_score``),
    and from ``status``: a completed run may still be drifting. Criterion
    (:func:`energy_convergence`): a weighted linear fit of the energy over the last 20% of
    the iterations (at least 5), with each iteration's Monte Carlo error; converged when
    the fitted drift over that window is below 2 of its errors (the errors scaled by
    ``sqrt(chi2/dof)`` when the scatter exceeds them), and the run completed.
    ``convergence`` holds the numbers (window, drift, drift_error, reduced_chi2).
    """

    energy: float
    """Final estimate (model units)."""
    energy_error: float
    """Its standard error."""
    variance: float
    """Energy variance ``<H^2> - <H>^2``."""
    v_score: float
    """``N variance / energy^2``."""
    exact_energy: float | None
    """The reference of :func:`qml_phys.physics.exact.reference` (None when there is none)."""
    exact_method: str | None
    """How the reference was obtained (or its citation)."""
    exact_error: float | None = None
    """Error of a published reference (0 for an exact one, None without a reference)."""
    relative_error: float | None
    """``|energy - exact| / |exact|``."""
    message: str = ""
    """Why a run stopped early (empty otherwise)."""
    steps: int
    """Iterations done in total (including resumed ones)."""
    resumed_from: int | None = None
    """The step a checkpoint was restored at, or None."""
    n_devices: int = 1
    """JAX devices the samples were sharded over."""
    n_parameters: int
    """Variational parameters."""
    sign_rule: bool
    """Whether the Marshall sign rule was applied."""
    constraint: str | None = None
    """Hilbert-space constraint (``"total_sz=0"``) or None."""
    tail_energy: float | None = None
    """Mean energy of the last ``config.tail`` iterations."""
    converged: bool = False
    """Whether the energy stopped drifting (``convergence.converged``)."""
    convergence: Convergence | None = None
    """The numbers behind ``converged``."""
    vstate: Any = dataclasses.field(default=None, repr=False, compare=False)
    """The NetKet variational state (not serialised)."""

    @property
    def log(self) -> Mapping[str, np.ndarray]:
        """The per-iteration history (the name before ``history``)."""
        return self.history

    @property
    def seconds(self) -> float | None:
        """Seconds the call ran (``wall_time_s``)."""
        return self.wall_time_s

    reported = (
        "energy",
        "energy_error",
        "variance",
        "v_score",
        "exact_energy",
        "exact_method",
        "exact_error",
        "relative_error",
        "message",
        "steps",
        "resumed_from",
        "n_devices",
        "n_parameters",
        "sign_rule",
        "constraint",
        "tail_energy",
        "converged",
    )

    def config_summary(self) -> dict:
        """The config as a flat JSON-able dict (see :func:`config_record`)."""
        return config_record(self.config)

    def summary(self) -> dict:
        """The JSON-able part: every number above, the config, and the convergence check
        (no NetKet objects, no per-iteration arrays)."""
        conv = self.convergence
        return super().summary() | {
            "seconds": self.wall_time_s,
            "convergence": (
                None
                if conv is None
                else conv._asdict() | {"criterion": CONVERGENCE_CRITERION, "v_score": self.v_score}
            ),
        }


def config_record(config) -> dict:
    """``config`` as a flat JSON-able dict (a Flax-module ansatz by its ``repr``)."""
    if config is None:
        return {}
    return {
        f.name: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v))
        for f in dataclasses.fields(config)
        for v in (getattr(config, f.name),)
    }


# --------------------------------------------------------------------------- model checks
def _model_name(model) -> str:
    if isinstance(model, TransverseFieldIsing):
        return "tfim"
    if isinstance(model, Heisenberg):
        return "heisenberg"
    raise InvalidParameterError(
        f"model: expected a TransverseFieldIsing or Heisenberg model; got {type(model).__name__}"
    )


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
    """Hilbert space, NetKet operator, sign rule used and constraint name for ``model``
    (built under :func:`~qml_phys.runtime.precision.float64`)."""
    with float64():
        return _build_problem(model, config)


def _build_problem(model, config: VMCConfig):
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


def preflight(model, config: VMCConfig) -> None:
    """Refuse, before anything is built, a run whose samples and per-sample gradients
    (complex128, at least ``alpha * N`` parameters of every ansatz) cannot fit in memory.

    Raises :class:`~qml_phys.errors.TooLargeError` naming the estimate and the limit.
    """
    from qml_phys.runtime.resources import check_memory

    n = int(model.n_sites)
    samples = max(config.n_samples, config.final_samples)
    if config.chunk_size is not None:
        samples = min(samples, config.chunk_size)
    n_params = config.alpha * n
    check_memory(
        f"VMC on {n} sites with {samples} samples per pass and alpha = {config.alpha}",
        16.0 * samples * (n + n_params) + 16.0 * n_params * n,
    )


def make_vstate(config: VMCConfig, model, hilbert, *, key, n_devices: int = 1, params=None):
    """The ``nk.vqs.MCState`` of ``config`` (``params``: initial parameters, e.g. a warm
    start from :mod:`qml_phys.nqs.bridge`), built under
    :func:`~qml_phys.runtime.precision.float64`. NetKet's integer seeds of the parameters
    and of the sampler are drawn from ``key``."""
    import netket as nk

    module = make_ansatz(config, model, hilbert)
    sampler = make_sampler(config, model, hilbert, n_devices)
    seed, sampler_seed = _seeds(key)
    kwargs = {"n_samples": config.n_samples, "seed": seed, "sampler_seed": sampler_seed}
    if config.ansatz != "ar":
        kwargs["n_discard_per_chain"] = config.n_discard_per_chain
    if config.chunk_size is not None:
        kwargs["chunk_size"] = config.chunk_size
    with float64():
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
        warmup_steps=min(config.warmup, max(config.n_steps - 1, 0)),
        decay_steps=max(config.n_steps, 1),
        end_value=config.learning_rate * config.lr_final_fraction,
    )
    ratio = config.diag_shift_final / config.diag_shift
    shift = optax.exponential_decay(
        config.diag_shift,
        transition_steps=max(config.n_steps, 1),
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


@contextlib.contextmanager
def _netket_stdout() -> Iterator[None]:
    """NetKet prints choices it makes on stdout; send them to stderr so that ``--json``
    output stays one clean JSON object."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _make_monitor(checkpoint, save, user_callback, bar):
    """A NetKet callback: log, NaN and frozen-chain stops, checkpoints of verified states."""
    import jax
    import netket as nk
    from flax import serialization

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
            # Snapshot the state *before* this step's sampling (after `step` steps); written
            # only once the step's energy is known to be finite, so a checkpoint is always
            # good and resuming from it repeats the uninterrupted run exactly.
            if checkpoint is not None and step > 0 and checkpoint.due(step):
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
                save(state, {"step": s, "log": {k: v[:n_keep] for k, v in self.log.items()}})
                self.last_checkpoint = s
                self.pending = None

        def on_step_end(self, step, log_data, driver):
            bar.update(1)
            if user_callback is not None:
                user_callback(step, self.log, driver)

    return Monitor


def _device_count() -> int:
    import jax

    return len(jax.devices())


def ground_state(
    model,
    config: VMCConfig | None = None,
    *,
    key,
    checkpoint=None,
    params=None,
    callback: Callable | None = None,
) -> GroundStateResult:
    r"""Optimise a neural quantum state for the ground state of ``model``.

    Args:
        model: :class:`TransverseFieldIsing` or :class:`Heisenberg` (chain or square).
        config: :class:`VMCConfig` (defaults tuned on the studies).
        key: JAX PRNG key (parameters and sampler seeds are drawn from it).
        checkpoint: a :class:`~qml_phys.runtime.checkpoint.Checkpoint` (made by the caller
            for a folder, with ``inputs`` describing the model and the seed), or None to keep
            everything in memory. Every ``checkpoint.every`` iterations the state before
            that iteration's sampling (parameters, sampler and optimiser state, step count,
            log) is saved once its energy is known to be finite. With
            ``checkpoint.resume`` an existing checkpoint of the same model and settings is
            restored first (only :data:`RESUMABLE_CHANGES` may differ), and the resumed run
            repeats the uninterrupted one; a checkpoint of another run is a
            :class:`~qml_phys.runtime.checkpoint.CheckpointError` naming the differences.
        params: initial parameters (warm start), a PyTree matching the ansatz.
        callback: ``f(step, log, driver)`` called after every iteration (may raise; a
            ``KeyboardInterrupt`` propagates, and the last checkpoint stays on disk).

    Returns:
        :class:`GroundStateResult`. A NaN energy stops the run with ``status="diverged"``
        and frozen Markov chains with ``status="frozen"`` (with a warning); the last
        checkpoint (if any) is kept and named in ``message``.
    """
    from qml_phys.physics import exact
    from qml_phys.runtime.progress import progress

    t0 = time.perf_counter()
    config = config or VMCConfig()
    name = _model_name(model)
    if config.learning_rate is None:
        lr = 0.02 if model.lattice.kind == "square" else 0.05
        config = dataclasses.replace(config, learning_rate=lr)
    preflight(model, config)
    with float64():
        hilbert, op, sign_rule, constraint = build_problem(model, config)
        module = make_ansatz(config, model, hilbert)
        positive = not config.complex_params and not _is_complex_module(module)
        check_ansatz(model, config, sign_rule, positive)
        n_dev = _device_count()
        run_config = {"model": name, "model_repr": repr(model), **config_record(config)}
        run_config["n_devices"] = n_dev
        with _netket_stdout():
            vstate = make_vstate(config, model, hilbert, key=key, n_devices=n_dev, params=params)
            driver = make_driver(config, op, vstate)
        log = {k: [] for k in _LOG_KEYS}
        resumed_from = None
        if checkpoint is not None:
            with _netket_stdout():
                driver, log, resumed_from = _restore(driver, checkpoint, run_config, log)

        def save(state, meta):
            checkpoint.save(state, config=run_config, meta=meta, extendable=RESUMABLE_CHANGES)

        remaining = config.n_steps - driver.step_count
        bar = progress(total=config.n_steps, initial=driver.step_count, desc=f"vmc {name}")
        monitor = _make_monitor(checkpoint, save, callback, bar)(log)
        try:
            with _netket_stdout():
                if remaining > 0:
                    driver.run(remaining, callback=monitor, show_progress=False)
        finally:
            bar.close()
        status, message = _stop_status(monitor, checkpoint, resumed_from)
        log_arr = {k: np.asarray(v, dtype=np.float64) for k, v in log.items()}
        with _netket_stdout():
            energy, err, var, tail = _final_estimate(driver, op, config, log_arr, status)
        steps, n_params, vs = int(driver.step_count), int(vstate.n_parameters), driver.state
    ref = exact.reference(model)
    exact_e = ref["energy"] if ref is not None else None
    conv = energy_convergence(log_arr)
    if status != "completed":
        conv = conv._replace(converged=False)
    return GroundStateResult(
        config=config,
        history=log_arr,
        wall_time_s=time.perf_counter() - t0,
        status=status,
        energy=energy,
        energy_error=err,
        variance=var,
        v_score=model.n_sites * var / energy**2 if energy else math.nan,
        exact_energy=exact_e,
        exact_method=ref.method if ref is not None else None,
        exact_error=ref.error("energy") if ref is not None else None,
        relative_error=abs(energy - exact_e) / abs(exact_e) if exact_e else None,
        message=message,
        steps=steps,
        resumed_from=resumed_from,
        n_devices=n_dev,
        n_parameters=n_params,
        sign_rule=sign_rule,
        constraint=constraint,
        tail_energy=tail,
        converged=conv.converged,
        convergence=conv,
        vstate=vs,
    )


def _stop_status(monitor, checkpoint, resumed_from) -> tuple[str, str]:
    """``(status, message)`` of a run after ``driver.run``; warns when it stopped early."""
    if monitor.nan_step is None and monitor.frozen_step is None:
        return "completed", ""
    last = monitor.last_checkpoint or resumed_from
    where = (
        f"the last good checkpoint (step {last}) is kept at {checkpoint.path}"
        if checkpoint is not None and last
        else "no checkpoint was written"
    )
    if monitor.nan_step is not None:
        status = "diverged"
        message = f"energy became NaN at step {monitor.nan_step}; stopped; {where}"
    else:
        status = "frozen"
        message = (
            f"the Markov chains accepted no move for {FROZEN_STEPS} steps (step "
            f"{monitor.frozen_step}): the energy of a frozen chain is meaningless; stopped; "
            f"{where}; lower learning_rate or raise diag_shift"
        )
    warnings.warn(message, stacklevel=3)
    return status, message


def _is_complex_module(module) -> bool:
    dtype = getattr(module, "param_dtype", None)
    return dtype is not None and np.issubdtype(np.dtype(dtype), np.complexfloating)


def _restore(driver, checkpoint, run_config: dict, log: dict):
    """``(driver, log, resumed_from)`` from ``checkpoint``, or the inputs unchanged when
    there is nothing to resume. A checkpoint of another run is refused, naming the
    settings that differ."""
    from flax import serialization

    from qml_phys.runtime.checkpoint import CheckpointError, read_meta

    if not checkpoint.resume or not checkpoint.path.exists():
        return driver, log, None
    have = read_meta(checkpoint.path).get("fingerprint") or {}
    want = checkpoint.fingerprint(run_config, RESUMABLE_CHANGES)
    diff = {
        k: (have.get(part, {}).get(k), want[part].get(k))
        for part in ("config", "inputs")
        for k in sorted(set(have.get(part, {})) | set(want[part]))
        if have.get(part, {}).get(k) != want[part].get(k)
    }
    if diff:
        raise CheckpointError(
            f"checkpoint {checkpoint.path} was written by a different run; differing settings "
            f"(checkpoint, this run): {diff}. Use another --out folder or the same settings"
        )
    template = serialization.to_state_dict(driver)
    state, meta = checkpoint.restore(template, config=run_config, extendable=RESUMABLE_CHANGES)
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


# --------------------------------------------------------------------------- plots
def plot_convergence(ax, result: GroundStateResult, *, error_ax=None):
    """Draw the energy per iteration (with error bars) and the exact reference on ``ax``;
    with ``error_ax``, also the relative error against the reference (log scale) there.

    Returns ``ax``. The caller owns the figure (``qml_phys.runtime.plots.figure`` and
    ``plots.save``).
    """
    from qml_phys.runtime import plots

    log = result.history
    step, e, err = log["step"], log["energy"], log["error"]
    ax.errorbar(step, e, yerr=err, fmt=".", ms=2, lw=0.5, label="VMC")
    if result.exact_energy is not None:
        ax.axhline(result.exact_energy, label=f"exact ({result.exact_method})", **plots.EXACT)
    ax.set(xlabel="iteration", ylabel="energy")
    ax.legend()
    if error_ax is not None:
        if result.exact_energy is not None and len(e):
            rel = np.abs(e - result.exact_energy) / abs(result.exact_energy)
            error_ax.semilogy(step, np.maximum(rel, 1e-12))
            error_ax.set_ylabel("|E - E_exact| / |E_exact|")
        error_ax.set_xlabel("iteration")
    return ax
