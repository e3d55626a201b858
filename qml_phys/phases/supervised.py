r"""Supervised learning of the Ising transition (Carrasquilla & Melko, Nat. Phys. 13, 431
(2017), arXiv:1605.01735).

A classifier (:mod:`~qml_phys.phases.classifiers`) is trained on configurations in a
training window, :math:`|T - T_c| \ge` ``exclude`` (optionally measured in the scaling
variable :math:`|T - T_c| L^{1/\nu}`), labelled ordered (:math:`T < T_c`, class 1) or
disordered, and then applied to held-out configurations on the whole temperature grid.

Which window? A classifier trained only far from :math:`T_c` may put its decision
threshold anywhere in the gap between the two training distributions; the crossing then
tracks that arbitrary threshold rather than :math:`T_c` (measured with the dense network,
L = 12..32, ``exclude = 0.6``: :math:`T_c(L) \approx 2.38` at every L). Training on the
whole grid (``exclude = 0``, the default) pins the threshold to the data at the transition
and the crossings scale as :math:`T_c + a/L`; ``scaled=True`` fixes the window in the
scaling variable instead, the same for every size.

The averaged output :math:`\bar y(T) = \langle P(\mathrm{ordered} \mid s)\rangle_T` falls
from 1 to 0; its 0.5 crossing defines :math:`T_c(L)`:

* the crossing is interpolated linearly in :math:`\operatorname{logit} \bar y` between the
  bracketing grid temperatures (the curve is close to a logistic function there);
* its error comes from a bootstrap that resamples the test configurations independently at
  every temperature (they are independent Monte Carlo samples), optionally combined with
  the spread over several independently trained networks (``n_networks``);
* finite-size scaling :math:`T_c(L) = T_c + a L^{-1/\nu}` (:math:`\nu = 1`) is a weighted
  least-squares fit; when :math:`\chi^2/\mathrm{dof} > 1` the parameter errors are scaled by
  :math:`\sqrt{\chi^2/\mathrm{dof}}` (so the error bar is never smaller than the scatter).

Transfer (the paper's triangular-lattice test): :func:`sample_triangular` draws
configurations of the triangular-lattice Ising model (:math:`T_c = 4/\ln 3`), and the
network trained on the square lattice is applied to them unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int
from qml_phys.physics.exact import onsager_tc

TRIANGULAR_TC = 4.0 / math.log(3.0)
"""Exact critical temperature of the ferromagnetic triangular-lattice Ising model (J = 1)."""


def default_config(**overrides):
    """The training settings used by default (Adam, up to 40 epochs with early stopping,
    small weight decay). A Z2-symmetric task starts on a plateau (the linear response to
    ``s`` and ``-s`` cancels), so the step size is large and the batches small."""
    from qml_phys.train import TrainConfig

    base = dict(
        epochs=40,
        batch_size=32,
        learning_rate=1e-2,
        weight_decay=1e-4,
        validation_fraction=0.1,
        patience=10,
    )
    return TrainConfig(**(base | overrides))


DEFAULT_OFFSETS = (0.01, 0.03, 0.05, 0.07, 0.09, 0.12, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.25)
"""Default distances |T - Tc| of :func:`temperature_grid`: dense near Tc, sparse far away."""


def temperature_grid(offsets=DEFAULT_OFFSETS, *, Tc: float | None = None) -> list[float]:
    r"""Temperatures :math:`T_c \pm \delta` for every offset :math:`\delta > 0`, sorted.

    A grid symmetric about :math:`T_c` puts as many points on each side of the transition,
    so that interpolating a crossing between the two grid points that bracket it carries
    no one-sided bias, and the confusion scheme's middle proposal falls on :math:`T_c`.
    """
    Tc = onsager_tc() if Tc is None else float(Tc)
    d = np.asarray(offsets, np.float64)
    if d.ndim != 1 or not len(d) or not np.all(np.isfinite(d) & (d > 0) & (d < Tc)):
        raise InvalidParameterError(f"expected offsets 0 < d < Tc = {Tc:.5g}; got {d.tolist()}")
    return [round(float(t), 6) for t in np.sort(np.concatenate([Tc - d, Tc + d]))]


def quick_dataset(
    sizes: Sequence[int],
    temperatures,
    n_samples: int,
    *,
    key: jax.Array,
    n_therm: int = 500,
    spacing: int = 10,
    n_chains: int = 20,
) -> dict:
    """``{L: IsingData}`` drawn in one vectorised Metropolis run per size (every
    temperature and chain at once; chains start ordered below Tc): a cheap stand-in for
    :func:`~qml_phys.classical.datasets.write_dataset` in the tour and quick checks.
    Samples ``spacing`` sweeps apart are *not* decorrelated near Tc; use the dataset writer
    (tau_int-spaced, Wolff near Tc) for results."""
    from qml_phys.classical import metropolis
    from qml_phys.classical.datasets import IsingData, _energy_magnetization

    temps = np.asarray(temperatures, np.float64)
    n_chains = min(check_positive_int("n_chains", n_chains), n_samples)
    per_chain = math.ceil(check_positive_int("n_samples", n_samples) / n_chains)
    out = {}
    for L, k in zip(sizes, jax.random.split(key, len(sizes)), strict=True):
        k0, k1, k2 = jax.random.split(k, 3)
        hot = metropolis.init_spins(k0, len(temps), n_chains, L)
        cold = (temps < onsager_tc())[:, None, None, None]
        s = metropolis.sweep(
            k1, jnp.where(cold, jnp.ones_like(hot), hot), 1.0 / temps, n_sweeps=n_therm
        )
        snaps = []
        for kk in jax.random.split(k2, per_chain):
            s = metropolis.sweep(kk, s, 1.0 / temps, n_sweeps=spacing)
            snaps.append(np.asarray(s))
        spins = np.concatenate(snaps, axis=1)[:, :n_samples].reshape(-1, L, L).astype(np.int8)
        T = np.repeat(temps, n_samples)
        e, m = _energy_magnetization(spins, 1.0)
        out[int(L)] = IsingData(spins, T, e, m, (T < onsager_tc()).astype(np.int8), temps, {})
    return out


# --------------------------------------------------------------------------- data checks
def _check_samples(spins, T) -> tuple[np.ndarray, np.ndarray]:
    spins = np.asarray(spins)
    T = np.asarray(T, np.float64)
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise ShapeError(f"expected spins of shape (n, L, L); got shape {spins.shape}")
    if T.shape != (spins.shape[0],):
        raise ShapeError(
            f"expected one temperature per configuration, shape ({spins.shape[0]},); "
            f"got shape {T.shape}"
        )
    return spins, T


def rng_from_key(key: jax.Array) -> np.random.Generator:
    """A numpy generator seeded from a JAX key (for bootstrap resampling and splits)."""
    return np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())


def split_by_temperature(
    T: np.ndarray,
    *,
    Tc: float,
    exclude: float,
    train_fraction: float,
    key: jax.Array,
    scale: float = 1.0,
    max_distance: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)``: at every temperature in the training window
    ``exclude <= |T - Tc| * scale <= max_distance`` a random ``train_fraction`` of the
    configurations trains; everything else is the test set. ``scale = L**(1/nu)`` measures
    the distance in the scaling variable ``(T - Tc) L^(1/nu)``.

    Raises if the training window has no temperature on one side of ``Tc``.
    """
    if not 0 < train_fraction < 1:
        raise InvalidParameterError(f"train_fraction: expected 0 < f < 1; got {train_fraction!r}")
    if not (math.isfinite(exclude) and exclude >= 0):
        raise InvalidParameterError(f"exclude: expected a number >= 0; got {exclude!r}")
    temps = np.unique(T)
    dist = np.abs(temps - Tc) * scale
    inside = (dist >= exclude - 1e-9) & (dist <= (np.inf if max_distance is None else max_distance))
    below = temps[inside & (temps < Tc)]
    above = temps[inside & (temps > Tc)]
    if not len(below) or not len(above):
        lo, hi = exclude / scale, (np.inf if max_distance is None else max_distance / scale)
        raise InvalidParameterError(
            f"the training window needs temperatures on both sides of Tc = {Tc:.5g}; none "
            f"has {lo:.4g} <= |T - Tc| <= {hi:.4g} on the {'low' if not len(below) else 'high'}"
            f" side (the data has T in [{temps.min():.5g}, {temps.max():.5g}]); widen the "
            "temperature grid or change the window"
        )
    rng = rng_from_key(key)
    train = []
    for t in np.concatenate([below, above]):
        idx = np.flatnonzero(T == t)
        n = max(1, int(round(train_fraction * len(idx))))
        train.append(rng.permutation(idx)[:n])
    train = np.sort(np.concatenate(train))
    test = np.setdiff1d(np.arange(len(T)), train)
    return train, test


# --------------------------------------------------------------------------- classifier
@dataclasses.dataclass
class Classifier:
    """A trained classifier: ``predict_ordered(c.params, c.model, spins, model_state=...)``."""

    model: Any
    params: Any
    model_state: Any
    train_index: np.ndarray
    """Indices of the configurations used for training (and validation)."""
    test_index: np.ndarray
    """The held-out configurations (every temperature)."""
    Tc: float
    exclude: float
    history: list
    status: str


def train_classifier(
    data,
    *,
    model: str | Any = "dense",
    config=None,
    key: jax.Array,
    Tc: float | None = None,
    exclude: float = 0.0,
    train_fraction: float = 0.7,
    scaled: bool = False,
    max_distance: float | None = None,
    nu: float = 1.0,
    augment: bool = True,
    out=None,
    **model_options,
) -> Classifier:
    """Train ``model`` to tell ordered from disordered configurations far from ``Tc``.

    Args:
        data: an :class:`~qml_phys.classical.datasets.IsingData` (or anything with
            ``spins`` ``(n, L, L)`` and ``T`` ``(n,)``).
        model: ``"dense"``, ``"cnn"`` or a Flax module following the ``train`` convention.
        config: a :class:`~qml_phys.train.TrainConfig` (default :func:`default_config`).
        key: PRNG key (split, initialisation).
        Tc: the temperature that separates the labels (default Onsager's).
        exclude, max_distance: train only on ``exclude <= |T - Tc| <= max_distance``, or,
            with ``scaled``, on ``exclude <= |T - Tc| L^(1/nu) <= max_distance`` (a window
            fixed in the scaling variable, the same for every ``L``).
        train_fraction: fraction of the configurations at each training temperature that
            train; the rest (and every configuration inside the window) is the test set.
        augment: add the spin-flipped copy ``-s`` of every training configuration (the
            Z2 symmetry of the zero-field Hamiltonian; the label is unchanged).
        out: a folder for the trainer's checkpoint and history (resumable).
        model_options: passed to the classifier (e.g. ``hidden=100``).
    """
    from qml_phys.phases.classifiers import make_classifier
    from qml_phys.train import fit, flax_loss, init_flax

    spins, T = _check_samples(data.spins, data.T)
    Tc = onsager_tc() if Tc is None else float(Tc)
    config = default_config() if config is None else config
    module = make_classifier(model, **model_options) if isinstance(model, str) else model
    k_split, k_init = jax.random.split(key)
    train, test = split_by_temperature(
        T,
        Tc=Tc,
        exclude=exclude,
        train_fraction=train_fraction,
        key=k_split,
        scale=spins.shape[1] ** (1.0 / nu) if scaled else 1.0,
        max_distance=max_distance,
    )
    y = (T < Tc).astype(np.int32)
    fit_idx, val_idx = train, None
    if config.validation_fraction > 0:  # split before augmenting: no flipped twin leaks
        perm = rng_from_key(jax.random.fold_in(k_split, 1)).permutation(train)
        n_val = int(round(config.validation_fraction * len(train)))
        if 0 < n_val < len(train):
            val_idx, fit_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])

    def arrays(idx):
        if idx is None:
            return None
        x, lab = spins[idx], y[idx]
        if augment:
            x, lab = np.concatenate([x, -x]), np.concatenate([lab, lab])
        return {"x": x, "y": lab}

    params, state = init_flax(module, jnp.asarray(spins[:2]), key=k_init)
    res = fit(
        flax_loss(module),
        params,
        arrays(fit_idx),
        validation=arrays(val_idx),
        config=config,
        model_state=state,
        out=out,
        desc=f"classifier L={spins.shape[1]}",
    )
    return Classifier(
        module, res.params, res.model_state, train, test, Tc, exclude, res.history, res.status
    )


def predict_ordered(
    params, model, spins, *, model_state=None, batch_size: int = 4096
) -> np.ndarray:
    """``P(ordered | s)`` for configurations ``spins`` ``(n, L, L)``: ``(n,)`` float64."""
    spins = np.asarray(spins)
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise ShapeError(f"expected spins of shape (n, L, L); got shape {spins.shape}")
    variables = {"params": params}
    if model_state is not None:
        variables["batch_stats"] = model_state
    apply = jax.jit(lambda v, x: jax.nn.softmax(model.apply(v, x, train=False), axis=-1)[:, 1])
    out = [
        np.asarray(apply(variables, jnp.asarray(spins[i : i + batch_size])))
        for i in range(0, len(spins), batch_size)
    ]
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


# --------------------------------------------------------------------------- crossings
class Curve(NamedTuple):
    """A per-temperature average with its standard error."""

    temperatures: np.ndarray
    mean: np.ndarray
    error: np.ndarray
    count: np.ndarray


def temperature_average(values, T) -> Curve:
    """Mean and standard error of ``values`` ``(n,)`` at every distinct ``T``."""
    values, T = np.asarray(values, np.float64), np.asarray(T, np.float64)
    if values.shape != T.shape:
        raise ShapeError(f"expected values and T of the same shape; got {values.shape}, {T.shape}")
    temps = np.unique(T)
    groups = [values[T == t] for t in temps]
    mean = np.array([g.mean() for g in groups])
    err = np.array([g.std(ddof=1) / math.sqrt(len(g)) if len(g) > 1 else np.nan for g in groups])
    return Curve(temps, mean, err, np.array([len(g) for g in groups]))


def crossing(temperatures, y, level: float = 0.5, *, logit: bool = True) -> float:
    r"""Temperature where the curve ``y(T)`` crosses ``level`` (linear interpolation in
    :math:`\operatorname{logit} y` when ``logit``, else in ``y``). With several crossings
    (noise on a flat curve) their mean is returned; none raises."""
    t = np.asarray(temperatures, np.float64)
    y = np.asarray(y, np.float64)
    if logit:
        eps = 1e-6
        yc = np.clip(y, eps, 1 - eps)
        y, level = np.log(yc / (1 - yc)), math.log(level / (1 - level))
    d = y - level
    idx = np.flatnonzero(np.sign(d[:-1]) * np.sign(d[1:]) <= 0)
    idx = idx[d[idx] != d[idx + 1]]
    if not len(idx):
        raise InvalidParameterError(
            f"the curve never crosses {level if not logit else 0.5} on T in "
            f"[{t.min():.5g}, {t.max():.5g}]; expected data on both sides of the transition"
        )
    x = t[idx] + (t[idx + 1] - t[idx]) * d[idx] / (d[idx] - d[idx + 1])
    return float(np.mean(x))


class Crossing(NamedTuple):
    """A 0.5 crossing with its bootstrap error."""

    value: float
    error: float
    samples: np.ndarray
    """Bootstrap replicas of the crossing."""
    curve: Curve


def bootstrap_crossing(
    values, T, *, key: jax.Array, level: float = 0.5, n_boot: int = 200, logit: bool = True
) -> Crossing:
    """Crossing of the per-temperature mean of ``values`` with a bootstrap error: the
    configurations at every temperature are resampled with replacement, independently."""
    n_boot = check_positive_int("n_boot", n_boot, minimum=2)
    curve = temperature_average(values, T)
    values, T = np.asarray(values, np.float64), np.asarray(T, np.float64)
    rng = rng_from_key(key)
    boot = np.empty((n_boot, len(curve.temperatures)))
    for j, t in enumerate(curve.temperatures):
        g = values[T == t]
        boot[:, j] = g[rng.integers(0, len(g), (n_boot, len(g)))].mean(axis=1)
    value = crossing(curve.temperatures, curve.mean, level, logit=logit)
    samples = np.full(n_boot, np.nan)
    for i, b in enumerate(boot):
        try:
            samples[i] = crossing(curve.temperatures, b, level, logit=logit)
        except InvalidParameterError:  # a replica without a crossing: leave it out
            pass
    ok = samples[np.isfinite(samples)]
    if len(ok) < max(2, n_boot // 2):
        raise InvalidParameterError(
            f"only {len(ok)} of {n_boot} bootstrap replicas cross {level}; the crossing is not "
            "determined by the data (more configurations per temperature are needed)"
        )
    return Crossing(value, float(ok.std(ddof=1)), samples, curve)


# --------------------------------------------------------------------------- scaling
class FSSFit(NamedTuple):
    r""":math:`T_c(L) = T_c + a L^{-1/\nu}`, weighted least squares."""

    Tc: float
    Tc_error: float
    a: float
    a_error: float
    chi2: float
    dof: int
    nu: float
    error_scale: float
    """Factor applied to the parameter errors: ``max(1, sqrt(chi2/dof))``."""


def fss_fit(sizes, tc, tc_error, *, nu: float = 1.0) -> FSSFit:
    r"""Extrapolate :math:`T_c(L)` to :math:`L \to \infty` with :math:`T_c + a L^{-1/\nu}`.

    Needs at least two distinct sizes and positive, finite errors.
    """
    L = np.asarray(sizes, np.float64)
    y = np.asarray(tc, np.float64)
    s = np.asarray(tc_error, np.float64)
    if not (L.shape == y.shape == s.shape and L.ndim == 1):
        raise ShapeError(
            f"expected sizes, tc and tc_error of one common length; got {L.shape}, {y.shape}, "
            f"{s.shape}"
        )
    if len(np.unique(L)) < 2:
        raise InvalidParameterError(
            "finite-size scaling needs at least two lattice sizes; got "
            f"{sorted(set(int(x) for x in L))} (write a dataset with several --L)"
        )
    if not np.all(np.isfinite(s) & (s > 0)):
        raise InvalidParameterError(f"expected finite errors > 0; got {s.tolist()}")
    A = np.stack([np.ones_like(L), L ** (-1.0 / nu)], axis=1)
    w = 1.0 / s**2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    p = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - A @ p) ** 2))
    dof = len(L) - 2
    scale = max(1.0, math.sqrt(chi2 / dof)) if dof > 0 else 1.0
    err = np.sqrt(np.diag(cov)) * scale
    return FSSFit(float(p[0]), float(err[0]), float(p[1]), float(err[1]), chi2, dof, nu, scale)


# --------------------------------------------------------------------------- pipeline
def load_sizes(path, sizes: Sequence[int] | None = None) -> dict:
    """``{L: IsingData}`` for the sizes of a dataset file (all, or ``sizes``)."""
    from qml_phys.classical.datasets import load_dataset, sizes_in

    available = sizes_in(path)
    chosen = list(available) if not sizes else [int(L) for L in sizes]
    missing = [L for L in chosen if L not in available]
    if missing:
        raise InvalidParameterError(f"expected sizes among {available}; got {missing}")
    return {L: load_dataset(path, L) for L in chosen}


def size_result(
    data,
    *,
    model: str | Any = "dense",
    config=None,
    key: jax.Array,
    exclude: float = 0.0,
    train_fraction: float = 0.7,
    n_networks: int = 1,
    n_boot: int = 200,
    Tc: float | None = None,
    scaled: bool = False,
    max_distance: float | None = None,
    nu: float = 1.0,
    **model_options,
) -> dict:
    r"""Train ``n_networks`` classifiers at one size and read off :math:`T_c(L)`.

    Each network has its own initialisation and train/test split. With one network the
    error is the bootstrap error; with several the crossing is their mean and the error
    :math:`\sqrt{\overline{\sigma_b^2}/n + s^2/n}` (mean bootstrap variance and spread
    between networks, both as errors of the mean).
    """
    n_networks = check_positive_int("n_networks", n_networks)
    spins, T = _check_samples(data.spins, data.T)
    Tc = onsager_tc() if Tc is None else float(Tc)
    rows, curves = [], []
    for k in jax.random.split(key, n_networks):
        k_train, k_boot = jax.random.split(k)
        clf = train_classifier(
            data,
            model=model,
            config=config,
            key=k_train,
            Tc=Tc,
            exclude=exclude,
            train_fraction=train_fraction,
            scaled=scaled,
            max_distance=max_distance,
            nu=nu,
            **model_options,
        )
        test = clf.test_index
        p = predict_ordered(clf.params, clf.model, spins[test], model_state=clf.model_state)
        cr = bootstrap_crossing(p, T[test], key=k_boot, n_boot=n_boot)
        far = np.isin(T[test], np.unique(T[clf.train_index]))  # the training temperatures
        acc = float(np.mean((p[far] > 0.5) == (T[test][far] < Tc))) if far.any() else math.nan
        rows.append({"crossing": cr.value, "bootstrap_error": cr.error, "test_accuracy": acc})
        curves.append(cr.curve)
    x = np.array([r["crossing"] for r in rows])
    sb = np.array([r["bootstrap_error"] for r in rows])
    n = len(x)
    spread = float(x.std(ddof=1)) if n > 1 else 0.0
    error = math.sqrt(np.mean(sb**2) / n + spread**2 / n) if n > 1 else float(sb[0])
    mean_curve = Curve(
        curves[0].temperatures,
        np.mean([c.mean for c in curves], axis=0),
        np.sqrt(np.mean([c.error**2 for c in curves], axis=0) / n),
        curves[0].count,
    )
    return {
        "L": int(spins.shape[1]),
        "Tc": float(x.mean()),
        "Tc_error": error,
        "network_spread": spread,
        "networks": rows,
        "curve": mean_curve._asdict(),
    }


def supervised_tc(
    datasets: Mapping[int, Any],
    *,
    model: str | Any = "dense",
    config=None,
    key: jax.Array,
    exclude: float = 0.0,
    train_fraction: float = 0.7,
    n_networks: int = 1,
    n_boot: int = 200,
    nu: float = 1.0,
    fss: bool | None = None,
    scaled: bool = False,
    max_distance: float | None = None,
    **model_options,
) -> dict:
    """:math:`T_c(L)` for every size of ``datasets`` (``{L: IsingData}``) and, with several
    sizes (or ``fss=True``, which then requires them), the finite-size-scaling fit."""
    if not datasets:
        raise InvalidParameterError("expected at least one lattice size; got none")
    sizes = sorted(int(L) for L in datasets)
    if fss and len(sizes) < 2:
        raise InvalidParameterError(
            f"finite-size scaling needs at least two lattice sizes; the data has L = {sizes} "
            "(write a dataset with several --L)"
        )
    per_size = {}
    for L, k in zip(sizes, jax.random.split(key, len(sizes)), strict=True):
        per_size[L] = size_result(
            datasets[L],
            model=model,
            config=config,
            key=k,
            exclude=exclude,
            train_fraction=train_fraction,
            n_networks=n_networks,
            n_boot=n_boot,
            scaled=scaled,
            max_distance=max_distance,
            nu=nu,
            **model_options,
        )
    out = {"sizes": sizes, "per_size": per_size, "Tc_exact": onsager_tc()}
    if len(sizes) >= 2 and fss is not False:
        fit_ = fss_fit(
            sizes,
            [per_size[L]["Tc"] for L in sizes],
            [per_size[L]["Tc_error"] for L in sizes],
            nu=nu,
        )
        out["fss"] = fit_._asdict()
    return out


# --------------------------------------------------------------------------- triangular
def _triangular_sweep(key, s, beta, colours):
    """One Metropolis sweep of ``(n_temps, n_chains, L, L)`` spins on the triangular lattice
    (neighbours (0, ±1), (±1, 0), ±(1, -1)), updating the 3 sublattices in turn."""
    for c, k in zip(range(3), jax.random.split(key, 3), strict=True):
        h = (
            jnp.roll(s, 1, -1)
            + jnp.roll(s, -1, -1)
            + jnp.roll(s, 1, -2)
            + jnp.roll(s, -1, -2)
            + jnp.roll(jnp.roll(s, 1, -2), -1, -1)
            + jnp.roll(jnp.roll(s, -1, -2), 1, -1)
        )
        dE = 2.0 * s * h
        u = jax.random.uniform(k, s.shape, s.dtype)
        flip = (u < jnp.exp(-beta[:, None, None, None] * dE)) & colours[c][None, None]
        s = jnp.where(flip, -s, s)
    return s


def sample_triangular(
    L: int,
    temperatures,
    n_samples: int,
    *,
    key: jax.Array,
    n_therm: int = 2000,
    spacing: int = 20,
    n_chains: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Configurations of the ferromagnetic triangular-lattice Ising model on an ``L x L``
    torus (``L`` a multiple of 3: a proper 3-colouring), drawn on the same square grid of
    sites, so that a network trained on the square lattice can read them.

    Checkerboard-like Metropolis over 3 sublattices, all temperatures and ``n_chains`` chains
    at once; ``n_therm`` sweeps of thermalisation, then a sample every ``spacing`` sweeps.
    :math:`T_c = 4/\ln 3 \approx 3.641` (Houtappel 1950). Returns ``spins`` ``(n_T *
    n_samples, L, L)`` int8 and ``T`` ``(n_T * n_samples,)``.
    """
    L = check_positive_int("L", L, minimum=3)
    if L % 3:
        raise InvalidParameterError(
            f"the triangular lattice sampler needs L divisible by 3 (3 sublattices); got L={L}"
        )
    temps = np.atleast_1d(np.asarray(temperatures, np.float64))
    if not np.all(np.isfinite(temps) & (temps > 0)):
        raise InvalidParameterError(f"expected positive, finite temperatures; got {temps}")
    n_samples = check_positive_int("n_samples", n_samples)
    n_chains = min(check_positive_int("n_chains", n_chains), n_samples)
    per_chain = math.ceil(n_samples / n_chains)
    i, j = np.indices((L, L))
    colours = jnp.asarray(np.stack([(i - j) % 3 == c for c in range(3)]))
    beta = jnp.asarray(1.0 / temps, jnp.float32)

    @jax.jit
    def run(key):
        k0, k1, k2 = jax.random.split(key, 3)
        hot = jnp.where(jax.random.bernoulli(k0, 0.5, (len(temps), n_chains, L, L)), 1.0, -1.0)
        ordered = (beta > 1.0 / TRIANGULAR_TC)[:, None, None, None]  # start ordered below Tc
        s = jnp.where(ordered, jnp.ones_like(hot), hot).astype(jnp.float32)
        s = jax.lax.fori_loop(
            0,
            n_therm,
            lambda t, s: _triangular_sweep(jax.random.fold_in(k1, t), s, beta, colours),
            s,
        )

        def block(s, k):
            s = jax.lax.fori_loop(
                0,
                spacing,
                lambda t, s: _triangular_sweep(jax.random.fold_in(k, t), s, beta, colours),
                s,
            )
            return s, s.astype(jnp.int8)

        _, out = jax.lax.scan(block, s, jax.random.split(k2, per_chain))
        return out  # (per_chain, n_T, n_chains, L, L)

    out = np.asarray(run(key))
    spins = np.moveaxis(out, 1, 0).reshape(len(temps), -1, L, L)[:, :n_samples]
    return spins.reshape(-1, L, L), np.repeat(temps, n_samples)


# --------------------------------------------------------------------------- records
def plot_supervised(result: dict, path) -> None:
    """Averaged output vs T for every size, and Tc(L) vs 1/L with the FSS line (PNG)."""
    from qml_phys.runtime import plots

    fig, (ax, ax_fss) = plots.figure(1, 2)
    Tc = result["Tc_exact"]
    for L in result["sizes"]:
        c = result["per_size"][L]["curve"]
        ax.errorbar(c["temperatures"], c["mean"], c["error"], fmt="o-", ms=3, label=f"L = {L}")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.axvline(Tc, **plots.EXACT, label="Onsager $T_c$")
    ax.set_xlabel("temperature T / J")
    ax.set_ylabel("averaged output P(ordered)")
    ax.legend()
    inv = np.array([1.0 / L for L in result["sizes"]])
    tcs = [result["per_size"][L]["Tc"] for L in result["sizes"]]
    errs = [result["per_size"][L]["Tc_error"] for L in result["sizes"]]
    ax_fss.errorbar(inv, tcs, errs, fmt="o", label="crossing $T_c(L)$")
    if "fss" in result:
        f = result["fss"]
        x = np.linspace(0, inv.max() * 1.05, 50)
        ax_fss.plot(
            x,
            f["Tc"] + f["a"] * x ** (1 / f["nu"]),
            label=f"fit: $T_c$ = {f['Tc']:.4f} ± {f['Tc_error']:.4f}",
        )
    ax_fss.axhline(Tc, **plots.EXACT, label=f"Onsager {Tc:.5f}")
    ax_fss.set_xlabel("1 / L")
    ax_fss.set_ylabel("$T_c(L)$")
    ax_fss.legend()
    plots.save(fig, path)


def triangular_transfer(
    square,
    *,
    model: str | Any = "dense",
    config=None,
    key: jax.Array,
    offsets=(0.05, 0.15, 0.3, 0.5, 0.8, 1.2),
    n_samples: int = 200,
    n_boot: int = 200,
) -> dict:
    """Train on the square lattice (``square``: ``{L: IsingData}`` with one ``L``, a
    multiple of 3), apply the network unchanged to triangular-lattice configurations of the
    same size on a grid about ``4 / ln 3``, and read off the 0.5 crossing (the paper's
    transfer test)."""
    if len(square) != 1:
        raise InvalidParameterError(f"expected one square-lattice size; got {sorted(square)}")
    ((L, data),) = square.items()
    k_train, k_sample, k_boot = jax.random.split(key, 3)
    clf = train_classifier(data, model=model, config=config, key=k_train)
    temps = temperature_grid(offsets, Tc=TRIANGULAR_TC)
    spins, T = sample_triangular(L, temps, n_samples, key=k_sample)
    p = predict_ordered(clf.params, clf.model, spins, model_state=clf.model_state)
    cr = bootstrap_crossing(p, T, key=k_boot, n_boot=n_boot)
    return {
        "L": int(L),
        "Tc": cr.value,
        "Tc_error": cr.error,
        "Tc_exact": TRIANGULAR_TC,
        "curve": cr.curve._asdict(),
    }
