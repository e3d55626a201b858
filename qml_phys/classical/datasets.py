r"""Labelled Ising datasets with provenance: decorrelated configurations in HDF5.

:func:`write_dataset` samples the 2D Ising model on a grid of sizes and temperatures and
writes, for every configuration, its spins, temperature, energy, magnetization and the
label ``T < T_c`` (Onsager's ``T_c``), plus per-temperature provenance: algorithm, seed,
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
    /L16/provenance/<field>   (n_T,) arrays: algorithm, seed, n_therm, tau_int_energy,
                              tau_int_abs_m, spacing, acceptance, mean_cluster_size
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from qml_phys.classical import cluster, metropolis
from qml_phys.classical.simulate import simulate
from qml_phys.classical.statistics import integrated_time
from qml_phys.errors import (
    ExistingDataError,
    InvalidParameterError,
    check_positive_int,
    check_temperature,
)
from qml_phys.physics.exact import onsager_tc
from qml_phys.runtime.progress import progress
from qml_phys.runtime.records import atomic_path, provenance, write_arrays, write_json

FORMAT_VERSION = 1
_PROV_FIELDS = (
    "algorithm",
    "seed",
    "n_therm",
    "tau_int_energy",
    "tau_int_abs_m",
    "spacing",
    "acceptance",
    "mean_cluster_size",
)


def choose_algorithm(T: float, J: float = 1.0) -> str:
    """Wolff within ``0.8 T_c < T < 1.25 T_c`` (critical slowing down), else Metropolis."""
    tc = onsager_tc(abs(J))
    return "wolff" if 0.8 * tc < T < 1.25 * tc else "metropolis"


def _energy_magnetization(spins: np.ndarray, J: float) -> tuple[np.ndarray, np.ndarray]:
    s = spins.astype(np.float64)
    bonds = s * np.roll(s, -1, axis=-1) + s * np.roll(s, -1, axis=-2)
    n = s.shape[-1] * s.shape[-2]
    return -J * bonds.sum(axis=(-1, -2)) / n, s.sum(axis=(-1, -2)) / n


def sample_block(
    L: int,
    T: float,
    n_samples: int,
    *,
    seed: int,
    J: float = 1.0,
    n_chains: int = 32,
    algorithm: str = "auto",
    n_pilot: int = 1000,
) -> dict:
    """Decorrelated configurations at one ``(L, T)``; returns arrays and provenance."""
    algorithm = choose_algorithm(T, J) if algorithm == "auto" else algorithm
    n_chains = min(n_chains, n_samples)
    key = jax.random.key(seed)
    k_pilot, k_acc, k_prod = jax.random.split(key, 3)
    pilot = simulate(
        L,
        T,
        algorithm=algorithm,
        n_sweeps=n_pilot,
        n_therm=n_pilot,
        n_chains=n_chains,
        key=k_pilot,
        J=J,
    )
    tau_e = integrated_time(pilot.energy, warn=False).tau_int
    tau_m = integrated_time(np.abs(pilot.magnetization), warn=False).tau_int
    tau = max(tau_e, tau_m) * pilot.sweeps_per_measurement  # in sweeps
    spacing = max(1, math.ceil(2.0 * tau))
    spins = np.asarray(pilot.spins)[None]  # (1, n_chains, L, L)
    beta = np.array([1.0 / T])
    acceptance, cluster_size = float("nan"), float("nan")
    lattice = None
    if algorithm == "metropolis":
        after = metropolis.sweep(k_acc, spins, beta, n_sweeps=1, J=J)
        acceptance = float(np.mean(np.asarray(after) != spins))  # each site tried once
        spins = after
        steps = spacing
    else:
        from qml_phys.physics import Lattice

        lattice = Lattice.square(L)
        cluster_size = pilot.sweeps_per_measurement * L * L / pilot.steps_per_measurement
        steps = max(1, math.ceil(spacing * L * L / cluster_size))
    per_chain = math.ceil(n_samples / n_chains)
    out = []
    for k in jax.random.split(k_prod, per_chain):
        if algorithm == "metropolis":
            spins = metropolis.sweep(k, spins, beta, n_sweeps=steps, J=J)
        elif algorithm == "wolff":
            _, spins = cluster.wolff(k, spins, beta, lattice=lattice, n_steps=steps, J=J)
        else:
            _, spins = cluster.swendsen_wang(k, spins, beta, lattice=lattice, n_sweeps=steps, J=J)
        out.append(np.asarray(spins)[0])
    configs = np.concatenate(out, axis=0)[:n_samples].astype(np.int8)
    e, m = _energy_magnetization(configs, J)
    return {
        "spins": configs,
        "T": np.full(n_samples, T),
        "energy": e,
        "magnetization": m,
        "label": (np.full(n_samples, T < onsager_tc(abs(J)))).astype(np.int8),
        "prov": {
            "algorithm": algorithm,
            "seed": seed,
            "n_therm": 2 * n_pilot,
            "tau_int_energy": tau_e * pilot.sweeps_per_measurement,
            "tau_int_abs_m": tau_m * pilot.sweeps_per_measurement,
            "spacing": spacing,
            "acceptance": acceptance,
            "mean_cluster_size": cluster_size,
        },
    }


def _block_seed(seed: int, L: int, i_T: int) -> int:
    return int(np.random.SeedSequence([seed, L, i_T]).generate_state(1)[0])


def _config(sizes, temperatures, n_samples, seed, J, algorithm) -> dict:
    return {
        "format": FORMAT_VERSION,
        "sizes": [int(L) for L in sizes],
        "temperatures": [float(t) for t in temperatures],
        "n_samples": int(n_samples),
        "seed": int(seed),
        "J": float(J),
        "algorithm": algorithm,
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
    *,
    sizes: Sequence[int],
    temperatures: Sequence[float],
    n_samples: int,
    seed: int = 0,
    J: float = 1.0,
    algorithm: str = "auto",
    n_chains: int = 32,
    show_progress: bool | None = None,
) -> dict:
    """Write (or resume, or find complete) a labelled dataset; returns a summary dict."""
    sizes = [check_positive_int("L", L, minimum=2) for L in sizes]
    bad = [L for L in sizes if L % 2 and algorithm in ("auto", "metropolis")]
    if bad:
        raise InvalidParameterError(
            f"checkerboard Metropolis needs even L; got L={bad[0]} (use --algorithm wolff)"
        )
    temps = [check_temperature(t) for t in temperatures]
    if not sizes or not temps:
        raise InvalidParameterError("expected at least one size and one temperature; got none")
    n_samples = check_positive_int("n_samples", n_samples)
    if algorithm != "auto":
        from qml_phys.classical.simulate import check_algorithm

        algorithm = check_algorithm(algorithm)
    path = Path(path)
    config = _config(sizes, temps, n_samples, seed, J, algorithm)
    if path.exists():
        old = read_config(path)
        if old is None:
            raise ExistingDataError(
                f"{path} exists and is not a complete qml_phys dataset; expected a new path "
                "or a dataset written with the same parameters; nothing was overwritten"
            )
        if old != config:
            raise ExistingDataError(
                f"{path} exists with different parameters ({_differences(old, config)}); "
                "choose another --out; nothing was overwritten"
            )
        return {"path": str(path), "status": "complete (already there)", "config": config}
    parts = path.with_name(path.name + ".parts")
    manifest = parts / "manifest.json"
    if manifest.exists():
        old = json.loads(manifest.read_text())["config"]
        if old != config:
            raise ExistingDataError(
                f"{parts} holds an interrupted run with different parameters "
                f"({_differences(old, config)}); remove it or use the same parameters"
            )
    else:
        write_json(manifest, {"config": config})
    blocks = [(L, i, T) for L in sizes for i, T in enumerate(temps)]
    todo = [b for b in blocks if not (parts / f"L{b[0]}_T{b[1]:04d}.h5").exists()]
    resumed = len(blocks) - len(todo)
    disable = None if show_progress is None else not show_progress
    for L, i, T in progress(todo, desc=f"dataset {path.name}", disable=disable):
        block = sample_block(
            L,
            T,
            n_samples,
            seed=_block_seed(seed, L, i),
            J=J,
            n_chains=n_chains,
            algorithm=algorithm,
        )
        prov = block.pop("prov")
        write_arrays(
            parts / f"L{L}_T{i:04d}.h5",
            block | {"prov": np.bytes_(json.dumps(prov))},
            config=config | {"L": L, "T": T},
        )
    _assemble(path, parts, config, sizes, temps)
    shutil.rmtree(parts)
    return {
        "path": str(path),
        "status": "written",
        "blocks": len(blocks),
        "resumed_blocks": resumed,
        "config": config,
    }


def _assemble(path: Path, parts: Path, config: dict, sizes, temps) -> None:
    import h5py

    with atomic_path(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as out:
        out.attrs["config"] = json.dumps(config)
        out.attrs["provenance"] = json.dumps(provenance(config, config["seed"]))
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
            for k, v in cols.items():
                g.create_dataset(
                    k, data=np.concatenate(v), compression="gzip" if k == "spins" else None
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
    """Load one lattice size (the only one, or ``L``) of a dataset into memory."""
    import h5py

    sizes = sizes_in(path)
    if L is None:
        if len(sizes) != 1:
            raise InvalidParameterError(f"the file holds sizes {sizes}; expected L= one of them")
        L = sizes[0]
    if L not in sizes:
        raise InvalidParameterError(f"expected L in {sizes}; got L={L}")
    with h5py.File(path, "r") as f:
        g = f[f"L{L}"]
        prov = {k: g["provenance"][k][()] for k in g["provenance"]}
        prov["algorithm"] = [a.decode() for a in prov["algorithm"]]
        return IsingData(
            g["spins"][()],
            g["T"][()],
            g["energy"][()],
            g["magnetization"][()],
            g["label"][()],
            g["temperatures"][()],
            prov,
        )


def batches(
    data: IsingData,
    batch_size: int,
    *,
    seed: int = 0,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Iterate ``(spins, label, T)`` minibatches over one epoch (shuffled by ``seed``)."""
    batch_size = check_positive_int("batch_size", batch_size)
    n = len(data.spins)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
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
