r"""Real-time dynamics of neural quantum states: a quench of the periodic TFIM chain.

The chain ``H(Gamma) = -J sum_i Z_i Z_{i+1} - Gamma sum_i X_i`` (``J = 1``; times in units
of ``1/J``) starts in the ground state of ``H(h0)`` and evolves under ``H(h1)``. The state
is a neural network ``psi_w(s)`` with complex parameters (real-time evolution needs
phases), moved along the time-dependent variational principle (TDVP),

    S(w) dw/dt = -i F(w),   S_kl = <O_k^* O_l>_c,   F_k = <O_k^* H>_c,   O_k = d log psi / dw_k,

as in G. Carleo and M. Troyer, Science 355, 602 (2017), doi:10.1126/science.aag2302
(t-VMC: G. Carleo, F. Becca, M. Schiro and M. Fabrizio, Sci. Rep. 2, 243 (2012),
doi:10.1038/srep00243), with NetKet's driver ``nk.experimental.TDVP`` and its integrators
(``netket.experimental.dynamics``; F. Vicentini et al., SciPost Phys. Codebases 7 (2022),
doi:10.21468/SciPostPhysCodeb.7, arXiv:2112.10526). ``S`` is inverted with NetKet's
smoothed pseudo-inverse ``pinv_smooth`` (eigenvalues below ``rtol * lambda_max`` cut, a
smooth filter at ``rtol_smooth * lambda_max``; Medvidovic & Sels, arXiv:2212.11289). With
``n_samples = 0`` expectation values are exact sums over all ``2**N`` configurations
(``nk.vqs.FullSumState``); otherwise Monte Carlo (``nk.vqs.MCState``, local Metropolis).

Recorded every ``measure_every`` steps: ``x = (1/N) sum_i <X_i>``, ``zz = (1/N) sum_i
<Z_i Z_{i+1}>`` and ``energy = <H(h1)>`` (conserved, so its drift measures the integration
and projection error), against the exact free-fermion solution
:func:`qml_phys.physics.exact.tfim_quench` (Pfeuty 1970, doi:10.1016/0003-4916(70)90270-8;
Calabrese, Essler & Fagotti 2012, arXiv:1204.3911).

Initial states:

* ``h0 > 0`` finite: the ground state of ``H(h0)`` from
  :func:`qml_phys.nqs.ground_state.ground_state` (VMC with SR, real parameters: the TFIM
  ground state is positive) in the same ansatz, its parameters then made complex;
* ``h0 = inf``: ``|+>^N = |->...->>``, exactly up to ``O(eps^4)``. An RBM with zero
  weights is exactly ``|+>^N`` (``prod_j cosh(0)`` is constant), but it is a fixed point
  of TDVP: at ``W = 0`` every ``O_k`` is a single-spin function (``tanh(0) = 0``), while
  ``H(h1)`` first builds the bond correlations ``s_i s_{i+1}``, so the equation of motion
  has no component along the true evolution and the state never moves. We seed the
  hidden units in pairs, random weights ``W`` (std ``product_init_scale``) and ``i W``:
  ``log cosh(x) + log cosh(i x) = log(cosh x cos x) = -x^4/6 + ...``, so the state is
  ``|+>^N`` up to ``O(eps^4)`` while the pair terms ``s_i s_j`` are in the tangent space
  at ``O(eps)``.

Measured on 2 CPU cores (``rbm-symm``, ``alpha = 4``, RK4, ``dt = 0.01``, exact sums,
``t <= 2``): N = 8, ``h0 = inf -> h1 = 0.5``: max ``|dX| = 1.4e-4``; N = 12, ``h0 = 0.5
-> h1 = 1``: max ``|dX| = 2.8e-3`` and ``6.1e-3`` (two VMC ground states). At N = 12 the
plain RBM with ``alpha = 1`` reached only ``2.3e-2``; at N = 8 ``dt = 0.02`` drifted by
``1e-2`` in energy, ``0.05`` and the adaptive RK23 failed, and ``rtol_smooth = 1e-14``
was unstable for ``alpha = 2``. Hence the defaults.

Precision: everything runs under :func:`qml_phys.runtime.precision.float64`. NetKet
prints on stdout; that goes to stderr here, so ``--json`` output stays clean.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    UnknownNameError,
    check_number,
    check_positive_int,
)
from qml_phys.nqs.ground_state import VMCConfig, config_record
from qml_phys.runtime.precision import float64
from qml_phys.runtime.results import Result

__all__ = [
    "ANSATZE",
    "CHECKPOINT_EVERY",
    "INTEGRATORS",
    "MAX_FULL_SUM_SITES",
    "MODELS",
    "DynamicsConfig",
    "DynamicsResult",
    "check_times",
    "plot_dynamics",
    "quench_dynamics",
]

#: Models with a quench reference (the face checks ``--model`` against it).
MODELS = ("tfim",)
#: Ansatze (see :func:`qml_phys.nqs.ground_state.make_ansatz`), always complex here.
ANSATZE = ("rbm", "rbm-symm")
#: NetKet integrators by lower-case name (``rk12``, ``rk23``, ``rk45`` are adaptive:
#: ``dt`` is their first step, and every measurement time is hit exactly).
INTEGRATORS = ("euler", "heun", "midpoint", "rk4", "rk12", "rk23", "rk45")
_INTEGRATOR_CLASSES = {
    "euler": "Euler",
    "heun": "Heun",
    "midpoint": "Midpoint",
    "rk4": "RK4",
    "rk12": "RK12",
    "rk23": "RK23",
    "rk45": "RK45",
}
#: Largest chain for exact summation (``n_samples = 0``): ``2**20`` configurations.
MAX_FULL_SUM_SITES = 20
#: Largest chain that ``n_samples = None`` sums exactly; longer ones use Monte Carlo with
#: :data:`DEFAULT_MC_SAMPLES` samples.
AUTO_FULL_SUM_SITES = 16
DEFAULT_MC_SAMPLES = 4096
#: Checkpoint interval (time steps) of the command line and the study.
CHECKPOINT_EVERY = 25
#: Relative tolerance of ``t_end / dt`` being an integer.
STEP_TOLERANCE = 1e-9
#: Names of the recorded observables.
OBSERVABLES = ("x", "zz", "energy")
_RECORD_KEYS = ("time", *OBSERVABLES, *(f"{k}_error" for k in OBSERVABLES))
EXACT_METHOD = "free fermions (Jordan-Wigner, even-parity sector)"


def check_times(t_end, dt) -> int:
    """The number of steps ``t_end / dt``; raises unless both are finite and ``> 0`` and
    ``t_end / dt`` is within :data:`STEP_TOLERANCE` of an integer."""
    for name, v in (("t_end", t_end), ("dt", dt)):
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        if not (ok and math.isfinite(v) and v > 0):
            raise InvalidParameterError(f"{name}: expected a finite time > 0; got {v!r}")
    ratio = float(t_end) / float(dt)
    n = round(ratio)
    if n < 1 or abs(ratio - n) > STEP_TOLERANCE * max(1.0, ratio):
        raise InvalidParameterError(
            f"dt: expected a step that divides t_end into a whole number of steps (t_end / dt "
            f"within {STEP_TOLERANCE:g} of an integer); got t_end = {t_end!r}, dt = {dt!r}, "
            f"t_end / dt = {ratio!r}"
        )
    return int(n)


@dataclasses.dataclass(frozen=True)
class DynamicsConfig:
    """How to evolve. Defaults reach max ``|dX| <= 1e-2`` up to ``t = 2`` on the ``N = 12``
    quench ``0.5 -> 1`` (module docstring)."""

    t_end: float = 2.0
    """Final time (units of ``1/J``)."""
    dt: float = 0.01
    """Time step (fixed integrators) or first step (adaptive ones); must divide ``t_end``."""
    integrator: str = "rk4"
    """One of :data:`INTEGRATORS`."""
    ansatz: str = "rbm-symm"
    """``"rbm-symm"`` (RBM symmetrised over the chain's translations; the quench keeps
    translation invariance) or ``"rbm"`` (Carleo & Troyer's plain RBM)."""
    alpha: int = 4
    """Hidden-unit density (features per site)."""
    n_samples: int | None = None
    """Monte Carlo samples per expectation value; 0: exact sums over all ``2**N``
    configurations (``N <=`` :data:`MAX_FULL_SUM_SITES`); None: 0 for
    ``N <=`` :data:`AUTO_FULL_SUM_SITES`, else :data:`DEFAULT_MC_SAMPLES`."""
    n_chains: int = 16
    """Markov chains (Monte Carlo; rounded up to a multiple of the device count)."""
    n_discard_per_chain: int = 16
    """Sweeps discarded per chain before each set of samples (Monte Carlo)."""
    diag_shift: float = 0.0
    """Diagonal shift added to the QGT ``S``."""
    rtol: float = 1e-12
    """Hard cut-off of ``pinv_smooth``: eigenvalues of ``S`` below ``rtol * lambda_max``
    are dropped."""
    rtol_smooth: float = 1e-8
    """Smooth filter of ``pinv_smooth`` at ``rtol_smooth * lambda_max`` (1e-6 gave 2.4x
    the error at N = 12; Monte Carlo noise needs larger values, e.g. 1e-4)."""
    measure_every: int = 1
    """Steps between recorded observables (must divide the number of steps)."""
    product_init_scale: float = 0.03
    """``h0 = inf``: std of the paired hidden weights that seed ``|+>^N`` (module
    docstring; 1e-3 stalled, 1e-2 and 3e-2 worked at N = 8)."""
    vmc: VMCConfig | None = None
    """How to find the ground state at finite ``h0``; None: ``VMCConfig(ansatz, alpha,
    n_steps=300, n_samples=1024, final_samples=0)``. Its ansatz and alpha must match."""
    chunk_size: int | None = None
    """Configurations per forward pass (memory), None for all at once."""

    def __post_init__(self):
        check_times(self.t_end, self.dt)
        if self.integrator not in INTEGRATORS:
            raise UnknownNameError(
                f"integrator: expected one of {INTEGRATORS}; got {self.integrator!r}"
            )
        if self.ansatz not in ANSATZE:
            raise UnknownNameError(f"ansatz: expected one of {ANSATZE}; got {self.ansatz!r}")
        for name in ("alpha", "n_chains", "measure_every"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("n_discard_per_chain", self.n_discard_per_chain, minimum=0)
        if self.n_samples is not None:
            check_positive_int("n_samples", self.n_samples, minimum=0)
        if self.chunk_size is not None:
            check_positive_int("chunk_size", self.chunk_size)
        if self.n_steps % self.measure_every:
            raise InvalidParameterError(
                f"measure_every: expected a divisor of the {self.n_steps} steps; got "
                f"{self.measure_every}"
            )
        for name, lo in (("diag_shift", 0.0), ("rtol", 0.0), ("rtol_smooth", 0.0)):
            check_number(name, getattr(self, name), minimum=lo)
        s = self.product_init_scale
        if not (isinstance(s, (int, float)) and math.isfinite(s) and s > 0):
            raise InvalidParameterError(f"product_init_scale: expected a number > 0; got {s!r}")
        if self.vmc is not None:
            if not isinstance(self.vmc, VMCConfig):
                raise InvalidParameterError(
                    f"vmc: expected a VMCConfig or None; got {type(self.vmc).__name__}"
                )
            if (self.vmc.ansatz, self.vmc.alpha) != (self.ansatz, self.alpha):
                raise InvalidParameterError(
                    f"vmc: expected the ansatz of the dynamics ({self.ansatz!r}, alpha "
                    f"{self.alpha}); got ({self.vmc.ansatz!r}, alpha {self.vmc.alpha})"
                )

    @property
    def n_steps(self) -> int:
        """Time steps ``t_end / dt``."""
        return check_times(self.t_end, self.dt)

    def vmc_config(self) -> VMCConfig:
        """The ground-state config used at finite ``h0``."""
        if self.vmc is not None:
            return self.vmc
        return VMCConfig(
            ansatz=self.ansatz, alpha=self.alpha, n_steps=300, n_samples=1024, final_samples=0
        )

    def samples_for(self, N: int) -> int:
        """Samples per expectation value on ``N`` sites (0: exact sums)."""
        if self.n_samples is None:
            return 0 if N <= AUTO_FULL_SUM_SITES else DEFAULT_MC_SAMPLES
        return self.n_samples


def _dynamics_config_record(config: DynamicsConfig) -> dict:
    """``config`` as a flat JSON-able dict (the VMC config as ``vmc.<field>``)."""
    out = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "vmc"}
    out |= {f"vmc.{k}": v for k, v in config_record(config.vmc_config()).items()}
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class DynamicsResult(Result):
    """Outcome of :func:`quench_dynamics`.

    ``history`` holds the recorded ``(n_times,)`` arrays ``time, x, zz, energy`` and their
    Monte Carlo standard errors ``x_error, zz_error, energy_error`` (0 for exact sums);
    ``observables`` and ``exact`` the same observables as ``{name: (n_times,) array}``.
    ``status`` is ``"completed"`` or ``"diverged"`` (a non-finite parameter or observable
    stopped the run; ``message`` says where).
    """

    N: int
    """Sites of the periodic chain."""
    h0: float
    """Initial transverse field (``math.inf``: ``|+>^N``)."""
    h1: float
    """Transverse field of the evolution."""
    times: np.ndarray
    """``(n_times,)`` recorded times (units of ``1/J``)."""
    observables: Mapping[str, np.ndarray]
    """``{"x", "zz", "energy"}``: ``(n_times,)`` NQS values."""
    errors: Mapping[str, np.ndarray]
    """The same names: ``(n_times,)`` Monte Carlo standard errors (0 for exact sums)."""
    exact: Mapping[str, np.ndarray]
    """The same names: ``(n_times,)`` free-fermion values at ``times``."""
    exact_method: str = EXACT_METHOD
    """How ``exact`` was computed."""
    max_abs_error: Mapping[str, float]
    """``{name: max_t |NQS - exact|}``."""
    energy_drift: float
    """``max_t |E(t) - E(0)|`` of the NQS energy (model units)."""
    n_samples: int
    """Samples per expectation value (0: exact sums)."""
    steps: int
    """Time steps integrated (including those before a resumed checkpoint)."""
    resumed_from: float | None = None
    """The time a checkpoint was restored at, or None."""
    initial_state: Mapping[str, Any]
    """How the state at ``t = 0`` was made (``method``: ``"vmc"`` or ``"product"``; for
    VMC its energy, relative error and status)."""
    n_parameters: int
    """Variational parameters (complex)."""
    message: str = ""
    """Why a run stopped early (empty otherwise)."""
    vstate: Any = dataclasses.field(default=None, repr=False, compare=False)
    """The NetKet variational state at the last time (not serialised)."""

    reported = (
        "N",
        "h0",
        "h1",
        "times",
        "exact_method",
        "energy_drift",
        "n_samples",
        "steps",
        "resumed_from",
        "n_parameters",
        "message",
    )

    def summary(self) -> dict:
        """The JSON-able part: every number above and the curves, no NetKet objects."""
        return super().summary() | {
            "config": _dynamics_config_record(self.config),
            "observables": dict(self.observables),
            "errors": dict(self.errors),
            "exact": dict(self.exact),
            "max_abs_error": dict(self.max_abs_error),
            "initial_state": dict(self.initial_state),
        }


# --------------------------------------------------------------------------- checks
def _check_fields(N, h0, h1, config: DynamicsConfig) -> tuple[int, float, float]:
    N = check_positive_int("N", N, minimum=4)
    try:
        g0, g1 = float(h0), float(h1)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"expected numbers for h0 and h1; got h0={h0!r}, h1={h1!r}"
        ) from None
    if not (g0 > 0):
        raise InvalidParameterError(
            "h0: expected a field > 0 or inf (h0 = 0 has the even cat state (|up..up> + "
            f"|down..down>)/sqrt2, which Metropolis VMC does not prepare); got {h0!r}"
        )
    if not (math.isfinite(g1) and g1 >= 0):
        raise InvalidParameterError(f"h1: expected a finite field >= 0; got {h1!r}")
    n_samples = config.samples_for(N)
    if n_samples == 0 and N > MAX_FULL_SUM_SITES:
        raise InvalidParameterError(
            f"n_samples = 0 (exact sums over 2**N configurations): expected N <= "
            f"{MAX_FULL_SUM_SITES}; got N = {N}. Use n_samples > 0 (Monte Carlo)"
        )
    if g0 == math.inf and config.ansatz == "rbm-symm" and config.alpha < 2:
        raise InvalidParameterError(
            "h0 = inf seeds |+>^N with pairs of hidden features (W, iW): expected alpha >= 2 "
            f"for the symmetric RBM; got alpha = {config.alpha}"
        )
    return N, g0, g1


# --------------------------------------------------------------------------- NetKet objects
def _module(config: DynamicsConfig, model, hilbert):
    from qml_phys.nqs.ground_state import make_ansatz

    vmc = VMCConfig(ansatz=config.ansatz, alpha=config.alpha, complex_params=True)
    return make_ansatz(vmc, model, hilbert)


def _make_vstate(config: DynamicsConfig, module, hilbert, n_samples: int, *, key):
    import jax
    import netket as nk

    k1, k2 = jax.random.split(key)
    seed = int(jax.random.randint(k1, (), 0, 2**31 - 1))
    kwargs = {} if config.chunk_size is None else {"chunk_size": config.chunk_size}
    if n_samples == 0:
        return nk.vqs.FullSumState(hilbert, module, seed=seed, **kwargs)
    n_dev = len(jax.devices())
    n_chains = int(math.ceil(config.n_chains / n_dev) * n_dev)
    sampler = nk.sampler.MetropolisLocal(hilbert, n_chains=n_chains)
    return nk.vqs.MCState(
        sampler,
        module,
        n_samples=n_samples,
        n_discard_per_chain=config.n_discard_per_chain,
        seed=seed,
        sampler_seed=int(jax.random.randint(k2, (), 0, 2**31 - 1)),
        **kwargs,
    )


def _make_driver(config: DynamicsConfig, op, vstate):
    import functools

    import netket as nk

    solver = getattr(nk.experimental.dynamics, _INTEGRATOR_CLASSES[config.integrator])
    linear_solver = functools.partial(
        nk.optimizer.solver.pinv_smooth, rtol=config.rtol, rtol_smooth=config.rtol_smooth
    )
    # log cosh of a complex-linear function of the spins: holomorphic in the parameters
    qgt = nk.optimizer.qgt.QGTJacobianDense(diag_shift=config.diag_shift, holomorphic=True)
    return nk.experimental.TDVP(
        op,
        vstate,
        solver(dt=config.dt),
        qgt=qgt,
        linear_solver=linear_solver,
    )


def _operators(N: int, h1: float, hilbert):
    """``(H(h1), (1/N) sum X_i, (1/N) sum_bonds Z_i Z_j)`` as NetKet operators."""
    import netket as nk

    from qml_phys.physics import Lattice, TransverseFieldIsing

    lattice = Lattice.chain(N)
    ham = TransverseFieldIsing(lattice, J=1.0, gamma=h1).to_netket(hilbert)
    x = nk.operator.PauliStrings(
        hilbert, ["I" * i + "X" + "I" * (N - 1 - i) for i in range(N)], [1.0 / N] * N
    )
    # -J sum_bonds Z Z with J = -1/N is (1/N) sum_bonds Z_i Z_j (doubled bonds of N = 2
    # counted twice, as in the model and the reference)
    zz = TransverseFieldIsing(lattice, J=-1.0 / N, gamma=0.0).to_netket(hilbert)
    return ham, x, zz


def _product_parameters(params, scale: float, *, key):
    r"""Parameters of ``|+>^N`` (up to ``O(scale^4)``): hidden units in pairs ``(W, iW)``
    with ``W ~ scale N(0, 1)``, all biases zero (module docstring)."""
    import jax
    import jax.numpy as jnp

    kernel = params["Dense"]["kernel"]
    # the hidden units run along the last axis of RBM's kernel (N, M) and the first of
    # RBMSymm's (features, 1, N)
    axis = kernel.ndim - 1 if kernel.ndim == 2 else 0
    m = kernel.shape[axis]
    half = m // 2
    shape = list(kernel.shape)
    shape[axis] = half
    w = scale * jax.random.normal(key, tuple(shape), dtype=jnp.float64)
    parts = [w, 1j * w]
    if m % 2:
        shape[axis] = 1
        parts.append(jnp.zeros(tuple(shape)))
    new_kernel = jnp.concatenate(parts, axis=axis).astype(kernel.dtype)
    out = jax.tree_util.tree_map(jnp.zeros_like, params)
    out["Dense"]["kernel"] = new_kernel
    return out


def _initial_state(vstate, N: int, h0: float, config: DynamicsConfig, *, key) -> dict:
    """Set ``vstate``'s parameters to the state at ``t = 0``; describe how it was made."""
    import jax
    import jax.numpy as jnp

    from qml_phys.nqs.ground_state import ground_state
    from qml_phys.physics import Lattice, TransverseFieldIsing

    if h0 == math.inf:
        vstate.parameters = _product_parameters(
            vstate.parameters, config.product_init_scale, key=key
        )
        return {"method": "product", "scale": config.product_init_scale}
    model = TransverseFieldIsing(Lattice.chain(N), J=1.0, gamma=h0)
    res = ground_state(model, config.vmc_config(), key=key)
    if res.status != "completed":
        raise InvalidParameterError(
            f"the ground state at h0 = {h0} did not complete (status {res.status!r}: "
            f"{res.message}); expected a completed VMC run; change config.vmc"
        )
    dtypes = jax.tree_util.tree_map(lambda x: x.dtype, vstate.parameters)
    vstate.parameters = jax.tree_util.tree_map(
        lambda x, d: jnp.asarray(x, dtype=d), res.vstate.parameters, dtypes
    )
    return {
        "method": "vmc",
        "vmc_energy": res.energy,
        "exact_energy": res.exact_energy,
        "vmc_relative_error": res.relative_error,
        "vmc_status": res.status,
        "vmc_steps": res.steps,
    }


# --------------------------------------------------------------------------- the run
def _make_monitor(plan: dict, checkpoint, save, user_callback, bar):
    """A NetKet callback: measure at the recording times, checkpoint, stop on NaN."""
    import jax
    import netket as nk
    from flax import serialization

    grid, dt, ops = plan["grid"], plan["dt"], plan["ops"]
    exact_sums = plan["n_samples"] == 0

    class Monitor(nk.callbacks.AbstractCallback):
        records: dict = nk.utils.struct.field(pytree_node=False)
        state: dict = nk.utils.struct.field(pytree_node=False)

        def __init__(self, records, state):
            self.records = records
            self.state = state  # steps, pending, nan_time, last_checkpoint, t_before

        @property
        def callback_order(self) -> int:
            return 100  # after NetKet's own; may raise StopRun

        def _step_index(self, t: float) -> int:
            return int(round(t / dt))

        def on_step_start(self, step, log_data, driver):
            # Snapshot before this step's sampling, written once the state at this time is
            # known to be finite: resuming from it repeats the uninterrupted run exactly.
            t = float(driver.t)
            s = self._step_index(t)
            pending = self.state["pending"]
            if checkpoint is None or s == 0 or (pending is not None and pending[0] == s):
                return
            if checkpoint.due(s, last=s == plan["n_steps"]) and s != self.state["restored"]:
                state = jax.device_get(serialization.to_state_dict(driver))
                self.state["pending"] = (s, state)

        def before_parameter_update(self, step, log_data, driver):
            t = float(driver.t)
            self.state["t_before"] = t
            finite = all(
                bool(np.all(np.isfinite(np.asarray(x))))
                for x in jax.tree_util.tree_leaves(driver.state.parameters)
            )
            j = len(self.records["time"])
            row = None
            if finite and j < len(grid) and abs(t - grid[j]) <= 1e-9 * max(1.0, abs(t)):
                stats = [driver.state.expect(op) for op in ops]
                vals = [float(np.real(st.mean)) for st in stats]
                errs = [0.0 if exact_sums else float(st.error_of_mean) for st in stats]
                finite = all(math.isfinite(v) for v in vals)
                row = (grid[j], *vals, *errs)
            if not finite:
                self.state["nan_time"] = t
                raise nk.callbacks.StopRun(f"non-finite parameters or observables at t = {t}")
            pending = self.state["pending"]
            if pending is not None and pending[0] == self._step_index(t):
                s, state = pending
                meta = {
                    "t": t,
                    "step": s,
                    "steps": self.state["steps"],
                    "records": {k: list(v) for k, v in self.records.items()},
                    "initial_state": plan["initial_state"],
                }
                save(state, meta)
                self.state["last_checkpoint"] = t
                self.state["pending"] = None
            if row is not None:
                for k, v in zip(_RECORD_KEYS, row, strict=True):
                    self.records[k].append(v)
                if user_callback is not None:
                    user_callback(t, self.records, driver)

        def on_step_end(self, step, log_data, driver):
            if float(driver.t) > self.state["t_before"]:
                self.state["steps"] += 1
                bar.update(1)

    return Monitor


def _restore(driver, checkpoint, run_config: dict):
    """``(driver, meta)`` from ``checkpoint``, or ``(driver, None)`` when there is none."""
    from flax import serialization

    template = serialization.to_state_dict(driver)
    restored = checkpoint.restore(template, config=run_config)
    if restored is None:
        return driver, None
    state, meta = restored
    return serialization.from_state_dict(driver, state), meta


def quench_dynamics(
    N: int,
    h0: float,
    h1: float,
    config: DynamicsConfig | None = None,
    *,
    key,
    checkpoint=None,
    callback: Callable | None = None,
) -> DynamicsResult:
    r"""Evolve a neural quantum state through the quench ``h0 -> h1`` of the periodic TFIM
    chain with TDVP and compare it with the exact free-fermion curves.

    Args:
        N: sites of the periodic chain, ``>= 4``.
        h0: transverse field of the initial ground state, ``> 0``; ``math.inf`` for the
            product state ``|+>^N`` (no VMC).
        h1: transverse field of the evolution, finite, ``>= 0``.
        config: :class:`DynamicsConfig` (times, integrator, ansatz, sampling, QGT
            regularisation, the ground-state VMC).
        key: JAX PRNG key: the ground-state VMC, the parameter seed of ``h0 = inf`` and
            the sampler are drawn from it.
        checkpoint: a :class:`~qml_phys.runtime.checkpoint.Checkpoint` (the caller sets its
            ``inputs``), or None. Every ``checkpoint.every`` time steps, and at ``t_end``,
            the driver (variational state, sampler state, integrator with time and step) is
            saved with the observables recorded so far, once the state at that time is
            known to be finite. With ``checkpoint.resume`` an existing checkpoint of the same
            ``N``, ``h0``, ``h1`` and config is restored (no ground-state VMC) and the run
            goes on; it repeats the uninterrupted run exactly. A checkpoint of another run
            is a :class:`~qml_phys.runtime.checkpoint.CheckpointError` naming both.
        callback: ``f(t, records, driver)`` after every recorded time (``records``:
            ``{name: list}`` so far); may raise (a ``KeyboardInterrupt`` propagates, the
            last checkpoint stays).

    Returns:
        :class:`DynamicsResult`; ``status="diverged"`` (with a warning) when the
        parameters or observables became non-finite.
    """
    import jax

    from qml_phys.nqs.ground_state import _netket_stdout
    from qml_phys.physics import Lattice, TransverseFieldIsing
    from qml_phys.physics.exact import tfim_quench
    from qml_phys.runtime.progress import progress

    t_start = time.perf_counter()
    config = config or DynamicsConfig()
    if not isinstance(config, DynamicsConfig):
        raise InvalidParameterError(
            f"config: expected a DynamicsConfig; got {type(config).__name__}"
        )
    N, h0, h1 = _check_fields(N, h0, h1, config)
    n_samples = config.samples_for(N)
    n_steps = config.n_steps
    # measurement times as exact multiples of dt (no accumulated rounding)
    grid = np.arange(0, n_steps + 1, config.measure_every, dtype=np.float64) * config.dt
    run_config = {"N": N, "h0": h0, "h1": h1, **_dynamics_config_record(config)}
    k_init, k_state = jax.random.split(key)
    with float64():
        import netket as nk

        hilbert = nk.hilbert.Spin(0.5, N)
        shape_model = TransverseFieldIsing(Lattice.chain(N), J=1.0, gamma=h1)
        module = _module(config, shape_model, hilbert)
        ham, x_op, zz_op = _operators(N, h1, hilbert)
        with _netket_stdout():
            vstate = _make_vstate(config, module, hilbert, n_samples, key=k_state)
            meta = None
            if checkpoint is not None:
                driver, meta = _restore(_make_driver(config, ham, vstate), checkpoint, run_config)
                vstate = driver.state
            if meta is None:
                initial = _initial_state(vstate, N, h0, config, key=k_init)
                driver = _make_driver(config, ham, vstate)
        records = {k: [] for k in _RECORD_KEYS}
        state = {
            "steps": 0,
            "pending": None,
            "nan_time": None,
            "last_checkpoint": None,
            "t_before": -math.inf,
            "restored": None,
        }
        resumed_from = None
        if meta is not None:
            initial = meta["initial_state"]
            records = {k: list(meta["records"][k]) for k in _RECORD_KEYS}
            state["steps"] = int(meta["steps"])
            state["restored"] = int(meta["step"])
            resumed_from = float(meta["t"])
        plan = {
            "grid": grid,
            "dt": config.dt,
            "ops": (x_op, zz_op, ham),
            "n_samples": n_samples,
            "n_steps": n_steps,
            "initial_state": initial,
        }

        def save(tree, meta_):
            checkpoint.save(tree, config=run_config, meta=meta_)

        bar = progress(total=n_steps, initial=state["steps"], desc=f"tdvp N={N}")
        monitor = _make_monitor(plan, checkpoint, save, callback, bar)(records, state)
        # End a hair (1e-12 relative) before t_end: NetKet's compensated time may land one
        # ulp short of it, which would cost a last step of length 1e-17 (a full RK step).
        t_now = float(driver.t)
        remaining = max(grid[-1] - t_now - 1e-12 * max(1.0, grid[-1]), 0.0)
        stops = grid[grid > t_now + 1e-9 * max(1.0, t_now)]
        stops = np.minimum(stops, t_now + remaining)
        try:
            with _netket_stdout():
                driver.run(
                    remaining,
                    tstops=stops if len(stops) else None,
                    callback=monitor,
                    show_progress=False,
                )
        finally:
            bar.close()
        vs = driver.state
        n_params = int(vs.n_parameters)
    status, message = "completed", ""
    if state["nan_time"] is not None:
        status = "diverged"
        where = (
            f"the last good checkpoint (t = {state['last_checkpoint']}) is kept at "
            f"{checkpoint.path}"
            if checkpoint is not None and state["last_checkpoint"] is not None
            else "no checkpoint was written at a finite state"
        )
        message = (
            f"parameters or observables became non-finite at t = {state['nan_time']}; "
            f"stopped; {where}; lower dt or raise rtol_smooth"
        )
        warnings.warn(message, stacklevel=2)
    hist = {k: np.asarray(v, dtype=np.float64) for k, v in records.items()}
    times = hist["time"]
    ref = tfim_quench(N, h0, h1, times)
    obs = {k: hist[k] for k in OBSERVABLES}
    exact = {k: np.asarray(v) for k, v in ref.observables.items()}
    max_err = {
        k: float(np.max(np.abs(obs[k] - exact[k]))) if len(times) else math.nan for k in OBSERVABLES
    }
    e = obs["energy"]
    drift = float(np.max(np.abs(e - e[0]))) if len(e) else math.nan
    return DynamicsResult(
        config=config,
        history=hist,
        wall_time_s=time.perf_counter() - t_start,
        status=status,
        N=N,
        h0=h0,
        h1=h1,
        times=times,
        observables=obs,
        errors={k: hist[f"{k}_error"] for k in OBSERVABLES},
        exact=exact,
        max_abs_error=max_err,
        energy_drift=drift,
        n_samples=n_samples,
        steps=state["steps"],
        resumed_from=resumed_from,
        initial_state=initial,
        n_parameters=n_params,
        message=message,
        vstate=vs,
    )


# --------------------------------------------------------------------------- plots
_LABELS = {
    "x": r"$\langle X \rangle$",
    "zz": r"$\langle Z_i Z_{i+1} \rangle$",
    "energy": r"$\langle H(h_1) \rangle$",
}


def plot_dynamics(axes, result: DynamicsResult):
    """Draw ``x``, ``zz`` and ``energy`` against time on the three ``axes``, the NQS values
    (with Monte Carlo error bars) over the exact curves. Returns ``axes``; the caller
    owns the figure (``qml_phys.runtime.plots.figure`` and ``plots.save``)."""
    from qml_phys.runtime import plots

    t = result.times
    for ax, name in zip(axes, OBSERVABLES, strict=True):
        err = result.errors[name]
        label = f"NQS (max |Δ| = {result.max_abs_error[name]:.1e})"
        if np.any(err > 0):
            ax.errorbar(t, result.observables[name], yerr=err, fmt=".", ms=2, lw=0.5, label=label)
        else:
            ax.plot(t, result.observables[name], label=label)
        ax.plot(t, result.exact[name], label="exact (free fermions)", **plots.EXACT)
        ax.set(xlabel="t J", ylabel=_LABELS[name])
        ax.legend()
    return axes
