"""Shared helpers of the generative tests."""

import jax


def noisy_params(model, key, scale: float):
    """``model``'s initial parameters plus Gaussian noise of width ``scale`` (so that its
    distribution is far from uniform)."""
    from qml_phys.generative import base

    params = base.init_params(model, key=key)
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.fold_in(key, 1), len(leaves))
    noisy = [
        x + scale * jax.random.normal(k, x.shape, x.dtype)
        for x, k in zip(leaves, keys, strict=True)
    ]
    return jax.tree_util.tree_unflatten(tree, noisy)
