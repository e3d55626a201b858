r"""Unsupervised detection of the Ising transition: PCA, an autoencoder, k-means clustering.

* PCA (Wang, PRB 94, 195105 (2016), arXiv:1606.00318): the leading principal component of
  raw configurations is the uniform vector, so the projection :math:`p_1/\sqrt N` is the
  magnetization per site up to sign (:func:`pca`, :func:`correlation`).
* Autoencoder (Wetzel, PRE 96, 022140 (2017), arXiv:1703.02435): a dense autoencoder
  (:class:`~qml_phys.phases.classifiers.Autoencoder`) with one latent unit trained by
  Bernoulli reconstruction; the latent variable tracks the magnetization
  (:func:`train_autoencoder`, :func:`encode`).
* Clustering (Hu, Singh & Scalettar, PRE 95, 062122 (2017), arXiv:1704.00080): k-means with
  three clusters on the two leading components separates the two ordered lobes
  :math:`\pm m` from the disordered blob (:func:`kmeans`, :func:`cluster_tc`).

Estimates of :math:`T_c(L)`:

* from an order-parameter-like variable :math:`q` (PC1 or the latent), the peak of its
  fluctuation :math:`\chi_q(T) = \mathrm{Var}_T(|q|)/T` (the susceptibility when
  :math:`q = m`; the peak sits at :math:`T_c + a L^{-1/\nu}`), located by a parabola in
  :math:`\log\chi_q` through the largest point and its neighbours (:func:`fluctuation_peak`);
* from clustering, the 0.5 crossing of the fraction of configurations in an ordered
  cluster (:func:`cluster_tc`);

all with errors from a bootstrap over configurations at each temperature, and a
finite-size-scaling fit (:func:`qml_phys.phases.supervised.fss_fit`) across sizes.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int
from qml_phys.phases.supervised import (
    _check_samples,
    bootstrap_crossing,
    fss_fit,
    rng_from_key,
)
from qml_phys.physics.exact import onsager_tc


# --------------------------------------------------------------------------- PCA
class PCA(NamedTuple):
    """Principal components of configurations ``(n, L, L)`` flattened to ``(n, N)``."""

    components: np.ndarray
    """``(k, N)`` orthonormal rows, sign fixed so that each row sums to >= 0."""
    explained_variance_ratio: np.ndarray
    """``(k,)`` fraction of the total variance along each component."""
    mean: np.ndarray
    """``(N,)`` the mean configuration subtracted before projecting."""
    projections: np.ndarray
    """``(n, k)`` projections of the (centred) configurations, divided by ``sqrt(N)``."""


def pca(spins, n_components: int = 2) -> PCA:
    r"""PCA of spin configurations by SVD of the centred ``(n, N)`` matrix (float64).

    Projections are divided by :math:`\sqrt N`, so that for the uniform component they
    equal the magnetization per site (minus its mean).
    """
    spins = np.asarray(spins)
    if spins.ndim != 3:
        raise ShapeError(f"expected spins of shape (n, L, L); got shape {spins.shape}")
    n_components = check_positive_int("n_components", n_components)
    x = spins.reshape(len(spins), -1).astype(np.float64)
    n, N = x.shape
    if n_components > min(n, N):
        raise InvalidParameterError(
            f"n_components: expected at most min(n, N) = {min(n, N)}; got {n_components}"
        )
    mean = x.mean(axis=0)
    xc = x - mean
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    comps = vt[:n_components]
    comps = comps * np.where(comps.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
    ratio = (s**2 / np.sum(s**2))[:n_components]
    return PCA(comps, ratio, mean, xc @ comps.T / math.sqrt(N))


def correlation(a, b) -> float:
    """Pearson correlation of two ``(n,)`` arrays."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise ShapeError(f"expected two arrays of the same length; got {a.shape}, {b.shape}")
    return float(np.corrcoef(a, b)[0, 1])


# --------------------------------------------------------------------------- autoencoder
def _bernoulli_nll(logits, target):
    """Per-example reconstruction loss: Bernoulli negative log-likelihood summed over sites."""
    per_site = optax.sigmoid_binary_cross_entropy(logits, target.astype(logits.dtype))
    return jnp.sum(per_site.reshape(per_site.shape[0], -1), axis=1)


class TrainedAutoencoder(NamedTuple):
    model: Any
    params: Any
    history: list
    status: str


def train_autoencoder(
    spins, *, latent: int = 1, hidden: int = 64, config=None, key: jax.Array
) -> TrainedAutoencoder:
    """Train an :class:`~qml_phys.phases.classifiers.Autoencoder` on configurations
    ``(n, L, L)`` (Bernoulli reconstruction of ``(s + 1) / 2``) with :func:`qml_phys.train.fit`."""
    from qml_phys.phases.classifiers import Autoencoder
    from qml_phys.train import TrainConfig, fit, flax_loss, init_flax

    spins = np.asarray(spins)
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise ShapeError(f"expected spins of shape (n, L, L); got shape {spins.shape}")
    config = config or TrainConfig(
        epochs=30, batch_size=64, learning_rate=2e-3, validation_fraction=0.1, patience=8
    )
    module = Autoencoder(n_sites=spins.shape[1] * spins.shape[2], latent=latent, hidden=hidden)
    params, _ = init_flax(module, jnp.asarray(spins[:2]), key=key)
    target = ((spins.astype(np.float32) + 1.0) / 2.0).astype(np.float32)
    res = fit(
        flax_loss(module, _bernoulli_nll),
        params,
        {"x": spins, "y": target},
        config=config,
        desc=f"autoencoder L={spins.shape[1]}",
    )
    return TrainedAutoencoder(module, res.params, res.history, res.status)


def encode(ae: TrainedAutoencoder, spins, *, batch_size: int = 4096) -> np.ndarray:
    """Latent variables ``(n, latent)`` float64 of configurations ``(n, L, L)``."""
    spins = np.asarray(spins)
    fn = jax.jit(lambda p, x: ae.model.apply({"params": p}, x, method=ae.model.encode))
    out = [
        np.asarray(fn(ae.params, jnp.asarray(spins[i : i + batch_size])))
        for i in range(0, len(spins), batch_size)
    ]
    return np.concatenate(out).astype(np.float64)


# --------------------------------------------------------------------------- clustering
def kmeans(x, k: int, *, key: jax.Array, n_init: int = 5, max_iter: int = 100):
    """Lloyd's k-means with k-means++ seeding, best of ``n_init`` starts.

    ``x``: ``(n, d)``. Returns ``(labels (n,), centers (k, d), inertia)``.
    """
    x = np.asarray(x, np.float64)
    if x.ndim == 1:
        x = x[:, None]
    k = check_positive_int("k", k)
    if x.ndim != 2 or len(x) < k:
        raise ShapeError(f"expected points (n, d) with n >= k = {k}; got shape {x.shape}")
    rng = rng_from_key(key)
    best = None
    for _ in range(check_positive_int("n_init", n_init)):
        centers = x[[rng.integers(len(x))]]
        for _ in range(1, k):  # k-means++
            d2 = np.min(((x[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
            p = d2 / d2.sum() if d2.sum() > 0 else np.full(len(x), 1 / len(x))
            centers = np.vstack([centers, x[rng.choice(len(x), p=p)]])
        for _ in range(max_iter):
            labels = np.argmin(((x[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
            new = np.array(
                [x[labels == j].mean(0) if np.any(labels == j) else centers[j] for j in range(k)]
            )
            if np.allclose(new, centers):
                break
            centers = new
        labels = np.argmin(((x[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        inertia = float(((x - centers[labels]) ** 2).sum())
        if best is None or inertia < best[2]:
            best = (labels, centers, inertia)
    return best


def cluster_tc(points, T, *, key: jax.Array, n_boot: int = 200):
    """Tc(L) from k-means (k = 3) on the leading components ``points`` ``(n, d)``.

    The cluster whose centre is nearest the origin is the disordered one; the crossing of
    the fraction of configurations in the two others (the ordered lobes) with 0.5, with a
    bootstrap error, is the estimate. Returns ``(Crossing, labels, centers)``.
    """
    k_km, k_boot = jax.random.split(key)
    labels, centers, _ = kmeans(points, 3, key=k_km)
    disordered = int(np.argmin(np.linalg.norm(centers, axis=1)))
    ordered = (labels != disordered).astype(np.float64)
    return bootstrap_crossing(ordered, T, key=k_boot, n_boot=n_boot), labels, centers


# --------------------------------------------------------------------------- fluctuation peak
class Peak(NamedTuple):
    value: float
    error: float
    temperatures: np.ndarray
    chi: np.ndarray
    """``Var_T(|q|) / T`` at each temperature."""


def _peak_position(t: np.ndarray, chi: np.ndarray) -> float:
    i = int(np.argmax(chi))
    if i == 0 or i == len(t) - 1:
        return math.nan
    y = chi[i - 1 : i + 2]
    if np.any(y <= 0):
        return float(t[i])
    a, b, _ = np.polyfit(t[i - 1 : i + 2] - t[i], np.log(y), 2)  # exact for a Gaussian peak
    x = -b / (2 * a) if a < 0 else 0.0
    return float(t[i] + np.clip(x, t[i - 1] - t[i], t[i + 1] - t[i]))


def fluctuation_peak(q, T, *, key: jax.Array, n_boot: int = 200) -> Peak:
    r"""Temperature of the maximum of :math:`\chi_q(T) = \mathrm{Var}_T(|q|)/T` (a
    parabola in :math:`\log\chi_q` through the largest point and its neighbours), with a
    bootstrap error (configurations resampled at each temperature). A maximum at the edge
    of the grid raises."""
    q, T = np.abs(np.asarray(q, np.float64)).ravel(), np.asarray(T, np.float64)
    if q.shape != T.shape:
        raise ShapeError(f"expected q and T of the same length; got {q.shape}, {T.shape}")
    temps = np.unique(T)
    if len(temps) < 3:
        raise InvalidParameterError(f"expected at least 3 temperatures; got {len(temps)}")
    groups = [q[T == t] for t in temps]
    chi = np.array([g.var(ddof=1) for g in groups]) / temps
    value = _peak_position(temps, chi)
    if not math.isfinite(value):
        raise InvalidParameterError(
            f"the fluctuation of |q| peaks at the edge of the grid (T = "
            f"{temps[int(np.argmax(chi))]:.4g}); expected temperatures on both sides of Tc"
        )
    rng = rng_from_key(key)
    boot = np.empty((check_positive_int("n_boot", n_boot, 2), len(temps)))
    for j, g in enumerate(groups):
        boot[:, j] = g[rng.integers(0, len(g), (n_boot, len(g)))].var(axis=1, ddof=1) / temps[j]
    samples = np.array([_peak_position(temps, b) for b in boot])
    return Peak(value, float(np.nanstd(samples, ddof=1)), temps, chi)


# --------------------------------------------------------------------------- pipeline
def size_result(
    data, *, key: jax.Array, autoencoder: bool = True, ae_config=None, n_boot: int = 200
) -> dict:
    """PCA, clustering and (optionally) autoencoder estimates for one lattice size."""
    spins, T = _check_samples(data.spins, data.T)
    m = spins.reshape(len(spins), -1).mean(axis=1, dtype=np.float64)
    k_pk, k_cl, k_ae, k_aepk = jax.random.split(key, 4)
    p = pca(spins, 2)
    peak = fluctuation_peak(p.projections[:, 0], T, key=k_pk, n_boot=n_boot)
    cross, _, centers = cluster_tc(p.projections[:, :2], T, key=k_cl, n_boot=n_boot)
    out = {
        "L": int(spins.shape[1]),
        "pca": {
            "explained_variance_ratio": p.explained_variance_ratio,
            "corr_pc1_m": correlation(p.projections[:, 0], m),
            "pc1_uniformity": float(abs(p.components[0].sum()) / math.sqrt(p.components.shape[1])),
            "Tc": peak.value,
            "Tc_error": peak.error,
            "curve": {"temperatures": peak.temperatures, "chi": peak.chi},
            "mean_abs_pc1": [
                float(np.mean(np.abs(p.projections[T == t, 0]))) for t in peak.temperatures
            ],
        },
        "clustering": {
            "Tc": cross.value,
            "Tc_error": cross.error,
            "centers": centers,
            "curve": {
                "temperatures": cross.curve.temperatures,
                "ordered_fraction": cross.curve.mean,
            },
        },
    }
    if autoencoder:
        ae = train_autoencoder(spins, config=ae_config, key=k_ae)
        z = encode(ae, spins)[:, 0]
        zpk = fluctuation_peak(z, T, key=k_aepk, n_boot=n_boot)
        out["autoencoder"] = {
            "corr_latent_m": correlation(z, m),
            "Tc": zpk.value,
            "Tc_error": zpk.error,
            "curve": {
                "temperatures": zpk.temperatures,
                "chi": zpk.chi,
                "mean_abs_latent": [float(np.mean(np.abs(z[T == t]))) for t in zpk.temperatures],
            },
            "final_loss": ae.history[-1]["train_loss"] if ae.history else None,
        }
    return out


def unsupervised_tc(
    datasets,
    *,
    key: jax.Array,
    autoencoder: bool = True,
    ae_config=None,
    n_boot: int = 200,
    nu: float = 1.0,
) -> dict:
    """Per-size estimates (:func:`size_result`) and, with several sizes, a finite-size-scaling
    fit of each method's :math:`T_c(L)`."""
    if not datasets:
        raise InvalidParameterError("expected at least one lattice size; got none")
    sizes = sorted(int(L) for L in datasets)
    per_size = {
        L: size_result(
            datasets[L], key=k, autoencoder=autoencoder, ae_config=ae_config, n_boot=n_boot
        )
        for L, k in zip(sizes, jax.random.split(key, len(sizes)), strict=True)
    }
    out = {"sizes": sizes, "per_size": per_size, "Tc_exact": onsager_tc()}
    if len(sizes) >= 2:
        methods = ["pca", "clustering"] + (["autoencoder"] if autoencoder else [])
        out["fss"] = {
            name: fss_fit(
                sizes,
                [per_size[L][name]["Tc"] for L in sizes],
                [max(per_size[L][name]["Tc_error"], 1e-6) for L in sizes],
                nu=nu,
            )._asdict()
            for name in methods
        }
    return out


def plot_unsupervised(result: dict, path) -> None:
    """<|PC1|>, the PC1 fluctuation and the ordered-cluster fraction vs T (PNG)."""
    from qml_phys.runtime import plots

    has_ae = "autoencoder" in result["per_size"][result["sizes"][0]]
    fig, axes = plots.figure(1, 3 if has_ae else 2)
    Tc = result["Tc_exact"]
    for L in result["sizes"]:
        r = result["per_size"][L]
        t = np.asarray(r["pca"]["curve"]["temperatures"])
        axes[0].plot(t, r["pca"]["mean_abs_pc1"], "o-", ms=3, label=f"L = {L}")
        axes[1].plot(t, r["clustering"]["curve"]["ordered_fraction"], "o-", ms=3, label=f"L = {L}")
        if has_ae:
            lat = np.asarray(r["autoencoder"]["curve"]["mean_abs_latent"])
            axes[2].plot(t, lat / lat.max(), "o-", ms=3, label=f"L = {L}")
    titles = [
        "PCA: <|p1|> / sqrt(N)",
        "k-means (3) on (p1, p2): ordered fraction",
        "autoencoder: <|z|> (scaled)",
    ]
    for ax, title in zip(axes, titles, strict=False):
        ax.axvline(Tc, **plots.EXACT)
        ax.set_xlabel("temperature T / J")
        ax.set_title(title)
        ax.legend()
    plots.save(fig, path)
