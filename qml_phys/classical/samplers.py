r"""One interface for classical Monte Carlo, driven by the models of :mod:`qml_phys.physics`.

In the spirit of NetKet's samplers: a sampler is an immutable configuration (which update,
which engine); its state is a PyTree (:class:`MCState`) that carries the spins, the inverse
temperatures and the PRNG key, so that every call is a pure function of the state::

    sampler = Metropolis()                           # or Wolff(), SwendsenWang(), ...
    state = sampler.init(model, temperatures, n_chains=4, key=key)
    state = sampler.sweep(model, state, n_sweeps=500)             # thermalise
    state, trace = sampler.sample(model, state, n_sweeps=10_000, measure_every=10)

``trace.energy`` and ``trace.magnetization`` are ``(n_meas, n_temps, n_chains)`` per site;
``trace.sweeps_per_measurement`` is ``(n_temps,)`` (the work between measurements, in
sweeps: exactly ``measure_every`` for Metropolis and Swendsen-Wang; for Wolff, cluster flips
times the measured mean cluster size over ``N``).

A *model* is any diagonal model: :class:`~qml_phys.physics.models.IsingModel` on any
:class:`~qml_phys.physics.lattice.Lattice` (square, chain, triangular), and
:class:`~qml_phys.physics.models.GraphIsing` / :class:`~qml_phys.physics.models.MaxCut` on
weighted graphs. Spins are laid out ``(n_temps, n_chains, *site_shape)`` with
``site_shape = lattice.shape`` for lattice models and ``(n_sites,)`` for graphs.

Samplers (one home per algorithm):

* :class:`Metropolis` -- single-spin Metropolis. On the periodic square lattice with even
  ``L`` and uniform couplings the checkerboard engines of
  :mod:`~qml_phys.classical.metropolis` (``method="packed"``: multi-spin coding for
  ``h = 0``; ``"general"``: any ``J``, ``h``); on every other lattice or graph the
  colour-by-colour sweep of :mod:`~qml_phys.classical.graph_metropolis` (``"checkerboard"``,
  the general form) or its one-site-at-a-time orders (``"random"``, ``"sequential"``).
* :class:`Wolff`, :class:`SwendsenWang` -- cluster updates (:mod:`~qml_phys.classical.cluster`)
  for the ferromagnet on chains and square lattices.
* :class:`ParallelTempering` -- replica exchange between the temperatures, on top of
  single-spin sweeps (:mod:`~qml_phys.classical.tempering`).
* :func:`qml_phys.classical.annealing.anneal` -- simulated annealing, the same sweeps along
  a cooling schedule.

Start (``init(..., start=...)``): ``"auto"`` starts a ferromagnet at ``h = 0`` below its
critical temperature (Onsager's on the square lattice, :math:`4/\ln 3` on the triangular
one) from an ordered state with a random overall sign per chain, and everything else from
random spins; this shortens thermalisation and biases nothing. ``"random"`` and ``"up"``
force one or the other.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    UnknownNameError,
    check_multiple,
    check_name,
    check_positive_int,
    check_temperature,
)
from qml_phys.runtime import rng

__all__ = [
    "STARTS",
    "MCState",
    "Metropolis",
    "ParallelTempering",
    "Sampler",
    "SwendsenWang",
    "Trace",
    "Wolff",
    "critical_temperature",
    "make_sampler",
]

#: Initial states of :meth:`Sampler.init`.
STARTS = ("auto", "random", "up")


class MCState(NamedTuple):
    """The state of a sampler (a PyTree): what a later call continues from.

    Attributes:
        spins: ``(n_temps, n_chains, *site_shape)`` int8 in {-1, +1}.
        betas: ``(n_temps,)`` float64 inverse temperatures (host array).
        key: the PRNG key of the next update (split on every call, never reused).
        sweeps: sweeps done so far (the work, as :class:`Trace` counts it).
        aux: per-sampler state (Wolff: the running mean cluster size ``(n_temps,)``).
    """

    spins: jax.Array
    betas: np.ndarray
    key: jax.Array
    sweeps: float = 0.0
    aux: Any = None


class Trace(NamedTuple):
    """Measurements of :meth:`Sampler.sample`.

    Attributes:
        energy: ``(n_meas, n_temps, n_chains)`` float32 energy per site.
        magnetization: ``(n_meas, n_temps, n_chains)`` float32 signed magnetization per site.
        sweeps_per_measurement: ``(n_temps,)`` float64 work between measurements, in sweeps.
        steps_per_measurement: updates between measurements (Metropolis and
            Swendsen-Wang: sweeps; Wolff: cluster flips).
        extra: sampler statistics (Wolff: ``"mean_cluster_size"`` ``(n_temps, n_chains)``;
            Swendsen-Wang: ``"n_clusters"``; parallel tempering: ``"swap_acceptance"``).
    """

    energy: jax.Array
    magnetization: jax.Array
    sweeps_per_measurement: np.ndarray
    steps_per_measurement: int
    extra: dict


def critical_temperature(model) -> float | None:
    """The critical temperature of a ferromagnetic Ising model at ``h = 0`` on a periodic
    lattice where one is known (square: Onsager; triangular: Houtappel), else None."""
    from qml_phys.physics.exact import onsager_tc
    from qml_phys.physics.models import IsingModel

    if not isinstance(model, IsingModel) or model.J <= 0 or model.h != 0.0:
        return None
    kind = model.lattice.kind
    if kind == "square":
        return onsager_tc(model.J)
    if kind == "triangular":
        return 4.0 * model.J / math.log(3.0)  # R. M. F. Houtappel, Physica 16, 425 (1950)
    return None


def _site_shape(model) -> tuple[int, ...]:
    lattice = getattr(model, "lattice", None)
    return tuple(lattice.shape) if lattice is not None else (int(model.n_sites),)


def _betas(temperatures) -> np.ndarray:
    t = np.atleast_1d(np.asarray(temperatures, dtype=object))
    if t.ndim != 1 or t.size == 0:
        raise ShapeError(
            f"expected temperatures as a scalar or a 1-d sequence; got shape {t.shape}"
        )
    return np.array([1.0 / check_temperature(x) for x in t])


@functools.partial(jax.jit, static_argnames=("shape", "start"))
def _initial_spins(key, ordered, *, shape, start):
    """Random spins of ``shape`` (all up for ``start="up"``); the chains of the temperatures
    where ``ordered`` holds start from an ordered state of random sign. One compiled call;
    returns ``(spins, next key)``."""
    k_spins, k_sign, k_next = jax.random.split(key, 3)
    up = (rng.bits(k_spins, shape, jnp.uint32) >> 31) == 1
    spins = jnp.where(up, 1, -1).astype(jnp.int8)
    if start == "up":
        return jnp.ones(shape, jnp.int8), k_next
    sign = rng.rademacher(k_sign, shape[:2] + (1,) * (len(shape) - 2), jnp.int8)
    mask = ordered.reshape((-1,) + (1,) * (len(shape) - 1))
    return jnp.where(mask, sign * jnp.ones_like(spins), spins).astype(jnp.int8), k_next


def _check_state(model, state: MCState) -> None:
    want = _site_shape(model)
    got = tuple(np.shape(state.spins))
    if got[2:] != want or len(got) != 2 + len(want) or got[0] != len(state.betas):
        raise ShapeError(
            f"sampler state: expected spins of shape (n_temps={len(state.betas)}, n_chains, "
            f"*{want}) for this model; got {got} (was the state made for another model?)"
        )


@dataclasses.dataclass(frozen=True)
class Sampler:
    """Base of the samplers (see the module docstring). Subclasses implement
    :meth:`_advance` (and may refine :meth:`init`)."""

    def init(
        self, model, temperatures, n_chains: int = 1, *, key: jax.Array, start: str = "auto"
    ) -> MCState:
        """A state of ``n_chains`` chains at every temperature (see ``start`` in the module
        docstring)."""
        betas = _betas(temperatures)
        n_chains = check_positive_int("n_chains", n_chains)
        if start not in STARTS:
            raise UnknownNameError(f"start: expected one of {STARTS}; got {start!r}")
        self.check_model(model)
        shape = (len(betas), n_chains, *_site_shape(model))
        from qml_phys.runtime.resources import check_memory

        # int8 spins, and up to ~16 bytes per spin of work arrays in the engines
        check_memory(f"sampling {math.prod(shape)} spins", 17.0 * math.prod(shape))
        tc = critical_temperature(model) if start == "auto" else None
        ordered = np.zeros(len(betas), bool) if tc is None else 1.0 / betas < tc
        spins, k_next = _initial_spins(key, jnp.asarray(ordered), shape=shape, start=start)
        return MCState(spins, betas, k_next)

    def check_model(self, model) -> None:
        """Raise a named error when this sampler cannot sample ``model``."""

    def sweep(self, model, state: MCState, *, n_sweeps: int) -> MCState:
        """Advance every chain by ``n_sweeps`` sweeps without measuring."""
        n_sweeps = check_positive_int("n_sweeps", n_sweeps, minimum=0)
        if n_sweeps == 0:
            return state
        _check_state(model, state)
        state, _ = self._advance(model, state, n_sweeps, 0)
        return state

    def sample(
        self, model, state: MCState, *, n_sweeps: int, measure_every: int = 1
    ) -> tuple[MCState, Trace]:
        """Advance by ``n_sweeps`` sweeps and measure every ``measure_every`` (which must
        divide ``n_sweeps``); the last measurement is of the returned state."""
        n_sweeps = check_positive_int("n_sweeps", n_sweeps)
        measure_every = check_positive_int("measure_every", measure_every)
        check_multiple("n_sweeps", n_sweeps, "measure_every", measure_every)
        _check_state(model, state)
        from qml_phys.runtime.resources import check_memory

        # the trace: energy and magnetization (float64) per measurement, chain and temperature
        n_meas = n_sweeps // measure_every
        check_memory(
            f"a trace of {n_meas} measurements of {state.spins.shape[0] * state.spins.shape[1]} "
            "chains",
            16.0 * n_meas * state.spins.shape[0] * state.spins.shape[1],
        )
        return self._advance(model, state, n_sweeps, measure_every)

    def _advance(self, model, state, n_sweeps, measure_every):  # pragma: no cover - abstract
        raise NotImplementedError


# ----------------------------------------------------------------------------- Metropolis
#: Engines of :class:`Metropolis`.
METROPOLIS_METHODS = ("auto", "packed", "general", "checkerboard", "random", "sequential")


def _square_torus(model) -> tuple[float, float] | None:
    """``(J, h)`` when ``model`` runs on the square-torus checkerboard engines, else None."""
    from qml_phys.physics.models import IsingModel

    if not isinstance(model, IsingModel):
        return None
    lat = model.lattice
    if lat.kind != "square" or not lat.pbc or lat.L % 2:
        return None
    return float(model.J), float(model.h)


@dataclasses.dataclass(frozen=True)
class Metropolis(Sampler):
    """Single-spin Metropolis (see the module docstring).

    Attributes:
        method: ``"auto"`` (the square-torus engines where they apply, packed when
            ``h = 0``; else ``"checkerboard"``), ``"packed"``, ``"general"`` (square torus,
            even ``L``), ``"checkerboard"``, ``"random"`` or ``"sequential"`` (any model).
    """

    method: str = "auto"

    def __post_init__(self):
        if self.method not in METROPOLIS_METHODS:
            raise UnknownNameError(
                f"method: expected one of {METROPOLIS_METHODS}; got {self.method!r}"
            )

    def engine(self, model) -> str:
        """The engine that samples ``model``: a method of :mod:`.metropolis` (``"packed"``,
        ``"general"``) or an order of :mod:`.graph_metropolis`."""
        torus = _square_torus(model)
        if self.method in ("packed", "general"):
            if torus is None:
                raise InvalidParameterError(
                    f"method={self.method!r} runs on the periodic square lattice with even L; "
                    f"got {getattr(model, 'lattice', type(model).__name__)} (use "
                    "method='checkerboard')"
                )
            return self.method
        if self.method == "auto":
            if torus is None:
                return "checkerboard"
            return "packed" if torus[1] == 0.0 and torus[0] != 0.0 else "general"
        return self.method

    def check_model(self, model) -> None:
        """Any diagonal model; the square-torus methods need that lattice."""
        self.engine(model)

    def _advance(self, model, state, n_sweeps, measure_every):
        from qml_phys.classical import graph_metropolis, metropolis

        engine = self.engine(model)
        key, k_next = jax.random.split(state.key)
        if engine in ("packed", "general"):
            J, h = _square_torus(model)
            if measure_every:
                spins, tr = metropolis.run(
                    key,
                    state.spins,
                    state.betas,
                    n_sweeps=n_sweeps,
                    measure_every=measure_every,
                    J=J,
                    h=h,
                    method=engine,
                )
                e, m = tr.energy, tr.magnetization
            else:
                spins = metropolis.sweep(
                    key, state.spins, state.betas, n_sweeps=n_sweeps, J=J, h=h, method=engine
                )
        else:
            tables = _tables(model)
            flat = state.spins.reshape(state.spins.shape[:2] + (-1,))
            flat, e, m = graph_metropolis.sweeps(
                key,
                flat,
                state.betas,
                tables,
                n_sweeps=n_sweeps,
                measure_every=measure_every,
                order=engine,
            )
            spins = flat.reshape(state.spins.shape)
        new = state._replace(spins=spins, key=k_next, sweeps=state.sweeps + n_sweeps)
        if not measure_every:
            return new, None
        per = np.full(len(state.betas), float(measure_every))
        return new, Trace(e, m, per, measure_every, {})


def _tables(model):
    from qml_phys.classical import graph_metropolis

    return graph_metropolis.tables(graph_metropolis.ising_problem(model))


# ----------------------------------------------------------------------------- clusters
def _check_cluster_model(model, name: str) -> None:
    from qml_phys.classical.cluster import _resolve

    lattice = getattr(model, "lattice", None)
    if lattice is None or lattice.kind not in ("chain", "square"):
        raise InvalidParameterError(
            f"{name} runs on chains and square lattices; got "
            f"{lattice if lattice is not None else type(model).__name__}"
        )
    _resolve(model, None, None)  # ferromagnet, h = 0, no transverse field


def _cluster_measure(model, state, algorithm: str, backend: str, n_meas: int, steps: int):
    """``(energy, magnetization, per-update statistic, spins, next key)`` of ``n_meas``
    measurements ``steps`` cluster updates apart (:func:`.cluster.measure`)."""
    from qml_phys.classical.cluster import measure

    key, k_next = jax.random.split(state.key)
    e, m, stat, spins = measure(
        key,
        state.spins,
        state.betas,
        model=model,
        n_meas=n_meas,
        steps_per_meas=steps,
        algorithm=algorithm,
        backend=backend,
    )
    return e, m, stat, spins, k_next


@dataclasses.dataclass(frozen=True)
class Wolff(Sampler):
    """Wolff single-cluster updates (U. Wolff, PRL 62, 361 (1989)).

    A *sweep* is the number of cluster flips that flips ``N`` spins on average: the
    sampler keeps a running mean of the cluster size per temperature in ``state.aux``
    (calibrated by ``pilot_steps`` flips the first time it is needed) and uses the median
    over temperatures, since all temperatures advance by the same number of flips.

    Attributes:
        backend: ``"auto"``, ``"jax"`` or ``"numba"`` (see :mod:`.cluster`).
        pilot_steps: cluster flips that calibrate the cluster size (and thermalise).
    """

    backend: str = "auto"
    pilot_steps: int = 50

    def check_model(self, model) -> None:
        """A ferromagnetic Ising model at ``h = 0`` on a chain or square lattice."""
        _check_cluster_model(model, "Wolff")

    def _calibrated(self, model, state):
        if state.aux is not None:
            return state
        _, _, size, spins, k_next = _cluster_measure(
            model, state, "wolff", self.backend, 1, self.pilot_steps
        )
        n = model.lattice.n_sites
        work = float(np.asarray(size, np.float64).mean(axis=1).mean()) * self.pilot_steps / n
        aux = np.asarray(size, np.float64).mean(axis=1)
        return state._replace(spins=spins, key=k_next, sweeps=state.sweeps + work, aux=aux)

    def _advance(self, model, state, n_sweeps, measure_every):
        state = self._calibrated(model, state)
        n = model.lattice.n_sites
        typical = float(np.median(state.aux))
        every = measure_every or n_sweeps
        steps = max(1, round(every * n / typical))
        n_meas = n_sweeps // every
        e, m, size, spins, k_next = _cluster_measure(
            model, state, "wolff", self.backend, n_meas, steps
        )
        mean_size = np.asarray(size, np.float64).mean(axis=1)
        sweeps_per = steps * mean_size / n
        new = MCState(
            spins,
            state.betas,
            k_next,
            state.sweeps + float(np.mean(sweeps_per)) * n_meas,
            mean_size,
        )
        if not measure_every:
            return new, None
        return new, Trace(e, m, sweeps_per, steps, {"mean_cluster_size": size})


@dataclasses.dataclass(frozen=True)
class SwendsenWang(Sampler):
    """Swendsen-Wang multi-cluster updates (R. H. Swendsen and J.-S. Wang, PRL 58, 86
    (1987)); one update (every bond drawn, every cluster flipped with probability 1/2) is a
    sweep.

    Attributes:
        backend: ``"auto"``, ``"jax"`` or ``"numba"`` (see :mod:`.cluster`).
    """

    backend: str = "auto"

    def check_model(self, model) -> None:
        """A ferromagnetic Ising model at ``h = 0`` on a chain or square lattice."""
        _check_cluster_model(model, "Swendsen-Wang")

    def _advance(self, model, state, n_sweeps, measure_every):
        every = measure_every or n_sweeps
        e, m, n_clusters, spins, k_next = _cluster_measure(
            model, state, "swendsen_wang", self.backend, n_sweeps // every, every
        )
        new = state._replace(spins=spins, key=k_next, sweeps=state.sweeps + n_sweeps)
        if not measure_every:
            return new, None
        per = np.full(len(state.betas), float(every))
        return new, Trace(e, m, per, every, {"n_clusters": n_clusters})


# ----------------------------------------------------------------------------- tempering
@dataclasses.dataclass(frozen=True)
class ParallelTempering(Sampler):
    """Replica exchange between the temperatures of the state (see
    :mod:`~qml_phys.classical.tempering`): after every single-spin sweep of every replica,
    neighbouring temperatures swap configurations with probability
    :math:`\\min(1, e^{(\\beta_k - \\beta_{k+1})(E_k - E_{k+1})})`. Temperatures must
    increase strictly.

    Attributes:
        order: the single-spin sweep (an order of :mod:`.graph_metropolis`).
    """

    order: str = "random"

    def __post_init__(self):
        from qml_phys.classical.graph_metropolis import ORDERS

        check_name("order", self.order, ORDERS)

    def init(self, model, temperatures, n_chains=1, *, key, start="auto"):
        """As :meth:`Sampler.init`; at least two strictly increasing temperatures."""
        betas = _betas(temperatures)
        if betas.size < 2:
            raise ShapeError(
                f"expected at least 2 temperatures as a 1-d sequence; got shape {betas.shape}"
            )
        if np.any(np.diff(1.0 / betas) <= 0):
            raise InvalidParameterError(
                f"expected strictly increasing temperatures; got {(1.0 / betas).tolist()}"
            )
        return super().init(model, temperatures, n_chains, key=key, start=start)

    def _advance(self, model, state, n_sweeps, measure_every):
        from qml_phys.classical.graph_metropolis import tempering_sweeps

        tables = _tables(model)
        flat = state.spins.reshape(state.spins.shape[:2] + (-1,))
        key, k_next = jax.random.split(state.key)
        every = measure_every or n_sweeps
        out = tempering_sweeps(
            key,
            flat,
            state.betas,
            tables,
            n_meas=n_sweeps // every,
            measure_every=every,
            order=self.order,
            start=int(state.sweeps),
        )
        n = flat.shape[-1]
        spins = out["spins"].reshape(state.spins.shape)
        new = state._replace(spins=spins, key=k_next, sweeps=state.sweeps + n_sweeps)
        if not measure_every:
            return new, None
        per = np.full(len(state.betas), float(every))
        extra = {
            "swap_acceptance": out["swap_acceptance"],
            "best_energy": out["best_energy"],
            "best_spins": out["best_spins"],
        }
        return new, Trace(out["energy"] / n, out["magnetization"], per, every, extra)


# ----------------------------------------------------------------------------- by name
#: Sampler names accepted by :func:`make_sampler` (the command line's ``--algorithm``).
ALGORITHMS = ("metropolis", "wolff", "swendsen-wang", "parallel-tempering")


def make_sampler(name: str, **options) -> Sampler:
    """The sampler called ``name`` (``swendsen_wang`` and ``sw`` are accepted), with its
    options (e.g. ``make_sampler("metropolis", method="general")``)."""
    norm = str(name).strip().lower().replace("_", "-")
    norm = {"sw": "swendsen-wang", "pt": "parallel-tempering"}.get(norm, norm)
    classes = {
        "metropolis": Metropolis,
        "wolff": Wolff,
        "swendsen-wang": SwendsenWang,
        "parallel-tempering": ParallelTempering,
    }
    if norm not in classes:
        raise UnknownNameError(f"unknown algorithm {name!r}; expected one of {list(ALGORITHMS)}")
    return classes[norm](**options)
