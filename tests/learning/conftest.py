"""A tiny 2D Ising dataset (L = 8, eight temperatures, 100 configurations each), made once."""

import jax
import pytest

from qml_phys.classical.datasets import DatasetConfig, load_dataset, write_dataset

TEMPERATURES = [1.5, 1.75, 2.0, 2.15, 2.4, 2.6, 3.0, 3.5]


@pytest.fixture(scope="session")
def ising8(tmp_path_factory):
    path = tmp_path_factory.mktemp("learning") / "ising8.h5"
    write_dataset(
        path,
        DatasetConfig(sizes=[8], temperatures=TEMPERATURES, n_samples=100),
        key=jax.random.key(0),
        show_progress=False,
    )
    return load_dataset(path, 8)
