r"""Any generative spin model as a neural quantum state: ``log psi(s) = log p(s) / 2``.

A NetKet model is just a Flax module ``__call__(sigma) -> log psi(sigma)`` with ``sigma``
of shape ``(..., N)`` in {-1,+1} (NetKet's ``Spin(1/2)`` convention; float dtype), so no
NetKet import is needed here. For a positive (stoquastic) ground state,
:math:`|\psi(s)|^2 = p(s)`: a model trained on Monte Carlo data (or by the VAN) gives a
warm start for variational Monte Carlo, and NetKet's Born-rule samplers draw from ``p``.

Usage (the NetKet side lives in :mod:`qml_phys.nqs`)::

    from qml_phys.generative.adapter import LogPsi, log_psi_variables
    model = make_model("made", L)                 # or RBM(shape=(L, L)), Z2Symmetric(...)
    params = train_spin_model(model, spins).params
    vstate = nk.vqs.MCState(sampler, LogPsi(model), variables=log_psi_variables(params))
    # or nk.vqs.FullSumState(hilbert, LogPsi(model), variables=log_psi_variables(params))

* The site order is the model's flat order: site ``i = r * L + c`` of the ``L x L``
  lattice, i.e. ``qml_phys.physics.Lattice.square(L)`` sites, NetKet's ``sigma[..., i]``.
  A ``sigma`` whose last axis is not ``N`` raises ShapeError.
* ``log psi`` is float32 and real (psi > 0). Normalised models (autoregressive) give a
  normalised ``psi``; the RBM gives ``-F(s)/2``, unnormalised, which NetKet does not need.
* Parameters: the adapter holds the generative model as its submodule ``"model"``, so its
  variables are ``{"params": {"model": params}}`` (:func:`log_psi_variables`), and
  :func:`generative_params` goes back. Training the NQS further changes these parameters
  in place of the generative ones; nothing else is added.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax

__all__ = ["LogPsi", "generative_params", "log_psi_variables"]


class LogPsi(nn.Module):
    """``log psi(sigma) = log p(sigma) / 2`` of a generative spin model (NetKet-compatible)."""

    model: nn.Module
    """Any module of :mod:`qml_phys.generative` whose ``__call__(s)`` returns ``log p(s)``."""

    def __call__(self, sigma) -> jax.Array:
        return 0.5 * self.model(sigma)


def log_psi_variables(params) -> dict[str, Any]:
    """Flax variables of :class:`LogPsi` from the generative model's ``params``."""
    return {"params": {"model": params}}


def generative_params(variables) -> Any:
    """The generative model's ``params`` from :class:`LogPsi` variables (or their params)."""
    params = variables["params"] if "params" in variables else variables
    return params["model"]
