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

import os
import pickle
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


def _load_array(path: str | os.PathLike) -> np.ndarray:
    if not os.path.isfile(path):
        raise InvalidParameterError(f"expected a Mehta et al. pickle file; got missing {path!r}")
    try:
        with open(path, "rb") as f:
            obj = _NumpyOnlyUnpickler(f).load()
        return np.asarray(obj)
    except pickle.UnpicklingError as err:
        raise CorruptDataError(f"{path}: {err}") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, OSError) as err:
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
