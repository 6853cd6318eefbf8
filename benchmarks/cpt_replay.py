"""Replay sweep on the built-in trainer: forgetting of the old domain against the replay fraction.

Same setup as ``benchmarks/cpt_predict.py`` (300 steps stdlib with WSD, then 300 steps prose with a
re-warmed cosine to 3e-3), with 0 %, 1 %, 5 % and 25 % of every post-switch batch drawn from the
old corpus (the 0 % runs are shared with cpt_predict). Forgetting = old-domain validation loss at
the end minus its value at the last evaluation before the switch (nats), mean over seeds.

The replay-extended CPT law (Wang et al. 2025, Eq. 8; and lrplan's hyperbolic variant) is fitted
per seed on the 0 %, 5 % and 25 % runs together and predicts the held-out 1 % run; a second fit on
all four runs shows how well the law's shift factor follows the measured forgetting.

    nice -n 10 python benchmarks/cpt_replay.py
    python benchmarks/cpt_replay.py --smoke
"""

from __future__ import annotations

import sys
import time

import numpy as np

from _cpt import parse_args, publish, run_all
from cpt_predict import configs

REPLAYS = (0.0, 0.01, 0.05, 0.25)
HELD = 0.01
FORMS = ("exp", "hyperbolic")  # replay factor of the shift term (CPTLaw replay=...)


def measured_forgetting(run) -> float:
    before = run.steps < run.switch
    return float(run.loss[-1] - run.loss[before][-1])


def law_forgetting(law, run) -> float:
    pre = run.steps[run.steps < run.switch][-1]
    p = law.predict(run, [pre, run.lr.size - 1])
    return float(p[1] - p[0])


def train(replays, seeds, workers, smoke=False) -> dict:
    """Train (or reuse cached) re-warm runs at ``replays``: run name -> output folder."""
    cfgs = [c for r in replays for c in configs(smoke, seeds, replay=r, names=("rewarm3",))]
    return dict(zip([c.run for c in cfgs], run_all(cfgs, workers)))


def old_runs(outs, seeds, replays, smoke=False) -> dict:
    """(seed, replay) -> old-domain ContinualRun, without the evaluations before ``first``."""
    from lrplan.forgetting.runs import from_trainer_run

    tag, first = ("cpt-smoke", 2) if smoke else ("cpt", 15)
    runs = {}
    for s in seeds:
        for r in replays:
            run = from_trainer_run(outs[f"{tag}-rewarm3-r{r:g}-s{s}"], "val_old")
            runs[s, r] = run.select(run.steps >= first)
    return runs


def main(argv=None) -> dict:
    args = parse_args(__doc__, argv, seeds=3)
    from lrplan.forgetting import CPTLaw

    seeds = list(range(1 if args.smoke else args.seeds))
    t0 = time.time()
    outs = train(REPLAYS, seeds, 1 if args.smoke else args.workers, args.smoke)
    train_s = time.time() - t0
    loaded = old_runs(outs, seeds, REPLAYS, args.smoke)
    forms = FORMS[:1] if args.smoke else FORMS
    per = {(f, r): [] for f in forms for r in REPLAYS}
    held_err = {f: [] for f in forms}
    fit_r2 = {f: [] for f in forms}
    for s in seeds:
        runs = {r: loaded[s, r] for r in REPLAYS}
        for form in forms:
            held_law = CPTLaw("pt", replay=form).fit([runs[r] for r in REPLAYS if r != HELD])
            pred = held_law.predict(runs[HELD])
            held_err[form].append(float(abs(pred[-1] / runs[HELD].loss[-1] - 1)))
            all_law = CPTLaw("pt", replay=form).fit([runs[r] for r in REPLAYS])
            fit_r2[form].append(all_law.r2_)
            for r in REPLAYS:
                per[form, r].append((measured_forgetting(runs[r]), law_forgetting(all_law, runs[r]),
                                     law_forgetting(held_law, runs[r])))
    table = {k: np.array(v) for k, v in per.items()}
    result = {"table": table, "held_err": held_err, "fit_r2": fit_r2, "train_s": train_s}
    if args.smoke:
        return result
    meas = [table[FORMS[0], r][:, 0].mean() for r in REPLAYS]
    monotone = all(a > b for a, b in zip(meas, meas[1:]))
    lines = ["## Replay sweep: forgetting of the old domain vs replay fraction", "",
             "Built-in trainer, `nano`, stdlib -> prose at step 300, re-warm cosine to 3e-3 for 300 steps; r % of every "
             f"post-switch batch from the old corpus. Forgetting = old-domain val loss at step 600 minus at the last "
             f"evaluation before the switch (nats), mean +- sd over {len(seeds)} seed(s). Laws fitted per seed on all four "
             "replay fractions, and on 0/5/25 % only (predicting 1 %): `exp` = the replay-extended CPT law of Wang et al. "
             "2025 (Eq. 8), `hyperbolic` = lrplan's variant with shift factor (1 - r)/(1 + a2 r).", "",
             "| replay | measured forgetting | exp law (fit on all 4) | exp law (fit without 1 %) | hyperbolic (all 4) | hyperbolic (without 1 %) |",
             "|---|---|---|---|---|---|"]
    for r in REPLAYS:
        m = table[FORMS[0], r]
        h = table[FORMS[1], r]
        lines.append(f"| {100 * r:g} % | {m[:, 0].mean():+.4f} +- {m[:, 0].std():.4f} | {m[:, 1].mean():+.4f} | "
                     f"{m[:, 2].mean():+.4f} | {h[:, 1].mean():+.4f} | {h[:, 2].mean():+.4f} |")
    lines += ["", f"Measured forgetting falls monotonically with replay: **{'yes' if monotone else 'NO'}** "
              f"({100 * (1 - meas[1] / meas[0]):.0f} % of it removed by 1 % replay)."]
    for form in FORMS:
        lines.append(f"- `{form}`: in-sample R2 of the joint fit (all 4 runs, whole curves) "
                     f"{min(fit_r2[form]):.4f} (worst seed); held-out 1 % run: final old-domain loss error "
                     f"{100 * max(held_err[form]):.2f} % (worst seed).")
    lines += ["", f"Training wall time {train_s / 60:.1f} min (cached runs reused)."]
    publish("cpt_replay", lines)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
