"""One tiny two-size Ising dataset shared by the phase-detection tests (written once)."""

import jax
import pytest

from qml_phys.classical.datasets import DatasetConfig, write_dataset
from qml_phys.phases.supervised import load_sizes, temperature_grid

OFFSETS = (0.05, 0.2, 0.5, 1.0)


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("phases") / "tiny.h5"
    write_dataset(
        path,
        DatasetConfig(sizes=[8, 12], temperatures=temperature_grid(OFFSETS), n_samples=80),
        key=jax.random.key(11),
        show_progress=False,
    )
    return path


@pytest.fixture(scope="session")
def tiny(tiny_path):
    return load_sizes(tiny_path)
