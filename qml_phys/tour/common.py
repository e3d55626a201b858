"""Shared pieces of the generative tour sections: a small L = 8 dataset and table rows."""

from __future__ import annotations

from qml_phys.tour.section import TourContext

T_HIGH = 3.0
"""The temperature at which the VAE, GAN and diffusion sections compare with Monte Carlo."""


def spin_dataset(ctx: TourContext):
    """A small L = 8 dataset shared by the spin sections (written once into ctx.out)."""
    import jax

    from qml_phys.classical.datasets import DatasetConfig, load_dataset, write_dataset

    temps = [1.6, 2.0, 2.269, 2.6, 3.0, 3.5] if not ctx.quick else [1.6, 2.269, 3.0]
    n = 400 if not ctx.quick else 150
    path = ctx.out / f"generative_ising8{'_quick' if ctx.quick else ''}.h5"
    write_dataset(
        path,
        DatasetConfig(sizes=[8], temperatures=temps, n_samples=n),
        key=jax.random.key(ctx.seed),
        show_progress=False,
    )
    return load_dataset(path, 8)


def comparison_rows(name, comp) -> list[dict]:
    return [
        {
            "model": name,
            "observable": obs,
            "model value": round(v["model"]["mean"], 4),
            "± (model)": round(v["model"]["error"], 4),
            "Monte Carlo": round(v["reference"]["mean"], 4),
            "± (MC)": round(v["reference"]["error"], 4),
            "z": round(v["z"], 2),
        }
        for obs, v in comp["observables"].items()
    ]
