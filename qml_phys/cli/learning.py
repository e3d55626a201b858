"""The ``qml-phys learn`` commands (cheap to import: the work is imported inside them)."""

from __future__ import annotations

from qml_phys.cli import args as A


def cmd_learn_hamiltonian(args) -> dict:
    """``qml-phys learn hamiltonian``: regression that recovers the Ising couplings."""
    import jax

    from qml_phys.learning.regression import HamiltonianConfig, learn_hamiltonian

    config = HamiltonianConfig(
        L=args.L,
        n_samples=args.samples,
        method=args.method,
        lam=args.lam,
        J=args.J,
        noise_std=args.noise,
        test_fraction=args.test_fraction,
        features=args.features,
    )
    return learn_hamiltonian(config, key=jax.random.key(args.seed)).summary()


def register(areas, add) -> None:
    """Add the ``learn`` area."""
    learn = A.area(areas, "learn", "learning foundations: regression, regularisation, landscapes")
    p = add(
        learn,
        "hamiltonian",
        cmd_learn_hamiltonian,
        "learn the couplings of a 1D Ising chain from random configurations and energies "
        "(OLS / ridge / LASSO on s_i s_j features); report coupling errors and R^2",
    )
    p.add_argument("--L", type=A.integer(3, "a chain length (integer >= 3)"), default=40)
    p.add_argument(
        "--samples",
        type=A.integer(2, "at least 2 configurations (integer >= 2)"),
        default=2000,
        help="configurations",
    )
    p.add_argument("--method", choices=("ols", "ridge", "lasso"), default="lasso")
    p.add_argument("--lam", type=A.nonnegative, default=0.01, help="regularisation strength (>= 0)")
    p.add_argument("--seed", type=A.seed, default=0)
    p.add_argument("--J", type=A.finite, default=1.0, help="true coupling (default 1)")
    p.add_argument("--noise", type=A.nonnegative, default=0.0, help="energy noise std")
    p.add_argument("--test-fraction", type=A.fraction, default=0.3)
    p.add_argument(
        "--features",
        choices=("full", "pairs"),
        default="full",
        help="full: all L^2 s_i s_j (Mehta); pairs: i<j only (identifiable)",
    )
