# %% [markdown]
# # 11. Diffusion models and normalizing flows
#
# Two ways to turn noise into samples of a physical distribution.
#
# * A **diffusion model** learns to undo a noising process. For Ising spins the forward
#   process flips every spin at rate 1, so that after time $t$ a spin has flipped with
#   probability $(1 - e^{-2t})/2$ and the configuration forgets where it came from; a
#   network predicts the clean spins from the noisy ones, and the reverse process samples
#   from its predictions step by step (the discrete D3PM of Austin et al. 2021).
# * A **normalizing flow** is an invertible network $x = f(z)$ from Gaussian noise $z$ to a
#   field $x$, whose density $q(x)$ is known exactly through the Jacobian. Trained on the
#   action alone (reverse KL, no data), it proposes configurations to an independence
#   Metropolis chain that is *exact* whatever the flow's quality (Albergo, Kanwar &
#   Shanahan, Phys. Rev. D 100, 034515 (2019)); the better the flow, the higher the
#   acceptance.
#
# The diffusion model's samples are not exact: we measure how far they are from Monte Carlo.
# The flow's chain is exact: we check it against HMC, the standard sampler of lattice field
# theory.

# %%
import os
import tempfile

import jax
import matplotlib.pyplot as plt
import numpy as np

from qml_phys.classical.datasets import DatasetConfig, load_dataset, write_dataset
from qml_phys.generative import diffusion as D
from qml_phys.generative import models
from qml_phys.generative.flows import FlowConfig, FlowVsHMCConfig, flow_vs_hmc
from qml_phys.physics.phi4 import ALBERGO_LAMBDA, Phi4

QUICK = os.environ.get("QML_PHYS_TUTORIAL_QUICK") == "1"  # reduced sizes for the tests
key = jax.random.key(11)
k_data, k_forward, k_diff, k_flow = jax.random.split(key, 4)

# %% [markdown]
# ## 1. The forward process
#
# Starting from the all-up configuration, the fraction of flipped spins after time $t$
# follows the exact law of the rate-1 flip process.

# %%
t = np.linspace(0, 1.5, 7)
s0 = np.ones((20000, 1, 1), np.float32)
flipped = [
    float(
        np.mean(
            np.asarray(
                D.forward_sample(jax.random.fold_in(k_forward, i), s0, np.full(20000, ti, "f4"))
            )
            < 0
        )
    )
    for i, ti in enumerate(t)
]
exact = 0.5 * (1 - np.exp(-2 * t))
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(t, flipped, "o", label="sampled")
ax.plot(t, exact, "k--", label="(1 - exp(-2t)) / 2")
ax.set(xlabel="diffusion time t", ylabel="flip probability", title="forward process")
ax.legend()
print("largest deviation from the exact law:", np.max(np.abs(np.array(flipped) - exact)))

# %% [markdown]
# ## 2. A diffusion model of Ising configurations
#
# Training data: Metropolis configurations of the $8 \times 8$ torus at $T = 3$ (above
# $T_c$). The denoiser is a small periodic CNN; `fit_and_compare` trains it and compares
# the energy and $|m|$ of fresh samples with held-out Monte Carlo, as z-scores.

# %%
path = os.path.join(tempfile.mkdtemp(), "ising8.h5")
n = 300 if QUICK else 800
write_dataset(
    path,
    DatasetConfig(sizes=[8], temperatures=[3.0], n_samples=n),
    key=k_data,
    show_progress=False,
)
data = load_dataset(path, 8)
config = D.DiffusionConfig(
    epochs=10 if QUICK else 40, batch_size=64, n_steps=50, hidden=16, layers=3
)
res = models.fit_and_compare(data, 3.0, config, key=k_diff, n_samples=400 if QUICK else 2000)
for name, v in res.comparison["observables"].items():
    print(
        f"{name:8s} diffusion {v['model']['mean']:+.4f} ± {v['model']['error']:.4f}   "
        f"Monte Carlo {v['reference']['mean']:+.4f} ± {v['reference']['error']:.4f}   "
        f"z = {v['z']:+.1f}"
    )

# %% [markdown]
# Read the z-scores, not the pictures. A denoiser this small, trained this briefly, is
# biased: with the reduced settings of the documentation tests (10 epochs) its samples are
# close to uncorrelated spins (energy near 0 against the Monte Carlo value near -0.84,
# z in the tens); longer training brings the energy closer, but a diffusion model has no
# exact likelihood to reweight or correct its samples with, and its bias shrinks only with
# capacity, training and the number of reverse steps (the study
# `studies/diffusion_ising.py` uses a 48-channel, 5-layer denoiser with 100 steps and gets
# the energy within about 1.2 errors at this temperature).
#
# ## 3. A normalizing flow for $\phi^4$ theory
#
# The lattice action
# $S(\phi) = \sum_x \left[-2\sum_\mu \phi_x\phi_{x+\mu} + (4 + m^2)\phi_x^2 +
# \lambda\phi_x^4\right]$ with $m^2 = -4$ is in its broken phase for the chosen $\lambda$.
# A RealNVP flow (affine couplings on checkerboard halves) is trained by minimising
# $\mathrm{KL}(q\,\|\,e^{-S}/Z) = \langle \log q + S\rangle_q + \log Z$, which needs only
# samples of the flow and the action. Its proposals feed an independence Metropolis chain;
# HMC runs on the same theory for comparison.

# %%
L = 4 if QUICK else 6
flow_cfg = FlowConfig(
    n_layers=2 if QUICK else 4,
    hidden=8,
    epochs=2 if QUICK else 8,
    steps_per_epoch=50,
    batch_size=64,
    learning_rate=3e-3,
)
cmp = flow_vs_hmc(
    Phi4(L, -4.0, ALBERGO_LAMBDA[6]),
    FlowVsHMCConfig(flow=flow_cfg, n_samples=2000 if QUICK else 8000),
    key=k_flow,
).summary()
f = cmp["flow"]
print(f"flow acceptance {f['acceptance']:.2f}, ESS fraction {f['ess_fraction']:.2f}")
print(f"HMC acceptance {cmp['hmc']['acceptance']:.2f}")
for name, v in cmp["observables"].items():
    print(
        f"{name:10s} flow-MCMC {v['flow']['mean']:.4f} ± {v['flow']['error']:.4f}  "
        f"HMC {v['hmc']['mean']:.4f} ± {v['hmc']['error']:.4f}  z = {v['z']:+.2f}"
    )
fig, ax = plt.subplots(figsize=(5, 3.4))
for name, curve in cmp["two_point"].items():
    ax.errorbar(curve["t"], curve["mean"], yerr=curve["error"], fmt="o-", label=name)
ax.set(yscale="log", xlabel="t", ylabel="C(t)", title=f"two-point function, {L}x{L}")
ax.legend()

# %% [markdown]
# The flow-MCMC chain and HMC agree within their errors (the z-scores), because the
# independence Metropolis step corrects whatever the flow gets wrong; a poorly trained flow
# costs acceptance, that is, longer autocorrelation, not bias. The acceptance and the
# effective sample size of the importance weights measure the flow's quality directly:
# `studies/flow_phi4.py` trains a larger flow for longer (acceptance about 0.8 on
# $8 \times 8$) and `benchmarks/flow_vs_hmc.py` compares the cost per independent sample
# with HMC's.
#
# ## Summary
#
# | | diffusion (spins) | RealNVP flow ($\phi^4$) |
# |---|---|---|
# | trained on | Monte Carlo configurations | the action only |
# | $\log q(x)$ | not available | exact |
# | samples exact? | no: biased, measured by z-scores | yes, after Metropolis |
# | quality shows as | bias | acceptance, autocorrelation |
