"""physics.exact.tfim_quench: the free-fermion quench of the periodic TFIM chain against
exact diagonalisation (scipy.sparse.linalg.expm_multiply on the model's sparse matrix)."""

import math

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from qml_phys.errors import InvalidParameterError
from qml_phys.physics import Lattice, TransverseFieldIsing, exact
from qml_phys.physics.exact import TFIMQuench, tfim_quench

TIMES = np.linspace(0.0, 3.0, 16)


def _ed_quench(N, h0, h1, times, J=1.0):
    """``<X>``, ``<ZZ>`` per bond and ``<H(h1)>`` of ``exp(-i H(h1) t) |psi_0>`` by ED.

    ``|psi_0>``: the lowest eigenvector of ``H(h0)`` (dense ``eigh``, Lanczos above 6
    sites; nondegenerate for ``h0 > 0``), or ``|+>^N`` for ``h0 = inf``.
    """
    chain = Lattice.chain(N)
    h1_mat = TransverseFieldIsing(chain, J=J, gamma=h1).sparse_matrix()
    if h0 == math.inf:
        psi0 = np.full(2**N, 2.0 ** (-N / 2))
    else:
        h0_mat = TransverseFieldIsing(chain, J=J, gamma=h0).sparse_matrix()
        if N <= 6:
            vals, vecs = np.linalg.eigh(h0_mat.toarray())
        else:
            vals, vecs = spla.eigsh(h0_mat, k=2, which="SA", tol=1e-14)
            order = np.argsort(vals)
            vals, vecs = vals[order], vecs[:, order]
        assert vals[1] - vals[0] > 1e-8  # a unique ground state
        psi0 = vecs[:, 0]
    # (1/N) sum X_i and (1/N) sum_bonds Z_i Z_j from the model's own Pauli terms
    x_mat = TransverseFieldIsing(chain, J=0.0, gamma=-1.0 / N).sparse_matrix()
    zz_mat = TransverseFieldIsing(chain, J=-1.0 / N, gamma=0.0).sparse_matrix()
    states = spla.expm_multiply(
        -1j * h1_mat,
        psi0.astype(np.complex128),
        start=times[0],
        stop=times[-1],
        num=len(times),
        endpoint=True,
    )
    ev = lambda op: np.array([np.vdot(s, op @ s).real for s in states])  # noqa: E731
    return ev(x_mat), ev(zz_mat), ev(h1_mat)


@pytest.mark.parametrize("N", [2, 3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize(
    "h0, h1",
    [(0.5, 1.0), (math.inf, 0.5), (2.0, 0.3), (1.0, 1.0), (0.3, 2.5), (1.5, 0.0)],
)
def test_free_fermions_match_exact_diagonalisation(N, h0, h1):
    ref = tfim_quench(N, h0, h1, TIMES)
    x, zz, e = _ed_quench(N, h0, h1, TIMES)
    np.testing.assert_allclose(ref.x, x, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ref.zz, zz, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ref.energy, e, rtol=0, atol=1e-10 * N)


@pytest.mark.parametrize("N", [11, 12])
def test_target_quenches_match_exact_diagonalisation(N):
    times = np.linspace(0.0, 2.0, 5)
    for h0, h1 in ((0.5, 1.0), (math.inf, 0.5)):
        ref = tfim_quench(N, h0, h1, times)
        x, zz, e = _ed_quench(N, h0, h1, times)
        assert np.max(np.abs(ref.x - x)) < 1e-10
        assert np.max(np.abs(ref.zz - zz)) < 1e-10
        assert np.max(np.abs(ref.energy - e)) < 1e-9


def test_energy_is_conserved_and_initial_values_are_the_ground_state():
    ref = tfim_quench(40, 0.7, 1.3, np.linspace(0, 10, 51))
    assert np.ptp(ref.energy) < 1e-11 * 40
    # at t = 0 the state is the ground state of H(h0): <H(h0)> is its ground energy
    e0 = -40 * ref.zz[0] - 0.7 * 40 * ref.x[0]
    assert e0 == pytest.approx(exact.tfim_chain_ground_energy(40, J=1.0, gamma=0.7), abs=1e-10)
    # a quench to the same field does nothing
    same = tfim_quench(9, 0.8, 0.8, np.linspace(0, 5, 11))
    assert np.ptp(same.x) < 1e-13 and np.ptp(same.zz) < 1e-13


def test_product_state_limit_and_shapes():
    big = tfim_quench(10, 1e12, 0.5, TIMES)
    inf = tfim_quench(10, math.inf, 0.5, TIMES)
    assert isinstance(inf, TFIMQuench) and inf.x.shape == inf.zz.shape == (len(TIMES),)
    assert inf.x[0] == pytest.approx(1.0, abs=1e-15) and inf.zz[0] == pytest.approx(0, abs=1e-15)
    np.testing.assert_allclose(big.x, inf.x, atol=1e-10)
    assert set(inf.observables) == {"x", "zz", "energy"}
    assert tfim_quench(6, 0.5, 1.0, 0.25).x.shape == (1,)


def test_bad_input_is_refused_with_what_was_expected():
    with pytest.raises(InvalidParameterError, match="N must be an integer >= 2; got 1"):
        tfim_quench(1, 0.5, 1.0, TIMES)
    with pytest.raises(InvalidParameterError, match=r"h0: expected a number >= 0 or inf .*-0.5"):
        tfim_quench(6, -0.5, 1.0, TIMES)
    with pytest.raises(InvalidParameterError, match="h1: expected a finite number >= 0; got inf"):
        tfim_quench(6, 0.5, math.inf, TIMES)
    with pytest.raises(InvalidParameterError, match="J: expected a finite coupling J > 0"):
        tfim_quench(6, 0.5, 1.0, TIMES, J=-1.0)
    with pytest.raises(InvalidParameterError, match="times: expected a 1-d array of finite"):
        tfim_quench(6, 0.5, 1.0, [0.0, math.nan])
