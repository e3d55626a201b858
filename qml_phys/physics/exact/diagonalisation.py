r"""Exact diagonalisation: the lowest eigenvalues of a sparse Hermitian operator (Lanczos,
with a dense solver for small matrices)."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from qml_phys.errors import InvalidParameterError, check_positive_int

_DENSE_EIGH_MAX_DIM = 64


# --------------------------------------------------------------------------- Lanczos
def _as_operator(operator):
    if hasattr(operator, "sparse_matrix") and callable(operator.sparse_matrix):
        operator = operator.sparse_matrix()
    if scipy.sparse.issparse(operator) or isinstance(operator, scipy.sparse.linalg.LinearOperator):
        op = operator
    else:
        try:
            op = np.asarray(operator)
        except Exception:  # noqa: BLE001
            op = None
        if op is None or op.dtype == object or not (np.issubdtype(op.dtype, np.number)):
            raise InvalidParameterError(
                "expected a sparse matrix, LinearOperator, array or an object with "
                f".sparse_matrix(); got {type(operator).__name__}"
            )
    shape = tuple(op.shape)
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        raise InvalidParameterError(
            f"expected a square (n, n) operator with n >= 1; got shape {shape}"
        )
    return op


def lanczos(operator, k: int = 1, return_vectors: bool = False):
    r"""Lowest ``k`` eigenvalues (ascending) of a Hermitian operator.

    Uses :func:`scipy.sparse.linalg.eigsh` (implicitly restarted Lanczos, ``which="SA"``,
    a fixed starting vector so results are reproducible); dimensions ``<= 64`` (or
    ``k >= n - 1``) are diagonalised densely with :func:`numpy.linalg.eigh`.

    Args:
        operator: a scipy sparse matrix, a ``LinearOperator``, a dense array, or any object
            with a ``.sparse_matrix()`` method (the models of :mod:`qml_phys.physics.models`).
        k: number of eigenvalues, ``1 <= k <= n``.
        return_vectors: also return the eigenvectors.

    Returns:
        ``(k,)`` float64 eigenvalues, or ``(values, vectors)`` with ``vectors`` ``(n, k)``
        (column ``i`` belongs to ``values[i]``).
    """
    op = _as_operator(operator)
    n = op.shape[0]
    k = check_positive_int("k", k, minimum=1)
    if k > n:
        raise InvalidParameterError(f"expected k <= dimension {n}; got k = {k}")
    if n <= _DENSE_EIGH_MAX_DIM or k >= n - 1:
        if isinstance(op, scipy.sparse.linalg.LinearOperator):
            dense = op @ np.eye(n)
        elif scipy.sparse.issparse(op):
            dense = op.toarray()
        else:
            dense = np.asarray(op)
        asym = np.max(np.abs(dense - dense.conj().T))
        if asym > 1e-10 * max(1.0, np.max(np.abs(dense))):
            raise InvalidParameterError(
                f"expected a Hermitian operator; got max |A - A^H| = {asym:.3g}"
            )
        vals, vecs = np.linalg.eigh(dense)
        vals, vecs = vals[:k], vecs[:, :k]
    else:
        v0 = np.random.default_rng(0).standard_normal(n)
        vals, vecs = scipy.sparse.linalg.eigsh(op, k=k, which="SA", v0=v0, tol=0.0)
        order = np.argsort(vals)
        vals, vecs = vals[order], vecs[:, order]
    vals = np.asarray(vals.real, np.float64)
    return (vals, vecs) if return_vectors else vals
