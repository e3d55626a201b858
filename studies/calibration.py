"""How honest is every error bar of the package? Each estimator runs over K independent
keys against an exact or high-precision reference; the table gives the RMS of the z-scores,
the chi-square p-value and the coverage of the 95% intervals (qml_phys.stats.calibration).

    python studies/calibration.py                   # every estimator, K = 20
    python studies/calibration.py --only wolff_tc --seeds 100
    python studies/calibration.py --rewrite         # the page again, from the record

Writes docs/guide/calibration.md (the table in the docs) and results/calibration/.
"""

import argparse
import time
import zlib
from pathlib import Path

import calibration_estimators as E  # noqa: E402  (studies/calibration_estimators.py)
import jax

from qml_phys.runtime.records import read_record, write_record
from qml_phys.stats.calibration import calibrate

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--seeds", type=int, default=20, help="independent runs per estimator (K)")
ap.add_argument("--only", nargs="*", default=None, help=f"some of {list(E.ESTIMATORS)}")
ap.add_argument("--seed", type=int, default=20261206)
ap.add_argument("--out", default="results/calibration")
ap.add_argument("--table", default="docs/guide/calibration.md")
ap.add_argument("--rewrite", action="store_true", help="rebuild the page from the record")
args = ap.parse_args()

NOTES = """## How to read it

* **K = 20 is a coarse test.** The RMS z of a calibrated estimator scatters by about 0.16
  and all 20 intervals cover the reference with probability 0.95^20 = 0.36, so a lone
  **!** at K = 20 (coverage 1.00, or RMS z near 0.8 or 1.26) is not yet a finding. Rows
  flagged here were rerun at K >= 100 (`--only NAME --seeds 100`: the same 20 keys and 80
  more); the results are under "Open findings".
* **Monte Carlo observables** carry the error of the mean from the integrated
  autocorrelation time (`stats.timeseries.tau_int`, Sokal's self-consistent window) across
  all chains; the specific heat's error comes from a jackknife over blocks of at least 20
  tau_int.
* **HMC** and **flow-MCMC** on the free field are checked against the exact lattice
  propagator. The flow of each row is trained once (fixed key); the runs vary only the
  sampling key, so the rows calibrate the chain's error bar (`flows.chain_estimates`), not
  the training.
* **VAN**: the error is the sampling error of the variational free energy F_q of one
  trained model (independent exact samples, std / sqrt(n)); the reference is F_q of the
  same model by enumeration of all 2^16 states. The variational gap F_q - F is not what
  the error bar covers; against Kaufman it is 6.7e-4 per site (relative 2.9e-4) here.
* **Barren plateaus**: the bootstrap error of the gradient variance over 200 random
  circuits (`stats.bootstrap.bootstrap_variance`), against the variance over 2x10^5
  circuits; `ln_var_first` is ln Var with `log_stderr`, the weights of the decay fits.
* **Shot-based VQE and QAOA**: the library's own error bars. On a device with shots,
  `VQEResult.energy_error` and `vqe.energy_and_error` come from
  `circuits.measure.shot_expectation`: the Hamiltonian's Pauli words in qubit-wise
  commuting groups, each group measured with its own shots, the per-shot sum of its terms
  giving the group's mean and variance / shots (covariances included); groups add.
  `QAOAResult.expectation_error` is the standard error of the cut over the shots of the
  result's measured bitstring frequencies. On an analytic device the error is `null`.
* **Confusion T_c** (`confusion_tc`): `Tc_vertex`, the vertex of the parabola through the
  middle peak of the W and its neighbours, with `Tc_error` from 20 bootstrap replicates
  (training and test configurations resampled, fresh networks, all in the one stacked fit;
  `ConfusionConfig.n_bootstrap`, CLI `--bootstrap`). Each run draws its own Monte Carlo
  data (L = 8). At finite L the middle peak sits at a pseudo-critical temperature, not at
  Onsager's T_c, so the reference is the mean over 60 independent runs without bootstrap;
  the grid `Tc` itself moves in steps of the spacing and has `resolution`, not an error.
* **Tomography** (`tomography`): each run measures the N = 4 Heisenberg ground state
  afresh (9 bases x 2000 samples) and reconstructs it; `fidelity_error` and
  `energy_reconstructed_error` come from 20 refits on resampled data from fresh
  initialisations (the fidelity's error is the spread of the refits' fidelities with
  their own centre, `fidelity_spread`, so it needs no reference). Both error bars claim the
  spread over repetitions of the experiment, so the reference is the mean over 400
  independent experiments (fresh data, fresh initialisation; `fit_counts` trains them
  together), not the exact value: the fidelity is below 1 on average, and that shortfall
  is a bias, not noise.
* **Supervised T_c**: each run draws its own Monte Carlo data and trains its own 5
  networks per size; the error (bootstrap, network spread, finite-size-scaling fit) must
  cover all of that. L = 8, 16 with 100 configurations per temperature: 12 s per run.

## Open findings

* **Swendsen-Wang specific heat at T_c** (the earlier RMS z 1.53 at K = 20): not a short
  block. The old 20 keys reproduce 1.53 (two runs at z = -3.5 and -3.1, their chains
  unremarkable: R-hat <= 1.002, tau_int 2.6-3.6 per chain), but 400 other runs give RMS z
  1.00 (p = 0.51, coverage 0.943) and 100 more 1.12 (p = 0.05). tau_int of E is 3.2
  sweeps, that of E^2 the same; jackknife blocks are 20 tau_int = 65 sweeps, and 10, 20 or
  40 blocks per chain give RMS z 1.01, 1.00, 1.00 over the 400 runs; on one run of 10^5
  sweeps the error is flat (0.0052-0.0055) from 16 to 512 blocks per chain. Wolff at T_c
  over 200 runs: 1.03 (specific heat), 1.06 (energy). `stats.timeseries` is unchanged.
* **Monte Carlo rows flagged at K = 20** (coverage 1.00, or RMS z 0.80-0.88): at K = 100
  the RMS z of energy and specific heat are 0.92 and 1.01 (Metropolis at T_c), 0.80 and
  1.03 (T = 2), 0.93 and 0.98 (T = 3), 1.05 and 1.16 (Wolff at T_c, p = 0.014), 0.94 and
  0.98 (Swendsen-Wang at T_c); at K = 400, 0.93 and 1.07 (Metropolis at T = 2, p = 0.97
  and 0.017) and 1.02 and 1.05 (Wolff at T_c). Within the bands; the Metropolis energies
  lean conservative.
* **HMC on the free field**: RMS z 1.41 (p = 0.006) at K = 20 with this table's keys, 1.16
  (p = 0.011, coverage 0.90) at K = 100. Four more sets of runs with other keys: 1.21 and
  1.11 (100 and 200 runs, float32 as here), 1.07 and 1.06 (100 and 200 runs in float64),
  and 0.99 (200 runs); over the 600 float32 runs 1.10, within the band. The error formula
  is not the cause: batch means over 80 blocks give the same z as `stats.estimate`
  (1.15 against 1.21; 1.10 against 1.11), and on one run of 5x10^4 trajectories per chain
  the error levels off at 2.07e-4 for blocks of 50-5000, against 2.00e-4 from tau_int
  with the Madras-Sokal window c = 6 (tau_int 1.38; 1.50 at c = 20). That window misses
  about 4% of the error, the rest is the scatter of K; a window of c = 10-20 moves the
  RMS z of the last 200 runs from 0.99 to 0.94. Float32 against float64 (1.14 against
  1.07 over 300 runs each) is not significant (1.3 sigma).
* **Flow-MCMC at low acceptance** (0.31): RMS z 3.38, coverage 0.45, and the estimates are
  biased low (mean z -2.7 over the 20 runs). No error formula for the chain can fix this:
  the reverse-KL flow is narrower than the target (<phi^2> under q 0.1538 against 0.1615),
  so the importance weights have infinite variance (the ESS fraction falls from 0.04-0.11
  at 8000 proposals to 0.004 at 2x10^5) and a finite chain rarely visits the tails that
  hold the missing weight. Over 30 runs of a flow trained 100 steps (acceptance 0.23),
  batch means (10 or 40 blocks per chain), Jonsson's blocking, a window c = 20 and the
  spread of the 4 chains all give RMS z 3.1-4.7. The proposal is what needs fixing: the
  same flow with its prior widened to N(0, 1.15^2) (acceptance 0.27) gives RMS z 1.21 and
  no bias over 30 runs (1.3 overshoots: acceptance 0.17, RMS z 2.7, biased high), so a
  fixed widening is no general cure. At acceptance 0.64 (L = 4) the effect is milder: 1.00
  at K = 20, 1.31 (p < 0.001, coverage 0.87) at K = 100.
  **Fixed by the chain, not the error formula** (at low acceptance):
  `flow_mcmc(..., local=HMCConfig(...))` (`qml-phys generative flow-phi4 --local-hmc`)
  follows every independence step with one HMC sweep (`classical.hmc.hmc_sweep`: step 0.1
  jittered, 10 leapfrog steps). Both steps leave e^{-S} invariant, and the local moves
  reach the tails the flow leaves out. The same flows: acceptance 0.33, RMS z 0.97
  (p = 0.53, coverage 1.00) at K = 20 (`flow_mcmc_low_acceptance_hmc`); with the first
  version of the local step (the same kernel, other random streams) 1.01 at K = 20 and 0.92
  (p = 0.88, coverage 0.97) at K = 100. At acceptance 0.64 (L = 4,
  `flow_mcmc_high_acceptance_hmc`) it is not settled: 1.51 (p = 0.001, coverage 0.75) at
  K = 20 in the table, against 0.97 at K = 20 and 1.11 (p = 0.058) at K = 100 with the
  first version's streams; with these streams 1.12 (p = 0.049, coverage 0.91) at
  K = 100: within the bands, the p-value borderline.
* **Barren-plateau variances**: `var_first` RMS z 1.55 and `ln_var_first` 1.53 (p <=
  0.001, coverage 0.80: four of 20 runs outside their intervals) at K = 20, `var_mean`
  0.95. At K = 100: `var_first` 1.07, `ln_var_first` 1.04, `var_mean` 1.09 (p = 0.09),
  coverage 0.91-0.93; 300 runs with other keys: 1.06, 1.02, 1.08 (p = 0.03), and the 95%
  percentile interval covered in 92.7%. The variance of 200 draws (gradient kurtosis 4.8)
  is skewed, and small variances come with small bootstrap errors: the linear stderr is
  about 6-8% small, ln Var with `log_stderr` (what the decay fits use) is calibrated.
* **VAN**: RMS z 0.71 (coverage 1.00) at K = 20, 1.15 (p = 0.018) at K = 100, 0.99
  (coverage 0.93) over 200 runs with other keys; by enumeration the exact standard
  deviation of the 2000-sample mean is 3.248e-4 and the mean reported error 3.252e-4. The
  error bar is right; the rows scatter as K allows.
* **Wolff specific heat at T = 2.6**: 1.26 (p = 0.048) at K = 20, 1.05 (coverage 0.91) at
  K = 100. Shot-based VQE and QAOA (the library's errors) at K = 100: 0.93 (coverage 0.96)
  and 1.08 (coverage 0.93).

* **Confusion T_c**: RMS z 0.87 (p = 0.77, coverage 1.00) at K = 20, **1.05** (p = 0.22,
  coverage 0.97) at K = 100: calibrated. The spread of one run's `Tc_vertex` at L = 8 is
  0.14, more than the grid spacing (0.1), and the mean over 60 runs (2.277) lies 0.008
  from Onsager's T_c.
* **Tomography**: the fidelity's error is calibrated, RMS z 1.03 (p = 0.38, coverage
  0.95) at K = 20, 1.16 (p = 0.014, coverage 0.94) at K = 100: within the bands, the
  p-value borderline (a fidelity near 1 is skewed, and a few poor fits make the tails).
  Its first form, the spread of the fidelities between the reconstruction and its refits,
  was 1.4 times too large (RMS z 0.75 at K = 20, 0.71 at K = 100, coverage 0.99): most of
  the spread over experiments is the optimiser's, not the data's (50 fits of one data set
  from different initialisations scatter by 3.4e-4 in fidelity, against 4.3e-4 over
  independent data sets), and measuring every refit against the one reconstruction counts
  that reconstruction's own offset again. The refits scattered about their own centre
  (`fidelity_spread`) mimic the experiments scattered about theirs. A parametric
  bootstrap (new data drawn from the reconstruction) was 1.4 times too large as well, the
  refits against the exact state 1.7 times, and a cosine-decayed step size made every fit
  worse (infidelity 2.3e-3 against 1.2e-3).
  **The energy's error stays conservative**: RMS z 0.78 at K = 20, 0.78 at K = 100
  (coverage 0.99). The reconstructed ground-state energy is stationary at the true state
  (second order in the deviation), but not at the refits' centre, so the refits' energies
  scatter to first order and more widely than the experiments' do; the spread of the
  refits' energies is kept because it holds for any state, not only for an eigenstate.

Convergence is a separate claim from precision: a VMC ground state reports `converged`
(the drift of the energy over the last 20% of the run against its errors) and
`exact_error` beside the Monte Carlo `energy_error`.
"""

names = args.only or list(E.ESTIMATORS)
key = jax.random.key(args.seed)
record = Path(args.out) / ("record.json" if args.only is None else "record-only.json")
records = read_record(record)["results"] if args.rewrite else {}
for name in [] if args.rewrite else names:
    t0 = time.perf_counter()
    est, ref, what = E.ESTIMATORS[name]()
    # keys by name, so that --only reproduces the row of the full table
    row_key = jax.random.fold_in(key, zlib.crc32(name.encode()))
    cal = calibrate(est, ref, key=row_key, n_seeds=args.seeds, name=name)
    records[name] = cal.summary() | {"what": what, "total_s": time.perf_counter() - t0}
    for q, r in cal.rows.items():
        print(
            f"{name:24s} {q:16s} K={r['K']} rms_z={r['rms_z']:.2f} p={r['p_value']:.3f} "
            f"coverage={r['coverage']:.2f} ({cal.wall_time_s:.0f} s)",
            flush=True,
        )
    write_record(record, records, config=vars(args), seed=args.seed)  # after every row

lines = [
    "# Error bars, calibrated",
    "",
    "Every estimator that reports an uncertainty, run over K independent keys against an",
    "exact or high-precision reference (`python studies/calibration.py`, which rewrites this",
    "page; `--rewrite` rebuilds it from `results/calibration/record.json` without running).",
    "For calibrated error bars the RMS of the z-scores is near 1 (within about",
    "`1/sqrt(2K)`, 0.16 at K = 20), the chi-square p-value is not small, and the 95% intervals",
    "cover the reference in about 95% of the runs. Converged and precise are different",
    "claims: these rows test precision (the error bar); convergence is reported by each",
    "result separately. Wall time: all K runs of the row and its set-up, on 2 CPU cores.",
    "",
    "| estimator | reference | quantity | K | RMS z | p | coverage | wall s |",
    "|---|---|---|---|---|---|---|---|",
]
for name, rec in records.items():
    for q, r in rec["rows"].items():
        wall = rec.get("total_s", rec["wall_time_s"])
        flag = "" if 0.8 <= r["rms_z"] <= 1.25 and 0.90 <= r["coverage"] <= 0.99 else " **!**"
        lines.append(
            f"| `{name}` | {rec['what']} | {q} | {r['K']} | {r['rms_z']:.2f}{flag} | "
            f"{r['p_value']:.3f} | {r['coverage']:.2f} | {wall:.0f} |"
        )
lines += [
    "",
    "Rows marked **!** fall outside RMS z in [0.8, 1.25] or coverage in [0.90, 0.99].",
    "",
    NOTES,
]
if args.only is None:
    Path(args.table).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.table}")
