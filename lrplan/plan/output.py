"""Write a plan folder: ``plan.json``, ``lr.csv`` (step,lr), ``lr_scheduler.py`` (PyTorch LambdaLR
snippet reading lr.csv), ``predicted.csv`` (predicted loss curves) and ``plan.png``.

Everything is computed first and written into a temporary folder next to the target, which is then
renamed into place (or its files moved one by one with atomic replaces if the target folder
already exists), so an error never leaves a half-written plan behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from lrplan import _io
from lrplan.plan.objectives import Ensemble, Objective
from lrplan.plan.planner import Plan
from lrplan.schedules import to_csv, torch_snippet

FILES = ("plan.json", "lr.csv", "lr_scheduler.py", "predicted.csv", "plan.png")


def predicted_curves(plan: Plan, objective: Objective, band_model: Ensemble | None = None, points: int = 120,
                     level: float = 0.9) -> dict:
    """Predicted loss of the plan, the best family and the baselines at ``points`` steps after warmup."""
    c = plan.constraints
    start = max(c.warmup, 1)
    steps = np.unique(np.linspace(start, c.steps - 1, points).round().astype(np.int64))
    named = {"plan": plan.schedule, **plan.baselines}
    out = {}
    for name, s in named.items():
        lr = s.array()
        cv = {"steps": steps, "loss": objective.loss(lr, steps)}
        if band_model is not None:
            _, lo, hi = band_model.band(lr, steps, level)
            cv["lo"], cv["hi"] = lo, hi
        out[name] = cv
    return out


def write_plan(plan: Plan, out: str | os.PathLike, objective: Objective, band_model: Ensemble | None = None,
               plot: bool = True, extra: dict | None = None, tables: dict | None = None) -> Path:
    """Write the plan folder ``out`` (see module docstring); returns its path.

    ``extra``: more keys for plan.json (e.g. ``target`` for an (N, D) plan); ``tables``: more CSV
    files, name -> DataFrame (e.g. ``ramp.csv``).
    """
    import pandas as pd

    out = Path(out)
    if out.exists() and not out.is_dir():
        from lrplan.errors import ConfigError

        raise ConfigError(f"{out}: exists and is not a folder")
    curves = predicted_curves(plan, objective, band_model)
    fig = None
    if plot:
        from lrplan.plots.plan import plot_plan

        lrs = {"plan": plan.schedule.array(), **{k: s.array() for k, s in plan.baselines.items()}}
        gains = ", ".join(f"{k} {v:+.4f}" for k, v in plan.gains().items())
        fig = plot_plan(curves, lrs, title=f"{plan.method} plan, {plan.constraints.steps} steps; predicted gain: {gains}")
    rows = []
    for name, cv in curves.items():
        for i, s in enumerate(cv["steps"]):
            rows.append({"schedule": name, "step": int(s), "loss": float(cv["loss"][i]),
                         "lo": float(cv["lo"][i]) if "lo" in cv else np.nan,
                         "hi": float(cv["hi"][i]) if "hi" in cv else np.nan})
    frame = pd.DataFrame(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _io.write_json(tmp / "plan.json", {**plan.to_dict(), **(extra or {})})
        for name, table in (tables or {}).items():
            _io.write_csv(tmp / name, table, float_format="%.17g")
        to_csv(plan.schedule, tmp / "lr.csv")
        _io.write_text(tmp / "lr_scheduler.py", torch_snippet(plan.schedule, csv_name="lr.csv"))
        _io.write_csv(tmp / "predicted.csv", frame, float_format="%.8g")
        if fig is not None:
            _io.save_figure(fig, tmp / "plan.png")
        if not out.exists():
            os.replace(tmp, out)
        else:
            for f in sorted(tmp.iterdir()):
                os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
