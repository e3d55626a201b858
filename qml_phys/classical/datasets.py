r"""Labelled Ising datasets with provenance: decorrelated configurations in HDF5.

:func:`write_dataset` samples the 2D Ising model on a grid of sizes and temperatures and
writes, for every configuration, its spins, temperature, energy, magnetization and the
label ``T < T_c`` (Onsager's ``T_c``), plus per-temperature provenance: algorithm, key,
thermalisation, measured ``tau_int`` of ``e`` and ``|m|``, the spacing between stored
samples, the Metropolis acceptance rate or the mean Wolff cluster size.

Sampling: each ``(L, T)`` block runs ``n_chains`` independent chains; a pilot run
thermalises them and measures ``tau_int`` (Sokal convention, in sweeps); stored samples
are then ``spacing = ceil(2 * max(tau_e, tau_|m|))`` sweeps apart, so they are
effectively independent. Near ``T_c`` (``0.8 T_c < T < 1.25 T_c``) the Wolff cluster
algorithm is used, where Metropolis slows down critically; elsewhere Metropolis.

Resumable and atomic: finished blocks go to ``<out>.parts/`` (each written atomically),
and the final file is assembled into a temporary file and moved into place only when
every block is done. An interrupted run continues where it stopped; an output file that
exists with different parameters is never overwritten.

Layout of the file::

    /attrs: config (JSON), provenance (JSON), complete = True
    /L16/spins          (n_T * n_samples, 16, 16) int8 in {-1, +1}
    /L16/T, energy, magnetization        float64 per sample (per-site energy, magnetization)
    /L16/label          int8 per sample: 1 if T < T_c (ordered) else 0
    /L16/temperatures   (n_T,) float64
    /L16/provenance/<field>   (n_T,) arrays: algorithm, key (n_T, 2), n_therm, tau_int_energy,
                              tau_int_abs_m, spacing, acceptance, mean_cluster_size
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from qml_phys.classical.samplers import make_sampler
from qml_phys.errors import (
    CorruptDataError,
    ExistingDataError,
    InvalidParameterError,
    check_positive_int,
    check_temperature,
)
from qml_phys.physics.exact import onsager_tc
from qml_phys.runtime.locks import exclusive, remove_orphans
from qml_phys.runtime.progress import progress
from qml_phys.runtime.records import atomic_path, provenance, write_arrays, write_json
from qml_phys.stats.timeseries import integrated_time

FORMAT_VERSION = 2
_PROV_FIELDS = (
    "algorithm",
    "key",
    "n_therm",
    "tau_int_energy",
    "tau_int_abs_m",
    "spacing",
    "acceptance",
    "mean_cluster_size",
)


@dataclasses.dataclass(frozen=True)
class DatasetConfig:
    """What a dataset holds: configurations of the ``L x L`` torus on a grid of sizes and
    temperatures.

    Attributes:
        sizes: linear sizes ``L`` (even for Metropolis).
        temperatures: temperatures (units of ``J``).
        n_samples: configurations per ``(L, T)``.
        J: coupling (``J > 0`` ferromagnetic).
        algorithm: ``"auto"`` (Wolff within ``0.8 T_c < T < 1.25 T_c``, else Metropolis),
            ``"metropolis"``, ``"wolff"`` or ``"swendsen-wang"``.
        n_chains: independent chains per ``(L, T)``.
    """

    sizes: tuple[int, ...]
    temperatures: tuple[float, ...]
    n_samples: int
    J: float = 1.0
    algorithm: str = "auto"
    n_chains: int = 32

    def __post_init__(self):
        sizes = tuple(check_positive_int("L", L, minimum=2) for L in self.sizes)
        temps = tuple(check_temperature(t) for t in self.temperatures)
        if not sizes or not temps:
            raise InvalidParameterError("expected at least one size and one temperature; got none")
        algorithm = self.algorithm
        if algorithm != "auto":
            from qml_phys.classical.simulate import check_algorithm

            algorithm = check_algorithm(algorithm)
        bad = [L for L in sizes if L % 2 and algorithm in ("auto", "metropolis")]
        if bad:
            raise InvalidParameterError(
                f"checkerboard Metropolis needs even L; got L={bad[0]} (use --algorithm wolff)"
            )
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "temperatures", temps)
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "n_samples", check_positive_int("n_samples", self.n_samples))
        object.__setattr__(self, "n_chains", check_positive_int("n_chains", self.n_chains))


def choose_algorithm(T: float, J: float = 1.0) -> str:
    """Wolff within ``0.8 T_c < T < 1.25 T_c`` (critical slowing down), else Metropolis."""
    tc = onsager_tc(abs(J))
    return "wolff" if 0.8 * tc < T < 1.25 * tc else "metropolis"


def energy_magnetization(spins: np.ndarray, J: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Energy and magnetization per site of square-torus configurations ``(..., L, L)``."""
    s = spins.astype(np.float64)
    bonds = s * np.roll(s, -1, axis=-1) + s * np.roll(s, -1, axis=-2)
    n = s.shape[-1] * s.shape[-2]
    return -J * bonds.sum(axis=(-1, -2)) / n, s.sum(axis=(-1, -2)) / n


def sample_block(
    L: int,
    T: float,
    n_samples: int,
    *,
    key: jax.Array,
    J: float = 1.0,
    n_chains: int = 32,
    algorithm: str = "auto",
    n_pilot: int = 1000,
) -> dict:
    """Decorrelated configurations at one ``(L, T)``; returns arrays and provenance.

    ``n_chains`` chains of the sampler ``algorithm`` (:mod:`~qml_phys.classical.samplers`;
    ``"auto"``: :func:`choose_algorithm`) thermalise for ``n_pilot`` sweeps, then a pilot
    of ``n_pilot`` measured sweeps gives ``tau_int`` of ``e`` and ``|m|``; samples are then
    stored ``ceil(2 tau)`` sweeps apart."""
    from qml_phys.physics import IsingModel, Lattice

    algorithm = choose_algorithm(T, J) if algorithm == "auto" else algorithm
    n_chains = min(n_chains, n_samples)
    model = IsingModel(Lattice.square(L), J=J)
    sampler = make_sampler(algorithm)
    state = sampler.init(model, [T], n_chains, key=key)  # the state carries the key on
    state = sampler.sweep(model, state, n_sweeps=n_pilot)
    state, pilot = sampler.sample(model, state, n_sweeps=n_pilot)
    energy = np.asarray(pilot.energy, np.float64)[:, 0, :].T
    magnetization = np.asarray(pilot.magnetization, np.float64)[:, 0, :].T
    per = float(pilot.sweeps_per_measurement[0])
    tau_e = integrated_time(energy, warn=False).tau_int
    tau_m = integrated_time(np.abs(magnetization), warn=False).tau_int
    spacing = max(1, math.ceil(2.0 * max(tau_e, tau_m) * per))  # in sweeps
    acceptance, cluster_size = float("nan"), float("nan")
    if algorithm == "metropolis":
        before = np.asarray(state.spins)
        state = sampler.sweep(model, state, n_sweeps=1)
        acceptance = float(np.mean(np.asarray(state.spins) != before))  # each site tried once
    elif algorithm == "wolff":
        cluster_size = float(np.mean(pilot.extra["mean_cluster_size"]))
    out = []
    for _ in range(math.ceil(n_samples / n_chains)):
        state = sampler.sweep(model, state, n_sweeps=spacing)
        out.append(np.asarray(state.spins)[0])
    configs = np.concatenate(out, axis=0)[:n_samples].astype(np.int8)
    e, m = energy_magnetization(configs, J)
    return {
        "spins": configs,
        "T": np.full(n_samples, T),
        "energy": e,
        "magnetization": m,
        "label": (np.full(n_samples, T < onsager_tc(abs(J)))).astype(np.int8),
        "prov": {
            "algorithm": algorithm,
            "key": _key_data(key),
            "n_therm": 2 * n_pilot,
            "tau_int_energy": tau_e * per,
            "tau_int_abs_m": tau_m * per,
            "spacing": spacing,
            "acceptance": acceptance,
            "mean_cluster_size": cluster_size,
        },
    }


def _key_data(key: jax.Array) -> list[int]:
    """A key's raw data as a JSON list (what identifies the stream in a record)."""
    return [int(x) for x in np.asarray(jax.random.key_data(key)).reshape(-1)]


def _block_key(key: jax.Array, L: int, i_T: int) -> jax.Array:
    return jax.random.fold_in(jax.random.fold_in(key, L), i_T)


def _config(config: DatasetConfig, key: jax.Array) -> dict:
    return {
        "format": FORMAT_VERSION,
        "sizes": [int(L) for L in config.sizes],
        "temperatures": [float(t) for t in config.temperatures],
        "n_samples": int(config.n_samples),
        "key": _key_data(key),
        "J": float(config.J),
        "algorithm": config.algorithm,
    }


def _differences(old: dict, new: dict) -> str:
    keys = sorted(set(old) | set(new))
    return ", ".join(
        f"{k}: file has {old.get(k)!r}, asked {new.get(k)!r}"
        for k in keys
        if old.get(k) != new.get(k)
    )


def read_config(path: str | os.PathLike) -> dict | None:
    """The config stored in a complete dataset file (None if the file is not one)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return json.loads(f.attrs["config"]) if f.attrs.get("complete") else None
    except (OSError, KeyError):
        return None


def write_dataset(
    path: str | os.PathLike,
    config: DatasetConfig,
    *,
    key: jax.Array,
    show_progress: bool | None = None,
) -> dict:
    """Write (or resume, or find complete) the labelled dataset ``config`` describes.

    Args:
        path: the ``.h5`` file; its blocks go to ``<path>.parts/`` until it is complete.
        config: sizes, temperatures, samples per point, coupling, algorithm, chains.
        key: PRNG key; each ``(L, T)`` block draws from ``fold_in(fold_in(key, L), i_T)``,
            so a resumed run writes the same blocks as an uninterrupted one. Its raw data
            is recorded in the file's config.
        show_progress: a progress bar on stderr (default: unless ``QML_PHYS_NO_PROGRESS``).

    Returns:
        ``{"path", "status", "config"}`` and, when written, ``"blocks"`` and
        ``"resumed_blocks"``.
    """
    from qml_phys.runtime.resources import check_disk

    path = Path(path)
    cfg = _config(config, key)
    # int8 spins of every (L, T) block, before compression (kept as parts until complete)
    sites = sum(L * L for L in config.sizes)
    check_disk(
        path,
        float(config.n_samples) * len(config.temperatures) * sites,
        f"a dataset of {config.n_samples} configurations per (L, T)",
    )
    with exclusive(path):  # a second writer of this path stops with a BusyError
        return _write_locked(path, config, cfg, key, show_progress)


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _block_ok(block: Path, expected: dict, digest: str | None) -> bool:
    """A finished block counts only if its checksum is the manifest's and the config in its
    own provenance is this run's (a block left by a run with other parameters is redone)."""
    from qml_phys.runtime.records import read_arrays

    if digest is None or _sha256(block) != digest:
        return False
    try:
        _, prov = read_arrays(block)
    except (OSError, ValueError, KeyError):
        return False
    return prov.get("config") == json.loads(json.dumps(expected))


def _write_locked(path: Path, config: DatasetConfig, cfg: dict, key, show_progress) -> dict:
    sizes, temps, n_samples = config.sizes, config.temperatures, config.n_samples
    J, algorithm, n_chains = config.J, config.algorithm, config.n_chains
    if path.exists():
        old = read_config(path)
        if old is None:
            raise ExistingDataError(
                f"{path} exists and is not a complete qml_phys dataset; expected a new path "
                "or a dataset written with the same parameters; nothing was overwritten"
            )
        if old != cfg:
            raise ExistingDataError(
                f"{path} exists with different parameters ({_differences(old, cfg)}); "
                "choose another --out; nothing was overwritten"
            )
        return {"path": str(path), "status": "complete (already there)", "config": cfg}
    parts = path.with_name(path.name + ".parts")
    manifest = parts / "manifest.json"
    checksums: dict[str, str] = {}
    if manifest.exists():
        record = json.loads(manifest.read_text())
        old = record["config"]
        if old != cfg:
            raise ExistingDataError(
                f"{parts} holds an interrupted run with different parameters "
                f"({_differences(old, cfg)}); remove it or use the same parameters"
            )
        checksums = dict(record.get("checksums", {}))
    remove_orphans(parts)  # temporary files of a write that was killed
    blocks = [(L, i, T) for L in sizes for i, T in enumerate(temps)]
    todo = []
    for L, i, T in blocks:
        name = f"L{L}_T{i:04d}.h5"
        f = parts / name
        if f.exists() and _block_ok(f, cfg | {"L": L, "T": T}, checksums.get(name)):
            continue
        f.unlink(missing_ok=True)
        checksums.pop(name, None)
        todo.append((L, i, T))
    write_json(manifest, {"config": cfg, "checksums": checksums})
    resumed = len(blocks) - len(todo)
    disable = None if show_progress is None else not show_progress
    for L, i, T in progress(todo, desc=f"dataset {path.name}", disable=disable):
        block = sample_block(
            L,
            T,
            n_samples,
            key=_block_key(key, L, i),
            J=J,
            n_chains=n_chains,
            algorithm=algorithm,
        )
        prov = block.pop("prov")
        name = f"L{L}_T{i:04d}.h5"
        write_arrays(
            parts / name,
            block | {"prov": np.bytes_(json.dumps(prov))},
            config=cfg | {"L": L, "T": T},
        )
        checksums[name] = _sha256(parts / name)
        write_json(manifest, {"config": cfg, "checksums": checksums})
    _assemble(path, parts, cfg, sizes, temps)
    shutil.rmtree(parts)
    return {
        "path": str(path),
        "status": "written",
        "blocks": len(blocks),
        "resumed_blocks": resumed,
        "config": cfg,
    }


def _assemble(path: Path, parts: Path, config: dict, sizes, temps) -> None:
    import h5py

    with atomic_path(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as out:
        out.attrs["config"] = json.dumps(config)
        out.attrs["provenance"] = json.dumps(provenance(config))
        for L in sizes:
            g = out.create_group(f"L{L}")
            cols: dict[str, list] = {
                k: [] for k in ("spins", "T", "energy", "magnetization", "label")
            }
            prov: dict[str, list] = {k: [] for k in _PROV_FIELDS}
            for i in range(len(temps)):
                with h5py.File(parts / f"L{L}_T{i:04d}.h5", "r") as f:
                    for k in cols:
                        cols[k].append(f[k][()])
                    p = json.loads(f["prov"][()])
                for k in _PROV_FIELDS:
                    prov[k].append(p[k])
            for k, v in cols.items():  # fletcher32: a damaged block fails its checksum on read
                g.create_dataset(
                    k,
                    data=np.concatenate(v),
                    compression="gzip" if k == "spins" else None,
                    fletcher32=True,
                )
            g.create_dataset("temperatures", data=np.asarray(temps, np.float64))
            pg = g.create_group("provenance")
            for k, v in prov.items():
                pg.create_dataset(k, data=np.asarray(v, dtype="S" if k == "algorithm" else None))
        out.attrs["complete"] = True


class IsingData(NamedTuple):
    """One lattice size of a dataset, as numpy arrays (see the module docstring)."""

    spins: np.ndarray
    T: np.ndarray
    energy: np.ndarray
    magnetization: np.ndarray
    label: np.ndarray
    temperatures: np.ndarray
    provenance: dict


def sizes_in(path: str | os.PathLike) -> list[int]:
    """Lattice sizes stored in a dataset file."""
    cfg = read_config(path)
    if cfg is None:
        raise InvalidParameterError(f"expected a complete qml_phys dataset; got {str(path)!r}")
    return cfg["sizes"]


def load_dataset(path: str | os.PathLike, L: int | None = None) -> IsingData:
    """Load one lattice size (the only one, or ``L``) of a dataset into memory.

    The data are checked as they are read: every array against its HDF5 checksum, and the
    file against itself (spins in {-1, +1}, every ``T`` one of the stored temperatures, the
    labels ``T < T_c``, the stored energies and magnetizations those of the spins). A file
    that fails any check raises :class:`~qml_phys.errors.CorruptDataError` naming it.
    """
    import h5py

    sizes = sizes_in(path)
    if L is None:
        if len(sizes) != 1:
            raise InvalidParameterError(f"the file holds sizes {sizes}; expected L= one of them")
        L = sizes[0]
    if L not in sizes:
        raise InvalidParameterError(f"expected L in {sizes}; got L={L}")
    try:
        with h5py.File(path, "r") as f:
            g = f[f"L{L}"]
            prov = {k: g["provenance"][k][()] for k in g["provenance"]}
            prov["algorithm"] = [a.decode() for a in prov["algorithm"]]
            data = IsingData(
                g["spins"][()],
                g["T"][()],
                g["energy"][()],
                g["magnetization"][()],
                g["label"][()],
                g["temperatures"][()],
                prov,
            )
            J = json.loads(f.attrs["config"]).get("J", 1.0)
    except (OSError, KeyError, ValueError) as err:
        raise CorruptDataError(
            f"{path}: cannot read the L={L} data ({err}); the file is damaged or not a "
            "qml_phys dataset; write it again"
        ) from None
    _check_consistent(path, data, J)
    return data


def _check_consistent(path, d: IsingData, J: float) -> None:
    n = len(d.spins)
    problems = []
    if not (len(d.T) == len(d.energy) == len(d.magnetization) == len(d.label) == n):
        problems.append("columns of different lengths")
    elif not np.all(np.abs(d.spins) == 1):
        problems.append("spins other than -1 and +1")
    else:
        if not np.all(np.isin(d.T, d.temperatures)):
            problems.append("temperatures that are not among the stored ones")
        if not np.array_equal(d.label, (d.T < onsager_tc(abs(J))).astype(d.label.dtype)):
            problems.append("labels that disagree with T < T_c")
        e, m = energy_magnetization(d.spins, J)
        if not (np.allclose(e, d.energy, atol=1e-9) and np.allclose(m, d.magnetization, atol=1e-9)):
            problems.append("energies or magnetizations that are not those of the spins")
    if problems:
        raise CorruptDataError(
            f"{path}: the data are inconsistent ({'; '.join(problems)}); the file is damaged; "
            "write it again"
        )


def batches(
    data: IsingData,
    batch_size: int,
    *,
    rng: np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Iterate ``(spins, label, T)`` minibatches over one epoch: shuffled by ``rng`` (a
    ``numpy.random.Generator``), in file order when ``rng`` is None."""
    batch_size = check_positive_int("batch_size", batch_size)
    n = len(data.spins)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = np.sort(order[start : start + batch_size])
        yield data.spins[idx], data.label[idx], data.T[idx]


def spins_at(data, T: float | None, *, name: str = "T") -> tuple[np.ndarray, float | None]:
    """The configurations of ``data`` at the stored temperature ``T`` (all when None).

    Raises InvalidParameterError naming the stored temperatures when ``T`` is not one of
    them (within 1e-6).
    """
    if T is None:
        return data.spins, None
    temps = np.asarray(data.temperatures, np.float64)
    i = int(np.argmin(np.abs(temps - T)))
    if abs(temps[i] - T) > 1e-6:
        shown = ", ".join(f"{t:.6g}" for t in temps)
        raise InvalidParameterError(
            f"expected {name} to be one of the dataset's temperatures ({shown}); got {T:g}"
        )
    return data.spins[np.isclose(data.T, temps[i])], float(temps[i])


@dataclasses.dataclass(frozen=True)
class SnapshotConfig:
    """How :func:`snapshots` draws configurations.

    Attributes:
        n_therm: thermalisation sweeps.
        spacing: sweeps between stored configurations (fixed: *not* tau-spaced, so samples
            near ``T_c`` are correlated; :func:`write_dataset` decorrelates).
        n_chains: chains per temperature (each stores ``ceil(n_samples / n_chains)``).
    """

    n_therm: int = 500
    spacing: int = 10
    n_chains: int = 20

    def __post_init__(self):
        object.__setattr__(self, "n_therm", check_positive_int("n_therm", self.n_therm, minimum=0))
        object.__setattr__(self, "spacing", check_positive_int("spacing", self.spacing))
        object.__setattr__(self, "n_chains", check_positive_int("n_chains", self.n_chains))


def snapshots(
    model, temperatures, n_samples: int, config: SnapshotConfig = SnapshotConfig(), *, key
) -> tuple[np.ndarray, np.ndarray]:
    """Configurations of ``model`` at every temperature from one vectorised Metropolis run
    (:class:`~qml_phys.classical.samplers.Metropolis`; chains start ordered below ``T_c``).

    Returns ``(spins, T)``: ``(n_T * n_samples, *site_shape)`` int8 and ``(n_T *
    n_samples,)``, temperature by temperature."""
    temps = np.atleast_1d(np.asarray(temperatures, np.float64))
    n_samples = check_positive_int("n_samples", n_samples)
    n_chains = min(config.n_chains, n_samples)
    sampler = make_sampler("metropolis")
    state = sampler.init(model, temps, n_chains, key=key)
    state = sampler.sweep(model, state, n_sweeps=config.n_therm)
    snaps = []
    for _ in range(math.ceil(n_samples / n_chains)):
        state = sampler.sweep(model, state, n_sweeps=config.spacing)
        snaps.append(np.asarray(state.spins))
    spins = np.concatenate(snaps, axis=1)[:, :n_samples]
    shape = spins.shape[2:]
    return spins.reshape((-1, *shape)).astype(np.int8), np.repeat(temps, n_samples)


def quick_dataset(
    sizes, temperatures, n_samples: int, config: SnapshotConfig = SnapshotConfig(), *, key
) -> dict[int, IsingData]:
    """``{L: IsingData}`` of the ferromagnet on the ``L x L`` torus from :func:`snapshots`:
    a cheap stand-in for :func:`write_dataset` in the tour and quick checks (samples
    ``spacing`` sweeps apart are *not* decorrelated near ``T_c``; use the writer for
    results)."""
    from qml_phys.physics import IsingModel, Lattice

    temps = np.asarray(temperatures, np.float64)
    out = {}
    for L, k in zip(sizes, jax.random.split(key, len(sizes)), strict=True):
        spins, T = snapshots(IsingModel(Lattice.square(int(L))), temps, n_samples, config, key=k)
        e, m = energy_magnetization(spins, 1.0)
        label = (T < onsager_tc()).astype(np.int8)
        out[int(L)] = IsingData(spins, T, e, m, label, temps, {})
    return out
