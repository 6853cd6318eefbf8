"""Fact injection on the built-in trainer: effectivity and retention law per exposure scenario.

A small replica of Chang et al. 2024 (arXiv:2406.11813) with the Fictional Knowledge dataset
(Apache-2.0, read from ``$LRPLAN_FK_DIR``): ``nano`` preset trained on the Python stdlib at a
constant LR (2e-3 and 1e-3, 20 warmup steps, 1000 steps); facts (one memorisation probe each, cut
to a 65-byte window ending at the target) are injected as batch rows:

* ``paraphrased`` (records 0-39): 3 exposures, 100 steps apart, a different wording each time;
* ``duplicated`` (records 40-79): the same window 3 times, 100 steps apart;
* ``once`` (records 80-109): one exposure;
* ``control`` (records 110-129): never injected, probed only.

The first exposure is at step 200 (after the fastest initial learning). The tiny model is still
learning the general byte statistics, which lifts every probe's log-probability; the mean
log-probability of the control probes is subtracted from all probes before the metrics (drift
correction, :func:`lrplan.forgetting.drift_corrected`); the uncorrected law is reported too.

Every probe's target log-probability is scored after every step. Effectivity (log-prob gain of the
first exposure, nats), retainability R(t) after the last exposure's local acquisition maximum
(window 50 steps), probe-averaged with the IQR rule (k = 2), and the law R = b - a*log10(t) fitted
per scenario (:func:`lrplan.forgetting.retention_report`).

    nice -n 10 python benchmarks/cpt_facts.py
    python benchmarks/cpt_facts.py --smoke
"""

from __future__ import annotations

import argparse
import sys
import time

from _cpt import CACHE, FK_DIR, SMOKE_OLD, publish

#: record indices per scenario: the dataset's 40 paraphrased, 40 duplicated records, 30 of the 50
#: "once" records and the other 20 as never-injected controls (more probes: less noise in the
#: probe-averaged retention curve)
SCENARIOS = {"paraphrased": range(0, 40), "duplicated": range(40, 80), "once": range(80, 110), "control": range(110, 130)}


def run_one(lr: float, smoke: bool, steps: int, facts, inj, exposures, window: int):
    """Train (or reuse) the injection run at constant ``lr``; return (drift-corrected, raw) reports."""
    import pandas as pd

    from lrplan.forgetting import retention_report
    from lrplan.train import TrainConfig, train
    from lrplan.train.facts import ProbeLogger

    cfg = TrainConfig(preset="nano", batch_size=16, steps=steps, schedule=f"constant:peak={lr:g},warmup={5 if smoke else 20}",
                      corpus=SMOKE_OLD if smoke else "stdlib", eval_every=steps, checkpoint_every=10_000,
                      keep_checkpoint=False, run=f"facts{'-smoke' if smoke else ''}-{len(facts)}-lr{lr:g}")
    out = CACHE / "runs" / cfg.run
    if not (out / "probes.csv").exists():
        import shutil

        shutil.rmtree(out, ignore_errors=True)  # a run without its probe log must be retrained
        train(cfg, out, callbacks=[ProbeLogger(facts, exposures)], injections=inj)
    probes = pd.read_csv(out / "probes.csv")
    exp = pd.read_csv(out / "exposures.csv")
    control = probes[probes["scenario"] == "control"]
    probes = probes[probes["scenario"] != "control"]
    raw = retention_report(probes, exp, by=("scenario",), window=window)
    # 60 smoke steps are too few for gains that survive the drift correction
    rep = raw if smoke else retention_report(probes, exp, by=("scenario",), window=window, control=control)
    return rep, raw


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lrs", default="2e-3,1e-3", help="comma-separated constant LRs")
    args = ap.parse_args(argv)
    import torch

    from lrplan.train.facts import build_facts, exposure_plan, load_records

    torch.set_num_threads(1)
    smoke = args.smoke
    recs = load_records(FK_DIR)
    scen = {k: list(v)[:2] for k, v in SCENARIOS.items()} if smoke else SCENARIOS
    facts = build_facts(recs, 64, scen)
    counts = {k: sum(f.scenario == k for f in facts) for k in scen}
    first, every, times = (10, 10, 2) if smoke else (200, 100, 3)
    inj, exposures = exposure_plan(facts, first=first, every=every, times=times, per_step=8)
    steps = 60 if smoke else args.steps
    lrs = [float(x) for x in args.lrs.split(",")][:1 if smoke else None]
    t0 = time.time()
    reports = {lr: run_one(lr, smoke, steps, facts, inj, exposures, 5 if smoke else 50) for lr in lrs}
    train_s = time.time() - t0
    result = {"report": reports[lrs[0]][0], "raw": reports[lrs[0]][1], "reports": reports, "train_s": train_s}
    if smoke:
        return result
    lines = ["## Fact injection: retention law per exposure scenario (Chang et al. 2024 metrics)", "",
             f"Built-in trainer, `nano`, Python stdlib at constant LR ({', '.join(f'{x:g}' for x in lrs)}), {steps} steps; "
             f"{counts['paraphrased']} / {counts['duplicated']} / {counts['once']} Fictional Knowledge facts "
             "(paraphrased / duplicated / once) injected as 65-byte batch rows from step 200 (paraphrased / duplicated: 3 exposures 100 steps apart; "
             f"once: 1), {counts['control']} never-injected control facts; probes scored every step. Effectivity = log-prob gain of the first "
             "exposure (nats); law R(t) = b - a log10(t) on the probe-averaged retainability after the last exposure "
             "(IQR rule k = 2); threshold = 10^(b/a) steps. Drift-corrected = control-probe mean subtracted first.", "",
             "| LR | scenario | log-probs | probes kept | effectivity (nats) | a (decay / decade) | b | R2 of the law | threshold (steps) | points |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for lr, (rep, raw) in reports.items():
        for kind, table in (("drift-corrected", rep), ("raw", raw)):
            for _, r in table.iterrows():
                lines.append(f"| {lr:g} | {r['scenario']} | {kind} | {r['probes']} | {r['effectivity']:.3f} | "
                             f"{r['a']:.4f} +- {r['a_se']:.4f} | {r['b']:.3f} | {r['r2']:.3f} | {r['threshold']:.3g} | {r['points']} |")
    lines += ["", f"Training wall time {train_s / 60:.1f} min (cached runs reused)."]
    publish("cpt_facts", lines)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
