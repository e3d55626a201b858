r"""Reader for the widely copied Mehta et al. Ising data layout.

Mehta et al., "A high-bias, low-variance introduction to Machine Learning for
physicists", Phys. Rep. 810, 1 (2019), arXiv:1803.08823, distribute 2D Ising
configurations as two pickles:

* ``Ising2DFM_reSample_L40_T=All.pkl``: ``numpy.packbits`` of the {0,1} spins of all
  configurations, row-major, 16 temperatures ``T = 0.25, 0.50, ..., 4.00`` in order, the same
  number of samples at each (10 000 in the original); bit 1 is spin +1, bit 0 spin -1.
* ``Ising2DFM_reSample_L40_T=All_labels.pkl``: one label per configuration
  (1 = ordered, 0 = not).

The files are read with a restricted unpickler that only rebuilds numpy arrays, so a
tampered file cannot execute code.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
from typing import NamedTuple

import numpy as np

from qml_phys.errors import CorruptDataError, InvalidParameterError, ShapeError

MEHTA_TEMPERATURES = np.round(np.arange(1, 17) * 0.25, 2)
"""The 16 temperatures of the Mehta et al. data set, in file order."""

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: expected a pickle of a numpy array only"
            )
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core") :]
        return super().find_class(module, name)


#: Opcodes that name a memo slot by an index stored in the file.
_MEMO_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"})


def _check_opcodes(data: bytes) -> None:
    """Refuse a pickle whose memo indices could not come from a writer of this file.

    The unpickler sizes its memo by the largest index it is given, so six bytes
    (``)r\\x00\\x00\\x00\\x9c``: store at slot 2.6e9) would make it allocate 21 GB before
    it notices anything wrong. A pickler numbers its memo slots from 0 in the order it
    writes them, so no honest index exceeds the number of opcodes before it. The scan
    (:func:`pickletools.genops`) reads and runs nothing.
    """
    for n_ops, (op, arg, pos) in enumerate(pickletools.genops(data)):
        if op.name in _MEMO_OPS and not 0 <= int(arg) <= n_ops:
            raise pickle.UnpicklingError(
                f"expected memo indices below the {n_ops} opcodes read; got {op.name} {arg} "
                f"at byte {pos}"
            )


def _load_array(path: str | os.PathLike) -> np.ndarray:
    if not os.path.isfile(path):
        raise InvalidParameterError(f"expected a Mehta et al. pickle file; got missing {path!r}")
    try:
        with open(path, "rb") as f:
            data = f.read()
        _check_opcodes(data)
        array = np.asarray(_NumpyOnlyUnpickler(io.BytesIO(data)).load())
        if array.nbytes > len(data):  # a shape with no data behind it: nothing to read
            raise pickle.UnpicklingError(
                f"expected an array stored in the file ({len(data)} bytes); got one of shape "
                f"{array.shape} ({array.nbytes} bytes) with no data behind it"
            )
        return array
    except pickle.UnpicklingError as err:
        raise CorruptDataError(f"{path}: {err}") from None
    except (
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        OSError,
        MemoryError,
        OverflowError,
        RecursionError,
        RuntimeError,  # numpy's dtype __setstate__ on spliced bytes (numpy 2.x)
        SystemError,  # the same, seen as 'returned NULL without setting an exception'
    ) as err:
        raise CorruptDataError(
            f"{path}: expected a Mehta et al. pickle of a numpy array; the file is damaged or "
            f"of another kind ({type(err).__name__}: {err})"
        ) from None


class MehtaData(NamedTuple):
    spins: np.ndarray
    """``(n, L, L)`` int8 in {-1, +1}."""
    temperatures: np.ndarray
    """``(n,)`` float64: the temperature of each configuration (from the file order)."""
    labels: np.ndarray | None
    """``(n,)`` int64 labels from the labels file, or None when it was not given."""


def read_mehta(
    data_path: str | os.PathLike,
    labels_path: str | os.PathLike | None = None,
    *,
    L: int = 40,
    n_temperatures: int = 16,
) -> MehtaData:
    """Read the Mehta et al. bit-packed configurations (and labels, if given).

    Args:
        data_path: the ``..._T=All.pkl`` file.
        labels_path: the ``..._T=All_labels.pkl`` file, or None.
        L: linear lattice size (40 in the original files).
        n_temperatures: number of equal temperature blocks in file order (16 in the
            original: ``T = 0.25 ... 4.0``).
    """
    packed = _load_array(data_path)
    if packed.dtype != np.uint8:
        raise ShapeError(f"expected a numpy.packbits uint8 array; got dtype {packed.dtype}")
    bits = np.unpackbits(packed.ravel())
    n_sites = L * L
    n = bits.size // n_sites
    if n == 0 or bits.size - n * n_sites >= 8:
        raise ShapeError(f"expected a whole number of {L}x{L} configurations; got {bits.size} bits")
    spins = (2 * bits[: n * n_sites].astype(np.int8) - 1).reshape(n, L, L)
    if n % n_temperatures:
        raise ShapeError(
            f"expected {n_temperatures} equal temperature blocks; got {n} configurations"
        )
    temps = np.repeat(
        np.round(np.arange(1, n_temperatures + 1) * 4.0 / n_temperatures, 6), n // n_temperatures
    )
    labels = None
    if labels_path is not None:
        labels = _load_array(labels_path).astype(np.int64).ravel()
        if labels.shape != (n,):
            raise ShapeError(f"expected {n} labels; got {labels.shape[0]}")
    return MehtaData(spins, temps, labels)
