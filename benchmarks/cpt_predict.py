"""Continual pre-training law on the built-in trainer: fit on two continual schedules, predict a third.

Setup (CPU, ``nano`` preset, batch 16 x 64 bytes): pre-train 600 steps on the Python stdlib with
WSD (peak 3e-3, 20 warmup steps, 20 % linear cooldown to 3e-4), then switch to English prose for
600 steps with a re-warmed schedule:

* ``rewarm3``:  cosine, warmup 20 to 3e-3, down to 3e-4   (fit)
* ``rewarm1``:  cosine, warmup 20 to 1e-3, down to 1e-4   (fit)
* ``wsd2``:     WSD, warmup 20 to 2e-3, 30 % cooldown to 2e-4   (held out)

Both domains (``val_old`` = stdlib, ``val_new`` = prose) are evaluated every 10 steps on fixed
batches (4 x 64 sequences; :data:`LONG`). ``--short`` uses the shared 300 + 300-step setting of the
replay sweep (every 15 steps, 2 x 32 sequences). :class:`lrplan.forgetting.CPTLaw` (Wang et al.
2025, Eq. 4) is fitted per domain and seed on the two fit schedules (whole curves, pre-training and
continual phases jointly, steps >= 15) and scored on the held-out schedule: R2 over the continual
phase and over the whole curve, and the relative error of the final loss, for the paper's form and
the lrplan options of :data:`VARIANTS`.
Pass bars (issue 5): held-out R2 >= 0.98 and final-loss error <= 1 % for both domains, 3 seeds.

    nice -n 10 python benchmarks/cpt_predict.py            # full (9 runs of 600 + 600 steps)
    nice -n 10 python benchmarks/cpt_predict.py --short    # the shared 300 + 300 setting (2 x 32 val sequences)
    python benchmarks/cpt_predict.py --smoke               # seconds, synthetic corpora, no RESULTS.md
"""

from __future__ import annotations

import sys
import time

import numpy as np

from _cpt import base_config, corpora, fmt, parse_args, publish, run_all

PT = "wsd:peak=3e-3,warmup={w},cooldown=0.2,floor=3e-4,steps={pt}"
CPT = {
    "rewarm3": "cosine:peak=3e-3,warmup={w},floor=3e-4,steps={cpt}",
    "rewarm1": "cosine:peak=1e-3,warmup={w},floor=1e-4,steps={cpt}",
    "wsd2": "wsd:peak=2e-3,warmup={w},cooldown=0.3,floor=2e-4,steps={cpt}",
}
FIT, HELD = ("rewarm3", "rewarm1"), "wsd2"
#: law variants scored (chosen before the 600 + 600 runs were looked at; the first is the paper's form)
VARIANTS = {
    "paper": dict(),
    "steps clock": dict(shift_clock="steps"),
    "lam fit": dict(lam="fit"),
    "warmup excluded": dict(warmup="exclude"),
}


#: the predict benchmark's own (longer, less noisy) setting: phase lengths and fixed validation batches
LONG = dict(pt=600, cpt=600, eval_every=10, eval_batches=4, eval_batch_size=64)


def configs(smoke: bool, seeds, replay: float = 0.0, names=tuple(CPT), tag: str = "cpt", long: dict | None = None):
    """Run configs; ``long`` (e.g. :data:`LONG`) overrides the shared phase lengths and evaluation
    of :func:`_cpt.base_config` (the replay sweep keeps the shared 300 + 300 setting)."""
    from lrplan.train.continual import switch_config

    old, new = corpora(smoke)
    base = base_config(smoke)
    pt = cpt = base["steps"] // 2
    if long and not smoke:
        pt, cpt = long["pt"], long["cpt"]
        base.update(steps=pt + cpt, eval_every=long["eval_every"], eval_batches=long["eval_batches"],
                    eval_batch_size=long["eval_batch_size"])
        tag = f"{tag}{pt}+{cpt}e{long['eval_every']}x{long['eval_batches'] * long['eval_batch_size']}"
    out = []
    for name in names:
        w = 5 if smoke else 20
        spec = PT.format(pt=pt, w=w) + " + " + CPT[name].format(cpt=cpt, w=w)
        for s in seeds:
            out.append(switch_config(dict(base, schedule=spec), old, new, switch=pt, replay=replay, seed=int(s),
                                     run=f"{tag}{'-smoke' if smoke else ''}-{name}-r{replay:g}-s{s}"))
    return out


def score(law, run, first_step: int = 20) -> dict:
    from lrplan.forgetting._fit import r2_score

    keep = run.steps >= first_step
    pred, y = law.predict(run)[keep], run.loss[keep]
    cpt = run.steps[keep] >= run.switch
    return {"r2_all": r2_score(y, pred), "r2_cpt": r2_score(y[cpt], pred[cpt]),
            "final_err": float(abs(pred[-1] / y[-1] - 1.0)),
            "final3_err": float(abs(pred[-3:].mean() / y[-3:].mean() - 1.0)), "max_err": float(np.max(np.abs(pred / y - 1)))}


def main(argv=None) -> dict:
    args = parse_args(__doc__, argv, seeds=3, short=True)
    from lrplan.forgetting import CPTLaw
    from lrplan.forgetting.runs import from_trainer_run

    seeds = range(1 if args.smoke else args.seeds)
    long = None if args.short else LONG
    cfgs = [c for n in CPT for c in configs(args.smoke, seeds, names=(n,), long=long)]
    t0 = time.time()
    folders = run_all(cfgs, 1 if args.smoke else args.workers)
    outs = {(c.run.split("-")[-3], c.seed): f for c, f in zip(cfgs, folders)}
    train_s = time.time() - t0
    pt_steps = cfgs[0].mixture[1][0]
    cpt_steps, every = cfgs[0].steps - pt_steps, cfgs[0].eval_every
    n_val = cfgs[0].eval_batches * cfgs[0].eval_batch_size
    first = 2 if args.smoke else 15
    rows = []
    for variant in ("paper",) if args.smoke else VARIANTS:
        for s in seeds:
            for domain, split in (("pt", "val_old"), ("cpt", "val_new")):
                runs = {n: from_trainer_run(outs[(n, s)], split) for n in CPT}
                law = CPTLaw(domain, **VARIANTS[variant]).fit([runs[n] for n in FIT])
                sc = score(law, runs[HELD], first_step=first)
                rows.append({"variant": variant, "seed": s, "domain": domain, **sc, "law": law})
    result = {"rows": rows, "train_s": train_s}
    if args.smoke:
        return result
    lines = ["## Continual pre-training law: fit two continual schedules, predict a third", "",
             f"Built-in trainer, `nano` (0.11M params), batch 16 x 64 bytes, CPU. Pre-training {pt_steps} steps on the Python "
             f"stdlib (WSD 3e-3, 20 % cooldown to 3e-4), then {cpt_steps} steps on English prose (Fictional Knowledge passages). "
             "Fit: re-warm cosine to 3e-3 and to 1e-3; held out: re-warm WSD to 2e-3 with 30 % cooldown. Validation "
             f"every {every} steps on {n_val} fixed sequences per domain. "
             "`CPTLaw` (Wang et al. 2025 Eq. 4) per domain and seed, fitted jointly on the pre-training and continual "
             f"phases of the two fit runs (steps >= {first}); scores on the held-out run (steps >= {first}). "
             "Variants (fixed before these runs were looked at; never tuned on the held-out run): `paper` = Eq. 4 with "
             "shift clock S1cpt, lam 0.999, warmup inside S2; `steps clock` = shift term on steps since the switch; "
             "`lam fit` = momentum chosen from 0.95-0.999 by the training objective; `warmup excluded` = the initial "
             "warmup's LR rise left out of S2 (lrplan options).", "",
             "| variant | seed | domain | held-out R2 (whole run) | held-out R2 (continual phase) | final-loss rel. error | last-3-evals rel. error | max rel. error | in-sample R2 | lam | B | E | beta |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        p = r["law"].params_
        lines.append(f"| {r['variant']} | {r['seed']} | {'old (stdlib)' if r['domain'] == 'pt' else 'new (prose)'} | {fmt(r['r2_all'])} | "
                     f"{fmt(r['r2_cpt'])} | {100 * r['final_err']:.2f} % | {100 * r['final3_err']:.2f} % | {100 * r['max_err']:.2f} % | {fmt(r['law'].r2_)} | "
                     f"{r['law'].lam_:g} | {p['B']:+.3f} | {p['E']:.3g} | {p['beta']:.3f} |")
    lines.append("")
    for variant in VARIANTS:
        sub = [r for r in rows if r["variant"] == variant]
        ok = all(r["r2_all"] >= 0.98 and r["final_err"] <= 0.01 for r in sub)
        lines.append(f"- `{variant}`: worst over seeds and domains R2 {min(r['r2_all'] for r in sub):.4f} (whole run), "
                     f"{min(r['r2_cpt'] for r in sub):.4f} (continual phase only), final-loss error "
                     f"{100 * max(r['final_err'] for r in sub):.2f} %. Bars (R2 >= 0.98 on the run and final error <= 1 %, "
                     f"both domains, 3 seeds): **{'met' if ok else 'NOT met'}**. (Secondary, not the bar: error of the "
                     f"mean of the last 3 evaluations, which averages the step-to-step fluctuation of the measured loss: "
                     f"worst {100 * max(r['final3_err'] for r in sub):.2f} %.)")
    lines += ["", f"Training wall time {train_s / 60:.1f} min (cached runs are reused)."]
    publish("cpt_predict", lines)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
