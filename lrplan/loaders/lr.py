"""Rebuild the LR of runs that did not log it (W&B exports, torchtitan and nanoGPT consoles, ...)
from the schedule they were trained with.

>>> curves = with_schedule(load("torchtitan.log"), "cosine:peak=3e-4,warmup=200,floor=0.1x")  # doctest: +SKIP

The schedule (a :func:`lrplan.schedules.parse` spec; absolute LR) is evaluated at every logged
step of each run; without ``steps=`` in the spec its length is the run's last logged step + 1.
Only missing LR values are filled unless ``overwrite``; where a run did log its LR, a schedule
that disagrees by more than 1% is reported with a warning (a wrong spec is a silent error in
every law fitted afterwards). ``RunMeta.schedule``/``peak_lr`` are set and ``extra["lr_source"]``
says ``schedule`` (every value rebuilt) or ``logged+schedule`` (gaps filled).
"""

from __future__ import annotations

import re
from typing import Iterable

import numpy as np

from lrplan.curves import Curves, RunMeta
from lrplan.errors import LoadError
from lrplan.loaders._common import warn

_HAS_STEPS = re.compile(r"(^|[:,+])\s*steps\s*=")


def with_schedule(curves: Curves, spec: str, runs: Iterable[str] | None = None, overwrite: bool = False) -> Curves:
    """A copy of ``curves`` whose missing LR values (all of them with ``overwrite``) come from ``spec``."""
    from lrplan.schedules import parse

    runs = list(curves.runs if runs is None else runs)
    unknown = [r for r in runs if r not in curves.meta]
    if unknown:
        raise LoadError(f"{curves.source}: no run named {unknown[0]!r}; runs: {', '.join(curves.runs[:10])}")
    data = curves.data.copy()
    meta = {r: RunMeta(**{**m.__dict__, "extra": dict(m.extra)}) for r, m in curves.meta.items()}
    for run in runs:
        mask = (data["run"] == run).to_numpy()
        steps = data.loc[mask, "step"].to_numpy()
        sched = parse(spec) if _HAS_STEPS.search(spec) else parse(spec, int(steps.max()) + 1)
        if steps.max() >= sched.steps:
            warn(f"run {run!r} logs steps up to {int(steps.max())} but schedule {sched.spec!r} has {sched.steps}; "
                 "the LR after its end is held at the last value")
        lr_sched = np.asarray(sched(steps), dtype=np.float64)
        logged = data.loc[mask, "lr"].to_numpy()
        have = np.isfinite(logged)
        if have.any():
            denom = np.maximum(np.abs(logged[have]), 1e-12 * max(sched.peak, 1e-30))
            worst = float(np.max(np.abs(lr_sched[have] - logged[have]) / denom))
            if worst > 0.01:
                warn(f"run {run!r}: the logged LR differs from schedule {sched.spec!r} by up to {100 * worst:.3g}%")
        new = lr_sched if overwrite else np.where(have, logged, lr_sched)
        data.loc[mask, "lr"] = new
        m = meta[run]
        m.schedule, m.peak_lr = sched.spec, float(sched.peak)
        m.extra["lr_source"] = "schedule" if overwrite or not have.any() else "logged+schedule"
    return Curves(data, meta, source=curves.source, _validated=True)
