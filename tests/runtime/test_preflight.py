"""Jobs too large for the machine are refused before any work, with a TooLargeError that
names the job, the estimate and the limit (``QML_PHYS_MEMORY_LIMIT`` sets the limit)."""

import time

import jax
import pytest

from qml_phys.errors import TooLargeError
from qml_phys.runtime.resources import check_init_memory, check_memory


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setenv("QML_PHYS_MEMORY_LIMIT", str(2**30))  # 1 GiB


def _refused_fast(fn, match):
    t0 = time.perf_counter()
    with pytest.raises(TooLargeError, match=match):
        fn()
    assert time.perf_counter() - t0 < 10.0


def test_message_names_the_job_the_estimate_and_the_limit(small_limit):
    with pytest.raises(TooLargeError, match=r"the job needs about 2 GiB .* allows 1 GiB"):
        check_memory("the job", 2.0 * 2**30)
    with pytest.raises(TooLargeError, match=r"more than 2\^80 bytes"):
        check_memory("the job", float("inf"))
    check_memory("the job", 0.5 * 2**30)  # fits: no error


def test_network_size_is_read_without_allocating(small_limit):
    import flax.linen as nn

    big = nn.Dense(2**20)  # 2^20 x 2^10 float32 weights: 4 GiB, times the copies of training
    x = jax.numpy.ones((1, 2**10), jax.numpy.float32)
    _refused_fast(
        lambda: check_init_memory("a wide layer", big.init, jax.random.key(0), x), "a wide layer"
    )
    check_init_memory("a small layer", nn.Dense(8).init, jax.random.key(0), x)


def test_vmc_on_too_many_sites_is_refused_before_netket_builds_anything(small_limit):
    from qml_phys.nqs.ground_state import VMCConfig, ground_state
    from qml_phys.physics import Lattice, TransverseFieldIsing

    model = TransverseFieldIsing(Lattice.chain(10**7), J=1.0, gamma=1.0)
    _refused_fast(
        lambda: ground_state(model, VMCConfig(n_steps=1), key=jax.random.key(0)),
        r"VMC on 10000000 sites",
    )


def test_state_vector_and_circuit_sizes_are_checked(small_limit):
    from qml_phys.circuits.vqe import VQEConfig, run_vqe
    from qml_phys.physics import Lattice, TransverseFieldIsing

    model = TransverseFieldIsing(Lattice.chain(40), J=1.0, gamma=1.0)
    _refused_fast(
        lambda: run_vqe(model, VQEConfig(n_layers=1), key=jax.random.key(0)),
        r"simulating 40 qubits",
    )
    small = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    _refused_fast(
        lambda: run_vqe(small, VQEConfig(n_layers=10**7), key=jax.random.key(0)),
        r"10000000-layer",
    )


def test_bootstrap_and_sampling_sizes_are_checked(small_limit):
    from qml_phys.generative.base import check_sample_memory
    from qml_phys.stats.bootstrap import resample_counts

    _refused_fast(lambda: resample_counts(jax.random.key(0), 10**6, 10**4), "bootstrap")
    _refused_fast(lambda: check_sample_memory(10**9, 256), r"1000000000 samples of 256")


def test_a_dataset_larger_than_the_free_disk_is_refused_before_sampling(tmp_path):
    from qml_phys.classical.datasets import DatasetConfig, write_dataset

    config = DatasetConfig(sizes=[64], temperatures=[2.0, 3.0], n_samples=2**40)
    _refused_fast(
        lambda: write_dataset(tmp_path / "d.h5", config, key=jax.random.key(0)),
        r"of disk under .*free",
    )
    assert not (tmp_path / "d.h5").exists()


def test_diffusion_denoising_steps_are_checked_before_training(small_limit):
    """``--denoise-steps 2147483647`` once trained for minutes and then failed inside XLA
    (549 GB); the schedule's size is now refused before HMC and training start."""
    from qml_phys.generative import diffusion_phi4 as D
    from qml_phys.physics.phi4 import Phi4

    config = D.DiffusionVsHMCConfig(diffusion=D.Phi4DiffusionConfig(denoise_steps=2**31 - 1))
    _refused_fast(
        lambda: D.diffusion_vs_hmc(Phi4(6, -4.0, 8.0), config, key=jax.random.key(0)),
        "2147483647 denoising steps",
    )
    theory = Phi4(6, -4.0, 8.0)
    _refused_fast(
        lambda: D.bias_scan(theory, D.DiffusionVsHMCConfig(), (1,), (10, 2**31 - 1), key=None),
        "2147483647 denoising steps",
    )
