"""Clock test: do forgetting curves at different constant LRs collapse in LR area?

Built-in trainer, ``nano``: constant LR (20 warmup steps) at 1e-3, 2e-3 and 4e-3; 300 steps on the
Python stdlib, then 300 steps on English prose at the same LR. Forgetting curve = old-domain
validation loss minus its value at the last evaluation before the switch, against

* steps since the switch, and
* LR area since the switch, S1cpt = sum of the LR over the steps since the switch.

Collapse score on each clock: the curves are interpolated on a common grid covering the range all
LRs reach (steps: 0-300; LR area: 0-0.3) and the mean over the grid of the standard deviation
across LRs is reported (nats; 0 = perfect collapse), as is the RMSE of one saturating forgetting
law fitted to the pooled points of all LRs. The ratio steps / LR area says how much better the
curves collapse in LR area. The forgetting families are compared on the pooled LR-area points
(held-out last 25 % of the LR-area range; AIC/BIC).

    nice -n 10 python benchmarks/cpt_clock.py
    python benchmarks/cpt_clock.py --smoke
"""

from __future__ import annotations

import sys
import time

import numpy as np

from _cpt import base_config, corpora, parse_args, publish, run_all

LRS = (1e-3, 2e-3, 4e-3)


def configs(smoke: bool, seeds):
    from lrplan.train.continual import switch_config

    old, new = corpora(smoke)
    base = base_config(smoke)
    pt = base["steps"] // 2
    w = 5 if smoke else 20
    return [switch_config(dict(base, schedule=f"constant:peak={lr:g},warmup={w}"), old, new, switch=pt, seed=int(s),
                          run=f"clock{'-smoke' if smoke else ''}-lr{lr:g}-s{s}") for lr in LRS for s in seeds]


def spread(curves, grid) -> float:
    """Mean over ``grid`` of the standard deviation across curves (linear interpolation)."""
    ys = np.array([np.interp(grid, tau, y) for tau, y in curves])
    return float(np.mean(np.std(ys, axis=0)))


def main(argv=None) -> dict:
    args = parse_args(__doc__, argv, seeds=2)
    from lrplan.forgetting import ForgettingLaw, compare
    from lrplan.forgetting.runs import forgetting_curve_points, from_trainer_run

    seeds = list(range(1 if args.smoke else args.seeds))
    cfgs = configs(args.smoke, seeds)
    t0 = time.time()
    outs = run_all(cfgs, 1 if args.smoke else args.workers)
    train_s = time.time() - t0
    scores = {"steps": [], "lr_area": []}
    pooled_rmse = {"steps": [], "lr_area": []}
    tables = {"steps": [], "lr_area": []}
    for s in seeds:
        runs = [from_trainer_run(o, "val_old") for o, c in zip(outs, cfgs) if c.seed == s]
        for clock in ("steps", "lr_area"):
            curves = [forgetting_curve_points(r, clock) for r in runs]
            hi = min(float(t.max()) for t, _ in curves)
            scores[clock].append(spread(curves, np.linspace(0, hi, 200)))
            tau = np.concatenate([t for t, _ in curves])
            y = np.concatenate([v for _, v in curves])
            law = ForgettingLaw("saturating", clock=clock).fit(tau, y)
            pooled_rmse[clock].append(law.rmse_)
            tables[clock].append(compare(tau, y, holdout=0.25, clock=clock))
    sp = {k: float(np.mean(v)) for k, v in scores.items()}
    rm = {k: float(np.mean(v)) for k, v in pooled_rmse.items()}
    result = {"spread": sp, "pooled_rmse": rm, "tables": tables, "train_s": train_s}
    if args.smoke:
        return result
    lines = ["## Clock test: forgetting at three constant LRs, in steps and in LR area", "",
             "Built-in trainer, `nano`, constant LR 1e-3 / 2e-3 / 4e-3 (20 warmup steps), 300 steps stdlib then 300 steps "
             f"prose at the same LR; forgetting = old-domain val loss minus its last pre-switch value; {len(seeds)} seed(s).", "",
             "| clock | spread across LRs (mean sd, nats) | RMSE of one pooled saturating law (nats) |", "|---|---|---|",
             f"| steps since switch | {sp['steps']:.4f} | {rm['steps']:.4f} |",
             f"| LR area since switch | {sp['lr_area']:.4f} | {rm['lr_area']:.4f} |", "",
             f"Collapse ratio steps / LR area: spread {sp['steps'] / sp['lr_area']:.2f}, pooled-law RMSE "
             f"{rm['steps'] / rm['lr_area']:.2f} (> 1: LR area collapses better; < 1: steps collapse better). "
             "Caveat: the LR-area grid covers only the range the lowest LR reaches (the first quarter of the "
             "4e-3 run), the steps grid the whole continual phase.", "",
             "Forgetting families on the pooled points of all LRs (seed 0; fit on the first 75 % of the clock range, "
             "scored on the rest):", "",
             "| clock | family | params | R2 (fit part) | AIC | BIC | held-out R2 | held-out RMSE |", "|---|---|---|---|---|---|---|---|"]
    for clock in ("steps", "lr_area"):
        for _, r in tables[clock][0].iterrows():
            lines.append(f"| {clock} | {r['family']} | {r['n_params']:.0f} | {r['r2_fit']:.4f} | {r['aic']:.1f} | {r['bic']:.1f} | "
                         f"{r['r2_heldout']:.3f} | {r['rmse_heldout']:.4f} |")
    lines += ["", f"Training wall time {train_s / 60:.1f} min."]
    publish("cpt_clock", lines)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
