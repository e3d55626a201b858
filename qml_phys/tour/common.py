"""Shared pieces of the tour sections: writing a section's figure, a small L = 8 dataset,
and the rows that compare a model's estimates with a reference's."""

from __future__ import annotations

from qml_phys.tour.section import TourContext

T_HIGH = 3.0
"""The temperature at which the VAE, GAN and diffusion sections compare with Monte Carlo."""


def save_figure(ctx: TourContext, fig, name: str) -> str:
    """Write ``fig`` as the PNG ``ctx.out / name`` (and close it); return ``name``, the
    entry of :attr:`Section.figures` that shows it on the page, so that a section names
    each of its files once."""
    from qml_phys.runtime import plots

    plots.save(fig, ctx.out / name)
    return name


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


def estimate_columns(column: str, tag: str, mean: float, error: float, digits: int) -> dict:
    """One estimate as two table columns, ``column`` (the mean) and ``± (tag)`` (its
    error), both rounded to ``digits`` decimals."""
    return {column: round(mean, digits), f"± ({tag})": round(error, digits)}


def comparison_rows(name, comp) -> list[dict]:
    """The table rows of a generative model's comparison with Monte Carlo, one per observable
    of ``comp`` (a ``fit_and_compare`` comparison)."""
    return [
        {"model": name, "observable": obs}
        | estimate_columns("model value", "model", v["model"]["mean"], v["model"]["error"], 4)
        | estimate_columns("Monte Carlo", "MC", v["reference"]["mean"], v["reference"]["error"], 4)
        | {"z": round(v["z"], 2)}
        for obs, v in comp["observables"].items()
    ]
