"""The command line keeps NetKet from switching float64 on for the whole process: a float32
computation gives the same numbers before and after an NQS command in one process."""

import os
import subprocess
import sys

SCRIPT = """
import jax, jax.numpy as jnp
from qml_phys.cli import main

def f32():
    x = jax.random.normal(jax.random.key(0), (64,))
    return str(x.dtype), float(jnp.sum(jnp.sin(x) ** 2))

before = f32()
assert main(["nqs", "ground-state", "--model", "tfim", "--N", "4", "--iters", "2", "--json"]) == 0
import netket  # noqa: F401  (already imported by the command)
after = f32()
print(before == after, jax.config.jax_enable_x64, after[0])
"""


def test_an_nqs_command_leaves_float32_work_in_float32():
    env = {k: v for k, v in os.environ.items() if k not in ("NETKET_ENABLE_X64", "JAX_ENABLE_X64")}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True False float32"
