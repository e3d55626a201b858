"""Lattice phi^4: the action against a site-by-site loop, its gradient, the free propagator."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.physics.phi4 import Phi4, free_propagator, observables, two_point


def loop_action(phi, m2, lam):
    L = phi.shape[0]
    s = 0.0
    for x, y in itertools.product(range(L), repeat=2):
        f = phi[x, y]
        kin = f * (2 * f - phi[(x + 1) % L, y] - phi[(x - 1) % L, y])
        kin += f * (2 * f - phi[x, (y + 1) % L] - phi[x, (y - 1) % L])
        s += kin + m2 * f**2 + lam * f**4
    return s


@pytest.mark.parametrize("L", [3, 4, 5])
def test_action_matches_the_site_loop(L, key):
    phi = jax.random.normal(key, (2, L, L), jnp.float32)
    theory = Phi4(L, m2=-4.0, lam=6.975)
    got = np.asarray(theory.action(phi))
    want = [loop_action(np.asarray(p, np.float64), -4.0, 6.975) for p in phi]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_gradient_is_the_autodiff_gradient(key):
    theory = Phi4(6, m2=-1.3, lam=2.5)
    phi = jax.random.normal(key, (6, 6), jnp.float32)
    auto = jax.grad(theory.action)(phi)
    np.testing.assert_allclose(np.asarray(theory.grad(phi)), np.asarray(auto), rtol=1e-5, atol=1e-5)
    # and a central finite difference on one site
    eps = 1e-2
    e = jnp.zeros((6, 6), jnp.float32).at[2, 3].set(eps)
    fd = (theory.action(phi + e) - theory.action(phi - e)) / (2 * eps)
    assert abs(float(fd) - float(theory.grad(phi)[2, 3])) < 1e-2 * (1 + abs(float(fd)))


def test_free_field_is_the_quadratic_form_and_its_inverse_is_the_propagator():
    L, m2 = 4, 0.7
    V = L * L
    A = np.zeros((V, V))
    idx = lambda x, y: (x % L) * L + (y % L)  # noqa: E731
    for x, y in itertools.product(range(L), repeat=2):
        i = idx(x, y)
        A[i, i] += 4 + m2
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            A[i, idx(x + dx, y + dy)] -= 1
    phi = np.random.default_rng(0).normal(size=(L, L))
    s = float(Phi4(L, m2=m2, lam=0.0).action(jnp.asarray(phi, jnp.float32)))
    assert s == pytest.approx(phi.ravel() @ A @ phi.ravel(), rel=1e-5)
    cov = np.linalg.inv(2 * A)  # e^{-phi A phi} has covariance (2A)^-1
    np.testing.assert_allclose(free_propagator(L, m2).ravel(), cov[0], atol=1e-12)
    # the zero mode: chi = V <m^2> = sum_x G(x) = 1 / (2 m^2)
    assert free_propagator(L, m2).sum() == pytest.approx(1 / (2 * m2))


def test_two_point_function_is_the_translation_average(key):
    phi = jax.random.normal(key, (5, 5), jnp.float32)
    g = np.asarray(two_point(phi))
    p = np.asarray(phi)
    want = np.mean([p[x, y] * p[(x + 2) % 5, (y + 1) % 5] for x in range(5) for y in range(5)])
    assert g[2, 1] == pytest.approx(want, rel=1e-5)
    obs = observables(phi[None])
    assert obs["phi2"][0] == pytest.approx(float(np.mean(p * p)), rel=1e-5)
    assert obs["abs_m"][0] == pytest.approx(abs(float(p.mean())), rel=1e-5)


def test_unbounded_actions_and_bad_shapes_are_refused():
    with pytest.raises(InvalidParameterError, match="lam must be >= 0.*unbounded.*got lam=-0.5"):
        Phi4(8, m2=-4.0, lam=-0.5)
    with pytest.raises(InvalidParameterError, match="free field.*needs m2 > 0.*got m2=-1"):
        Phi4(8, m2=-1.0, lam=0.0)
    with pytest.raises(InvalidParameterError, match="m2 must be a finite number"):
        Phi4(8, m2=float("nan"), lam=1.0)
    with pytest.raises(InvalidParameterError, match="L must be an integer >= 2"):
        Phi4(1)
    with pytest.raises(
        ShapeError, match=r"expected fields of shape \(\.\.\., 8, 8\); got shape \(4, 4\)"
    ):
        Phi4(8).action(jnp.zeros((4, 4), jnp.float32))
    with pytest.raises(ShapeError, match="floating-point"):
        Phi4(4).action(jnp.zeros((4, 4), jnp.int32))


def test_published_couplings_by_lattice_size():
    from qml_phys.errors import InvalidParameterError
    from qml_phys.physics.phi4 import DEFAULT_LAM, albergo_lambda

    assert albergo_lambda(6) == 6.975 and albergo_lambda(8) == DEFAULT_LAM == 6.008
    assert [albergo_lambda(L) for L in (10, 12, 14)] == [5.550, 5.276, 5.113]
    with pytest.raises(InvalidParameterError, match="expected L in .* got L=7"):
        albergo_lambda(7)
