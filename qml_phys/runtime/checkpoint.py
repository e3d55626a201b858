"""Atomic checkpoints of JAX PyTrees (parameters, optimiser and sampler state, counters).

A checkpoint is one msgpack file holding a PyTree's state dict and a JSON metadata record
(config, step, provenance). It is written to a temporary file in the same folder and moved
into place, so a run killed at any moment leaves either the previous checkpoint or the new
one, never a torn file. Loading needs a *target* PyTree of the same structure (e.g. freshly
initialised parameters); shapes and dtypes are checked against it.

Algorithms do not choose where checkpoints go: the face (command line, tour, study) makes
a :class:`Checkpoint` for a folder and hands it to the algorithm, which calls
:meth:`Checkpoint.restore` once before it starts and :meth:`Checkpoint.save` as it goes.
A checkpoint carries a *fingerprint* -- the algorithm's config and the caller's
description of its inputs (data file hash, lattice size, temperature, model) -- and a
rerun resumes it only when the fingerprint matches.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qml_phys.errors import QmlPhysError
from qml_phys.runtime.records import atomic_path, provenance, to_jsonable, write_json

__all__ = ["Checkpoint", "CheckpointError", "load_checkpoint", "read_meta", "save_checkpoint"]


class CheckpointError(QmlPhysError):
    """A checkpoint cannot be read, or does not match the run that tries to resume from it."""


def _to_numpy(tree):
    import jax

    def leaf(x):
        if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            return {"__prng_key__": np.asarray(jax.random.key_data(x))}
        return np.asarray(x) if hasattr(x, "shape") else x

    return jax.tree_util.tree_map(leaf, tree)


def save_checkpoint(
    path: str | os.PathLike, tree: Any, *, meta: dict | None = None, config: dict | None = None
) -> Path:
    """Write ``tree`` (any PyTree of arrays/scalars) and ``meta`` atomically to ``path``."""
    from flax import serialization

    state = serialization.to_state_dict(_to_numpy(tree))
    record = {
        "meta": json.dumps(to_jsonable(meta or {})),
        "provenance": json.dumps(to_jsonable(provenance(config))),
        "state": state,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(serialization.msgpack_serialize(record))
    return path


def read_meta(path: str | os.PathLike) -> dict:
    """The metadata record of a checkpoint, without restoring its arrays."""
    return _read(path)[1]


def _read(path):
    from flax import serialization

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"expected a checkpoint file at {path}; none exists")
    try:
        record = serialization.msgpack_restore(path.read_bytes())
        meta = json.loads(record["meta"])
    except Exception as err:  # corrupt or foreign file
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from err
    return record, meta


def load_checkpoint(path: str | os.PathLike, target: Any) -> tuple[Any, dict]:
    """Restore the PyTree saved at ``path`` into the structure of ``target``.

    Returns ``(tree, meta)``. Raises :class:`CheckpointError` naming the first leaf whose
    shape differs from ``target`` (e.g. a checkpoint of another model size).
    """
    import jax
    from flax import serialization

    record, meta = _read(path)
    template = _to_numpy(target)
    try:
        restored = serialization.from_state_dict(template, record["state"])
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise CheckpointError(
            f"checkpoint {path} does not match the structure of this run: {err}"
        ) from err
    flat_t, _ = jax.tree_util.tree_flatten_with_path(template)
    flat_r = jax.tree_util.tree_leaves(restored)
    for (keypath, t), r in zip(flat_t, flat_r, strict=True):
        if np.shape(t) != np.shape(r):
            name = jax.tree_util.keystr(keypath)
            raise CheckpointError(
                f"checkpoint {path}: leaf {name} has shape {np.shape(r)}; this run expects "
                f"{np.shape(t)} (was it written by a different model size?)"
            )

    def back(t, r, orig):
        if isinstance(t, dict) and "__prng_key__" in t:
            return jax.random.wrap_key_data(jax.numpy.asarray(r["__prng_key__"]))
        if isinstance(orig, jax.Array):
            return jax.numpy.asarray(r, dtype=orig.dtype)
        if isinstance(orig, np.ndarray):
            return np.asarray(r, dtype=orig.dtype)
        return type(orig)(r) if isinstance(orig, (int, float, bool)) else r

    is_key = lambda x: isinstance(x, dict) and "__prng_key__" in x  # noqa: E731
    tree = jax.tree_util.tree_map(back, template, restored, target, is_leaf=is_key)
    return tree, meta


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """Where an algorithm saves its state, how often, and whether a rerun resumes it.

    Attributes:
        folder: folder of the checkpoint file (created on the first save).
        every: save every ``every`` steps (the algorithm's unit: epochs, iterations);
            the last step is always saved.
        resume: restore an existing checkpoint (``False``: start over and overwrite it).
        inputs: what the caller knows of the inputs (data file and its hash, ``L``,
            ``T``, model name, seed): part of the fingerprint a rerun must match.
        name: file name inside ``folder``.
    """

    folder: Path
    every: int = 1
    resume: bool = True
    inputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    name: str = "checkpoint.msgpack"

    def __post_init__(self):
        from qml_phys.errors import check_positive_int

        object.__setattr__(self, "folder", Path(self.folder))
        object.__setattr__(self, "every", check_positive_int("every", self.every))

    @property
    def path(self) -> Path:
        """The checkpoint file."""
        return self.folder / self.name

    def fingerprint(self, config: Mapping[str, Any], extendable: Sequence[str] = ()) -> dict:
        """What must match to resume: ``config`` without the ``extendable`` keys (a run
        may be continued with more epochs), and :attr:`inputs`."""
        cfg = to_jsonable(dict(config))
        return {
            "config": {k: v for k, v in cfg.items() if k not in extendable},
            "inputs": to_jsonable(dict(self.inputs)),
        }

    def due(self, step: int, *, last: bool = False) -> bool:
        """Whether to save after ``step`` (1-based) steps."""
        return last or step % self.every == 0

    def restore(
        self, target: Any, *, config: Mapping[str, Any], extendable: Sequence[str] = ()
    ) -> tuple[Any, dict] | None:
        """The saved ``(tree, meta)`` in the structure of ``target``, or None when there is
        nothing to resume (no file, or ``resume=False``).

        Raises :class:`CheckpointError` when the file was written for another config or
        other inputs (naming both), so that results are never silently mixed.
        """
        from qml_phys.runtime.locks import hold, remove_orphans

        hold(self.folder)  # a second process writing this folder stops with a BusyError
        remove_orphans(self.folder)
        if not self.resume or not self.path.exists():
            return None
        # the fingerprint first: a checkpoint of another algorithm has another structure,
        # and the user should hear which run wrote it, not how its arrays differ
        want = self.fingerprint(config, extendable)
        have = read_meta(self.path).get("fingerprint")
        if have != want:
            raise CheckpointError(
                f"{self.path} was written for {have}; this run is {want}. Use another "
                "folder, or start over (resume=False, or --no-resume where offered)"
            )
        return load_checkpoint(self.path, target)

    def save(
        self,
        tree: Any,
        *,
        config: Mapping[str, Any],
        meta: Mapping[str, Any] | None = None,
        extendable: Sequence[str] = (),
    ) -> Path:
        """Write ``tree`` and ``meta`` atomically, with the fingerprint of ``config``."""
        from qml_phys.runtime.locks import hold

        hold(self.folder)
        full = dict(meta or {}) | {"fingerprint": self.fingerprint(config, extendable)}
        return save_checkpoint(self.path, tree, meta=full, config=dict(config))

    def write_json(self, name: str, data: Any) -> Path:
        """Write a side file (for example a readable ``history.json``) beside the checkpoint."""
        return write_json(self.folder / name, data)
