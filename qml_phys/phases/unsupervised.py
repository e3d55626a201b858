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
finite-size-scaling fit (:func:`qml_phys.stats.fits.fss_fit`) across sizes.
:func:`size_result` and :func:`unsupervised_tc` take an :class:`UnsupervisedConfig` and a
keyword-only PRNG ``key``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qml_phys.errors import InvalidParameterError, ShapeError, check_number, check_positive_int
from qml_phys.phases.supervised import _check_samples, for_each_size, rng_from_key
from qml_phys.runtime.results import Result, ran
from qml_phys.stats.fits import Crossing, FSSFit, bootstrap_crossing, fss_fit
from qml_phys.train import TrainConfig, check_train_config

METHOD = "PCA fluctuation peak, k-means on (PC1, PC2), autoencoder latent peak"


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
def default_config(**overrides) -> TrainConfig:
    """The autoencoder's training settings (Adam 2e-3, up to 30 epochs, batch 64, early
    stopping after 8 epochs without a better validation loss), with ``overrides``."""
    base = dict(epochs=30, batch_size=64, learning_rate=2e-3, validation_fraction=0.1, patience=8)
    return TrainConfig(**(base | overrides))


@dataclasses.dataclass(frozen=True, kw_only=True)
class AutoencoderConfig:
    """Settings of :func:`train_autoencoder`."""

    latent: int = 1
    """Latent units (linear)."""
    hidden: int = 64
    """Units of the hidden layer of encoder and decoder (tanh)."""
    train: TrainConfig = dataclasses.field(default_factory=default_config)
    """Training settings (default :func:`default_config`)."""

    def __post_init__(self):
        check_positive_int("latent", self.latent)
        check_positive_int("hidden", self.hidden)
        check_train_config(self.train)


def _bernoulli_nll(logits, target):
    """Per-example reconstruction loss: Bernoulli negative log-likelihood summed over sites."""
    per_site = optax.sigmoid_binary_cross_entropy(logits, target.astype(logits.dtype))
    return jnp.sum(per_site.reshape(per_site.shape[0], -1), axis=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainedAutoencoder(Result):
    """A trained autoencoder (:func:`train_autoencoder`); ``history`` is the trainer's
    per-epoch history (``train_loss``, ``val_loss``, ...)."""

    model: Any
    """The :class:`~qml_phys.phases.classifiers.Autoencoder` module."""
    params: Any

    @property
    def final_loss(self) -> float | None:
        """The last epoch's training loss (nats per configuration), or None."""
        loss = self.history.get("train_loss")
        return None if loss is None or not len(loss) else float(loss[-1])

    def summary(self) -> dict:
        """Status, epochs and the final training loss."""
        return super().summary() | {"final_loss": self.final_loss}


def train_autoencoder(
    spins, config: AutoencoderConfig = AutoencoderConfig(), *, key: jax.Array
) -> TrainedAutoencoder:
    """Train an :class:`~qml_phys.phases.classifiers.Autoencoder` on configurations
    ``spins`` ``(n, L, L)`` (Bernoulli reconstruction of ``(s + 1) / 2``) with
    :func:`qml_phys.train.fit`; ``key`` draws the initialisation, the validation split and
    the batches."""
    from qml_phys.phases.classifiers import Autoencoder
    from qml_phys.train import fit, flax_loss, init_flax

    t0 = time.perf_counter()
    spins = np.asarray(spins)
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise ShapeError(f"expected spins of shape (n, L, L); got shape {spins.shape}")
    module = Autoencoder(
        n_sites=spins.shape[1] * spins.shape[2], latent=config.latent, hidden=config.hidden
    )
    k_init, k_fit = jax.random.split(key)
    params, _ = init_flax(module, jnp.asarray(spins[:2]), key=k_init)
    target = ((spins.astype(np.float32) + 1.0) / 2.0).astype(np.float32)
    res = fit(
        flax_loss(module, _bernoulli_nll),
        params,
        {"x": spins, "y": target},
        config=dataclasses.replace(config.train, label=f"autoencoder L={spins.shape[1]}"),
        key=k_fit,
    )
    return TrainedAutoencoder(
        **ran(config, res, since=t0),
        model=module,
        params=res.params,
    )


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
class KMeans(NamedTuple):
    """k-means clusters (unpacks as ``labels, centers, inertia``)."""

    labels: np.ndarray
    """``(n,)`` cluster of every point."""
    centers: np.ndarray
    """``(k, d)``"""
    inertia: float
    """Sum of squared distances of the points to their centres."""


def kmeans(x, k: int, *, key: jax.Array, n_init: int = 5, max_iter: int = 100) -> KMeans:
    """Lloyd's k-means with k-means++ seeding, best of ``n_init`` starts (drawn from ``key``).

    ``x``: ``(n, d)`` (or ``(n,)``).
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
        if best is None or inertia < best.inertia:
            best = KMeans(labels, centers, inertia)
    return best


class ClusterTc(NamedTuple):
    """:func:`cluster_tc`'s estimate (unpacks as ``crossing, labels, centers``)."""

    crossing: Crossing
    """0.5 crossing of the ordered fraction, with its bootstrap error."""
    labels: np.ndarray
    centers: np.ndarray


def cluster_tc(points, T, *, key: jax.Array, n_boot: int = 200) -> ClusterTc:
    """Tc(L) from k-means (k = 3) on the leading components ``points`` ``(n, d)``.

    The cluster whose centre is nearest the origin is the disordered one; the crossing of
    the fraction of configurations in the two others (the ordered lobes) with 0.5, with a
    bootstrap error, is the estimate.
    """
    k_km, k_boot = jax.random.split(key)
    labels, centers, _ = kmeans(points, 3, key=k_km)
    disordered = int(np.argmin(np.linalg.norm(centers, axis=1)))
    ordered = (labels != disordered).astype(np.float64)
    return ClusterTc(bootstrap_crossing(ordered, T, key=k_boot, n_boot=n_boot), labels, centers)


# --------------------------------------------------------------------------- fluctuation peak
class Peak(NamedTuple):
    """The maximum of a fluctuation curve with its bootstrap error."""

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


def _bootstrap_variances(g: np.ndarray, *, key: jax.Array, n_boot: int) -> np.ndarray:
    """Sample variances (``ddof=1``) of ``n_boot`` bootstrap replicas of ``g`` ``(n,)``."""
    from qml_phys.stats.bootstrap import resample_counts

    n = len(g)
    counts = resample_counts(key, n, n_boot)
    d = g - g.mean()  # centred: no cancellation
    s1, s2 = counts @ d, counts @ (d * d)
    return (s2 - s1 * s1 / n) / (n - 1)


def fluctuation_peak(q, T, *, key: jax.Array, n_boot: int = 200) -> Peak:
    r"""Temperature of the maximum of :math:`\chi_q(T) = \mathrm{Var}_T(|q|)/T` (a
    parabola in :math:`\log\chi_q` through the largest point and its neighbours), with a
    bootstrap error (configurations resampled at each temperature, with ``fold_in(key, j)``
    at the ``j``-th). ``q``, ``T``: ``(n,)``. A maximum at the edge of the grid raises."""
    q, T = np.abs(np.asarray(q, np.float64)).ravel(), np.asarray(T, np.float64)
    if q.shape != T.shape:
        raise ShapeError(f"expected q and T of the same length; got {q.shape}, {T.shape}")
    n_boot = check_positive_int("n_boot", n_boot, 2)
    temps = np.unique(T)
    if len(temps) < 3:
        raise InvalidParameterError(f"expected at least 3 temperatures; got {len(temps)}")
    groups = [q[T == t] for t in temps]
    if min(len(g) for g in groups) < 2:
        raise InvalidParameterError(
            "expected at least 2 configurations per temperature for a variance; got "
            f"{min(len(g) for g in groups)}"
        )
    chi = np.array([g.var(ddof=1) for g in groups]) / temps
    value = _peak_position(temps, chi)
    if not math.isfinite(value):
        raise InvalidParameterError(
            f"the fluctuation of |q| peaks at the edge of the grid (T = "
            f"{temps[int(np.argmax(chi))]:.4g}); expected temperatures on both sides of Tc"
        )
    boot = np.stack(
        [
            _bootstrap_variances(g, key=jax.random.fold_in(key, j), n_boot=n_boot) / temps[j]
            for j, g in enumerate(groups)
        ],
        axis=1,
    )
    samples = np.array([_peak_position(temps, b) for b in boot])
    return Peak(value, float(np.nanstd(samples, ddof=1)), temps, chi)


# --------------------------------------------------------------------------- pipeline
@dataclasses.dataclass(frozen=True, kw_only=True)
class UnsupervisedConfig:
    """Settings of :func:`size_result` and :func:`unsupervised_tc`."""

    autoencoder: AutoencoderConfig | None = dataclasses.field(default_factory=AutoencoderConfig)
    """The autoencoder estimate's settings; ``None`` skips the autoencoder."""
    n_boot: int = 200
    """Bootstrap replicas of every estimate."""
    nu: float = 1.0
    """Correlation-length exponent of the finite-size scaling ``Tc + a L^(-1/nu)``."""

    def __post_init__(self):
        if self.autoencoder is not None and not isinstance(self.autoencoder, AutoencoderConfig):
            raise InvalidParameterError(
                "autoencoder: expected an AutoencoderConfig or None; got "
                f"{type(self.autoencoder).__name__}"
            )
        check_positive_int("n_boot", self.n_boot, minimum=2)
        check_number("nu", self.nu, minimum=0, strict=True)

    @property
    def methods(self) -> tuple[str, ...]:
        """``("pca", "clustering")`` and ``"autoencoder"`` unless it is skipped."""
        return ("pca", "clustering") + (("autoencoder",) if self.autoencoder else ())


@dataclasses.dataclass(frozen=True, kw_only=True)
class UnsupervisedSizeResult(Result):
    """PCA, clustering and autoencoder estimates of one lattice size (:func:`size_result`).
    ``history`` is the autoencoder's training history (empty without it)."""

    L: int
    pca: Mapping[str, Any]
    """``explained_variance_ratio``, ``corr_pc1_m``, ``pc1_uniformity``, ``Tc``, ``Tc_error``,
    ``curve`` (``temperatures``, ``chi``) and ``mean_abs_pc1`` per temperature."""
    clustering: Mapping[str, Any]
    """``Tc``, ``Tc_error``, ``centers`` and ``curve`` (``ordered_fraction`` per temperature)."""
    autoencoder: Mapping[str, Any] | None = None
    """``corr_latent_m``, ``Tc``, ``Tc_error``, ``curve`` and ``final_loss`` (``None`` when
    the autoencoder was skipped)."""

    def summary(self) -> dict:
        """``L``, ``<method>_Tc`` and ``<method>_Tc_error`` for every method,
        ``corr_pc1_m`` (and ``corr_latent_m``), and each method's full estimate."""
        methods = {"pca": self.pca, "clustering": self.clustering}
        if self.autoencoder is not None:
            methods["autoencoder"] = self.autoencoder
        flat = {f"{m}_Tc": r["Tc"] for m, r in methods.items()}
        flat |= {f"{m}_Tc_error": r["Tc_error"] for m, r in methods.items()}
        flat["corr_pc1_m"] = self.pca["corr_pc1_m"]
        if self.autoencoder is not None:
            flat["corr_latent_m"] = self.autoencoder["corr_latent_m"]
        return super().summary() | {"L": self.L} | flat | methods


def size_result(
    data, config: UnsupervisedConfig = UnsupervisedConfig(), *, key: jax.Array
) -> UnsupervisedSizeResult:
    """PCA, clustering and (unless ``config.autoencoder is None``) autoencoder estimates of
    :math:`T_c(L)` for one lattice size (``data``: an
    :class:`~qml_phys.classical.datasets.IsingData`)."""
    t0 = time.perf_counter()
    spins, T = _check_samples(data.spins, data.T)
    m = spins.reshape(len(spins), -1).mean(axis=1, dtype=np.float64)
    k_pk, k_cl, k_ae, k_aepk = jax.random.split(key, 4)
    p = pca(spins, 2)
    peak = fluctuation_peak(p.projections[:, 0], T, key=k_pk, n_boot=config.n_boot)
    cross, _, centers = cluster_tc(p.projections[:, :2], T, key=k_cl, n_boot=config.n_boot)
    pca_row = {
        "explained_variance_ratio": p.explained_variance_ratio,
        "corr_pc1_m": correlation(p.projections[:, 0], m),
        "pc1_uniformity": float(abs(p.components[0].sum()) / math.sqrt(p.components.shape[1])),
        "Tc": peak.value,
        "Tc_error": peak.error,
        "curve": {"temperatures": peak.temperatures, "chi": peak.chi},
        "mean_abs_pc1": [
            float(np.mean(np.abs(p.projections[T == t, 0]))) for t in peak.temperatures
        ],
    }
    cluster_row = {
        "Tc": cross.value,
        "Tc_error": cross.error,
        "centers": centers,
        "curve": {"temperatures": cross.curve.temperatures, "ordered_fraction": cross.curve.mean},
    }
    ae_row, history, status = None, {}, "completed"
    if config.autoencoder is not None:
        ae = train_autoencoder(spins, config.autoencoder, key=k_ae)
        z = encode(ae, spins)[:, 0]
        zpk = fluctuation_peak(z, T, key=k_aepk, n_boot=config.n_boot)
        ae_row = {
            "corr_latent_m": correlation(z, m),
            "Tc": zpk.value,
            "Tc_error": zpk.error,
            "curve": {
                "temperatures": zpk.temperatures,
                "chi": zpk.chi,
                "mean_abs_latent": [float(np.mean(np.abs(z[T == t]))) for t in zpk.temperatures],
            },
            "final_loss": ae.final_loss,
        }
        history, status = ae.history, ae.status
    return UnsupervisedSizeResult(
        config=config,
        history=history,
        wall_time_s=time.perf_counter() - t0,
        status=status,
        L=int(spins.shape[1]),
        pca=pca_row,
        clustering=cluster_row,
        autoencoder=ae_row,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class UnsupervisedResult(Result):
    """Per-size estimates and, with several sizes, a finite-size-scaling fit per method
    (:func:`unsupervised_tc`). ``history`` is empty."""

    sizes: tuple[int, ...]
    per_size: Mapping[int, UnsupervisedSizeResult]
    Tc_exact: float
    """Onsager's critical temperature."""
    fss: Mapping[str, FSSFit] | None = None
    """``{method: FSSFit}`` (``None`` with one size)."""

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods estimated (``pca``, ``clustering`` and possibly ``autoencoder``)."""
        return self.config.methods

    reported = ("Tc_exact",)

    def summary(self) -> dict:
        """What ``qml-phys phases unsupervised --json`` prints: ``method``, ``Tc_exact``,
        ``sizes``, ``per_size`` (``{"L": UnsupervisedSizeResult.summary()}``) and ``fss``
        (``{method: {"Tc_inf", "Tc_inf_error", "chi2", "dof", ...}}``, null with one size)."""
        fss = None
        if self.fss is not None:
            fss = {
                m: {"Tc_inf": f.Tc, "Tc_inf_error": f.Tc_error} | f._asdict()
                for m, f in self.fss.items()
            }
        return super().summary() | {
            "method": METHOD,
            "methods": list(self.methods),
            "sizes": list(self.sizes),
            "per_size": {
                str(L): {k: v for k, v in r.summary().items() if k != "config"}
                for L, r in self.per_size.items()
            },
            "fss": fss,
        }


def unsupervised_tc(
    datasets: Mapping[int, Any],
    config: UnsupervisedConfig = UnsupervisedConfig(),
    *,
    key: jax.Array,
) -> UnsupervisedResult:
    """Per-size estimates (:func:`size_result`, each size with its own key split from
    ``key``) and, with several sizes, a finite-size-scaling fit of each method's
    :math:`T_c(L)` (errors floored at 1e-6)."""
    t0 = time.perf_counter()
    fields = for_each_size(size_result, datasets, config, key=key)
    sizes, per_size = fields["sizes"], fields["per_size"]
    fss = None
    if len(sizes) >= 2:
        fss = {
            name: fss_fit(
                sizes,
                [getattr(per_size[L], name)["Tc"] for L in sizes],
                [max(getattr(per_size[L], name)["Tc_error"], 1e-6) for L in sizes],
                nu=config.nu,
            )
            for name in config.methods
        }
    return UnsupervisedResult(**fields, wall_time_s=time.perf_counter() - t0, fss=fss)


def plot_unsupervised(axes, result: UnsupervisedResult) -> None:
    """Draw one panel per method of ``result.methods`` on ``axes`` (as many): <|PC1|>, the
    ordered-cluster fraction and the (scaled) <|latent|> vs T. The caller owns and saves
    the figure."""
    from qml_phys.runtime.plots import EXACT

    axes = list(np.atleast_1d(axes))
    if len(axes) != len(result.methods):
        raise InvalidParameterError(
            f"axes: expected {len(result.methods)} (one per method {list(result.methods)}); "
            f"got {len(axes)}"
        )
    for L in result.sizes:
        r = result.per_size[L]
        t = np.asarray(r.pca["curve"]["temperatures"])
        axes[0].plot(t, r.pca["mean_abs_pc1"], "o-", ms=3, label=f"L = {L}")
        axes[1].plot(t, r.clustering["curve"]["ordered_fraction"], "o-", ms=3, label=f"L = {L}")
        if r.autoencoder is not None and len(axes) > 2:
            lat = np.asarray(r.autoencoder["curve"]["mean_abs_latent"])
            axes[2].plot(t, lat / lat.max(), "o-", ms=3, label=f"L = {L}")
    titles = [
        "PCA: <|p1|> / sqrt(N)",
        "k-means (3) on (p1, p2): ordered fraction",
        "autoencoder: <|z|> (scaled)",
    ]
    for ax, title in zip(axes, titles, strict=False):
        ax.axvline(result.Tc_exact, **EXACT)
        ax.set(xlabel="temperature T / J", title=title)
        ax.legend()
