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

``--first-seed 3`` (section ``cpt_predict_seeds345``) is a replication with three new seeds, announced
(committed) before any of its runs was trained: the same setting, the same committed round-1
selection rule re-applied to those seeds' fit runs, the same bars.

``--replay 0.05`` (section ``cpt_predict_replay5``; pre-registered: this protocol was committed before
any run with replay in the 600 + 600 setting was trained) is the same experiment with 5 % of every
batch after the switch drawn from the old domain (Ibrahim et al. 2024's replay for a weak shift, the
middle of the replay sweep), the usual practice in continual pre-training. Without replay the nano
model forgets much of the old domain (stdlib loss 2.0 -> 3.1-4.4 nats/byte, a third to two thirds of the
way back to the untrained model's 5.4), and in that regime the old-domain final loss of one schedule
differs from another's by 1-2 % in a way that changes sign between seeds (see the seed-0-5 sections),
more than the 1 % bar. Seeds 0, 1, 2; the verdict is the :data:`SELECTION` rule over the ten
variants of rounds 1-2 (:data:`ROUND2`, all fixed before these runs), applied per domain to the fit
runs; the bars as above.

``--replay 0.05 --first-seed 3`` (section ``cpt_predict_replay5_seeds345``; pre-registered: this
protocol was committed before any of its runs was trained) tests round 3 on three new seeds of the 5 %
replay setting. Round 3 was developed on seeds 0-2 of that setting (dev seeds, looked at): the old
domain's whole-run R2 missed there because the law cannot follow the first rapid drop of pre-training
(5.4 -> 3.0 nats/byte in ~40 steps, then a short plateau) and the fit bent alpha and L0 (to its lower
bound) to it; on the new domain L0 sat on its upper bound min(loss), which the adaptation term (B < 0)
makes wrong. Two changes: (1) ``CPTLaw`` bounds L0 on the new domain by max(loss) (a fix for every
variant; all sections were re-run with it); (2) the ``transient`` option adds D*exp(-S1/s0). The
verdict is one fixed variant, ``lam fit + transient`` (:data:`FIXED`), for both domains, chosen on the
dev seeds; seeds 3, 4, 5; the same bars (held-out R2 >= 0.98 over steps >= 15 and final-loss error <=
1 %, both domains, every seed). Secondary (not the verdict): the :data:`SELECTION` rule over all
variants.

``--preset micro --replay 0.05`` (section ``cpt_predict_micro_replay5``; pre-registered: committed
before any run of that size was trained) asks whether round 3 carries to a larger model: the
``micro`` preset (0.83M parameters, 4 layers of width 128, the size of the CPU validation plan in the
forgetting-laws reference; 7x ``nano``), the same schedules, batch, evaluation and 5 % replay, seeds
0, 1, 2. The verdict is ``lam fit + transient`` on both domains, fixed on nano's dev seeds (there is
no dev seed of this size); the same bars. The nano results above stay as they are; this is a
separate check, reported whatever its outcome.

    nice -n 10 python benchmarks/cpt_predict.py            # full (9 runs of 600 + 600 steps)
    nice -n 10 python benchmarks/cpt_predict.py --short    # the shared 300 + 300 setting (2 x 32 val sequences)
    nice -n 10 python benchmarks/cpt_predict.py --first-seed 3   # replication with seeds 3, 4, 5
    nice -n 10 python benchmarks/cpt_predict.py --replay 0.05    # the same with 5 % replay (pre-registered)
    nice -n 10 python benchmarks/cpt_predict.py --replay 0.05 --first-seed 3   # round 3 on new seeds (pre-registered)
    nice -n 10 python benchmarks/cpt_predict.py --preset micro --replay 0.05   # a 7x larger model (pre-registered)
    python benchmarks/cpt_predict.py --smoke               # seconds, synthetic corpora, no RESULTS.md
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from _cpt import base_config, corpora, fmt, parse_args, publish, run_all

PT = "wsd:peak=3e-3,warmup={w},cooldown=0.2,floor=3e-4,steps={pt}"
CPT = {
    "rewarm3": "cosine:peak=3e-3,warmup={w},floor=3e-4,steps={cpt}",
    "rewarm1": "cosine:peak=1e-3,warmup={w},floor=1e-4,steps={cpt}",
    "wsd2": "wsd:peak=2e-3,warmup={w},cooldown=0.3,floor=2e-4,steps={cpt}",
}
FIT, HELD = ("rewarm3", "rewarm1"), "wsd2"
#: law variants scored (the first four chosen before the 600 + 600 runs were looked at, the first is
#: the paper's form; the last three added after diagnosing the old-domain residuals, see SELECTION)
VARIANTS = {
    "paper": dict(),
    "steps clock": dict(shift_clock="steps"),
    "lam fit": dict(lam="fit"),
    "warmup excluded": dict(warmup="exclude"),
    "no C2": dict(anneal_cpt=False),
    "boxcox shift": dict(shift_form="boxcox"),
    "no C2 + boxcox": dict(anneal_cpt=False, shift_form="boxcox"),
    # round 2 (added after round 1's held-out scores were seen): the `skip` option (fit without the
    # first 50 steps after the switch, the re-warm transient the laws under-predict by 5-15 %)
    "paper, skip 50": dict(skip=50),
    "no C2, skip 50": dict(anneal_cpt=False, skip=50),
    "no C2 + boxcox, skip 50": dict(anneal_cpt=False, shift_form="boxcox", skip=50),
    # round 3 (added after diagnosing seeds 0-2 of the 5 % replay setting): the early-training transient
    # D*exp(-S1/s0) (`transient=True`)
    "transient": dict(transient=True),
    "lam fit + transient": dict(lam="fit", transient=True),
}
#: candidates of the first selection round (the rule and these were committed before scoring them)
ROUND1 = ("paper", "steps clock", "lam fit", "warmup excluded", "no C2", "boxcox shift", "no C2 + boxcox")
#: candidates of the second round (and of the 5 % replay protocol on seeds 0-2)
ROUND2 = ROUND1 + ("paper, skip 50", "no C2, skip 50", "no C2 + boxcox, skip 50")
#: round 3: one variant fixed on the dev seeds 0-2 of the 5 % replay setting (the verdict of
#: ``--replay 0.05 --first-seed 3``, committed before those runs were trained)
FIXED = "lam fit + transient"
#: Variant selection rule, fixed (and committed) before any variant added after the first four was
#: scored on the held-out run; it uses only the two fit runs. Per domain, for every variant and seed:
#: (a) leave one fit run out: fit the pre-training phase + one continual run, predict the other
#: continual run; relative RMSE over its continual phase (both directions, mean);
#: (b) truncation: fit both fit runs on steps < switch + 2/3 of the continual phase, relative error
#: of the predicted final loss of each fit run (mean).
#: Score = (mean over seeds of a + mean over seeds of b) / 2; the lowest score is selected.
SELECTION = "mean of leave-one-fit-run-out continual-phase rel. RMSE and truncated-fit final-loss rel. error"


def model_text(folder) -> str:
    """Size and shape of a trained run's model from its ``meta.json``, e.g. ``0.12M params, 2 layers, width 64``."""
    meta = json.loads((Path(folder) / "meta.json").read_text())
    return f"{meta['params'] / 1e6:.2f}M params, {meta['model']['n_layer']} layers, width {meta['model']['n_embd']}"


def end_area(run) -> float:
    """LR area since the switch (S1cpt) at the run's last evaluation."""
    return float(run.areas(run.steps[-1:])["S1cpt"][0])


def copy_baseline(held, fit_runs: dict) -> tuple[str, float]:
    """The law-free baseline: predict the held-out run's final loss as the final loss of the fit run
    (of ``fit_runs``, name -> run) whose LR area since the switch at the end (:func:`end_area`) is
    nearest; returns that run's name and the relative error."""
    near = min(fit_runs, key=lambda n: abs(end_area(fit_runs[n]) - end_area(held)))
    return near, float(abs(fit_runs[near].loss[-1] / held.loss[-1] - 1.0))


#: the predict benchmark's own (longer, less noisy) setting: phase lengths and fixed validation batches
LONG = dict(pt=600, cpt=600, eval_every=10, eval_batches=4, eval_batch_size=64)


def configs(smoke: bool, seeds, replay: float = 0.0, names=tuple(CPT), tag: str = "cpt", long: dict | None = None,
            preset: str = "nano"):
    """Run configs; ``long`` (e.g. :data:`LONG`) overrides the shared phase lengths and evaluation
    of :func:`_cpt.base_config` (the replay sweep keeps the shared 300 + 300 setting); ``preset``
    another model size (named in the run folders unless ``nano``)."""
    from lrplan.train.continual import switch_config

    old, new = corpora(smoke)
    base = dict(base_config(smoke), preset=preset)
    tag = tag if preset == "nano" else f"{tag}{preset}"
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
    from scipy.signal import savgol_filter

    win = min(15, int(cpt.sum()) // 2 * 2 - 1)  # odd window of evaluations in the continual phase
    smooth = savgol_filter(y[cpt], win, min(2, win - 1))[-1] if win >= 3 else y[-1]
    sq = (pred - y) ** 2
    early = run.steps[keep] < min(100, run.switch)  # the first rapid drop of pre-training, shared by all runs
    return {"early_sse_share": float(sq[early].sum() / sq.sum()),"r2_all": r2_score(y, pred), "r2_cpt": r2_score(y[cpt], pred[cpt]),
            "final_err": float(abs(pred[-1] / y[-1] - 1.0)), "smooth_err": float(abs(pred[-1] / smooth - 1.0)),
            "final3_err": float(abs(pred[-3:].mean() / y[-3:].mean() - 1.0)), "max_err": float(np.max(np.abs(pred / y - 1)))}


def eval_noise(runs) -> np.ndarray:
    """Relative deviations of single evaluations from a smooth trend (a quadratic in the step, fitted
    per run over the last quarter of its continual phase), pooled over ``runs``: the step-to-step
    fluctuation of the measured loss that no law of the expected curve can predict."""
    out = []
    for run in runs:
        keep = run.steps >= run.switch + 3 * (run.lr.size - run.switch) // 4
        t, y = run.steps[keep].astype(float), run.loss[keep]
        if y.size >= 5:
            out.append(y / np.polyval(np.polyfit(t - t.mean(), y, 2), t - t.mean()) - 1.0)
    return np.concatenate(out) if out else np.zeros(0)


def rel_rmse(law, run, first_step: int) -> float:
    keep = run.steps >= first_step
    return float(np.sqrt(np.mean((law.predict(run)[keep] / run.loss[keep] - 1.0) ** 2)))


def selection_criteria(make_law, fit_runs) -> dict:
    """The two criteria of :data:`SELECTION` from the fit runs only (``make_law()`` -> unfitted law;
    NaN when a fold has too few points, e.g. the smoke runs)."""
    from lrplan.errors import FitError

    a, b = fit_runs
    try:
        loo = [rel_rmse(make_law().fit([x]), y, y.switch) for x, y in ((a, b), (b, a))]
    except FitError:
        loo = [np.nan]
    cut = a.switch + (2 * (a.lr.size - a.switch)) // 3
    law = make_law().fit([x.select(x.steps < cut) for x in fit_runs])
    trunc = [abs(law.predict(x)[-1] / x.loss[-1] - 1.0) for x in fit_runs]
    return {"loo_rmse": float(np.mean(loo)), "trunc_final": float(np.mean(trunc))}


def select(rows: list[dict], candidates=None) -> dict:
    """Per domain: the variant (of ``candidates``, default all) with the lowest :data:`SELECTION`
    score, and all scores."""
    out = {}
    for domain in {r["domain"] for r in rows}:
        scores = {}
        for v in dict.fromkeys(r["variant"] for r in rows if candidates is None or r["variant"] in candidates):
            sub = [r for r in rows if r["variant"] == v and r["domain"] == domain]
            scores[v] = (float(np.mean([r["loo_rmse"] for r in sub])), float(np.mean([r["trunc_final"] for r in sub])))
        best = min(scores, key=lambda v: np.nan_to_num(sum(scores[v]) / 2, nan=np.inf))
        out[domain] = {"variant": best, "scores": scores}
    return out


def main(argv=None) -> dict:
    args = parse_args(__doc__, argv, seeds=3, short=True, first_seed=True, replay=True, preset=True)
    if not 0.0 <= args.replay < 1.0:
        raise SystemExit(f"--replay {args.replay}: the replay fraction must be in [0, 1)")
    from lrplan.forgetting import CPTLaw
    from lrplan.forgetting.runs import from_trainer_run

    seeds = range(args.first_seed, args.first_seed + (1 if args.smoke else args.seeds))
    long = None if args.short else LONG
    cfgs = [c for n in CPT for c in configs(args.smoke, seeds, replay=args.replay, names=(n,), long=long, preset=args.preset)]
    t0 = time.time()
    folders = run_all(cfgs, 1 if args.smoke else args.workers)
    outs = {(c.run.split("-")[-3], c.seed): f for c, f in zip(cfgs, folders)}
    train_s = time.time() - t0
    pt_steps = cfgs[0].mixture[1][0]
    cpt_steps, every = cfgs[0].steps - pt_steps, cfgs[0].eval_every
    n_val = cfgs[0].eval_batches * cfgs[0].eval_batch_size
    first = 2 if args.smoke else 15
    rows = []
    names = ("paper", "no C2 + boxcox", "transient") if args.smoke else tuple(VARIANTS)
    splits = {"pt": "val_old", "cpt": "val_new"}
    loaded = {(n, s, d): from_trainer_run(outs[(n, s)], split) for n in CPT for s in seeds for d, split in splits.items()}
    for variant in names:
        for s in seeds:
            for domain in splits:
                runs = {n: loaded[n, s, domain] for n in CPT}
                fit_runs = [runs[n] for n in FIT]
                crit = selection_criteria(lambda: CPTLaw(domain, **VARIANTS[variant]), fit_runs)
                law = CPTLaw(domain, **VARIANTS[variant]).fit(fit_runs)
                sc = score(law, runs[HELD], first_step=first)
                rows.append({"variant": variant, "seed": s, "domain": domain, **sc, **crit, "law": law})
                print(f"{variant} s{s} {domain}: done", file=sys.stderr, flush=True)
    chosen = select(rows)
    result = {"rows": rows, "train_s": train_s, "selected": chosen, "selected_round1": select(rows, ROUND1),
              "selected_round2": select(rows, ROUND2), "fixed": {d: {"variant": FIXED} for d in splits},
              "replay": sorted({run.replay for key, run in loaded.items() if key[2] == "pt"})}
    # diagnostic (not the bar): the same protocol on the seed-mean curves, which averages the
    # run-to-run fluctuation of the measured loss
    mean_err = {}
    for domain in splits:
        per = [{n: loaded[n, s, domain] for n in CPT} for s in seeds]
        avg = {n: type(per[0][n])(per[0][n].lr, per[0][n].switch, per[0][n].steps,
                                  np.mean([p[n].loss for p in per], axis=0), name=n) for n in CPT}
        for v in [v for v in dict.fromkeys(("paper", "lam fit", result["selected_round1"][domain]["variant"], FIXED)) if v in names]:
            law = CPTLaw(domain, **VARIANTS[v]).fit([avg[n] for n in FIT])
            mean_err[domain, v] = score(law, avg[HELD], first_step=first)["final_err"]
    result["seed_mean_err"] = mean_err
    result["noise"] = {d: eval_noise([loaded[n, s, d] for n in CPT for s in seeds]) for d in splits}
    result["baseline"] = {(s, d): copy_baseline(loaded[HELD, s, d], {n: loaded[n, s, d] for n in FIT})
                          for s in seeds for d in splits}
    if args.smoke:
        return result
    replication, replay, other = args.first_seed != 0, args.replay > 0, args.preset != "nano"
    lines = ["## Continual pre-training law: fit two continual schedules, predict a third"
             + (f", `{args.preset}` model" if other else "") + (f", {100 * args.replay:g} % replay" if replay else "")
             + (f", replication with seeds {', '.join(map(str, seeds))}" if replication else ""), "",
             *([f"Replication announced (committed) before any of its runs was trained: new seeds {list(seeds)}, the same "
                "setting, variants and bars; the verdict is round 1 (the committed selection rule re-applied to these "
                "seeds' fit runs).", ""] if replication and not replay and not other else []),
             *([f"Pre-registered (protocol committed before any run with replay in this setting was trained): "
                f"{100 * args.replay:g} % of every batch after the switch is old-domain data; seeds {list(seeds)}; the "
                "verdict is the committed selection rule over the ten variants of rounds 1-2, applied per domain to the fit "
                "runs; the same bars. Why replay: without it the model forgets much of the old domain (stdlib loss 2.0 -> 3.1-4.4) and "
                "the old-domain loss of one schedule differs from another's by 1-2 % with a sign that changes "
                "between seeds (sections above). These seeds then served as the dev seeds of round 3 (the `transient` "
                "variants and the new-domain L0 bound, see below), so the round-3 rows here are not a test. The "
                "protocol's verdict was computed at the time with the earlier L0 bound (min(loss) on both domains): "
                "selected `lam fit` on both domains, worst old-domain R2 0.9743, final-loss errors <= 0.98 %: NOT met; "
                "the tables below are re-run with the current law.", ""] if replay and not replication and not other else []),
             *([f"Pre-registered (protocol committed before any of these runs was trained): round 3 on new seeds "
                f"{list(seeds)} of the {100 * args.replay:g} % replay setting. The verdict is one fixed variant, "
                f"`{FIXED}`, on both domains, chosen on the dev seeds 0-2 of this setting (section "
                "`cpt_predict_replay5`); the same bars. Secondary, not the verdict: the selection rule over all "
                "variants.", ""] if replay and replication and not other else []),
             *([f"Pre-registered (protocol committed before any run of this model size was trained): the same experiment "
                f"on the `{args.preset}` model ({model_text(folders[0])}), "
                f"{100 * args.replay:g} % replay, seeds {list(seeds)}. The verdict is `{FIXED}` on both domains, the "
                "variant fixed on the `nano` model's dev seeds (no dev seed of this size); the same bars. Secondary, "
                "not the verdict: the selection rule over all variants.", ""] if other else []),
             f"Built-in trainer, `{args.preset}` ({model_text(folders[0])}), batch 16 x 64 bytes, CPU. Pre-training {pt_steps} steps on the Python "
             f"stdlib (WSD 3e-3, 20 % cooldown to 3e-4), then {cpt_steps} steps on English prose (Fictional Knowledge passages)"
             + (f" with {100 * args.replay:g} % stdlib replay" if replay else "") + ". "
             "Fit: re-warm cosine to 3e-3 and to 1e-3; held out: re-warm WSD to 2e-3 with 30 % cooldown. Validation "
             f"every {every} steps on {n_val} fixed sequences per domain. "
             "`CPTLaw` (Wang et al. 2025 Eq. 4) per domain and seed, fitted jointly on the pre-training and continual "
             f"phases of the two fit runs (all evaluations); scores on the held-out run (steps >= {first}). "
             "Variants: `paper` = Eq. 4 with "
             "shift clock S1cpt, lam 0.999, warmup inside S2; `steps clock` = shift term on steps since the switch; "
             "`lam fit` = momentum chosen from 0.95-0.999 by the training objective; `warmup excluded` = the initial "
             "warmup's LR rise left out of S2 (lrplan options; these four fixed before the runs were looked at). "
             "Added after diagnosing the old-domain residuals (see below): `no C2` = without the continual annealing "
             "term -C2*S2cpt (`anneal_cpt=False`); `boxcox shift` = shift term B(1 - (1 + E S1cpt)^-beta)/beta with "
             "beta in [-2, 3] (log at beta = 0, growing power below; `shift_form=\"boxcox\"`); `no C2 + boxcox` = both. "
             "`..., skip 50` = fitted without the first 50 steps after the switch (`skip=50`; round 2, see below). "
             "Round 3 (after diagnosing the 5 % replay setting's seeds 0-2): `transient` = the early-training transient "
             "D*exp(-S1/s0) added to the paper's form (`transient=True`), `lam fit + transient` = with the fitted "
             "momentum. All variants: L0 <= min(loss) on the old domain, <= max(loss) on the new one (the adaptation "
             "term takes the new-domain loss below L0). "
             "B, E, beta below are in each variant's own parametrisation.", "",
             "| variant | seed | domain | held-out R2 (whole run) | held-out R2 (continual phase) | final-loss rel. error | last-3-evals rel. error | error vs smoothed final | max rel. error | in-sample R2 | lam | B | E | beta |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        p = r["law"].params_
        lines.append(f"| {r['variant']} | {r['seed']} | {'old (stdlib)' if r['domain'] == 'pt' else 'new (prose)'} | {fmt(r['r2_all'])} | "
                     f"{fmt(r['r2_cpt'])} | {100 * r['final_err']:.2f} % | {100 * r['final3_err']:.2f} % | {100 * r['smooth_err']:.2f} % | {100 * r['max_err']:.2f} % | {fmt(r['law'].r2_)} | "
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
    diagnosis = [] if replay else [
              "The old-domain residuals of `paper` / `lam fit` are largest in the first ~100 steps after the re-warm "
              "(the law under-predicts the jump by 5-15 %) and then wander by +-3 % with the measured loss's own "
              "step-to-step fluctuation; the final error comes from the level of the whole late segment, not the last "
              "point: the prediction's error against a smoothed held-out curve (Savitzky-Golay, 15 evaluations, "
              "quadratic; column 'error vs smoothed final') is about the same as against the last evaluation. Plotted "
              "against S1cpt, the old-domain loss of all three continual schedules collapses onto one curve that is "
              "still rising at the end (no sign of annealing helping the old domain), while the fitted laws use "
              "-C2*S2cpt to bend it and drive beta to its 0.001 bound (the log limit). Hence the `no C2` and "
              "`boxcox shift` variants. (That plot showed the held-out run's measured curves too; no added variant was "
              "fitted to or scored on the held-out run before the rule below was committed.)", ""]
    lines += ["", "### " + ("Variant selection" if replay else "Diagnosis of the old-domain error and variant selection"), "",
              *diagnosis,
              "Selection rule (" + ("committed before any run of this section was trained" if replay else
                                    "committed before the added variants were scored on the held-out run")
              + f"; uses only the two fit runs): {SELECTION}, each averaged over the 3 seeds; lowest wins, per domain. "
              "'selected' marks the winner over all variants listed.", "",
              "| domain | variant | leave-one-fit-run-out rel. RMSE | truncated-fit final error | score | selected |",
              "|---|---|---|---|---|---|"]
    for domain in ("pt", "cpt"):
        for v, (a, b) in chosen[domain]["scores"].items():
            lines.append(f"| {'old' if domain == 'pt' else 'new'} | {v} | {100 * a:.2f} % | {100 * b:.2f} % | "
                         f"{100 * (a + b) / 2:.2f} % | {'**yes**' if v == chosen[domain]['variant'] else ''} |")
    fixed = result["fixed"]
    if other:
        verdicts = ((f"Pre-registered verdict (`{FIXED}` on both domains, fixed on the `nano` dev seeds and committed "
                     "before any run of this size was trained)", fixed),
                    ("Secondary, not the verdict: the selection rule over all variants", chosen))
    elif replay and replication:
        verdicts = ((f"Pre-registered verdict (round 3: `{FIXED}` on both domains, fixed on seeds 0-2 and committed "
                     "before these runs were trained)", fixed),
                    ("Secondary, not the verdict: the selection rule over all variants", chosen))
    elif replay:
        verdicts = (("Pre-registered verdict (the committed rule over the ten variants of rounds 1-2)", result["selected_round2"]),
                    (f"Round 3 (`{FIXED}`, developed on these seeds: dev, not a test)", fixed))
    else:
        verdicts = (("Round 1 (the committed rule over the first seven variants; the primary result)", result["selected_round1"]),
                    ("Round 2 (the same rule over the ten variants of rounds 1-2, including the `skip 50` ones added after "
                     "round 1's held-out scores were seen: post hoc, so weaker evidence)", result["selected_round2"]),
                    (f"Round 3 (`{FIXED}`, developed on the 5 % replay setting's seeds 0-2 after these runs had been "
                     "seen: post hoc here)", fixed))
    for label, ch in verdicts:
        sel = [r for r in rows if r["variant"] == ch[r["domain"]]["variant"]]
        ok = all(r["r2_all"] >= 0.98 and r["final_err"] <= 0.01 for r in sel)
        lines += ["", f"**{label}**: selected old domain `{ch['pt']['variant']}`, new domain "
                  f"`{ch['cpt']['variant']}`; on the held-out run worst R2 {min(r['r2_all'] for r in sel):.4f} (whole run), "
                  f"{min(r['r2_cpt'] for r in sel):.4f} (continual phase); final-loss error per seed, old / new: "
                  + "; ".join(f"seed {s}: {100 * next(r['final_err'] for r in sel if r['seed'] == s and r['domain'] == 'pt'):.2f} % / "
                              f"{100 * next(r['final_err'] for r in sel if r['seed'] == s and r['domain'] == 'cpt'):.2f} %"
                              for s in seeds)
                  + f". Bars (R2 >= 0.98, final error <= 1 %, both domains, 3 seeds): **{'met' if ok else 'NOT met'}**. "
                  + f"Its final-loss error is below the law-free baseline's (next paragraph) in "
                  f"{sum(r['final_err'] < result['baseline'][r['seed'], r['domain']][1] for r in sel)} of {len(sel)} cases."]
        if replay:
            lines += ["", "Where the held-out squared error of the selected variants sits: share in pre-training steps "
                      f"{first}-99 (the first rapid drop, the same in all three runs of a seed), old / new domain: "
                      + "; ".join(f"seed {s}: " + " / ".join(
                          f"{next(r['early_sse_share'] for r in sel if r['seed'] == s and r['domain'] == d):.2f}"
                          for d in ("pt", "cpt")) for s in seeds) + "."]
    lines += ["", "Diagnostic, not the bar (the bar is per seed): the same fit-two-predict-the-third protocol on the "
              "seed-mean curves (mean over the 3 seeds at each evaluation step), which averages out the run-to-run "
              "fluctuation of the measured loss; held-out final-loss error: "
              + "; ".join(f"{'old' if d == 'pt' else 'new'} `{v}` {100 * e:.2f} %" for (d, v), e in mean_err.items())
              + "."]
    base = result["baseline"]
    lines += ["", "Law-free baseline, not a law: predict the held-out run's final loss as the final loss of the fit run "
              "with the nearest LR area since the switch (" + ", ".join(sorted({f"`{n}`" for n, _ in base.values()}))
              + f"; S1cpt at the end {end_area(loaded[HELD, seeds[0], 'pt']):.2f} for the held-out run, "
              + ", ".join(f"{end_area(loaded[n, seeds[0], 'pt']):.2f} for `{n}`" for n in FIT)
              + "). It needs a fit run that ends where the new schedule will, and says nothing about the curve before "
              "the end; it is here to show what the final-loss bar asks of a law in this design. Final-loss error per "
              "seed, old / new: " + "; ".join(
                  f"seed {s}: {100 * base[s, 'pt'][1]:.2f} % / {100 * base[s, 'cpt'][1]:.2f} %" for s in seeds) + "."]
    lines += ["", "Noise floor, not the bar: one evaluation's relative deviation from a smooth trend (a quadratic in "
              "the step over the last quarter of the continual phase, per run; all runs of this section): sd "
              + "; ".join(f"{'old' if d == 'pt' else 'new'} domain {100 * dev.std():.2f} %, {100 * np.mean(np.abs(dev) > 0.01):.0f} % "
                          f"of evaluations off their trend by more than 1 %" for d, dev in result["noise"].items())
              + ". A law that predicted the expected curve exactly would still miss a 1 % bar on the last evaluation "
              "that often (before any run-to-run difference in the level of the curve)."]
    lines += ["", f"Training wall time {train_s / 60:.1f} min (cached runs are reused)."]
    suffix = ((f"_{args.preset}" if other else "") + (f"_replay{100 * args.replay:g}" if replay else "")
              + (f"_seeds{''.join(map(str, seeds))}" if replication else ""))
    flags = ((f" --preset {args.preset}" if other else "") + (f" --replay {args.replay:g}" if replay else "")
             + (f" --first-seed {args.first_seed}" if replication else ""))
    publish("cpt_predict" + suffix, lines, script="cpt_predict", flags=flags)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
