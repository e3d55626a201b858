r"""PennyLane devices by name, with shots, seeds and noise made explicit.

The one entry point is :func:`get_device`; :class:`DeviceConfig` is the same choice as a
frozen, hashable value that parses from and prints to a string such as
``"qiskit.aer:shots=10000:seed=1:noise=fake_manila"`` (for configs and the command line).

Known names
-----------

* ``default.qubit`` -- PennyLane's reference simulator (``seed`` is its ``seed`` option).
* ``lightning.qubit`` -- the C++ state-vector simulator (adjoint gradients).
* ``qiskit.aer`` -- Qiskit Aer through ``pennylane-qiskit``. Without shots it is the exact
  ``aer_simulator_statevector``; with ``noise="fake_<backend>"`` the noise model is built
  offline from Qiskit's fake IBM backends (``qiskit_ibm_runtime.fake_provider``, e.g.
  ``fake_manila``), and shots are then required. ``seed`` is Aer's ``seed_simulator``.
* ``qiskit.remote`` -- IBM hardware; needs a token from ``$QISKIT_IBM_TOKEN`` or
  ``token=...`` and the backend name ``backend=...`` (default: least busy).
* ``braket.local.qubit`` -- Amazon Braket's local simulator, only if the optional
  ``amazon-braket-pennylane-plugin`` is installed.

Shots on a device are deprecated in PennyLane 0.45 in favour of ``qml.set_shots`` on a
QNode; they are still honoured, and this module silences that one warning so that the
shots stay an explicit property of the device chosen here.
"""

from __future__ import annotations

import dataclasses
import os
import warnings

import pennylane as qml

from qml_phys.errors import InvalidParameterError, UnknownNameError, check_positive_int

__all__ = [
    "DEVICE_NAMES",
    "TOKEN_ENV_VAR",
    "DeviceConfig",
    "check_wires",
    "device_wires",
    "diff_method_for",
    "fake_backend",
    "get_device",
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
    if name not in DEVICE_NAMES:
        raise UnknownNameError(f"device: expected one of {', '.join(DEVICE_NAMES)}; got {name!r}")
    return name


def _check_shots(shots) -> int | None:
    return None if shots is None else check_positive_int("shots", shots, minimum=1)


def _check_seed(seed) -> int | None:
    return None if seed is None else check_positive_int("seed", seed, minimum=0)


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
    seed: int | None = None,
    noise: str | None = None,
    **options,
):
    """A PennyLane device ``name`` on wires ``0 .. wires-1``.

    Args:
        name: one of :data:`DEVICE_NAMES`.
        wires: number of qubits (wires are ``range(wires)``).
        shots: ``None`` for exact expectation values, else the number of samples.
        seed: seed of the simulator's sampler (``seed`` of ``default.qubit`` and
            ``lightning.qubit``, ``seed_simulator`` of Aer); ignored by hardware.
        noise: ``qiskit.aer`` only: a fake IBM backend name (``"fake_manila"``) whose
            noise model is applied; needs ``shots``.
        **options: passed on to ``qml.device`` (for ``qiskit.remote``: ``token``,
            ``backend`` name, ``channel``, ``instance``).

    Raises:
        UnknownNameError: unknown device or fake backend name.
        InvalidParameterError: bad ``wires``/``shots``/``seed``, noise without shots or on
            a device other than ``qiskit.aer``, ``qiskit.remote`` without a token, or
            ``braket.local.qubit`` without its plugin.
    """
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
        if seed is not None:
            kwargs["seed_simulator"] = seed
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
        return qml.device(name, wires=wires, **kwargs)


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

    def make(self, wires: int, **options):
        """The device for ``wires`` qubits (see :func:`get_device`)."""
        return get_device(
            self.name, wires=wires, shots=self.shots, seed=self.seed, noise=self.noise, **options
        )


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


def _device_shots(device) -> int | None:
    shots = getattr(device, "shots", None)
    return None if shots is None else getattr(shots, "total_shots", shots)


def diff_method_for(device) -> str:
    """The best gradient method of ``device``.

    ``"adjoint"`` for ``lightning.qubit`` without shots, ``"backprop"`` for
    ``default.qubit`` without shots, ``"parameter-shift"`` otherwise (shots, Aer, hardware).
    """
    name = getattr(device, "name", None)
    exact = _device_shots(device) is None
    if name == "lightning.qubit" and exact:
        return "adjoint"
    if name == "default.qubit" and exact:
        return "backprop"
    return "parameter-shift"
