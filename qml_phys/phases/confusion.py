r"""Learning by confusion (van Nieuwenburg, Liu & Huber, Nat. Phys. 13, 435 (2017),
arXiv:1610.02048).

For every proposed critical temperature :math:`T'` the configurations are relabelled
:math:`T < T'` / :math:`T \ge T'`, a classifier is trained on them, and its accuracy on held-out
configurations is recorded. At the edges of the grid every label is the same and the
accuracy is trivially 1; at the true :math:`T_c` the labels agree with the physics and the
accuracy has a second maximum: the curve :math:`P(T')` is W-shaped and :math:`T_c` is the
position of its middle peak.

Implementation: the :math:`K` classifiers (one per proposal) are trained *together* by one
call of :func:`qml_phys.train.fit` on parameters stacked along a leading axis of size
:math:`K`, with the loss :math:`\sum_k \mathcal L_k` (each term depends only on its own
parameters, and Adam is elementwise, so this equals :math:`K` independent runs with the
same batches) — one compiled ``lax.scan`` for all proposals.

The middle peak is the interior local maximum of the accuracy with the largest prominence.
The trivial baseline :math:`\max(f, 1 - f)` (:math:`f`: fraction of test configurations below
:math:`T'`) is reported beside it. Use a *uniform* temperature grid: on a grid that is dense
near :math:`T_c` the many nearly indistinguishable configurations there pull the accuracy
down around :math:`T_c` and the W turns into a V (measured: L = 16, 32 with the grid of
:func:`~qml_phys.phases.supervised.temperature_grid`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError
from qml_phys.phases.supervised import _check_samples, rng_from_key
from qml_phys.physics.exact import onsager_tc


class Confusion(NamedTuple):
    proposals: np.ndarray
    """``(K,)`` proposed critical temperatures."""
    accuracy: np.ndarray
    """``(K,)`` test accuracy of the classifier trained with each proposal."""
    accuracy_error: np.ndarray
    """``(K,)`` binomial standard error ``sqrt(a (1 - a) / n_test)``."""
    baseline: np.ndarray
    """``(K,)`` accuracy of always answering the majority label."""
    Tc: float
    """Position of the middle peak."""
    resolution: float
    """Half the spacing of the proposals around the peak (the estimate's resolution)."""
    peak_index: int
    n_test: int
    history: list


def default_proposals(temperatures) -> np.ndarray:
    """Midpoints between consecutive grid temperatures, and one beyond each end."""
    t = np.unique(np.asarray(temperatures, np.float64))
    if len(t) < 3:
        raise InvalidParameterError(
            f"learning by confusion needs at least 3 temperatures; got {len(t)}"
        )
    mid = (t[1:] + t[:-1]) / 2
    return np.concatenate([[t[0] - (t[1] - t[0]) / 2], mid, [t[-1] + (t[-1] - t[-2]) / 2]])


def default_config(**overrides):
    """Training settings for the confusion scheme (no validation split: all K networks run
    the same number of epochs)."""
    from qml_phys.train import TrainConfig

    base = dict(
        epochs=25, batch_size=64, learning_rate=3e-3, weight_decay=1e-4, validation_fraction=0.0
    )
    return TrainConfig(**(base | overrides))


def middle_peak(proposals, accuracy, baseline=None) -> int:
    """Index of the middle peak of a W-shaped accuracy curve: the interior local maximum of
    largest prominence (its height above the higher of the two minima that flank it). The
    rising edges end at the ends of the grid and are not interior maxima. Raises when the
    curve has no interior maximum (no W)."""
    from scipy.signal import find_peaks

    acc = np.asarray(accuracy, np.float64)
    peaks, props = find_peaks(acc, prominence=0.0)
    if not len(peaks):
        raise InvalidParameterError(
            "the accuracy curve has no interior maximum (no W shape); expected a grid that "
            "spans both phases with enough configurations per temperature"
        )
    return int(peaks[np.argmax(props["prominences"])])


def confusion_curve(
    data,
    *,
    proposals=None,
    model: str | Any = "dense",
    config=None,
    key: jax.Array,
    test_fraction: float = 0.3,
    augment: bool = True,
    **model_options,
) -> Confusion:
    """Accuracy versus proposed critical temperature (the W curve) and its middle peak.

    Args:
        data: an :class:`~qml_phys.classical.datasets.IsingData` (``spins`` ``(n, L, L)``,
            ``T`` ``(n,)``).
        proposals: ``(K,)`` proposed critical temperatures (default
            :func:`default_proposals` of the grid).
        model: ``"dense"``, ``"cnn"`` or a Flax module with the ``train`` convention.
        config: :class:`~qml_phys.train.TrainConfig` (default :func:`default_config`).
        key: PRNG key (split and initialisations).
        test_fraction: configurations held out at every temperature for the accuracy.
        augment: add the spin-flipped copy of every training configuration.
    """
    from qml_phys.phases.classifiers import make_classifier
    from qml_phys.train import cross_entropy, fit, init_flax

    spins, T = _check_samples(data.spins, data.T)
    temps = np.unique(T)
    props = default_proposals(temps) if proposals is None else np.asarray(proposals, np.float64)
    if props.ndim != 1 or len(props) < 3:
        raise InvalidParameterError(
            f"expected at least 3 proposed temperatures; got {np.size(props)}"
        )
    if not 0 < test_fraction < 1:
        raise InvalidParameterError(f"test_fraction: expected 0 < f < 1; got {test_fraction!r}")
    config = default_config() if config is None else config
    module = make_classifier(model, **model_options) if isinstance(model, str) else model
    k_split, k_init = jax.random.split(key)
    rng = rng_from_key(k_split)
    test = []
    for t in temps:
        idx = np.flatnonzero(T == t)
        n_test = max(1, int(round(test_fraction * len(idx))))
        if n_test >= len(idx):
            raise InvalidParameterError(
                f"T = {t:.5g} has {len(idx)} configuration(s); expected at least 2 per "
                "temperature (one to train, one to test)"
            )
        test.append(rng.permutation(idx)[:n_test])
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(len(T)), test)
    x = spins[train]
    y = (T[train][:, None] < props[None, :]).astype(np.int32)  # (n, K)
    if augment:
        x, y = np.concatenate([x, -x]), np.concatenate([y, y])

    K = len(props)
    example = jnp.asarray(spins[:2])
    params = jax.vmap(lambda k: init_flax(module, example, key=k)[0])(jax.random.split(k_init, K))

    def logits_all(p, xb, key, train):
        return jax.vmap(
            lambda pk: module.apply({"params": pk}, xb, train=train, rngs={"dropout": key})
        )(p)  # (K, b, 2)

    def loss_fn(p, batch, *, key, model_state, train):
        logits = logits_all(p, batch["x"], key, train)
        ce = jax.vmap(cross_entropy)(logits, batch["y"].T)  # (K, b)
        hits = jnp.argmax(logits, -1).astype(jnp.int32) == batch["y"].T.astype(jnp.int32)
        acc = jnp.mean(hits.astype(logits.dtype))
        return jnp.sum(jnp.mean(ce, axis=1)), ({"accuracy": acc}, model_state)

    res = fit(loss_fn, params, {"x": x, "y": y}, config=config, desc=f"confusion K={K}")
    predict = jax.jit(lambda p, xb: jnp.argmax(logits_all(p, xb, jax.random.key(0), False), -1))
    pred = np.concatenate(
        [
            np.asarray(predict(res.params, jnp.asarray(spins[test][i : i + 2048])))
            for i in range(0, len(test), 2048)
        ],
        axis=1,
    )  # (K, n_test)
    truth = (T[test][None, :] < props[:, None]).astype(np.int32)
    acc = np.mean(pred == truth, axis=1)
    n_test = len(test)
    err = np.sqrt(np.maximum(acc * (1 - acc), 1.0 / n_test) / n_test)
    f = np.mean(truth, axis=1)
    base = np.maximum(f, 1 - f)
    i = middle_peak(props, acc, base)
    lo = props[i] - props[i - 1] if i > 0 else props[1] - props[0]
    hi = props[i + 1] - props[i] if i < K - 1 else props[-1] - props[-2]
    return Confusion(
        props, acc, err, base, float(props[i]), float(max(lo, hi) / 2), i, n_test, res.history
    )


def summary(conf: Confusion, Tc_exact: float | None = None) -> dict:
    """A JSON-friendly summary (with the distance to the exact Tc in grid spacings)."""
    Tc_exact = onsager_tc() if Tc_exact is None else Tc_exact
    spacing = 2 * conf.resolution
    return {
        "Tc": conf.Tc,
        "resolution": conf.resolution,
        "Tc_exact": Tc_exact,
        "deviation_in_spacings": abs(conf.Tc - Tc_exact) / spacing if spacing > 0 else math.inf,
        "peak_accuracy": float(conf.accuracy[conf.peak_index]),
        "n_test": conf.n_test,
        "proposals": conf.proposals,
        "accuracy": conf.accuracy,
        "accuracy_error": conf.accuracy_error,
        "baseline": conf.baseline,
    }


def plot_confusion(curves: dict, path, Tc_exact: float | None = None) -> None:
    """The W curves ``{label: Confusion}`` with the exact Tc (PNG)."""
    from qml_phys.runtime import plots

    Tc_exact = onsager_tc() if Tc_exact is None else Tc_exact
    fig, ax = plots.figure()
    for label, c in curves.items():
        ax.errorbar(c.proposals, c.accuracy, c.accuracy_error, fmt="o-", ms=3, label=label)
        ax.plot(c.proposals, c.baseline, color="grey", lw=0.8, ls="--")
    ax.axvline(Tc_exact, **plots.EXACT, label="Onsager $T_c$")
    ax.set_xlabel("proposed critical temperature T' / J")
    ax.set_ylabel("test accuracy")
    ax.set_title("learning by confusion (dashed: majority-label baseline)")
    ax.legend()
    plots.save(fig, path)
