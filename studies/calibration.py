"""How honest is every error bar of the package? Each estimator runs over K independent
keys against an exact or high-precision reference; the table gives the RMS of the z-scores,
the chi-square p-value and the coverage of the 95% intervals (qml_phys.stats.calibration).

    python studies/calibration.py                   # every estimator, K = 20
    python studies/calibration.py --only wolff_tc --seeds 100

Writes docs/guide/calibration.md (the table in the docs) and results/calibration/.
"""

import argparse
import math
from pathlib import Path

import calibration_estimators as E  # noqa: E402  (studies/calibration_estimators.py)
import jax
import numpy as np

from qml_phys.runtime.records import write_record
from qml_phys.stats.calibration import calibrate

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--seeds", type=int, default=20, help="independent runs per estimator (K)")
ap.add_argument("--only", nargs="*", default=None, help=f"some of {list(E.ESTIMATORS)}")
ap.add_argument("--seed", type=int, default=20261206)
ap.add_argument("--out", default="results/calibration")
ap.add_argument("--table", default="docs/guide/calibration.md")
args = ap.parse_args()

NOTES = """## How to read it

* **Monte Carlo observables** carry the error of the mean from the integrated
  autocorrelation time (`stats.timeseries.tau_int`, Sokal's self-consistent window) across
  all chains; the specific heat's error comes from a jackknife over blocks. For Metropolis
  at and away from T_c and for Wolff the RMS z lies within about two spreads of 1 (Wolff
  and Swendsen-Wang energies at T_c are, if anything, conservative: RMS z 0.6-0.7).
* **HMC** on the free field is checked against the exact lattice propagator (the
  inverse of the action's Hessian; the two agree to rounding).

## Open findings

* **Swendsen-Wang specific heat at T_c** (L = 16): RMS z 1.53 (p = 0.001, coverage 0.75)
  at K = 20 here, 1.13 (coverage 0.88) in an earlier K = 60 run with other keys: the
  jackknife error looks 15-40% small. Not yet explained.
* **HMC on the free field** (found and fixed in this round): with a fixed trajectory
  length 1 the row read RMS z 1.46 (p = 0.002). The modes whose frequency times the
  trajectory length is near pi nearly repeat themselves, and the windowed tau_int of
  <phi^2> misses that slow tail (a long run: block-means error 1.55x the tau_int error).
  HMC now jitters its step by +-20% per trajectory (`HMCConfig.step_jitter`; Mackenzie
  1989): the same long run gives errors within 12% of each other, and the row above
  (K = 20, other keys) RMS z 1.12, p = 0.20.

## Not in the table yet

These estimators report an uncertainty but are not calibrated over many keys here, because
one run costs minutes (K = 20 runs would take hours on 2 cores):

* supervised T_c (Carrasquilla-Melko with finite-size scaling): the error is now
  `sqrt(mean bootstrap variance + spread^2 / n_networks)` over 5 trained networks, so the
  training variance enters (it was left out: the spread between seeds was 2-3x the quoted
  error); the confusion-scheme T_c;
* flow-MCMC observables at low and high acceptance, and the VAN free energy (a variational
  upper bound with its sampling error);
* barren-plateau variance intervals (bootstrap) and shot-based VQE/QAOA energies
  (the command line reports no shot error yet);
* tomography fidelities.

Convergence is a separate claim from precision: a VMC ground state reports `converged`
(the drift of the energy over the last 20% of the run against its errors) and
`exact_error` beside the Monte Carlo `energy_error`.
"""

names = args.only or list(E.ESTIMATORS)
key = jax.random.key(args.seed)
rows, records = [], {}
for i, name in enumerate(names):
    est, ref, what = E.ESTIMATORS[name]()
    cal = calibrate(est, ref, key=jax.random.fold_in(key, i), n_seeds=args.seeds, name=name)
    records[name] = cal.summary() | {"what": what}
    for q, r in cal.rows.items():
        rows.append((name, what, q, r))
        print(
            f"{name:24s} {q:16s} K={r['K']} rms_z={r['rms_z']:.2f} p={r['p_value']:.3f} "
            f"coverage={r['coverage']:.2f} ({cal.wall_time_s:.0f} s)",
            flush=True,
        )

write_record(Path(args.out) / "record.json", records, config=vars(args), seed=args.seed)
lines = [
    "# Error bars, calibrated",
    "",
    "Every estimator that reports an uncertainty, run over K independent keys against an",
    "exact or high-precision reference (`python studies/calibration.py`, which rewrites this",
    "page). For calibrated error bars the RMS of the z-scores is near 1 (within about",
    "`1/sqrt(2K)`), the chi-square p-value is not small, and the 95% intervals cover the",
    "reference in about 95% of the runs. Converged and precise are different claims: these",
    "rows test precision (the error bar); convergence is reported by each result separately.",
    "",
    "| estimator | reference | quantity | K | RMS z | p | coverage |",
    "|---|---|---|---|---|---|---|",
]
for name, what, q, r in rows:
    flag = "" if 0.8 <= r["rms_z"] <= 1.25 and 0.90 <= r["coverage"] <= 0.99 else " **!**"
    lines.append(
        f"| `{name}` | {what} | {q} | {r['K']} | {r['rms_z']:.2f}{flag} | "
        f"{r['p_value']:.3f} | {r['coverage']:.2f} |"
    )
lines += [
    "",
    "Rows marked **!** fall outside RMS z in [0.8, 1.25] or coverage in [0.90, 0.99].",
    f"Spread of the RMS z at K = {args.seeds}: about {1 / math.sqrt(2 * args.seeds):.2f}.",
    "",
    NOTES,
]
if args.only is None:
    Path(args.table).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.table}")
np.set_printoptions(precision=3)
