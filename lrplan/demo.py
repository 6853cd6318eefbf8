"""``lrplan demo``: the whole job on data that ships with lrplan, in well under a minute.

1. Fit a schedule-aware loss law on three logged curves of the multi-power-law data
   (Luo et al. 2025; cosine, constant and a two-stage schedule) and predict six schedules it never
   saw (3x longer runs, WSD cooldowns, other two-stage drops) with 90 % bands; score them.
2. Plan the LR schedule for the 24,000-step budget under that fitted law and compare it with
   cosine and WSD baselines.
3. Recommend peak LR and batch size for a few (N, D) targets from the Step Law preset.
4. If the bundled proxy curves of the built-in trainer are present: fit on two schedules,
   predict the others.

Everything is written into one folder (atomically: a half-finished demo leaves nothing behind):
``report.md``, PNG plots, the plan folder (``plan/``: plan.json, lr.csv, PyTorch snippet, plot).
Needs only the core dependencies (no torch).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from lrplan import _io
from lrplan._markdown import markdown_table

#: (N non-embedding parameters, D tokens) targets for the recommendation table
TARGETS = ((1.5e8, 3e9), (1e9, 2e10), (7e9, 1.4e11))


@dataclass
class Section:
    title: str
    text: str = ""
    table: pd.DataFrame | None = None
    images: list[str] = field(default_factory=list)


@dataclass
class DemoResult:
    out: Path
    sections: list[Section]
    seconds: float

    def markdown(self) -> str:
        lines = ["# lrplan demo report", "",
                 f"Made by `lrplan demo` in {self.seconds:.1f} s. Loss in nats/token; LR absolute.", ""]
        for s in self.sections:
            lines += [f"## {s.title}", ""]
            if s.text:
                lines += [s.text, ""]
            if s.table is not None:
                lines += [markdown_table(s.table, _fmt), ""]
            for img in s.images:
                lines += [f"![{img}]({img})", ""]
        return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return "-"
        return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"
    return str(v)


def _mpl_section(work: Path, size: str, law_name: str, say: Callable[[str], None]):
    from lrplan.datasets import MPL_TEST, MPL_TRAIN, mpl_curves
    from lrplan.laws import make_law, save_fit
    from lrplan.laws.data import resolve
    from lrplan.laws.metrics import coverage, curve_metrics
    from lrplan.plots.curves import plot_fit
    from lrplan.plots.validation import plot_validation

    say(f"fitting the {law_name} law on {len(MPL_TRAIN)} multi-power-law curves ({size}M)")
    curves = mpl_curves(size)
    t0 = time.perf_counter()
    law = make_law(law_name)
    law.shape_refits = bool(law.reference_shapes)  # bands include the published MPL shape (docs/laws.md)
    law.fit(curves, runs=list(MPL_TRAIN))
    fit_s = time.perf_counter() - t0
    save_fit(law, work / "fit.json")
    test = resolve(curves, runs=list(MPL_TEST))
    rows = []
    for d in test:
        pred, lo, hi = law.predict_band(d.lr, d.steps, level=0.9)
        m = curve_metrics(d.loss, pred)
        rows.append({"held-out schedule": d.run, "steps": int(d.lr.size), "final": float(d.loss[-1]),
                     "predicted": float(pred[-1]), "err %": 100 * m["PredE"], "worst %": 100 * m["WorstE"],
                     "R2": m["R2"], "in band": coverage(d.loss, lo, hi)})
    table = pd.DataFrame(rows).round({"final": 4, "predicted": 4, "err %": 3, "worst %": 3, "R2": 4, "in band": 2})
    mean_pe = table["err %"].mean()
    train = resolve(curves, runs=list(MPL_TRAIN))
    fig = plot_fit(law, observed=train, predicted=[(d.run, d.lr) for d in test if d.run in ("cosine_72000", "wsd_20000_24000")],
                   title=f"{size}M: {law_name} law fitted on 3 curves (dots), predicting unseen schedules")
    _io.save_figure(fig, work / "fit.png")
    fig = plot_validation(law, test, title=f"{size}M: six held-out schedules, measured vs predicted (90 % band)")
    _io.save_figure(fig, work / "heldout.png")
    text = (f"Fitted on {', '.join(MPL_TRAIN)} in {fit_s:.1f} s; predicted the six TEST schedules of the "
            f"paper's split. Mean relative error {mean_pe:.3f} % (the published multi-power-law fit "
            "reports 0.110 / 0.142 / 0.168 % at 25M / 100M / 400M). Data: Luo et al. 2025, MIT.")
    return law, Section("1. Predict unseen schedules (multi-power-law data)", text, table, ["fit.png", "heldout.png"])


def _plan_section(work: Path, law, say: Callable[[str], None]):
    from lrplan.plan import Constraints, load_objective, plan_schedule
    from lrplan.plan.output import write_plan

    say("planning the schedule for a 24,000-step run under the fitted law")
    point, objective, band, info = load_objective(law)
    c = Constraints.build(steps=24000, peak=3e-4, warmup=2160, warmup_style="inclusive", floor=0.0)
    plan = plan_schedule(objective, c, band_model=band, maxiter=150, law_info=info)
    write_plan(plan, work / "plan", point, band)
    rows = [{"schedule": name, "predicted final loss": entry["final"],
             "plan's gain (nats)": entry["final"] - plan.final("plan") if name != "plan" else 0.0}
            for name, entry in plan.predicted.items()]
    ms = plan.to_dict()["lr_milestones"]
    text = (f"{plan.method} schedule found in {plan.seconds:.1f} s (peak 3e-4, warmup 2,160 steps). LR stays "
            f"above 0.99x peak until step {ms['below_0.99x']}, 0.5x at {ms['below_0.5x']}, 0.1x at "
            f"{ms['below_0.1x']}. Files: plan/plan.json, plan/lr.csv, plan/lr_scheduler.py (PyTorch LambdaLR).")
    table = pd.DataFrame(rows).round(4)
    return plan, Section("2. Plan the schedule (24,000 steps)", text, table, ["plan/plan.png"])


def _recommend_section(work: Path, say: Callable[[str], None]):
    import warnings

    from lrplan.hparams import published, recommend
    from lrplan.plots.hparams import plot_hparam_law

    say("recommending peak LR and batch size from the Step Law preset")
    law = published("steplaw")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for N, D in TARGETS:
            r = recommend(law, N=N, D=D, seq_len=2048)
            plateau = r.plateau or {}
            row = {"N": f"{N:.3g}", "D (tokens)": f"{D:.3g}", "peak LR": f"{r.lr:.3g}",
                   "batch (tokens)": f"{r.batch_tokens:.3g}", "batch (x2048)": f"{r.batch_seqs:.0f}",
                   "steps": r.steps, "warmup": r.warmup_steps}
            if plateau:
                row["LR within 0.25 %"] = _range(plateau.get("lr"))
            rows.append(row)
    fig = plot_hparam_law(law, title="Step Law preset: optimal peak LR and batch size")
    _io.save_figure(fig, work / "hparams.png")
    text = ("Step Law (Li et al. 2025): LR* = 1.79 N^-0.713 D^0.307, B* = 0.58 D^0.571 tokens. Fit your own "
            "with `lrplan fit-hparams RUNS --out LAW.json` and use it with `lrplan recommend --fit LAW.json`.")
    return Section("3. Peak LR and batch size for a target", text, pd.DataFrame(rows), ["hparams.png"])


def _range(v) -> str:
    if not v:
        return "-"
    return f"{v[0]:.3g} - {v[1]:.3g}"


def _proxy_section(work: Path, law_name: str, say: Callable[[str], None]):
    from lrplan.errors import LoadError
    from lrplan.laws import make_law
    from lrplan.laws.data import resolve
    from lrplan.laws.metrics import coverage, curve_metrics
    from lrplan.plots.validation import plot_validation
    from lrplan.schedules import parse
    from lrplan.train.results import load_proxy

    try:
        curves, table = load_proxy()
    except (FileNotFoundError, LoadError):  # a build without the bundled proxy curves
        return None
    # the largest model, first seed: fit on its constant and cosine runs, predict the others
    table = table[(table["N"] == table["N"].max()) & (table["seed"] == table["seed"].min())]
    runs = list(table["run"])
    fit_runs = [r for r in runs if parse(curves.meta[r].schedule).params["family"] in ("constant", "cosine")]
    if len(fit_runs) < 2:
        return None
    say(f"fitting the {law_name} law on {len(fit_runs)} bundled proxy curves and predicting {len(runs) - len(fit_runs)} others")
    split = "val" if "val" in curves.splits else curves.default_split()
    sub = curves.select(runs, split=split).after_warmup()
    law = make_law(law_name).fit(sub, runs=fit_runs)
    held = resolve(sub, runs=[r for r in runs if r not in fit_runs])
    rows = []
    for d in held:
        pred, lo, hi = law.predict_band(d.lr, d.steps)
        m = curve_metrics(d.loss, pred)
        rows.append({"held-out run": d.run, "final": float(d.loss[-1]), "predicted": float(pred[-1]),
                     "err %": 100 * m["PredE"], "worst %": 100 * m["WorstE"],
                     "final err %": 100 * m["FinalE"], "in band": coverage(d.loss, lo, hi)})
    fig = plot_validation(law, held[:6], title=f"Bundled proxy runs ({split} loss): fitted on {', '.join(fit_runs)}")
    _io.save_figure(fig, work / "proxy.png")
    text = (f"CPU runs of lrplan's own trainer (lrplan/data/proxy, 300 steps). Fitted on {', '.join(fit_runs)} "
            f"({split} loss after warmup); the other schedules of that model size and seed are predicted.")
    table = pd.DataFrame(rows).round({"final": 4, "predicted": 4, "err %": 3, "worst %": 3, "final err %": 3, "in band": 2})
    return Section("4. Predict proxy runs of the built-in trainer", text, table, ["proxy.png"])


def run_demo(out: str | os.PathLike = "lrplan-demo", size: str = "100", law: str = "auto", plan: bool = True,
             proxy: bool = True, say: Callable[[str], None] | None = None) -> DemoResult:
    """Run the demo and write its folder ``out`` (replaced as a whole at the end)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from lrplan.datasets import _check_size
    from lrplan.laws import make_law

    make_law(law)  # unknown law names fail here, before any work or output
    size = _check_size(size)
    say = say or (lambda msg: None)
    t0 = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fitted, s1 = _mpl_section(work, size, law, say)
        sections = [s1]
        if plan:
            _, s2 = _plan_section(work, fitted, say)
            sections.append(s2)
        sections.append(_recommend_section(work, say))
        if proxy:
            s4 = _proxy_section(work, law, say)
            if s4 is not None:
                sections.append(s4)
        result = DemoResult(out, sections, time.perf_counter() - t0)
        _io.write_text(work / "report.md", result.markdown())
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(work, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(work, out)
        return result
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
