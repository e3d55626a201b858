r"""Barren-plateau studies: gradient variance against qubit number.

Estimates :math:`\mathrm{Var}[\partial C / \partial\theta_k]` over an ensemble of random
circuits with a pure-JAX state-vector simulator: the state is a flat ``(2**n,)`` complex
vector (wire 0 is the most significant bit, as in PennyLane). A layer of single-qubit gates
is one ``lax.scan`` over wires whose body applies a ``2 x 2`` matrix to the leading qubit
and rotates the qubit order by one (so the compiled program does not grow with ``n``); a
CNOT ring is one fixed index permutation and a CZ ladder one fixed sign vector;
``lax.scan`` runs over layers (compile time does not grow with depth) with
``jax.checkpoint`` per layer (memory ``O(n_layers 2**n)`` per circuit, not
``O(n_layers n 2**n)``); ``jax.grad`` gives all partial derivatives, and ``jax.vmap`` runs
the ensemble of random draws in chunks sized to a memory limit, in one jitted call.

The circuits, costs and initialisations are described in :mod:`qml_phys.circuits.statevector`
(the simulator); the ensembles of random draws are :mod:`qml_phys.circuits.ensembles`. This
module holds the scans over qubit counts, their result, the 2-design references, a PennyLane
cross-check of the simulator and the plot; it re-exports the names of the other two, so
``from qml_phys.circuits.barren import gradient_ensemble`` keeps working.

Entry points: :func:`gradient_ensemble` (and :func:`shot_ensemble`) draw an ensemble of
an :class:`EnsembleConfig`'s circuits from a key; :func:`plateau_scan` runs them over qubit
counts with bootstrap intervals, decay fits and 2-design references (a
:class:`PlateauConfig` in, a :class:`PlateauScan` result out); :func:`plot_scan` draws a
scan on the axes it is given.
"""

from __future__ import annotations

import dataclasses
import math
import time

import jax
import numpy as np

from qml_phys.circuits.ensembles import (  # noqa: F401 - re-exported
    _CACHE_AMPLITUDES,
    MEMORY_LIMIT,
    _chunk,
    _ensemble,
    _shot_ensemble,
    _sigma,
    draw_circuit,
    draw_circuits,
    ensemble_bytes,
    gradient_ensemble,
    shot_ensemble,
)
from qml_phys.circuits.statevector import (  # noqa: F401 - re-exported
    COSTS,
    DTYPES,
    GATES,
    INITS,
    CircuitFamily,
    EnsembleConfig,
    _check,
    _cost_and_grad,
    _dtypes,
    _final_state,
    _probabilities,
    circuit_cost,
    cost_values,
    hea_axes,
    ladder_pairs,
    n_rotations,
    ring_pairs,
)
from qml_phys.errors import (
    InvalidParameterError,
    check_name,
    check_positive_int,
)
from qml_phys.runtime.results import Result

__all__ = [
    "COSTS",
    "DTYPES",
    "GATES",
    "INITS",
    "MEMORY_LIMIT",
    "EnsembleConfig",
    "PlateauConfig",
    "PlateauScan",
    "circuit_cost",
    "cost_values",
    "depth_for",
    "draw_circuit",
    "draw_circuits",
    "ensemble_bytes",
    "gradient_ensemble",
    "hea_axes",
    "ladder_pairs",
    "n_rotations",
    "pennylane_qnode",
    "plateau_scan",
    "plot_scan",
    "ring_pairs",
    "shot_ensemble",
    "two_design_variance",
    "variance_scan",
]


def depth_for(n_qubits: int, layers) -> int:
    """Circuit depth for ``n_qubits``: an integer, ``"n"`` (depth = n) or ``"log"``
    (``max(1, ceil(log2 n))``, Cerezo's shallow regime)."""
    if layers == "n":
        return int(n_qubits)
    if layers == "log":
        return max(1, math.ceil(math.log2(n_qubits)))
    return check_positive_int("n_layers", layers)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlateauConfig(CircuitFamily):
    """Settings of :func:`plateau_scan` (and of :func:`variance_scan`, which uses the circuit
    family and ``n_draws`` only)."""

    layers: int | str = 50
    """Circuit depth for each ``n``: an integer, ``"n"`` (depth = n) or ``"log"``
    (``ceil(log2 n)``; see :func:`depth_for`)."""
    n_draws: int = 200
    """Random circuits per qubit count (>= 2)."""
    shots: int | None = None
    """Also estimate the first parameter's derivative from this many shots per shift term
    (:func:`shot_ensemble`), or ``None``."""
    n_boot: int = 1000
    """Bootstrap replicas of every interval (>= 2). With 1000 the Monte Carlo error of a
    95% percentile end is ~0.08 standard deviations of the replicas (about 2% of the
    interval's width); the replicas cost tens of milliseconds per qubit count (one matrix
    product over the draws), so fewer would save nothing."""
    level: float = 0.95
    """Coverage of the bootstrap intervals and of the decay-rate intervals."""
    memory_limit: int = MEMORY_LIMIT
    """Bytes allowed for one chunk of circuit draws."""

    def __post_init__(self):
        if self.layers not in ("n", "log"):
            object.__setattr__(self, "layers", check_positive_int("layers", self.layers))
        object.__setattr__(self, "n_draws", check_positive_int("n_draws", self.n_draws, 2))
        object.__setattr__(self, "n_boot", check_positive_int("n_boot", self.n_boot, 2))
        object.__setattr__(self, "n_blocks", check_positive_int("n_blocks", self.n_blocks))
        object.__setattr__(
            self, "memory_limit", check_positive_int("memory_limit", self.memory_limit)
        )
        if self.shots is not None:
            object.__setattr__(self, "shots", check_positive_int("shots", self.shots, 2))
        from qml_phys.stats.bootstrap import check_level  # scipy.stats: only for scans

        object.__setattr__(self, "level", check_level(self.level))
        for kind, names in (("cost", COSTS), ("init", INITS), ("gates", GATES)):
            check_name(kind, getattr(self, kind), names)
        check_name("dtype", self.dtype, DTYPES)

    def ensemble(self, n_qubits: int, n_layers: int | None = None) -> EnsembleConfig:
        """The circuit family at ``n_qubits`` (depth :func:`depth_for`, or ``n_layers``)."""
        return EnsembleConfig(
            n_qubits=n_qubits,
            n_layers=depth_for(n_qubits, self.layers) if n_layers is None else n_layers,
            **self.family(),
        )


def variance_scan(ns, depths=None, config: PlateauConfig | None = None, *, key) -> dict:
    """Gradient variances on the grid ``ns x depths`` (no intervals: see :func:`plateau_scan`).

    Args:
        ns: qubit counts.
        depths: layer counts; ``None`` means depth ``= n`` (one column).
        config: the circuit family and ``n_draws`` (its ``layers``, ``shots`` and bootstrap
            settings are not used); ``None``: ``PlateauConfig()``.
        key: JAX PRNG key; grid point ``(i, j)`` uses ``fold_in(key, i * len(depths) + j)``.

    Returns:
        ``{"ns", "depths", "var_first", "var_mean", "config"}``: ``var_first`` the variance
        of the first parameter's derivative (as McClean et al.) and ``var_mean`` the
        variance averaged over all parameters, both ``(len(ns), len(depths))`` float64
        numpy arrays (with ``depths=None``, one column with depth ``n`` per row).
    """
    config = PlateauConfig() if config is None else config
    ns = [check_positive_int("n_qubits", n) for n in ns]
    cols = [None] if depths is None else [check_positive_int("n_layers", d) for d in depths]
    var_first = np.zeros((len(ns), len(cols)))
    var_mean = np.zeros((len(ns), len(cols)))
    for i, n in enumerate(ns):
        for j, d in enumerate(cols):
            ensemble = config.ensemble(n, n if d is None else d)
            grads = gradient_ensemble(
                ensemble,
                key=jax.random.fold_in(key, i * len(cols) + j),
                n_draws=config.n_draws,
                memory_limit=config.memory_limit,
            )
            g = np.asarray(grads, dtype=np.float64)
            var = g.var(axis=0, ddof=1)
            var_first[i, j], var_mean[i, j] = var[0], var.mean()
    return {
        "ns": list(ns),
        "depths": None if depths is None else list(cols),
        "var_first": var_first,
        "var_mean": var_mean,
        "config": dataclasses.asdict(config),
    }


def _interval(est: dict) -> dict:
    return {"value": est["value"], "low": est["low"], "high": est["high"]}


def _ratio(value: float, reference: float | None) -> float | None:
    """``value / reference``, None without a (positive) reference."""
    return None if reference is None or not reference > 0 else float(value) / reference


def _above(est: dict, reference: float | None) -> bool | None:
    """The ``level`` interval of ``est`` lies above ``reference`` (None without one)."""
    return None if reference is None else bool(est["low"] > reference)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlateauScan(Result):
    """Result of :func:`plateau_scan` (``config``: its :class:`PlateauConfig`).

    ``history`` holds one entry per qubit count: ``"n"``, ``"layers"``, ``"var_mean"``
    and ``"var_first"`` (the variances, float64).
    """

    ns: list
    """Qubit counts."""
    layers: list
    """Circuit depth used at each ``n``."""
    rows: list
    """One dict per ``n``: ``n``, ``layers``, ``n_params``, ``var_first`` and ``var_mean``
    (bootstrap :class:`~qml_phys.stats.bootstrap.VarianceEstimate` as dicts),
    ``two_design_mean``, ``two_design_first`` and, with shots, ``shots``."""
    fit: dict
    """``{"mean": ..., "first": ...}``: the exponential fit of ``ln Var`` against ``n``
    (``"exponential"``, a :class:`~qml_phys.stats.fits.DecayFit` as a dict) and, from 3
    sizes on, the comparison with polynomial decay (``"comparison"``); ``None`` where the
    variances cannot be fitted (e.g. every gradient 0)."""
    two_design_rate: float | None
    """Decay rate per qubit of the 2-design variance over the same ``ns``."""

    reported = ("two_design_rate",)

    def summary(self) -> dict:
        """The numbers a reader wants: per ``n`` the variances with their intervals and the
        2-design value, the fitted rates with intervals and the model comparison."""
        rows = []
        for r in self.rows:
            row = {
                "n": r["n"],
                "layers": r["layers"],
                "var_mean": _interval(r["var_mean"]),
                "var_first": _interval(r["var_first"]),
                "two_design_mean": r["two_design_mean"],
                "two_design_ratio": _ratio(r["var_mean"]["value"], r["two_design_mean"]),
                "above_two_design": _above(r["var_mean"], r["two_design_mean"]),
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
        for which, fit in self.fit.items():
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
        above = [row["n"] for row in rows if row["above_two_design"]]
        return super().summary() | {
            "rows": rows,
            "fit": fits,
            # where the interval of the variance lies above the 2-design value, the
            # ensemble is not (yet) a 2-design: a comparison with that theory cannot hold
            "not_two_design_at": above,
        }

    def as_dict(self) -> dict:
        """Everything, JSON-able (for a record): ``ns, layers, rows, fit, two_design_rate,
        config``, with every bootstrap and fit detail."""
        return {
            "ns": list(self.ns),
            "layers": list(self.layers),
            "rows": self.rows,
            "fit": self.fit,
            "two_design_rate": self.two_design_rate,
            "config": dataclasses.asdict(self.config),
        }


def _fits(ns, rows, level) -> dict:
    from qml_phys.stats.fits import compare_decay, fit_decay

    fit = {}
    for which in ("mean", "first"):
        v = np.array([r[f"var_{which}"]["value"] for r in rows])
        s = np.array([r[f"var_{which}"]["log_stderr"] for r in rows])
        if len(ns) < 2 or np.any(v <= 0) or not np.all(np.isfinite(s)) or np.any(s <= 0):
            fit[which] = None  # e.g. identity start: every gradient is 0
            continue
        entry = {"exponential": fit_decay(ns, v, s, level=level)._asdict()}
        if len(ns) >= 3:
            cmp = compare_decay(ns, v, s)
            entry["comparison"] = {
                k: (val._asdict() if hasattr(val, "_asdict") else val) for k, val in cmp.items()
            }
        fit[which] = entry
    return fit


def _shot_row(config: PlateauConfig, ensemble: EnsembleConfig, k_grad, k_boot) -> dict:
    from qml_phys.stats.bootstrap import shot_corrected_variance

    s = shot_ensemble(
        ensemble,
        key=k_grad,
        n_draws=config.n_draws,
        shots=config.shots,
        memory_limit=config.memory_limit,
    )
    boot = {"key": k_boot, "n_boot": config.n_boot, "level": config.level}
    split = shot_corrected_variance(s["grad_shots"], s["shot_variance"], **boot)
    est = shot_corrected_variance(s["grad_shots"], s["shot_variance_estimate"], **boot)
    return {
        "shots": config.shots,
        "observed": split["observed"]._asdict(),
        "mean_shot_variance": split["shot_variance"],
        "corrected": split["corrected"]._asdict(),
        "mean_shot_variance_from_samples": est["shot_variance"],
        "corrected_from_samples": est["corrected"]._asdict(),
    }


def plateau_scan(
    ns, config: PlateauConfig | None = None, *, key, progress: bool | None = None
) -> PlateauScan:
    r"""Gradient variance against qubit number, with intervals, fits and references.

    For each ``n`` in ``ns`` draws ``config.n_draws`` random circuits of depth
    :func:`depth_for` ``(n, config.layers)`` and reports the variance of the first
    parameter's derivative and the variance averaged over parameters, each with a bootstrap
    interval (:func:`~qml_phys.stats.bootstrap.bootstrap_variance`), and the 2-design value
    (:func:`two_design_variance`). Then it fits the decay rate of :math:`\ln\mathrm{Var}`
    per qubit (weighted by the bootstrap errors, with a ``level`` interval) and compares
    exponential against polynomial decay (:func:`~qml_phys.stats.fits.compare_decay`;
    needs 3 or more sizes). With ``config.shots``, the first parameter is also estimated
    from ``shots`` measurements per shift term (:func:`shot_ensemble`), and the observed
    variance is split into landscape variance and mean shot variance.

    Randomness: ``key`` is split into one ``(k_grad, k_boot)`` pair per ``n``. Common
    random numbers on purpose: the shot estimates use the circuits of the exact gradients
    (``k_grad``), and every interval of one ``n`` uses the same bootstrap replicas
    (``k_boot``).

    While the gradients of one ``n`` are computed (asynchronously), the ensemble of the
    next ``n`` is compiled: at most two ensembles are in flight.

    Args:
        ns: qubit counts.
        config: :class:`PlateauConfig` (``None``: the defaults).
        key: JAX PRNG key.
        progress: show a progress bar (``None``: :mod:`qml_phys.runtime.progress` decides).

    Returns:
        :class:`PlateauScan`.

    Raises:
        InvalidParameterError, UnknownNameError, TooLargeError: bad settings for one of the
            ``ns`` (checked before any work).
    """
    from qml_phys.runtime.progress import progress as bar
    from qml_phys.stats.bootstrap import bootstrap_variance

    t0 = time.perf_counter()
    config = PlateauConfig() if config is None else config
    if not isinstance(config, PlateauConfig):
        raise InvalidParameterError(
            f"config: expected a PlateauConfig; got {type(config).__name__}"
        )
    ns = [check_positive_int("n_qubits", n) for n in ns]
    if not ns:
        raise InvalidParameterError("ns: expected at least one qubit count; got none")
    ensembles = [config.ensemble(n) for n in ns]
    from qml_phys.runtime.resources import check_memory

    for e in ensembles:  # fail before any work
        _chunk(e.n_qubits, e.n_layers, config.n_draws, config.memory_limit, e.dtype)
        # the gradients of two ensembles in flight, float64 on the host, and the replicas
        check_memory(
            f"{config.n_draws} draws of {e.n_qubits}-qubit circuits with {e.n_params} "
            f"parameters and {config.n_boot} bootstrap replicas",
            3 * 8.0 * config.n_draws * (e.n_params + 1) + 32.0 * config.n_boot * config.n_draws,
        )
        if config.shots:
            _chunk(
                e.n_qubits, e.n_layers, config.n_draws, config.memory_limit, e.dtype, config.shots
            )
    keys = jax.random.split(key, (len(ns), 2))

    def launch(i):
        return gradient_ensemble(
            ensembles[i], key=keys[i, 0], n_draws=config.n_draws, memory_limit=config.memory_limit
        )

    rows, pending = [], launch(0)
    boot = {"n_boot": config.n_boot, "level": config.level}
    disable = None if progress is None else not progress
    for i in bar(range(len(ns)), desc="barren", disable=disable):
        grads = pending
        if i + 1 < len(ns):
            pending = launch(i + 1)  # compiles while grads are computed
        g = np.asarray(grads, dtype=np.float64)
        e, k_boot = ensembles[i], keys[i, 1]
        first = bootstrap_variance(g, key=k_boot, reduce="first", **boot)
        mean = bootstrap_variance(g, key=k_boot, reduce="mean", **boot)
        row = {
            "n": e.n_qubits,
            "layers": e.n_layers,
            "n_params": int(g.shape[1]),
            "var_first": first._asdict(),
            "var_mean": mean._asdict(),
            "two_design_mean": two_design_variance(e.n_qubits, e.cost, gates=e.gates),
            "two_design_first": two_design_variance(
                e.n_qubits, e.cost, which="first", gates=e.gates
            ),
        }
        if config.shots:
            row["shots"] = _shot_row(config, e, keys[i, 0], k_boot)
        rows.append(row)
    ref = np.log([r["two_design_mean"] for r in rows])
    depths = [e.n_layers for e in ensembles]
    return PlateauScan(
        config=config,
        history={
            "n": np.asarray(ns, np.float64),
            "layers": np.asarray(depths, np.float64),
            "var_mean": np.array([r["var_mean"]["value"] for r in rows]),
            "var_first": np.array([r["var_first"]["value"] for r in rows]),
        },
        wall_time_s=time.perf_counter() - t0,
        ns=ns,
        layers=depths,
        rows=rows,
        fit=_fits(ns, rows, config.level),
        two_design_rate=float(-np.polyfit(ns, ref, 1)[0]) if len(ns) >= 2 else None,
    )


def pennylane_qnode(config: EnsembleConfig, axes=None, *, device: str = "lightning.qubit"):
    """The circuit of ``config`` as a PennyLane QNode ``qnode(theta) -> C`` (for
    cross-checks).

    Args:
        config: the circuit family: ``gates="mcclean"`` for McClean's layout (RY(pi/4)
            start, one rotation per wire, CZ ladder), otherwise the CNOT-ring layout;
            ``init="identity"``: the layers form ``n_blocks`` blocks of a half and its
            inverse.
        axes: ``(n_layers, n_qubits, r)`` gate axes in {0, 1, 2}; ``None`` for the
            hardware-efficient circuit (RY, RZ).
        device: PennyLane device name (``lightning.qubit`` uses adjoint gradients,
            ``default.qubit`` backprop); the QNode uses the autograd interface.
    """
    import pennylane as qml

    from qml_phys.circuits.devices import diff_method_for, get_device

    n, layers, cost = config.n_qubits, config.n_layers, config.cost
    r = n_rotations(config.gates)
    axes = hea_axes(n, layers) if axes is None else np.asarray(axes, dtype=int)
    if axes.shape != (layers, n, r):
        raise InvalidParameterError(f"axes: expected shape {(layers, n, r)}; got {axes.shape}")
    rot = (qml.RX, qml.RY, qml.RZ)
    mcclean = config.gates == "mcclean"
    pairs = ladder_pairs(n) if mcclean else ring_pairs(n)
    ent = qml.CZ if mcclean else qml.CNOT
    dev = get_device(device, wires=n)
    if cost == "global":
        obs = qml.Identity(0) - qml.Projector([0] * n, wires=range(n))
    elif cost == "local":
        obs = qml.Identity(0) - qml.sum(*[qml.Projector([0], wires=w) for w in range(n)]) / n
    else:
        obs = qml.PauliZ(0) @ qml.PauliZ(1)
    per_block = layers // config.n_blocks if config.mirror else layers
    half = per_block // 2 if config.mirror else layers

    @qml.qnode(dev, diff_method=diff_method_for(dev), interface="autograd")
    def qnode(theta):
        if mcclean:
            for w in range(n):
                qml.RY(np.pi / 4, wires=w)
        for layer in range(layers):
            if layer % per_block < half:
                for w in range(n):
                    for j in range(r):
                        rot[axes[layer, w, j]](theta[layer, w, j], wires=w)
                for c, t in pairs:
                    ent(wires=[c, t])
            else:
                for c, t in reversed(pairs):
                    ent(wires=[c, t])
                for w in range(n):
                    for j in reversed(range(r)):
                        rot[axes[layer, w, j]](-theta[layer, w, j], wires=w)
        return qml.expval(obs)

    return qnode


def plot_scan(
    ax, scan: PlateauScan, *, which: str = "mean", label: str | None = None, reference=True
):
    """Draw a :class:`PlateauScan` on ``ax``: variances with their bootstrap intervals
    against ``n`` (log scale), the exponential fit, and the 2-design value."""
    from qml_phys.runtime import plots

    ns = np.asarray(scan.ns)
    rows = scan.rows
    v = np.array([r[f"var_{which}"]["value"] for r in rows])
    lo = np.array([r[f"var_{which}"]["low"] for r in rows])
    hi = np.array([r[f"var_{which}"]["high"] for r in rows])
    c = scan.config
    label = label or f"{c.cost} cost, {c.gates}, {c.init} init"
    err = np.clip(np.stack([v - lo, hi - v]), 0, None)
    line = ax.errorbar(ns, v, yerr=err, fmt="o", capsize=2, label=label)
    fit = (scan.fit or {}).get(which)
    if fit:
        e = fit["exponential"]
        ax.plot(
            ns,
            np.exp(e["intercept"] - e["rate"] * ns),
            color=line[0].get_color(),
            lw=0.9,
            label=f"fit: rate {e['rate']:.2f} [{e['low']:.2f}, {e['high']:.2f}] per qubit",
        )
    if reference:
        ref = [r[f"two_design_{which}"] for r in rows]
        ax.plot(ns, ref, label=f"2-design ({c.cost})", **plots.EXACT)
    ax.set(yscale="log", xlabel="qubits n", ylabel=r"Var[$\partial C / \partial\theta$]")
    return ax


#: ``E[Tr A^2]`` (see :func:`two_design_variance`) for the first parameter of each circuit:
#: HEA: RY on |0>, (1 - <Y>^2)/2 = 1/2; random Pauli on |0>: (1 - 1/3)/2 = 1/3; McClean's
#: random Pauli on RY(pi/4)|0> (<X>^2 = <Z>^2 = 1/2, <Y> = 0): (1 - 1/3)/2 = 1/3.
_FIRST = {"hea": 0.5, "random": 1.0 / 3.0, "mcclean": 1.0 / 3.0}


def two_design_variance(
    n_qubits: int, cost: str, *, which: str = "mean", gates: str = "hea"
) -> float:
    r"""Gradient variance when the circuit after (and before) the parameter is a 2-design.

    For :math:`C = \mathrm{Tr}(O\,U_+ R(\theta) \rho_- R^\dagger U_+^\dagger)` with a Pauli
    rotation :math:`R = e^{-i\theta P/2}` and :math:`U_+` Haar-random on :math:`N = 2^n`
    dimensions, the second moment of the Haar average gives

    .. math:: \mathrm{Var}[\partial_\theta C] = E[\mathrm{Tr} A^2]\,
       \frac{\mathrm{Tr}\,O^2 - (\mathrm{Tr}\,O)^2/N}{N^2 - 1},\qquad
       A = -i[P/2, \rho_-],\quad \mathrm{Tr} A^2 = \tfrac12(1 - \langle P\rangle^2).

    ``which="mean"``: :math:`\rho_-` also Haar-random, :math:`E\langle P\rangle^2 =
    1/(N+1)`, so :math:`E[\mathrm{Tr} A^2] = N / (2(N+1))` (parameters deep inside the
    circuit). ``which="first"``: the first gate acts on the known input state (see
    ``_FIRST``). Global projector: :math:`1/(2(N+1)^2)` (``-> ln 4`` per qubit); ``Z_0Z_1``:
    :math:`N^2/(2(N+1)^2(N-1))` (``-> ln 2`` per qubit), as in McClean et al. (2018) and
    Cerezo et al. (2021).
    """
    n = check_positive_int("n_qubits", n_qubits)
    if cost not in COSTS or gates not in GATES or which not in ("mean", "first"):
        raise InvalidParameterError(
            f"expected cost in {COSTS}, gates in {GATES}, which in ('mean', 'first'); got "
            f"{cost!r}, {gates!r}, {which!r}"
        )
    f = cost_values(n, cost)
    N = float(2**n)
    spread = float(np.sum(f * f) - np.sum(f) ** 2 / N)
    tr_a2 = N / (2 * (N + 1)) if which == "mean" else _FIRST[gates]
    return tr_a2 * spread / (N * N - 1)
