import numpy as np

from qml_phys.runtime import plots


def test_save_writes_a_png(tmp_path):
    fig, ax = plots.figure()
    ax.plot(np.arange(3), np.arange(3) ** 2)
    path = plots.save(fig, tmp_path / "sub" / "p.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
