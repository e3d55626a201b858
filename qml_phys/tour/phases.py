"""Tour section: supervised, unsupervised and confusion estimates of the Ising Tc."""

from __future__ import annotations

import numpy as np

from qml_phys.tour.common import save_figure
from qml_phys.tour.section import Section, TourContext


def phases(ctx: TourContext) -> Section:
    """A small dataset (L = 8, 12; quick vectorised Metropolis), then the three ways of
    finding Tc with machine learning."""
    import jax

    from qml_phys.phases import confusion, supervised, unsupervised
    from qml_phys.physics.exact import onsager_tc
    from qml_phys.runtime import plots

    Tc = onsager_tc()
    offsets = (0.02, 0.06, 0.1, 0.15, 0.25, 0.4, 0.7, 1.1)
    sizes = [8, 12]
    n = 40 if ctx.quick else 160
    k_data, k_sup, k_uns, k_cdata, k_conf = jax.random.split(jax.random.key(ctx.seed), 5)
    data = supervised.quick_dataset(sizes, supervised.temperature_grid(offsets), n, key=k_data)

    sup_config = supervised.SupervisedConfig(model="cnn", n_networks=3 if ctx.quick else 5)
    sup = supervised.supervised_tc(data, sup_config, key=k_sup)
    fig, axes = plots.figure(1, 2)
    supervised.plot_supervised(axes, sup)
    figures = [save_figure(ctx, fig, "phases_supervised.png")]

    uns = unsupervised.unsupervised_tc(
        data, unsupervised.UnsupervisedConfig(autoencoder=None), key=k_uns
    )
    fig, axes = plots.figure(1, len(uns.methods))
    unsupervised.plot_unsupervised(axes, uns)
    figures.append(save_figure(ctx, fig, "phases_unsupervised.png"))

    uniform = np.linspace(1.1, 3.5, 13)  # the W needs a uniform grid (see confusion)
    cdata = supervised.quick_dataset([12], uniform, 120, key=k_cdata)
    conf_all = confusion.confusion_tc(
        cdata, confusion.ConfusionConfig(train=confusion.default_config(epochs=15)), key=k_conf
    )
    fig, ax = plots.figure()
    confusion.plot_confusion(ax, conf_all)
    figures.append(save_figure(ctx, fig, "phases_confusion.png"))
    conf = conf_all.per_size[12]
    conf_sum = conf.summary()

    table = []
    for L in sizes:
        s, u = sup.per_size[L], uns.per_size[L]
        table.append(
            {
                "L": L,
                "supervised Tc(L)": f"{s.Tc:.3f} ± {s.Tc_error:.3f}",
                "PCA peak Tc(L)": f"{u.pca['Tc']:.3f} ± {u.pca['Tc_error']:.3f}",
                "k-means Tc(L)": f"{u.clustering['Tc']:.3f} ± {u.clustering['Tc_error']:.3f}",
                "corr(PC1, m)": round(u.pca["corr_pc1_m"], 5),
            }
        )
    table.append({"L": 12, "confusion Tc": f"{conf.Tc:.3f} (grid ± {conf.resolution:.3f})"})
    checks = {
        "|corr(PC1, m)| > 0.99 at every L": all(
            abs(uns.per_size[L].pca["corr_pc1_m"]) > 0.99 for L in sizes
        ),
        "confusion peak within one grid spacing of Tc": conf_sum["deviation_in_spacings"] <= 1.0,
        "supervised Tc(L) within 5% of Onsager": all(
            abs(sup.per_size[L].Tc - Tc) < 0.05 * Tc for L in sizes
        ),
    }
    return Section(
        title="Machine learning of the Ising transition",
        text=(
            "Three ways to find T<sub>c</sub> from raw Monte Carlo configurations (L = 8, 12, "
            "a grid symmetric about Onsager's T<sub>c</sub>). Supervised (Carrasquilla & Melko "
            "2017): a small convolutional network labels configurations ordered/disordered; the "
            "0.5 crossing of its averaged output gives T<sub>c</sub>(L), with a bootstrap "
            "error. Unsupervised: the first principal component is the magnetization (its "
            "fluctuation peaks near T<sub>c</sub>), and k-means on the two leading components "
            "separates the two ordered lobes from the disordered blob. Learning by confusion "
            "(van Nieuwenburg et al. 2017): accuracy against a proposed T<sub>c</sub> is "
            "W-shaped with its middle peak at the transition. Small lattices shift every "
            "estimate by O(1/L); the studies extrapolate."
        ),
        figures=figures,
        table=table,
        results={
            "supervised": sup.summary(),
            "unsupervised": uns.summary(),
            "confusion": conf_sum,
            "temperatures": np.asarray(supervised.temperature_grid(offsets)),
        },
        checks=checks,
    )
