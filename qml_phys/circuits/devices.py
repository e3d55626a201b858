r"""PennyLane devices by name, with shots, seeds and noise made explicit.

The one entry point is :func:`get_device`; :class:`DeviceConfig` is the same choice as a
frozen, hashable value that parses from and prints to a string such as
``"qiskit.aer:shots=10000:seed=1:noise=fake_manila"`` (for configs and the command line).

Known names
-----------

* ``default.qubit`` -- PennyLane's reference simulator (the seed is its ``seed`` option).
* ``lightning.qubit`` -- the C++ state-vector simulator (adjoint gradients).
* ``qiskit.aer`` -- Qiskit Aer through ``pennylane-qiskit``. Without shots it is the exact
  ``aer_simulator_statevector``; with ``noise="fake_<backend>"`` the noise model is built
  offline from Qiskit's fake IBM backends (``qiskit_ibm_runtime.fake_provider``, e.g.
  ``fake_manila``), and shots are then required. The seed starts Aer's per-job
  ``seed_simulator`` stream.
* ``qiskit.remote`` -- IBM hardware; needs a token from ``$QISKIT_IBM_TOKEN`` or
  ``token=...`` and the backend name ``backend=...`` (default: least busy).
* ``braket.local.qubit`` -- Amazon Braket's local simulator, only if the optional
  ``amazon-braket-pennylane-plugin`` is installed.

Seeds: a simulator that samples needs an integer seed. It is the user's device
specification when given there (``DeviceConfig.seed``, ``"...:seed=1"``); otherwise the
library draws one from a JAX key (:func:`draw_seed`), so that every library function takes
a ``key``, never a ``seed``. That seed starts a stream: every job gets its own sampling
seed, so that the shot noise of two evaluations (two optimiser steps, two noise scale
factors) is independent. ``default.qubit`` and ``lightning.qubit`` advance their own
generator; Aer would reuse one ``seed_simulator`` for every ``backend.run``, so a seeded
``qiskit.aer`` device here draws job ``k``'s ``seed_simulator`` from the seed's
``numpy.random.SeedSequence`` with spawn key ``(k,)``.

Shots on a device are deprecated in PennyLane 0.45 in favour of ``qml.set_shots`` on a
QNode; they are still honoured, and this module silences that one warning so that the
shots stay an explicit property of the device chosen here.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import warnings

import pennylane as qml

from qml_phys.errors import InvalidParameterError, UnknownNameError, check_name, check_positive_int

__all__ = [
    "DEVICE_NAMES",
    "TOKEN_ENV_VAR",
    "DeviceConfig",
    "check_wires",
    "device_shots",
    "device_wires",
    "diff_method_for",
    "draw_seed",
    "fake_backend",
    "get_device",
    "make_device",
    "noise_model",
]

#: Device names :func:`get_device` understands.
DEVICE_NAMES = (
    "default.qubit",
    "lightning.qubit",
    "qiskit.aer",
    "qiskit.remote",
    "braket.local.qubit",
)

#: Environment variable holding the IBM Quantum token for ``qiskit.remote``.
TOKEN_ENV_VAR = "QISKIT_IBM_TOKEN"


def _check_name(name) -> str:
    check_name("device", name, DEVICE_NAMES)
    return name


def _check_shots(shots) -> int | None:
    return None if shots is None else check_positive_int("shots", shots, minimum=1)


def _check_seed(seed) -> int | None:
    return None if seed is None else check_positive_int("seed", seed, minimum=0)


def draw_seed(key) -> int:
    """An integer seed in ``[0, 2**31 - 1)`` drawn from the JAX PRNG key ``key``, for a
    simulator that needs one (PennyLane's ``seed``, Aer's ``seed_simulator``).

    The key's bits are hashed by numpy's ``SeedSequence`` (nothing to compile): split keys
    give unrelated seeds.
    """
    import jax
    import numpy as np

    words = np.asarray(jax.random.key_data(key), dtype=np.uint32).ravel()
    return int(np.random.SeedSequence(words.tolist()).generate_state(1)[0] % (2**31 - 1))


def _job_seed(entropy: int, job: int) -> int:
    """The sampling seed of job ``job`` (0, 1, ...) of a device seeded with ``entropy``: the
    spawned child ``(job,)`` of ``SeedSequence(entropy)``, in ``[0, 2**31 - 1)``."""
    import numpy as np

    child = np.random.SeedSequence(int(entropy), spawn_key=(int(job),))
    return int(child.generate_state(1)[0] % (2**31 - 1))


@functools.cache
def _reseeding_aer_class():
    """``pennylane_qiskit.AerDevice`` whose every job gets its own ``seed_simulator``.

    Aer passes ``seed_simulator`` to every ``backend.run``; the plugin keeps one in its run
    options, so every job would sample the same random numbers (correlated shot noise
    between optimiser steps). This subclass sets ``seed_simulator = _job_seed(seed, k)``
    before its ``k``-th job (one circuit, or one batch whose circuits Aer seeds ``s + i``).
    """
    from pennylane_qiskit import AerDevice

    class ReseedingAerDevice(AerDevice):
        def __init__(self, wires, *, seed: int, **kwargs):
            super().__init__(wires, **kwargs)
            self.seed = int(seed)
            self.n_jobs = 0

        def _next_seed(self) -> None:
            self.run_args["seed_simulator"] = _job_seed(self.seed, self.n_jobs)
            self.n_jobs += 1

        def run(self, qcirc):
            self._next_seed()
            return super().run(qcirc)

        def batch_execute(self, circuits, timeout: int | None = None):
            self._next_seed()
            return super().batch_execute(circuits, timeout)

    return ReseedingAerDevice


@functools.cache
def _cached_target_class(cls):
    """``cls`` (an Aer backend class) with its ``target`` built once, not on every access.

    ``AerSimulator.target`` builds a new ``Target`` each time it is read (qiskit-aer issue
    2328), and the plugin's per-circuit ``transpile`` reads it about a hundred times:
    22 of the 28 s of two QAOA steps on ``qiskit.aer`` (n = 4, 21 circuits a step) went
    there. The cache is dropped whenever an option, the configuration or the properties
    change, the only inputs of the target.
    """

    class CachedTarget(cls):
        _qml_phys_target = None

        @property
        def target(self):
            if self._qml_phys_target is None:
                self._qml_phys_target = super().target
            return self._qml_phys_target

        def _set_configuration_option(self, key, value):
            self._qml_phys_target = None
            super()._set_configuration_option(key, value)

        def _set_properties_option(self, key, value):
            self._qml_phys_target = None
            super()._set_properties_option(key, value)

        def set_option(self, key, value):
            self._qml_phys_target = None
            super().set_option(key, value)

        def clear_options(self):
            self._qml_phys_target = None
            super().clear_options()

    CachedTarget.__name__ = CachedTarget.__qualname__ = cls.__name__
    return CachedTarget


def _cache_aer_target(device) -> None:
    """Give the Aer backend of a ``qiskit.aer`` device a cached target (see above)."""
    backend = getattr(getattr(device, "target_device", device), "_backend", None)
    if backend is not None and type(backend).__module__.startswith("qiskit_aer"):
        backend.__class__ = _cached_target_class(type(backend))


def fake_backend(noise: str):
    """The fake IBM backend ``noise`` (``"fake_manila"`` or ``"manila"``), offline.

    Raises:
        UnknownNameError: no such fake backend in ``qiskit_ibm_runtime.fake_provider``.
    """
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    if not isinstance(noise, str) or not noise:
        raise InvalidParameterError(f"noise: expected a name such as 'fake_manila'; got {noise!r}")
    key = noise.lower()
    key = key if key.startswith("fake_") else "fake_" + key
    with warnings.catch_warnings():  # the provider builds every fake backend; some warn
        warnings.filterwarnings("ignore", message=".*not intended to represent typical.*")
        provider = FakeProviderForBackendV2()
        try:
            return provider.backend(key)
        except Exception:  # noqa: BLE001 - QiskitBackendNotFoundError; list the known names
            names = sorted(b.name for b in provider.backends())
        raise UnknownNameError(
            f"noise: expected a fake IBM backend, one of {', '.join(names)}; got {noise!r}"
        ) from None


def noise_model(noise: str):
    """A ``qiskit_aer.noise.NoiseModel`` built from the fake backend ``noise`` (offline)."""
    from qiskit_aer.noise import NoiseModel

    return NoiseModel.from_backend(fake_backend(noise))


def get_device(
    name: str = "default.qubit",
    *,
    wires: int,
    shots: int | None = None,
    key=None,
    noise: str | None = None,
    **options,
):
    """A PennyLane device ``name`` on wires ``0 .. wires-1``.

    Args:
        name: one of :data:`DEVICE_NAMES`.
        wires: number of qubits (wires are ``range(wires)``).
        shots: ``None`` for exact expectation values, else the number of samples.
        key: JAX PRNG key the simulator's sampling seed is drawn from (:func:`draw_seed`;
            ``seed`` of ``default.qubit`` and ``lightning.qubit``, the start of Aer's
            per-job ``seed_simulator`` stream); ``None`` leaves the simulator unseeded
            (not reproducible with shots).
            Ignored by hardware. For a seed of your own use ``DeviceConfig(...).make``.
        noise: ``qiskit.aer`` only: a fake IBM backend name (``"fake_manila"``) whose
            noise model is applied; needs ``shots``.
        **options: passed on to ``qml.device`` (for ``qiskit.remote``: ``token``,
            ``backend`` name, ``channel``, ``instance``).

    Raises:
        UnknownNameError: unknown device or fake backend name.
        InvalidParameterError: bad ``wires``/``shots``, noise without shots or on a device
            other than ``qiskit.aer``, ``qiskit.remote`` without a token, or
            ``braket.local.qubit`` without its plugin.
    """
    seed = None if key is None else draw_seed(key)
    return _build(name, wires, shots, seed, noise, options)


def _build(name, wires, shots, seed, noise, options):
    """The device of :func:`get_device` with an explicit simulator ``seed`` (or None)."""
    name = _check_name(name)
    wires = check_positive_int("wires", wires, minimum=1)
    shots = _check_shots(shots)
    seed = _check_seed(seed)
    if noise is not None and name != "qiskit.aer":
        raise InvalidParameterError(
            f"noise: expected device 'qiskit.aer' for a noise model; got device {name!r}"
        )
    if noise is not None and shots is None:
        raise InvalidParameterError(
            f"shots: expected an integer >= 1 with noise={noise!r} (noisy runs sample); got None"
        )
    kwargs = dict(options)
    if name in ("default.qubit", "lightning.qubit"):
        if seed is not None:
            kwargs["seed"] = seed
    elif name == "qiskit.aer":
        if noise is not None:
            kwargs["noise_model"] = noise_model(noise)
        elif shots is None:
            kwargs.setdefault("backend", "aer_simulator_statevector")
    elif name == "qiskit.remote":
        token = kwargs.pop("token", None) or os.environ.get(TOKEN_ENV_VAR)
        if not token:
            raise InvalidParameterError(
                "qiskit.remote: expected an IBM Quantum token in the environment variable "
                f"{TOKEN_ENV_VAR} or as token=...; got none"
            )
        kwargs["backend"] = _remote_backend(token, wires, kwargs)
    elif name == "braket.local.qubit":
        try:
            import braket.pennylane_plugin  # noqa: F401
        except ImportError:
            raise InvalidParameterError(
                "braket.local.qubit: expected the Amazon Braket plugin; got ImportError. "
                "Install it with `pip install amazon-braket-pennylane-plugin`"
            ) from None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*shots on device is deprecated.*")
        warnings.filterwarnings("ignore", message=".*analytic calculation of expectations.*")
        if shots is not None:
            kwargs["shots"] = shots
        if name == "qiskit.aer" and seed is not None:  # a seed per job (module docstring)
            device = qml.devices.LegacyDeviceFacade(
                _reseeding_aer_class()(wires, seed=seed, **kwargs)
            )
        else:
            device = qml.device(name, wires=wires, **kwargs)
    if name == "qiskit.aer":
        _cache_aer_target(device)
    return device


def _remote_backend(token: str, wires: int, kwargs: dict):  # pragma: no cover - needs IBM
    """Resolve ``backend`` (a name or ``None``: least busy) through IBM's runtime service."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    service_kwargs = {"token": token}
    for key in ("channel", "instance"):
        if key in kwargs:
            service_kwargs[key] = kwargs.pop(key)
    service = QiskitRuntimeService(**service_kwargs)
    backend = kwargs.pop("backend", None)
    if backend is None:
        return service.least_busy(operational=True, simulator=False, min_num_qubits=wires)
    return service.backend(backend) if isinstance(backend, str) else backend


@dataclasses.dataclass(frozen=True)
class DeviceConfig:
    """A device choice as a value: ``DeviceConfig("qiskit.aer", shots=1000, seed=1)``.

    The user's device specification: its ``seed`` is the simulator's own setting (as in
    ``"qiskit.aer:shots=1000:seed=1"``), not a library seed; without one, :meth:`make`
    draws it from a key.

    Attributes:
        name: one of :data:`DEVICE_NAMES`.
        shots: ``None`` (exact) or the number of samples.
        seed: simulator seed or ``None``.
        noise: fake IBM backend name for ``qiskit.aer`` noise, or ``None``.
    """

    name: str = "default.qubit"
    shots: int | None = None
    seed: int | None = None
    noise: str | None = None

    def __post_init__(self):
        _check_name(self.name)
        object.__setattr__(self, "shots", _check_shots(self.shots))
        object.__setattr__(self, "seed", _check_seed(self.seed))
        if self.noise is not None and self.name != "qiskit.aer":
            raise InvalidParameterError(
                f"noise: expected device 'qiskit.aer' for a noise model; got {self.name!r}"
            )
        if self.noise is not None and self.shots is None:
            raise InvalidParameterError(
                f"shots: expected an integer >= 1 with noise={self.noise!r}; got None"
            )

    @classmethod
    def from_string(cls, text: str) -> DeviceConfig:
        """Parse ``"name[:key=value]..."`` with keys ``shots``, ``seed``, ``noise``."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidParameterError(
                f"device: expected 'name[:shots=N][:seed=S][:noise=fake_x]'; got {text!r}"
            )
        name, *parts = text.strip().split(":")
        fields: dict = {}
        for part in parts:
            key, sep, value = part.partition("=")
            if not sep or key not in ("shots", "seed", "noise") or key in fields or not value:
                raise InvalidParameterError(
                    "device: expected ':key=value' with key shots, seed or noise (once each); "
                    f"got {part!r} in {text!r}"
                )
            if key == "noise":
                fields[key] = value
            else:
                try:
                    fields[key] = int(value)
                except ValueError:
                    raise InvalidParameterError(
                        f"{key}: expected an integer; got {value!r} in {text!r}"
                    ) from None
        return cls(name, **fields)

    def __str__(self) -> str:
        parts = [self.name]
        parts += [
            f"{k}={getattr(self, k)}"
            for k in ("shots", "seed", "noise")
            if getattr(self, k) is not None
        ]
        return ":".join(parts)

    @property
    def samples(self) -> bool:
        """True when the device estimates expectation values from shots."""
        return self.shots is not None

    def make(self, wires: int, *, key=None, **options):
        """The device for ``wires`` qubits (see :func:`get_device`).

        The simulator seed is :attr:`seed` when set, else drawn from ``key`` when the
        device samples and a key is given.
        """
        seed = self.seed
        if seed is None and key is not None and self.samples:
            seed = draw_seed(key)
        return _build(self.name, wires, self.shots, seed, self.noise, options)


def simulator_bytes(n_wires: int, *, shots: int | None = None, mixed: bool = False) -> float:
    """Memory a simulator needs for ``n_wires`` qubits: the complex128 state vector (density
    matrix when ``mixed``), a few copies of it for the gradient, and the shot samples."""
    n = int(n_wires) * (2 if mixed else 1)
    state = math.inf if n > 1000 else 16.0 * 2.0**n
    return 4 * state + 8.0 * (shots or 0) * int(n_wires)


def check_simulable(n_wires: int, device=None) -> None:
    """Refuse, before anything is built, a simulation that cannot fit in memory (a
    :class:`~qml_phys.errors.TooLargeError` naming the estimate and the limit). Remote
    devices (``qiskit.remote``) are not checked."""
    from qml_phys.runtime.resources import check_memory

    if isinstance(device, str):
        device = DeviceConfig.from_string(device)
    name = getattr(device, "name", None)
    if name == "qiskit.remote":
        return
    shots = getattr(device, "shots", None) if isinstance(device, DeviceConfig) else None
    mixed = name == "default.mixed"
    check_memory(
        f"simulating {n_wires} qubits" + (f" with {shots} shots" if shots else ""),
        simulator_bytes(n_wires, shots=shots if isinstance(shots, int) else None, mixed=mixed),
    )


#: Host memory per gate of a PennyLane circuit (operation objects, tape, gradient tapes).
BYTES_PER_GATE = 2048


def check_circuit_size(n_gates: int, what: str) -> None:
    """Refuse a circuit of ``n_gates`` gates whose construction cannot fit in memory."""
    from qml_phys.runtime.resources import check_memory

    check_memory(f"{what} ({n_gates} gates)", float(BYTES_PER_GATE) * n_gates)


def make_device(device, wires: int, *, key=None):
    """A PennyLane device from a name, a ``"name:shots=..:seed=.."`` string, a
    :class:`DeviceConfig` or a device (returned as it is).

    A device that samples (shots) and has no seed of its own gets one drawn from ``key``;
    without a key it would not be reproducible, so that raises.

    Raises:
        InvalidParameterError: a sampling device with neither a seed nor a ``key``.
        UnknownNameError: unknown device name.
    """
    if isinstance(device, str):
        device = DeviceConfig.from_string(device)
    if not isinstance(device, DeviceConfig):
        return device
    check_simulable(wires, device)
    if device.samples and device.seed is None and key is None and device.name != "qiskit.remote":
        raise InvalidParameterError(
            f"key: expected a JAX PRNG key to seed the sampling device {str(device)!r} (or a "
            "device with its own seed, ':seed=S'); got None"
        )
    return device.make(wires, key=key)


def device_wires(device) -> int | None:
    """Number of wires of ``device``, or ``None`` if it allocates them dynamically."""
    wires = getattr(device, "wires", None)
    return None if wires is None else len(wires)


def _needed_wires(hamiltonian_or_n) -> int:
    if isinstance(hamiltonian_or_n, bool):
        raise InvalidParameterError(
            f"expected a number of wires or a Hamiltonian; got {hamiltonian_or_n!r}"
        )
    if isinstance(hamiltonian_or_n, int):
        return check_positive_int("wires", hamiltonian_or_n, minimum=1)
    if hasattr(hamiltonian_or_n, "n_sites"):  # a physics model
        return int(hamiltonian_or_n.n_sites)
    wires = getattr(hamiltonian_or_n, "wires", None)
    if wires is None:
        raise InvalidParameterError(
            "expected a number of wires, a model or a PennyLane operator; "
            f"got {type(hamiltonian_or_n).__name__}"
        )
    labels = list(wires)
    if not all(isinstance(w, int) and w >= 0 for w in labels):
        raise InvalidParameterError(f"expected integer wire labels >= 0; got {labels}")
    return max(labels) + 1 if labels else 0


def check_wires(hamiltonian_or_n, device) -> int:
    """Check ``device`` has enough wires for a Hamiltonian (wires ``0..n-1``) or ``n``.

    Returns the number of wires needed. Raises :class:`InvalidParameterError` if the device
    has fewer.
    """
    need = _needed_wires(hamiltonian_or_n)
    have = device_wires(device)
    if have is not None and need > have:
        raise InvalidParameterError(
            f"device {getattr(device, 'name', device)!r}: expected at least {need} wires for "
            f"the Hamiltonian; got {have}"
        )
    return need


def device_shots(device) -> int | None:
    """The shots per execution of a PennyLane device, ``None`` when it is analytic."""
    shots = getattr(device, "shots", None)
    total = getattr(shots, "total_shots", shots)
    return None if total is None else int(total)


def diff_method_for(device) -> str:
    """The best gradient method of ``device``.

    ``"adjoint"`` for ``lightning.qubit`` without shots, ``"backprop"`` for
    ``default.qubit`` without shots, ``"parameter-shift"`` otherwise (shots, Aer, hardware).
    """
    name = getattr(device, "name", None)
    exact = device_shots(device) is None
    if name == "lightning.qubit" and exact:
        return "adjoint"
    if name == "default.qubit" and exact:
        return "backprop"
    return "parameter-shift"
