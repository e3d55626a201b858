"""Tour section of the nqs area: real-time TDVP of a quench against free fermions."""

from __future__ import annotations

from qml_phys.tour.common import save_figure
from qml_phys.tour.section import Section, TourContext


def nqs_dynamics(ctx: TourContext) -> Section:
    """A quench of the periodic TFIM chain: NQS (TDVP) against the exact free-fermion curves."""
    import math

    import jax

    from qml_phys.nqs.dynamics import DynamicsConfig, plot_dynamics, quench_dynamics
    from qml_phys.runtime import plots

    if ctx.quick:  # the product state |+>^6 into h1 = 0.5: no VMC
        n, h0, h1, config, tol = 6, math.inf, 0.5, DynamicsConfig(t_end=0.5, dt=0.02), 2e-3
    else:  # the VMC ground state at h0 = 0.5 into the critical point
        # dt = 0.01 drifted 1.9e-3 in energy (RK4 error), dt = 0.005 1.5e-4
        n, h0, h1, config, tol = 8, 0.5, 1.0, DynamicsConfig(t_end=1.0, dt=0.005), 5e-3
    res = quench_dynamics(n, h0, h1, config, key=jax.random.key(ctx.seed))
    fig, axes = plots.figure(1, 3)
    plot_dynamics(axes, res)
    fig.suptitle(f"TFIM chain N = {n}: quench h0 = {h0:g} -> h1 = {h1:g}")
    figures = [save_figure(ctx, fig, "nqs_dynamics.png")]
    err = res.max_abs_error
    table = [
        {
            "N": n,
            "h0 -> h1": f"{h0:g} -> {h1:g}",
            "t_end": config.t_end,
            "dt": config.dt,
            "initial state": res.initial_state["method"],
            "max |Δ<X>|": err["x"],
            "max |Δ<ZZ>|": err["zz"],
            "energy drift": res.energy_drift,
            "seconds": res.wall_time_s,
        }
    ]
    checks = {
        f"max |Δ<X>| < {tol:g} against free fermions": bool(err["x"] < tol),
        f"max |Δ<ZZ>| < {tol:g} against free fermions": bool(err["zz"] < tol),
        "energy conserved: drift < 1e-3": bool(res.energy_drift < 1e-3),
        "run completed": res.status == "completed",
    }
    return Section(
        title="Neural quantum states in real time (TDVP)",
        text=(
            "A translation-symmetric RBM with complex parameters, evolved with the "
            "time-dependent variational principle (<code>nk.experimental.TDVP</code>, RK4, exact "
            "sums over all configurations) after a quench of the transverse field of the "
            "periodic Ising chain. The initial state is the VMC ground state at h0, or the "
            "product state |→…→⟩ for h0 = ∞. Dashed: the exact free-fermion solution "
            "(Jordan-Wigner, even-parity sector); the energy ⟨H(h1)⟩ is conserved, so its drift "
            "measures the integration error."
        ),
        figures=figures,
        table=table,
        results={"quench": res.summary()},
        checks=checks,
    )
