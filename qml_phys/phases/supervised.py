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
  the spread over several independently trained networks (``n_networks``; with one
  network that spread is not measured and is reported as ``None``);
* finite-size scaling :math:`T_c(L) = T_c + a L^{-1/\nu}` (:math:`\nu = 1`) is a weighted
  least-squares fit; when :math:`\chi^2/\mathrm{dof} > 1` the parameter errors are scaled by
  :math:`\sqrt{\chi^2/\mathrm{dof}}` (so the error bar is never smaller than the scatter).

Every setting of the pipeline is a field of :class:`SupervisedConfig`; the entry points
:func:`train_classifier`, :func:`size_result`, :func:`supervised_tc` and
:func:`triangular_transfer` take it with a keyword-only PRNG ``key`` and return frozen
:class:`~qml_phys.runtime.results.Result` dataclasses.

Transfer (the paper's triangular-lattice test): :func:`sample_triangular` draws
configurations of the triangular-lattice Ising model (:math:`T_c = 4/\ln 3`), and the
network trained on the square lattice is applied to them unchanged.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    UnknownNameError,
    check_number,
    check_positive_int,
)
from qml_phys.physics.exact import onsager_tc
from qml_phys.runtime.results import Result, overall_status, ran
from qml_phys.stats.fits import (  # noqa: F401 - the crossings and the fit, also named here
    Crossing,
    Curve,
    FSSFit,
    bootstrap_crossing,
    crossing,
    fss_fit,
    temperature_average,
)
from qml_phys.train import TrainConfig, check_train_config

TRIANGULAR_TC = 4.0 / math.log(3.0)
"""Exact critical temperature of the ferromagnetic triangular-lattice Ising model (J = 1)."""

METHOD = "supervised (Carrasquilla & Melko 2017): 0.5 crossing of the averaged output"


def default_config(**overrides) -> TrainConfig:
    """The training settings used by default (Adam, up to 40 epochs with early stopping,
    small weight decay), with ``overrides`` applied. A Z2-symmetric task starts on a plateau
    (the linear response to ``s`` and ``-s`` cancels), so the step size is large and the
    batches small."""
    base = dict(
        epochs=40,
        batch_size=32,
        learning_rate=1e-2,
        weight_decay=1e-4,
        validation_fraction=0.1,
        patience=10,
    )
    return TrainConfig(**(base | overrides))


def model_name(model) -> str:
    """``"dense"``/``"cnn"`` as given, or the class name of a Flax module (for records)."""
    return model if isinstance(model, str) else type(model).__name__


def check_model(model) -> None:
    """Raise unless ``model`` is ``"dense"``, ``"cnn"`` or a Flax module."""
    from qml_phys.phases.classifiers import MODELS

    if isinstance(model, str):
        if model not in MODELS:
            raise UnknownNameError(
                f"model: expected one of {', '.join(MODELS)} or a Flax module; got {model!r}"
            )
    elif not callable(getattr(model, "apply", None)):
        raise InvalidParameterError(
            f"model: expected 'dense', 'cnn' or a Flax module; got {type(model).__name__}"
        )


#: Most networks one supervised T_c trains (each in turn: more is hours of work).
MAX_NETWORKS = 10_000


@dataclasses.dataclass(frozen=True, kw_only=True)
class SupervisedConfig:
    """Settings of the supervised pipeline (:func:`train_classifier`, :func:`size_result`,
    :func:`supervised_tc`, :func:`triangular_transfer`)."""

    model: str | Any = "dense"
    """``"dense"`` (:class:`~qml_phys.phases.classifiers.DenseClassifier`), ``"cnn"``
    (:class:`~qml_phys.phases.classifiers.ConvClassifier`) or a Flax module with the
    ``train`` keyword convention and two logits (index 1: ordered)."""
    model_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Keyword arguments of the named model (e.g. ``{"hidden": 50, "dropout": 0.1}``)."""
    train: TrainConfig = dataclasses.field(default_factory=default_config)
    """Optimiser, epochs, early stopping (default :func:`default_config`)."""
    Tc: float | None = None
    """Temperature that separates the labels (default: Onsager's ``2/ln(1+sqrt 2)``)."""
    exclude: float = 0.0
    """Train only on temperatures with ``|T - Tc| (* L^(1/nu) if scaled) >= exclude``."""
    train_fraction: float = 0.7
    """Fraction of the configurations at each training temperature used for training (and
    validation); the rest, and every other temperature, is the test set."""
    scaled: bool = False
    """Measure ``exclude`` and ``max_distance`` in the scaling variable ``|T - Tc| L^(1/nu)``."""
    max_distance: float | None = None
    """Upper end of the training window (``None``: no upper end)."""
    nu: float = 1.0
    """Correlation-length exponent of the scaling variable and of the finite-size scaling."""
    augment: bool = True
    """Add the spin-flipped copy of every training configuration (the Z2 symmetry)."""
    n_networks: int = 5
    """Independently trained networks per size (own initialisation and split); with one,
    the network spread is not measured (``None``)."""
    n_boot: int = 200
    """Bootstrap replicas of every crossing."""
    fss: bool | None = None
    """Finite-size scaling: ``None`` with two or more sizes, ``True`` required (an error with
    one size), ``False`` never."""

    def __post_init__(self):
        check_model(self.model)
        check_train_config(self.train)
        if self.Tc is not None:
            check_number("Tc", self.Tc, minimum=0, strict=True)
        check_number("exclude", self.exclude, minimum=0)
        if not 0 < self.train_fraction < 1:
            raise InvalidParameterError(
                f"train_fraction: expected 0 < f < 1; got {self.train_fraction!r}"
            )
        if self.max_distance is not None:
            check_number("max_distance", self.max_distance, minimum=0, strict=True)
        check_number("nu", self.nu, minimum=0, strict=True)
        check_positive_int("n_networks", self.n_networks)
        if self.n_networks > MAX_NETWORKS:
            raise InvalidParameterError(
                f"n_networks: expected at most {MAX_NETWORKS} networks (each is trained in "
                f"turn); got {self.n_networks}"
            )
        check_positive_int("n_boot", self.n_boot, minimum=2)
        if self.fss not in (None, True, False):
            raise InvalidParameterError(f"fss: expected None, True or False; got {self.fss!r}")

    @property
    def labelling_tc(self) -> float:
        """The temperature that separates the labels (``Tc`` or Onsager's)."""
        return onsager_tc() if self.Tc is None else float(self.Tc)


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


def quick_dataset(sizes, temperatures, n_samples: int, *, key: jax.Array) -> dict:
    """``{L: IsingData}`` for quick checks and the tour
    (:func:`qml_phys.classical.datasets.quick_dataset`; kept here for callers of phases)."""
    from qml_phys.classical.datasets import quick_dataset as _quick

    return _quick(sizes, temperatures, n_samples, key=key)


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
    """A numpy generator seeded from a JAX key (for splits and k-means in numpy)."""
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
@dataclasses.dataclass(frozen=True, kw_only=True)
class Classifier(Result):
    """A trained classifier (:func:`train_classifier`); ``history`` is the trainer's
    per-epoch history. Apply it with
    ``predict_ordered(c.params, c.model, spins, model_state=c.model_state)``."""

    model: Any
    """The Flax module."""
    params: Any
    model_state: Any = None
    """Batch statistics (``None`` for modules without batch normalisation)."""
    train_index: np.ndarray
    """Indices of the configurations used for training (and validation)."""
    test_index: np.ndarray
    """The held-out configurations (every temperature)."""
    Tc: float
    """The temperature that separated the labels."""
    best_epoch: int | None = None
    """The trainer's epoch of the lowest validation loss (``None`` without validation)."""

    @property
    def exclude(self) -> float:
        """The training window's lower edge (``config.exclude``)."""
        return self.config.exclude

    reported = ("Tc", "best_epoch")

    def summary(self) -> dict:
        """Status, epochs, sizes of the splits, final losses and the labelling ``Tc``."""
        last = {k: float(v[-1]) for k, v in self.history.items() if len(v)}
        return super().summary() | {
            "model": model_name(self.config.model),
            "n_train": len(self.train_index),
            "n_test": len(self.test_index),
            "final_train_loss": last.get("train_loss"),
            "final_val_loss": last.get("val_loss"),
        }


def _module(model, options):
    from qml_phys.phases.classifiers import make_classifier

    return make_classifier(model, **dict(options)) if isinstance(model, str) else model


def train_classifier(
    data, config: SupervisedConfig = SupervisedConfig(), *, key: jax.Array, checkpoint=None
) -> Classifier:
    """Train ``config.model`` to tell ordered from disordered configurations.

    Args:
        data: an :class:`~qml_phys.classical.datasets.IsingData` (``spins`` ``(n, L, L)``
            in {-1, +1}, ``T`` ``(n,)``).
        config: the settings (training window, model, :class:`~qml_phys.train.TrainConfig`).
        key: PRNG key of the train/test split, the validation split, the initialisation
            and the training.
        checkpoint: an optional :class:`~qml_phys.runtime.checkpoint.Checkpoint` for the
            trainer (save and resume).

    The validation set (``config.train.validation_fraction`` of the training
    configurations) is split off before augmentation, so no flipped twin leaks into it.
    """
    from qml_phys.train import fit, flax_loss, init_flax

    t0 = time.perf_counter()
    spins, T = _check_samples(data.spins, data.T)
    Tc = config.labelling_tc
    module = _module(config.model, config.model_options)
    k_split, k_val, k_init, k_fit = jax.random.split(key, 4)
    train, test = split_by_temperature(
        T,
        Tc=Tc,
        exclude=config.exclude,
        train_fraction=config.train_fraction,
        key=k_split,
        scale=spins.shape[1] ** (1.0 / config.nu) if config.scaled else 1.0,
        max_distance=config.max_distance,
    )
    y = (T < Tc).astype(np.int32)
    fit_idx, val_idx = train, None
    if config.train.validation_fraction > 0:
        perm = rng_from_key(k_val).permutation(train)
        n_val = int(round(config.train.validation_fraction * len(train)))
        if 0 < n_val < len(train):
            val_idx, fit_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])

    def arrays(idx):
        if idx is None:
            return None
        x, lab = spins[idx], y[idx]
        if config.augment:
            x, lab = np.concatenate([x, -x]), np.concatenate([lab, lab])
        return {"x": x, "y": lab}

    params, state = init_flax(module, jnp.asarray(spins[:2]), key=k_init)
    res = fit(
        flax_loss(module),
        params,
        arrays(fit_idx),
        validation=arrays(val_idx),
        config=dataclasses.replace(config.train, label=f"classifier L={spins.shape[1]}"),
        key=k_fit,
        model_state=state,
        callbacks=() if checkpoint is None else (checkpoint,),
    )
    return Classifier(
        **ran(config, res, since=t0),
        model=module,
        params=res.params,
        model_state=res.model_state,
        train_index=train,
        test_index=test,
        Tc=Tc,
        best_epoch=res.best_epoch,
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class SizeResult(Result):
    r""":math:`T_c(L)` of one lattice size from ``config.n_networks`` classifiers
    (:func:`size_result`). ``history`` is empty (each network's is in ``classifiers``)."""

    L: int
    Tc: float
    """The crossing (the mean over networks)."""
    Tc_error: float
    """Bootstrap error, combined with the spread between networks when there are several."""
    network_spread: float | None
    """Standard deviation of the crossing over networks; ``None`` with one network (not
    measured)."""
    networks: tuple[dict, ...]
    """Per network: ``crossing``, ``bootstrap_error``, ``test_accuracy`` (at the training
    temperatures), ``status``, ``epochs``."""
    curve: Curve
    """The averaged output per temperature (mean over networks)."""
    classifiers: tuple[Classifier, ...] = ()
    """The trained networks."""

    reported = ("L", "Tc", "Tc_error", "network_spread")

    def summary(self) -> dict:
        """``L``, ``Tc``, ``Tc_error``, ``network_spread`` (null with one network),
        ``test_accuracy`` (per network), ``networks`` and ``curve``."""
        return super().summary() | {
            "test_accuracy": [n["test_accuracy"] for n in self.networks],
            "networks": list(self.networks),
            "curve": self.curve._asdict(),
        }


def for_each_size(fn, datasets: Mapping[int, Any], config, *, key: jax.Array) -> dict:
    """``fn(datasets[L], config, key=k_L)`` for the sorted lattice sizes of ``datasets``,
    each size with its own key split from ``key``, as the fields a per-size result shares:
    ``config``, ``status`` (:func:`~qml_phys.runtime.results.overall_status`), ``sizes``,
    ``per_size`` (``{L: result}``) and ``Tc_exact`` (Onsager)."""
    if not datasets:
        raise InvalidParameterError("expected at least one lattice size; got none")
    sizes = tuple(sorted(int(L) for L in datasets))
    keys = jax.random.split(key, len(sizes))
    per_size = {L: fn(datasets[L], config, key=k) for L, k in zip(sizes, keys, strict=True)}
    return {
        "config": config,
        "status": overall_status(r.status for r in per_size.values()),
        "sizes": sizes,
        "per_size": per_size,
        "Tc_exact": onsager_tc(),
    }


def size_result(
    data, config: SupervisedConfig = SupervisedConfig(), *, key: jax.Array
) -> SizeResult:
    r"""Train ``config.n_networks`` classifiers at one size and read off :math:`T_c(L)`.

    Each network has its own initialisation and train/test split. With one network the
    error is the bootstrap error and the network spread is not measured (``None``); with
    several the crossing is their mean and the error
    :math:`\sqrt{\overline{\sigma_b^2} + s^2/n}`: the spread ``s`` between networks
    (training and split noise, independent between networks) enters as an error of the
    mean, while the bootstrap variance of the test data (the noise of the one Monte Carlo
    dataset all networks share) does not average out over networks. Measured over
    independent dataset-and-training seeds (``studies/calibration.py``), the bootstrap
    error alone under-covers: the training variance is part of the error bar.
    """
    t0 = time.perf_counter()
    spins, T = _check_samples(data.spins, data.T)
    Tc = config.labelling_tc
    rows, curves, classifiers = [], [], []
    for k in jax.random.split(key, config.n_networks):
        k_train, k_boot = jax.random.split(k)
        clf = train_classifier(data, config, key=k_train)
        test = clf.test_index
        p = predict_ordered(clf.params, clf.model, spins[test], model_state=clf.model_state)
        cr = bootstrap_crossing(p, T[test], key=k_boot, n_boot=config.n_boot)
        far = np.isin(T[test], np.unique(T[clf.train_index]))  # the training temperatures
        acc = float(np.mean((p[far] > 0.5) == (T[test][far] < Tc))) if far.any() else math.nan
        rows.append(
            {
                "crossing": cr.value,
                "bootstrap_error": cr.error,
                "test_accuracy": acc,
                "status": clf.status,
                "epochs": clf.n_steps,
            }
        )
        curves.append(cr.curve)
        classifiers.append(clf)
    x = np.array([r["crossing"] for r in rows])
    sb = np.array([r["bootstrap_error"] for r in rows])
    n = len(x)
    spread = float(x.std(ddof=1)) if n > 1 else None
    error = math.sqrt(np.mean(sb**2) + spread**2 / n) if n > 1 else float(sb[0])
    mean_curve = Curve(
        curves[0].temperatures,
        np.mean([c.mean for c in curves], axis=0),
        np.sqrt(np.mean([c.error**2 for c in curves], axis=0) / n),
        curves[0].count,
    )
    return SizeResult(
        config=config,
        wall_time_s=time.perf_counter() - t0,
        status=overall_status([c.status for c in classifiers]),
        L=int(spins.shape[1]),
        Tc=float(x.mean()),
        Tc_error=error,
        network_spread=spread,
        networks=tuple(rows),
        curve=mean_curve,
        classifiers=tuple(classifiers),
    )


def _nested(summary: dict) -> dict:
    """A part's summary inside its parent's: without the config the parent already has."""
    return {k: v for k, v in summary.items() if k != "config"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class SupervisedResult(Result):
    r""":math:`T_c(L)` for every size and the finite-size scaling fit (:func:`supervised_tc`).
    ``history`` is empty; ``status`` is ``diverged`` if any network diverged."""

    sizes: tuple[int, ...]
    per_size: Mapping[int, SizeResult]
    Tc_exact: float
    """Onsager's critical temperature."""
    fss: FSSFit | None = None
    """The finite-size-scaling fit (``None`` with one size or ``config.fss=False``)."""

    reported = ("Tc_exact",)

    def summary(self) -> dict:
        """What ``qml-phys phases supervised --json`` prints: ``method``, ``model``,
        ``exclude``, ``Tc_exact``, ``sizes``, ``per_size`` (``{"L": SizeResult.summary()}``),
        ``fss`` and ``Tc_inf``/``Tc_inf_error`` (null without finite-size scaling)."""
        f = self.fss
        return super().summary() | {
            "method": METHOD,
            "model": model_name(self.config.model),
            "exclude": self.config.exclude,
            "sizes": list(self.sizes),
            "per_size": {str(L): _nested(r.summary()) for L, r in self.per_size.items()},
            "fss": None if f is None else f._asdict(),
            "Tc_inf": None if f is None else f.Tc,
            "Tc_inf_error": None if f is None else f.Tc_error,
        }


def supervised_tc(
    datasets: Mapping[int, Any], config: SupervisedConfig = SupervisedConfig(), *, key: jax.Array
) -> SupervisedResult:
    """:math:`T_c(L)` for every size of ``datasets`` (``{L: IsingData}``, see
    :func:`load_sizes`) and, with several sizes (``config.fss`` not ``False``; ``True``
    requires them), the finite-size-scaling fit. Each size gets its own key (split from
    ``key``)."""
    t0 = time.perf_counter()
    if config.fss and len(datasets) < 2:
        raise InvalidParameterError(
            f"finite-size scaling needs at least two lattice sizes; the data has L = "
            f"{sorted(int(L) for L in datasets)} (write a dataset with several --L)"
        )
    fields = for_each_size(size_result, datasets, config, key=key)
    sizes, per_size = fields["sizes"], fields["per_size"]
    fit_ = None
    if len(sizes) >= 2 and config.fss is not False:
        fit_ = fss_fit(
            sizes,
            [per_size[L].Tc for L in sizes],
            [per_size[L].Tc_error for L in sizes],
            nu=config.nu,
        )
    return SupervisedResult(**fields, wall_time_s=time.perf_counter() - t0, fss=fit_)


# --------------------------------------------------------------------------- triangular
def sample_triangular(
    L: int, temperatures, n_samples: int, *, key: jax.Array, n_therm: int = 2000, spacing: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    r"""Configurations of the ferromagnetic triangular-lattice Ising model on an ``L x L``
    torus (``L`` a multiple of 3), drawn on the same square grid of sites, so that a network
    trained on the square lattice can read them: the package's Metropolis sampler on
    :meth:`~qml_phys.physics.lattice.Lattice.triangular` (three sublattices, all
    temperatures and 50 chains at once; ordered start below :math:`T_c = 4/\ln 3 \approx
    3.641`, Houtappel 1950). Returns ``spins`` ``(n_T * n_samples, L, L)`` int8 and ``T``
    ``(n_T * n_samples,)``.
    """
    from qml_phys.classical.datasets import SnapshotConfig, snapshots
    from qml_phys.physics import IsingModel, Lattice

    L = check_positive_int("L", L, minimum=3)
    if L % 3:
        raise InvalidParameterError(
            f"the triangular lattice sampler needs L divisible by 3 (3 sublattices); got L={L}"
        )
    temps = np.atleast_1d(np.asarray(temperatures, np.float64))
    if not np.all(np.isfinite(temps) & (temps > 0)):
        raise InvalidParameterError(f"expected positive, finite temperatures; got {temps}")
    config = SnapshotConfig(n_therm=n_therm, spacing=spacing, n_chains=50)
    return snapshots(IsingModel(Lattice.triangular(L)), temps, n_samples, config, key=key)


# --------------------------------------------------------------------------- transfer
@dataclasses.dataclass(frozen=True, kw_only=True)
class TransferResult(Result):
    """The square-lattice network applied to the triangular lattice
    (:func:`triangular_transfer`); ``history`` is the classifier's training history."""

    L: int
    Tc: float
    """The 0.5 crossing on the triangular lattice."""
    Tc_error: float
    """Its bootstrap error."""
    Tc_exact: float = TRIANGULAR_TC
    curve: Curve
    classifier: Classifier

    reported = ("L", "Tc", "Tc_error", "Tc_exact")

    def summary(self) -> dict:
        """``L``, ``Tc``, ``Tc_error``, ``Tc_exact`` and the averaged-output ``curve``."""
        return super().summary() | {
            "curve": self.curve._asdict(),
        }


def triangular_transfer(
    square,
    config: SupervisedConfig = SupervisedConfig(),
    *,
    key: jax.Array,
    offsets=(0.05, 0.15, 0.3, 0.5, 0.8, 1.2),
    n_samples: int = 200,
) -> TransferResult:
    """Train on the square lattice (``square``: ``{L: IsingData}`` with one ``L``, a
    multiple of 3), apply the network unchanged to ``n_samples`` triangular-lattice
    configurations of the same size at each temperature ``4 / ln 3 ± offsets``, and read
    off the 0.5 crossing (the paper's transfer test; ``config.n_boot`` replicas)."""
    t0 = time.perf_counter()
    if len(square) != 1:
        raise InvalidParameterError(f"expected one square-lattice size; got {sorted(square)}")
    ((L, data),) = square.items()
    k_train, k_sample, k_boot = jax.random.split(key, 3)
    clf = train_classifier(data, config, key=k_train)
    temps = temperature_grid(offsets, Tc=TRIANGULAR_TC)
    spins, T = sample_triangular(L, temps, n_samples, key=k_sample)
    p = predict_ordered(clf.params, clf.model, spins, model_state=clf.model_state)
    cr = bootstrap_crossing(p, T, key=k_boot, n_boot=config.n_boot)
    return TransferResult(
        **ran(config, clf, since=t0),
        L=int(L),
        Tc=cr.value,
        Tc_error=cr.error,
        curve=cr.curve,
        classifier=clf,
    )


# --------------------------------------------------------------------------- plots
def plot_supervised(axes, result: SupervisedResult) -> None:
    """Draw on two axes ``(ax_curve, ax_fss)``: the averaged output vs T for every size, and
    Tc(L) vs 1/L with the finite-size-scaling line. The caller owns and saves the figure."""
    from qml_phys.runtime.plots import EXACT

    ax, ax_fss = axes
    Tc = result.Tc_exact
    for L in result.sizes:
        c = result.per_size[L].curve
        ax.errorbar(c.temperatures, c.mean, c.error, fmt="o-", ms=3, label=f"L = {L}")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.axvline(Tc, **EXACT, label="Onsager $T_c$")
    ax.set(xlabel="temperature T / J", ylabel="averaged output P(ordered)")
    ax.legend()
    inv = np.array([1.0 / L for L in result.sizes])
    tcs = [result.per_size[L].Tc for L in result.sizes]
    errs = [result.per_size[L].Tc_error for L in result.sizes]
    ax_fss.errorbar(inv, tcs, errs, fmt="o", label="crossing $T_c(L)$")
    f = result.fss
    if f is not None:
        x = np.linspace(0, inv.max() * 1.05, 50)
        ax_fss.plot(
            x,
            f.Tc + f.a * x ** (1 / f.nu),
            label=f"fit: $T_c$ = {f.Tc:.4f} ± {f.Tc_error:.4f}",
        )
    ax_fss.axhline(Tc, **EXACT, label=f"Onsager {Tc:.5f}")
    ax_fss.set(xlabel="1 / L", ylabel="$T_c(L)$")
    ax_fss.legend()
