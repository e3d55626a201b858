r"""Neural-network quantum state tomography from measurement samples.

In the spirit of QuCumber (Beach et al., SciPost Phys. 7, 009 (2019), arXiv:1812.09329)
and Torlai et al., Nat. Phys. 14, 447 (2018), arXiv:1703.05334: a network
``log psi(s) = lambda(s) / 2 + i mu(s) / 2`` is fitted by maximum likelihood to projective
measurements of an unknown state in several local Pauli bases.

* **Positive states** (e.g. TFIM ground states): computational-basis samples suffice; the
  phase network is dropped (``mu = 0``).
* **States with signs** (e.g. the Heisenberg ground state without a sign rule): samples in
  the Z basis fix ``|psi|``; bases with ``X`` or ``Y`` on pairs of neighbouring sites fix the
  relative phases.

A measurement in basis ``b`` (a string such as ``"XXZZ"``) rotates every site by
``U_X = H`` (Hadamard) or ``U_Y = H S^dag`` and measures ``Z``: outcome ``sigma`` has
probability ``|<sigma| U_b |psi>|^2``. Spins ``s = +1`` are ``|0>`` (the package
convention), and a state vector is indexed by the canonical basis of
:mod:`qml_phys.physics.models` (site 0 = most significant bit).

The likelihood is normalised by exact enumeration of all ``2^N`` configurations (the
networks are evaluated on every configuration at each step), which is exact and, up to
:data:`MAX_TOMOGRAPHY_SITES` sites, fast. Fidelities ``|<psi_exact|psi>|^2`` are
reported for ``N <= 12``; observables (energy, nearest-neighbour correlations) for all N.
Samples may come from an exact state vector (:func:`measure`) or from any other source, e.g.
the state of a PennyLane circuit (``qml.state()``) passed to :func:`measure` or shot
samples converted to ``{-1, +1}`` spins.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Mapping

import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, TooLargeError, check_positive_int

#: Largest system reconstructed with exact normalisation.
MAX_TOMOGRAPHY_SITES = 16
#: Largest system for which fidelities against the exact state are reported.
MAX_FIDELITY_SITES = 12

_H = np.array([[1.0, 1.0], [1.0, -1.0]], dtype=np.complex128) / math.sqrt(2.0)
_SDG = np.diag([1.0, -1.0j]).astype(np.complex128)
ROTATIONS = {"Z": np.eye(2, dtype=np.complex128), "X": _H, "Y": _H @ _SDG}


def enable_x64() -> None:
    """Import NetKet, which turns on JAX's float64 mode (every nqs computation uses it)."""
    import netket  # noqa: F401


@contextlib.contextmanager
def standard_promotion():
    """optax and NetKet internals need JAX's standard dtype and rank promotion (the test
    suite makes both strict to catch our own mixing); third-party calls run under this."""
    import jax

    with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
        yield


def all_spins(n: int) -> np.ndarray:
    """All ``2^n`` configurations ``(2^n, n)`` int8 in {-1,+1}, canonical order."""
    if n > MAX_TOMOGRAPHY_SITES + 8:
        raise TooLargeError(
            f"all_spins: expected at most {MAX_TOMOGRAPHY_SITES + 8} sites; got {n}"
        )
    idx = np.arange(1 << n, dtype=np.int64)
    bits = (idx[:, None] >> np.arange(n - 1, -1, -1)) & 1
    return (1 - 2 * bits).astype(np.int8)


def _check_basis(basis: str, n: int) -> str:
    if len(basis) != n or any(c not in "XYZ" for c in basis):
        raise InvalidParameterError(
            f"basis: expected a string of {n} letters from X, Y, Z; got {basis!r}"
        )
    return basis


def rotate(psi, basis: str, xp=np):
    """``U_b psi`` for a state vector ``psi`` ``(2^N,)`` (numpy or jax.numpy via ``xp``)."""
    n = len(basis)
    t = xp.reshape(psi, (2,) * n)
    for i, c in enumerate(basis):
        if c != "Z":
            u = xp.asarray(ROTATIONS[c])
            t = xp.moveaxis(xp.tensordot(u, t, axes=([1], [i])), 0, i)
    return xp.reshape(t, (-1,))


def pair_bases(n: int, pbc: bool = True, include_y: bool = True) -> list[str]:
    """``Z...Z`` plus, for every neighbouring pair ``(i, i+1)``, ``XX`` (and ``XY``) there."""
    bases = ["Z" * n]
    last = n if pbc else n - 1
    for i in range(last):
        j = (i + 1) % n
        for pair in ("XX", "XY") if include_y else ("XX",):
            b = ["Z"] * n
            b[i], b[j] = pair[0], pair[1]
            bases.append("".join(b))
    return list(dict.fromkeys(bases))


def measure(psi, bases, n_samples: int, *, key) -> dict[str, np.ndarray]:
    """Projective measurements of the state vector ``psi`` ``(2^N,)`` in each basis.

    Returns ``{basis: spins}`` with spins ``(n_samples, N)`` int8 in {-1,+1}.
    """
    import jax

    psi = np.asarray(psi, dtype=np.complex128)
    n = int(round(math.log2(psi.shape[0]))) if psi.ndim == 1 and psi.shape[0] else -1
    if psi.ndim != 1 or (1 << max(n, 0)) != psi.shape[0] or n < 1:
        raise ShapeError(f"psi: expected a state vector of length 2^N; got shape {psi.shape}")
    check_positive_int("n_samples", n_samples)
    spins = all_spins(n)
    out = {}
    for b, k in zip(bases, jax.random.split(key, len(bases)), strict=True):
        p = np.abs(rotate(psi, _check_basis(b, n))) ** 2
        p = p / p.sum()
        idx = np.asarray(jax.random.choice(k, p.shape[0], (n_samples,), p=p))
        out[b] = spins[idx]
    return out


# --------------------------------------------------------------------------- model
def make_model(alpha: int = 1, phase: bool = True):
    """A Flax module ``log psi(s) = lambda(s)/2 + i mu(s)/2`` with RBM ``lambda`` and
    ``mu`` (real parameters); ``phase=False`` drops ``mu`` (positive states)."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    class AmplitudePhaseRBM(nn.Module):
        """Two real RBMs: amplitude ``lambda`` and phase ``mu`` (Torlai et al. 2018)."""

        alpha: int = 1
        """hidden units per site."""
        phase: bool = True
        """learn a phase network (False: positive state)."""

        @nn.compact
        def __call__(self, s):
            s = jnp.asarray(s, jnp.float64)
            n = s.shape[-1]

            def rbm(name):
                w = nn.Dense(
                    self.alpha * n,
                    name=f"{name}_hidden",
                    param_dtype=jnp.float64,
                    kernel_init=nn.initializers.normal(0.05),
                )(s)
                a = self.param(f"{name}_visible", nn.initializers.zeros, (n,), jnp.float64)
                return s @ a + jnp.sum(jnp.logaddexp(w, -w), axis=-1)

            lam = rbm("amp")
            if not self.phase:
                return 0.5 * lam
            return jax.lax.complex(0.5 * lam, 0.5 * rbm("phase"))

    return AmplitudePhaseRBM(alpha=alpha, phase=phase)


@dataclasses.dataclass(frozen=True)
class TomographyConfig:
    """Training settings.

    Attributes:
        alpha: hidden units per site of each RBM.
        epochs: full-batch Adam steps.
        learning_rate: Adam step size.
        phase: learn a phase (None: only if a non-Z basis is given).
    """

    alpha: int = 2
    epochs: int = 2000
    learning_rate: float = 0.05
    phase: bool | None = None


@dataclasses.dataclass
class TomographyResult:
    """Reconstructed state: ``params`` of ``module``, its normalised vector ``psi``
    ``(2^N,)``, the negative log-likelihood per epoch and, with a reference, the fidelity."""

    module: object
    params: dict
    psi: np.ndarray
    nll: np.ndarray
    fidelity: float | None = None


def _normalised_log_psi(module, params, spins):
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    logpsi = jnp.asarray(module.apply(params, spins), jnp.complex128)
    log_norm = 0.5 * logsumexp(2.0 * jnp.real(logpsi))
    return logpsi - log_norm.astype(jnp.complex128)


def reconstruct(
    samples: Mapping[str, np.ndarray],
    config: TomographyConfig | None = None,
    *,
    key,
    reference=None,
) -> TomographyResult:
    """Fit the network to ``samples`` (``{basis: (n, N) spins}``) by maximum likelihood.

    Args:
        samples: measurement outcomes per basis, e.g. from :func:`measure`.
        config: :class:`TomographyConfig`.
        key: JAX PRNG key (parameter initialisation).
        reference: the exact state ``(2^N,)`` to report the fidelity against (optional).
    """
    import jax
    import jax.numpy as jnp
    import optax

    enable_x64()
    config = config or TomographyConfig()
    bases = list(samples)
    if not bases:
        raise InvalidParameterError("samples: expected at least one basis; got none")
    n = len(bases[0])
    if n > MAX_TOMOGRAPHY_SITES:
        raise TooLargeError(
            f"reconstruct: exact normalisation needs N <= {MAX_TOMOGRAPHY_SITES}; got N = {n}"
        )
    phase = config.phase if config.phase is not None else any(set(b) != {"Z"} for b in bases)
    module = make_model(config.alpha, phase)
    spins = jnp.asarray(all_spins(n), jnp.float64)
    # outcome -> basis index of each sample
    weights = np.array([1 << (n - 1 - i) for i in range(n)], dtype=np.int64)
    idx = {}
    for b in bases:
        s = np.asarray(samples[_check_basis(b, n)])
        if s.ndim != 2 or s.shape[1] != n or not np.all(np.abs(s) == 1):
            raise ShapeError(f"samples[{b!r}]: expected (n, {n}) spins in {{-1,+1}}; got {s.shape}")
        idx[b] = jnp.asarray(((1 - s) // 2).astype(np.int64) @ weights)
    params = module.init(key, spins[:1])

    def loss(p):
        logpsi = _normalised_log_psi(module, p, spins)
        total = jnp.zeros((), jnp.float64)
        for b in bases:
            if set(b) == {"Z"}:
                logp = 2.0 * jnp.real(logpsi)
            else:
                amp = rotate(jnp.exp(logpsi), b, xp=jnp)
                logp = jnp.log(jnp.abs(amp) ** 2 + 1e-300)
            total = total - jnp.mean(logp[idx[b]])
        return total / len(bases)

    opt = optax.adam(config.learning_rate)

    @jax.jit
    def train(p):
        def step(carry, _):
            p, s = carry
            value, g = jax.value_and_grad(loss)(p)
            upd, s = opt.update(g, s, p)
            return (optax.apply_updates(p, upd), s), value

        (p, _), hist = jax.lax.scan(step, (p, opt.init(p)), None, length=config.epochs)
        return p, hist

    with standard_promotion():
        params, hist = train(params)
    psi = np.asarray(jnp.exp(_normalised_log_psi(module, params, spins)))
    fid = None
    if reference is not None and n <= MAX_FIDELITY_SITES:
        fid = fidelity(reference, psi)
    return TomographyResult(module, params, psi, np.asarray(hist), fid)


def fidelity(psi_a, psi_b) -> float:
    """``|<a|b>|^2 / (<a|a> <b|b>)`` of two state vectors."""
    a = np.asarray(psi_a, np.complex128)
    b = np.asarray(psi_b, np.complex128)
    if a.shape != b.shape:
        raise ShapeError(f"fidelity: expected vectors of equal shape; got {a.shape} and {b.shape}")
    return float(abs(np.vdot(a, b)) ** 2 / (np.vdot(a, a).real * np.vdot(b, b).real))


def energy(model, psi) -> float:
    """``<psi|H|psi> / <psi|psi>`` with the model's sparse matrix."""
    psi = np.asarray(psi, np.complex128)
    return float(np.real(np.vdot(psi, model.sparse_matrix() @ psi)) / np.vdot(psi, psi).real)


def tomography_demo(
    model, *, n_samples: int = 2000, config: TomographyConfig | None = None, key, out=None
) -> dict:
    """Measure the exact ground state of ``model`` and reconstruct it (TFIM: Z basis only;
    Heisenberg: Z plus neighbouring XX/XY bases). Returns fidelity and energies."""
    import jax

    from qml_phys.physics import Heisenberg, exact

    n = model.n_sites
    if n > MAX_TOMOGRAPHY_SITES:
        raise TooLargeError(f"tomography: expected N <= {MAX_TOMOGRAPHY_SITES}; got N = {n}")
    e0, vecs = exact.lanczos(model, return_vectors=True)
    psi0 = vecs[:, 0]
    signed = isinstance(model, Heisenberg)
    bases = (
        pair_bases(n, model.lattice.pbc and model.lattice.kind == "chain") if signed else ["Z" * n]
    )
    k_meas, k_fit = jax.random.split(key)
    data = measure(psi0, bases, n_samples, key=k_meas)
    res = reconstruct(data, config, key=k_fit, reference=psi0)
    e_rec = energy(model, res.psi)
    summary = {
        "n_sites": n,
        "bases": bases,
        "samples_per_basis": n_samples,
        "fidelity": res.fidelity,
        "energy_reconstructed": e_rec,
        "energy_exact": float(e0[0]),
        "relative_energy_error": abs(e_rec - float(e0[0])) / abs(float(e0[0])),
        "final_nll": float(res.nll[-1]),
    }
    if out is not None:
        from pathlib import Path

        from qml_phys.runtime import plots
        from qml_phys.runtime.records import write_record

        out = Path(out)
        write_record(
            out / "tomography.json",
            summary,
            config=dataclasses.asdict(config or TomographyConfig()),
            kind="nqs.tomography",
        )
        fig, ax = plots.figure()
        ax.plot(res.nll)
        ax.set_xlabel("epoch")
        ax.set_ylabel("negative log-likelihood per basis")
        ax.set_title(f"fidelity {res.fidelity:.4f}" if res.fidelity is not None else "")
        plots.save(fig, out / "tomography.png")
    return summary


# --------------------------------------------------------------------------- PennyLane
# --------------------------------------------------------------------------- sampled
@dataclasses.dataclass(frozen=True)
class SampledTomographyConfig:
    """Maximum-likelihood tomography of a positive state without enumeration (any N).

    Attributes:
        alpha: hidden units per site of NetKet's RBM (its output is ``log psi``).
        iters: Adam steps.
        learning_rate: Adam step size (cosine decay to a tenth).
        batch_size: data samples per step.
        n_samples: model samples per step (NetKet Metropolis, local flips).
        n_chains: Markov chains.
    """

    alpha: int = 1
    iters: int = 1000
    learning_rate: float = 0.01
    batch_size: int = 1000
    n_samples: int = 1024
    n_chains: int = 16


def reconstruct_sampled(
    samples_z: np.ndarray, config: SampledTomographyConfig | None = None, *, key
):
    r"""Fit ``p(s) = |psi(s)|^2 = e^{2 Re log psi(s)} / Z`` to Z-basis samples of a positive
    state, for sizes beyond exact normalisation (QuCumber's positive-wavefunction method).

    The gradient of the negative log-likelihood is
    :math:`-\mathrm{E}_\mathrm{data}[\nabla 2\,\mathrm{Re}\log\psi] +
    \mathrm{E}_{|\psi|^2}[\nabla 2\,\mathrm{Re}\log\psi]`; the second term comes from a
    NetKet ``MCState`` sampled afresh at every step. Returns the ``MCState`` (NetKet's RBM,
    real float64 parameters), so observables follow from ``vstate.expect(operator)`` with
    NetKet's error bars. Spins ``(n, N)`` in {-1,+1}, ``+1 = |0>``.
    """
    import jax
    import jax.numpy as jnp
    import netket as nk
    import optax

    config = config or SampledTomographyConfig()
    s = np.asarray(samples_z)
    if s.ndim != 2 or not np.all(np.abs(s) == 1):
        raise ShapeError(f"samples_z: expected (n, N) spins in {{-1,+1}}; got shape {s.shape}")
    n_data, n = s.shape
    batch = min(check_positive_int("batch_size", config.batch_size), n_data)
    hilbert = nk.hilbert.Spin(0.5, n)
    k_init, k_batch = jax.random.split(key)
    seeds = [int(x) for x in jax.random.randint(k_init, (2,), 0, 2**30)]
    with standard_promotion():
        vstate = nk.vqs.MCState(
            nk.sampler.MetropolisLocal(hilbert, n_chains=config.n_chains),
            nk.models.RBM(alpha=config.alpha, param_dtype=jnp.float64),
            n_samples=config.n_samples,
            seed=seeds[0],
            sampler_seed=seeds[1],
        )
    apply = vstate.model.apply
    model_state = vstate.model_state
    data = jnp.asarray(s, jnp.float64)

    def surrogate(params, x_data, x_model):
        lam = lambda x: 2.0 * jnp.real(apply({"params": params, **model_state}, x))
        return -jnp.mean(lam(x_data)) + jnp.mean(lam(x_model))

    schedule = optax.cosine_decay_schedule(config.learning_rate, config.iters, alpha=0.1)
    opt = optax.adam(schedule)

    @jax.jit
    def step(params, opt_state, x_data, x_model):
        g = jax.grad(surrogate)(params, x_data, x_model)
        upd, opt_state = opt.update(g, opt_state, params)
        new = jax.tree.map(lambda p, u: (p + u).astype(p.dtype), params, upd)
        norm = jnp.sqrt(sum(jnp.sum(x * x) for x in jax.tree.leaves(g)))
        return new, opt_state, norm

    params = vstate.parameters
    opt_state = opt.init(params)
    grad_norms = []
    with standard_promotion():
        for i in range(check_positive_int("iters", config.iters)):
            idx = jax.random.randint(jax.random.fold_in(k_batch, i), (batch,), 0, n_data)
            x_model = vstate.sample().reshape(-1, n)
            params, opt_state, gn = step(params, opt_state, data[idx], x_model)
            vstate.parameters = params
            grad_norms.append(float(gn))
    return vstate, np.asarray(grad_norms)


def _pauli_pair(n: int, pauli: str, i: int, j: int) -> str:
    chars = ["I"] * n
    chars[i], chars[j] = pauli, pauli
    return "".join(chars)


def sampled_tomography_demo(
    model,
    *,
    n_samples: int = 20000,
    config: SampledTomographyConfig | None = None,
    key,
    eval_samples: int = 16384,
) -> dict:
    """Measure the exact ground state of a TFIM ``model`` (positive) in the Z basis, fit
    with :func:`reconstruct_sampled`, and compare observables with the exact state: the
    energy (``<H>`` with NetKet's error bar against the exact ground energy) and the
    nearest-neighbour correlations ``<Z_0 Z_1>`` and ``<X_0 X_1>`` (the latter is not in
    the Z-basis data at all: it tests the learned amplitudes between configurations).
    Fidelity is added for ``N <= 12``.
    """
    import jax
    import netket as nk

    from qml_phys.physics import TransverseFieldIsing, exact

    if not isinstance(model, TransverseFieldIsing):
        raise InvalidParameterError(
            "sampled tomography: expected a TransverseFieldIsing model (a positive ground "
            f"state, so that Z-basis samples determine it); got {type(model).__name__}"
        )
    n = model.n_sites
    if n > MAX_TOMOGRAPHY_SITES + 8:
        raise TooLargeError(
            f"sampled tomography: the exact reference state needs N <= "
            f"{MAX_TOMOGRAPHY_SITES + 8}; got N = {n}"
        )
    e0, vecs = exact.lanczos(model, return_vectors=True)
    psi0 = vecs[:, 0]
    k_meas, k_fit = jax.random.split(key)
    data = measure(psi0, ["Z" * n], n_samples, key=k_meas)["Z" * n]
    vstate, grad_norms = reconstruct_sampled(data, config, key=k_fit)
    vstate.n_samples = eval_samples
    hilbert = vstate.hilbert
    with standard_promotion():
        ops = {
            "energy": model.to_netket(hilbert),
            "zz_01": nk.operator.PauliStrings(hilbert, [_pauli_pair(n, "Z", 0, 1)], [1.0]),
            "xx_01": nk.operator.PauliStrings(hilbert, [_pauli_pair(n, "X", 0, 1)], [1.0]),
        }
        exact_values = {
            "energy": float(e0[0]),
            "zz_01": float(np.real(np.vdot(psi0, ops["zz_01"].to_sparse() @ psi0))),
            "xx_01": float(np.real(np.vdot(psi0, ops["xx_01"].to_sparse() @ psi0))),
        }
    rows = {}
    with standard_promotion():
        for name, op in ops.items():
            st = vstate.expect(op)
            mean, err = float(np.real(st.mean)), float(st.error_of_mean)
            ref = exact_values[name]
            rows[name] = {
                "reconstructed": mean,
                "error": err,
                "exact": ref,
                "z": (mean - ref) / err if err > 0 else math.inf,
            }
    if n <= MAX_FIDELITY_SITES:
        with standard_promotion():
            fid = fidelity(psi0, vstate.to_array())
    out = {
        "n_sites": n,
        "samples": n_samples,
        "observables": rows,
        "relative_energy_error": abs(rows["energy"]["reconstructed"] - exact_values["energy"])
        / abs(exact_values["energy"]),
        "fidelity": fid if n <= MAX_FIDELITY_SITES else None,
        "final_grad_norm": float(grad_norms[-1]),
    }
    return out
