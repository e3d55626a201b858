import pickle

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qml_phys.classical.mehta import MEHTA_TEMPERATURES, read_mehta
from qml_phys.errors import CorruptDataError, ShapeError


def _write_layout(tmp_path, spins, labels):
    data = tmp_path / "Ising2DFM_reSample_L4_T=All.pkl"
    lab = tmp_path / "Ising2DFM_reSample_L4_T=All_labels.pkl"
    with open(data, "wb") as f:
        pickle.dump(np.packbits(((spins.reshape(len(spins), -1) + 1) // 2).astype(np.uint8)), f)
    with open(lab, "wb") as f:
        pickle.dump(labels, f)
    return data, lab


def test_round_trip_of_the_mehta_layout(tmp_path):
    rng = np.random.default_rng(40)
    n_per_T = 3
    spins = rng.choice(np.array([-1, 1], np.int8), size=(16 * n_per_T, 4, 4))
    labels = (np.repeat(MEHTA_TEMPERATURES, n_per_T) < 2.25).astype(np.int64)
    data, lab = _write_layout(tmp_path, spins, labels)
    out = read_mehta(data, lab, L=4)
    np.testing.assert_array_equal(out.spins, spins)
    assert out.spins.dtype == np.int8
    np.testing.assert_array_equal(out.labels, labels)
    assert out.temperatures[0] == 0.25 and out.temperatures[-1] == 4.0
    np.testing.assert_allclose(np.unique(out.temperatures), MEHTA_TEMPERATURES)


def test_refuses_pickles_that_are_not_arrays(tmp_path):
    import collections

    bad = tmp_path / "evil.pkl"
    with open(bad, "wb") as f:
        pickle.dump(collections.Counter("abc"), f)  # any class outside numpy is refused
    with pytest.raises(CorruptDataError, match="numpy array only"):
        read_mehta(bad, L=4)
    with open(bad, "wb") as f:
        pickle.dump({"not": "an array"}, f)
    with pytest.raises(ShapeError, match="packbits uint8 array; got dtype object"):
        read_mehta(bad, L=4)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 2000))
@example(junk=b")r\x00\x00\x00\x9c", cut=0)  # memo slot 2.6e9: the unpickler took 21 GB
def test_corrupted_bytes_give_a_named_error(tmp_path_factory, junk, cut):
    """Random bytes, and a real file cut short, fail with a named error, never a traceback."""
    path = tmp_path_factory.mktemp("mehta") / "x.pkl"
    path.write_bytes(junk)
    with pytest.raises((CorruptDataError, ShapeError)):
        read_mehta(path, L=4)
    good = pickle.dumps(np.packbits(np.ones(16 * 16, np.uint8)))
    path.write_bytes(good[: min(cut, len(good) - 1)])
    with pytest.raises((CorruptDataError, ShapeError)):
        read_mehta(path, L=4)


def test_a_shape_with_no_data_behind_it_is_refused_before_allocation(tmp_path):
    """A hand-made pickle that rebuilds an empty (2**31 - 1,) uint8 array from 77 bytes:
    unpacking it would take 16 GiB. It is refused for having no data behind its shape."""
    crafted = (
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01"
        b"J\xff\xff\xff\x7f\x85q\x02C\x01Bq\x03\x87q\x04Rq\x05."
    )
    path = tmp_path / "crafted.pkl"
    path.write_bytes(crafted)
    with pytest.raises(CorruptDataError, match=r"shape \(2147483647,\).*no data behind it"):
        read_mehta(path, L=4)
    path.write_bytes(b")r\x00\x00\x00\x9c.")
    with pytest.raises(CorruptDataError, match="expected memo indices below the 1 opcodes"):
        read_mehta(path, L=4)


def test_wrong_size_is_named(tmp_path):
    spins = np.ones((16, 4, 4), np.int8)
    data, _ = _write_layout(tmp_path, spins, np.zeros(16))
    with pytest.raises(ShapeError, match="expected 16 equal temperature blocks; got 10"):
        read_mehta(data, L=5)
