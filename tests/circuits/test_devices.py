"""Devices: names, configs, wires, gradient methods and cross-engine agreement."""

import jax
import numpy as np
import pennylane as qml
import pytest

from qml_phys.circuits.devices import (
    DEVICE_NAMES,
    TOKEN_ENV_VAR,
    DeviceConfig,
    check_wires,
    diff_method_for,
    draw_seed,
    get_device,
    make_device,
)
from qml_phys.errors import InvalidParameterError, UnknownNameError
from qml_phys.physics.lattice import Lattice
from qml_phys.physics.models import TransverseFieldIsing

SEED = 1234


def _energy(dev, model, params):
    """<H> after RY(params[i]) on each wire, then CNOT(0, 1)."""
    hamiltonian = model.to_pennylane()

    @qml.qnode(dev)
    def circuit():
        for w, t in enumerate(params):
            qml.RY(t, wires=w)
        qml.CNOT(wires=[0, 1])
        return qml.expval(hamiltonian)

    return float(circuit())


def _exact_energy(model, params):
    """The same energy from the statevector built by hand and the model's sparse matrix."""
    psi = np.array([1.0])
    for t in params:
        psi = np.kron(psi, [np.cos(t / 2), np.sin(t / 2)])
    n = len(params)
    psi = psi.reshape((2,) * n)
    psi[1] = np.flip(psi[1], axis=0).copy()  # CNOT(0, 1): flip wire 1 where wire 0 is 1
    psi = psi.reshape(-1)
    return float(psi @ (model.sparse_matrix() @ psi))


@pytest.mark.parametrize("name", ["default.qubit", "lightning.qubit", "qiskit.aer"])
def test_statevector_devices_agree_with_sparse_matrix(name):
    model = TransverseFieldIsing(Lattice.chain(3, pbc=False), J=1.0, h=0.3, gamma=0.7)
    params = [0.3, -1.1, 2.0]
    assert get_device(name, wires=3).shots.total_shots is None
    e = _energy(get_device(name, wires=3), model, params)
    assert e == pytest.approx(_exact_energy(model, params), abs=1e-8)


def test_shots_are_seeded_and_reproducible():
    """The sampling seed is drawn from the key: the same key gives the same samples, a split
    key other samples, and a DeviceConfig's own seed is used as it is."""
    model = TransverseFieldIsing(Lattice.chain(2, pbc=False), J=1.0, gamma=1.0)
    k1, k2 = jax.random.split(jax.random.key(SEED))
    runs = [
        _energy(get_device("default.qubit", wires=2, shots=200, key=k1), model, [0.4, 1.0])
        for _ in range(2)
    ]
    other = _energy(get_device("default.qubit", wires=2, shots=200, key=k2), model, [0.4, 1.0])
    assert runs[0] == runs[1]
    assert other != runs[0]
    assert runs[0] == pytest.approx(_exact_energy(model, [0.4, 1.0]), abs=0.3)
    own = DeviceConfig("default.qubit", shots=200, seed=draw_seed(k1))
    assert _energy(own.make(2, key=k2), model, [0.4, 1.0]) == runs[0]  # its seed wins
    assert _energy(make_device("default.qubit:shots=200", 2, key=k1), model, [0.4, 1.0]) == runs[0]


def test_draw_seed_is_a_function_of_the_key():
    k1, k2 = jax.random.split(jax.random.key(SEED))
    seeds = {draw_seed(k) for k in jax.random.split(k1, 64)}
    assert draw_seed(k1) == draw_seed(k1) != draw_seed(k2)
    assert len(seeds) == 64 and all(0 <= s < 2**31 - 1 for s in seeds)


def test_make_device_needs_a_key_for_an_unseeded_sampler():
    with pytest.raises(
        InvalidParameterError,
        match=r"key: expected a JAX PRNG key to seed the sampling device "
        r"'default.qubit:shots=10' \(or a device with its own seed, ':seed=S'\); got None",
    ):
        make_device("default.qubit:shots=10", 2)
    assert make_device("default.qubit:shots=10:seed=3", 2).shots.total_shots == 10
    dev = get_device("lightning.qubit", wires=2)
    assert make_device(dev, 2) is dev
    assert diff_method_for(make_device(DeviceConfig("lightning.qubit"), 2)) == "adjoint"


def test_noisy_fake_backend_raises_the_energy():
    """Depolarising/readout noise of fake_manila lifts the ground-state energy of -Z0 Z1."""
    from qml_phys.physics.models import IsingModel

    model = IsingModel(Lattice.chain(2, pbc=False), J=1.0)  # H = -Z0 Z1, E0 = -1 in |00>
    hamiltonian = model.to_pennylane()
    energies = {}
    for label, dev in (
        ("ideal", get_device("qiskit.aer", wires=2)),
        (
            "noisy",
            get_device(
                "qiskit.aer", wires=2, shots=4000, key=jax.random.key(SEED), noise="fake_manila"
            ),
        ),
    ):

        @qml.qnode(dev)
        def circuit():
            for _ in range(10):  # identity, but noisy gates
                qml.CNOT(wires=[0, 1])
            return qml.expval(hamiltonian)

        energies[label] = float(circuit())
    assert energies["ideal"] == pytest.approx(-1.0, abs=1e-12)
    # 4000 shots: standard error < 0.016; noise costs several percent on this backend
    assert energies["noisy"] > -0.95


def test_device_config_round_trip():
    cfg = DeviceConfig.from_string("qiskit.aer:shots=10000:seed=1:noise=fake_manila")
    assert cfg == DeviceConfig("qiskit.aer", shots=10000, seed=1, noise="fake_manila")
    assert DeviceConfig.from_string(str(cfg)) == cfg
    assert DeviceConfig.from_string("lightning.qubit") == DeviceConfig("lightning.qubit")
    dev = cfg.make(2)
    assert dev.shots.total_shots == 10000 and len(dev.wires) == 2


@pytest.mark.parametrize(
    "text, match",
    [
        ("qiskit.aer:shots=ten", r"shots: expected an integer; got 'ten'"),
        ("qiskit.aer:shot=10", r"expected ':key=value' with key shots, seed or noise"),
        ("default.qubit:noise=fake_manila:shots=5", r"expected device 'qiskit.aer'"),
        ("qiskit.aer:noise=fake_manila", r"shots: expected an integer >= 1 with noise"),
        ("", r"expected 'name\[:shots=N\]"),
    ],
)
def test_device_config_rejects_bad_strings(text, match):
    with pytest.raises(InvalidParameterError, match=match):
        DeviceConfig.from_string(text)


def test_unknown_device_lists_known_names():
    with pytest.raises(UnknownNameError, match=r"expected one of default\.qubit, lightning"):
        get_device("cirq.simulator", wires=2)
    assert "braket.local.qubit" in DEVICE_NAMES


def test_unknown_fake_backend():
    with pytest.raises(UnknownNameError, match=r"noise: expected a fake IBM backend.*got 'fake_x'"):
        get_device("qiskit.aer", wires=2, shots=10, noise="fake_x")


def test_remote_without_token_fails_early(monkeypatch):
    monkeypatch.delenv(TOKEN_ENV_VAR, raising=False)
    with pytest.raises(
        InvalidParameterError, match=rf"expected an IBM Quantum token.*{TOKEN_ENV_VAR}"
    ):
        get_device("qiskit.remote", wires=2)


def test_braket_needs_its_plugin():
    try:
        import braket.pennylane_plugin  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidParameterError, match=r"amazon-braket-pennylane-plugin"):
            get_device("braket.local.qubit", wires=2)
    else:  # pragma: no cover - plugin installed
        assert len(get_device("braket.local.qubit", wires=2).wires) == 2


def test_bad_wires_and_shots():
    with pytest.raises(InvalidParameterError, match=r"wires must be an integer >= 1; got 0"):
        get_device("default.qubit", wires=0)
    with pytest.raises(InvalidParameterError, match=r"shots must be an integer >= 1; got -5"):
        get_device("default.qubit", wires=2, shots=-5)
    with pytest.raises(InvalidParameterError, match=r"noise: expected device 'qiskit.aer'"):
        get_device("lightning.qubit", wires=2, shots=5, noise="fake_manila")


def test_check_wires():
    model = TransverseFieldIsing(Lattice.chain(4))
    dev = get_device("default.qubit", wires=3)
    with pytest.raises(InvalidParameterError, match=r"expected at least 4 wires.*got 3"):
        check_wires(model.to_pennylane(), dev)
    with pytest.raises(InvalidParameterError, match=r"expected at least 4 wires.*got 3"):
        check_wires(4, dev)
    assert check_wires(model.to_pennylane(), get_device("default.qubit", wires=4)) == 4
    assert check_wires(model, get_device("lightning.qubit", wires=5)) == 4


def test_diff_method_for():
    assert diff_method_for(get_device("lightning.qubit", wires=2)) == "adjoint"
    assert diff_method_for(get_device("default.qubit", wires=2)) == "backprop"
    assert diff_method_for(get_device("default.qubit", wires=2, shots=10)) == "parameter-shift"
    assert diff_method_for(get_device("qiskit.aer", wires=2)) == "parameter-shift"


def test_parameter_shift_gradient_is_one_batched_job_on_aer():
    """Remote backends charge per job: the shifted circuits of a gradient go to the device in
    one batch (plus one batch for the forward pass), not one job per circuit."""
    import pennylane as qml
    from pennylane import numpy as pnp

    from qml_phys.circuits.ansatz import init_params, make_ansatz
    from qml_phys.physics import Lattice, TransverseFieldIsing

    model = TransverseFieldIsing(Lattice.chain(4), J=1.0, gamma=1.0)
    ansatz = make_ansatz("hva", model)
    k_init, k_device = jax.random.split(jax.random.key(SEED))
    params = pnp.array(init_params(ansatz, 2, key=k_init), requires_grad=True)
    dev = get_device("qiskit.aer", wires=4, shots=200, key=k_device)
    H = model.to_pennylane()

    @qml.qnode(dev, diff_method="parameter-shift")
    def energy(x):
        ansatz(x)
        return qml.expval(H)

    with qml.Tracker(dev) as tracker:
        qml.grad(energy)(params)
    assert tracker.totals["batches"] <= 2
    assert tracker.totals["executions"] > 2 * params.size  # many circuits, few jobs


@pytest.mark.parametrize(
    "spec", ["qiskit.aer:shots=10:seed=1", "qiskit.aer", "qiskit.aer:shots=10"]
)
def test_aer_target_is_built_once_and_rebuilt_after_an_option(spec):
    """qiskit-aer builds a new Target on every read of ``backend.target`` (about a hundred
    reads per transpiled circuit); the package's Aer devices keep one until an option
    changes, and it equals a freshly built one."""
    from qiskit_aer import AerSimulator

    dev = make_device(spec, 2, key=jax.random.key(0))
    backend = dev.target_device.backend
    first = backend.target
    assert backend.target is first
    fresh = AerSimulator.target.fget(backend)  # the uncached property of the same backend
    assert fresh is not first and set(fresh.operation_names) == set(first.operation_names)
    assert fresh.num_qubits == first.num_qubits
    backend.set_options(method="density_matrix")
    assert backend.target is not first
