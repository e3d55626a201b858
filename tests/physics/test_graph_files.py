"""Graph edge-list files: random and corrupted bytes give a named error, never a traceback."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qml_phys.errors import GraphFormatError
from qml_phys.physics import Graph


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("g") / "edges.txt"
    path.write_bytes(data)
    try:
        graph = Graph.from_file(path)
    except GraphFormatError:
        return
    assert graph.n_edges >= 1 and graph.n_nodes <= 10**9  # some bytes are a valid edge list


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789 .-e#\n\tx,", max_size=80))
def test_random_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("g") / "edges.txt"
    path.write_text(text)
    try:
        Graph.from_file(path)
    except GraphFormatError:
        pass


def test_named_errors(tmp_path):
    p = tmp_path / "g.txt"
    p.write_bytes(b"0 1\n\xff\xfe 2\n")
    with pytest.raises(GraphFormatError, match="expected a UTF-8 text edge list"):
        Graph.from_file(p)
    p.write_bytes(b"0 1\x00\n")
    with pytest.raises(GraphFormatError, match="got a binary file"):
        Graph.from_file(p)
    p.write_text("0 99999999999999999999\n")
    with pytest.raises(GraphFormatError, match="expected node indices below"):
        Graph.from_file(p)
    with pytest.raises(GraphFormatError, match="graph path is a folder"):
        Graph.from_file(tmp_path)
