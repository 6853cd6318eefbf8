"""Turn logged curves into :class:`~lrplan.forgetting.cpt.ContinualRun` objects and forgetting curves.

Two sources:

* a trainer run folder (``curves.csv`` + ``meta.json`` of :mod:`lrplan.train`): the per-step LR
  comes from the ``train`` rows, the switch step and replay fraction from the config's data
  mixture (second phase start; weight of the first phase's corpus in the second phase);
* any :class:`~lrplan.curves.Curves` table with the switch step and replay fraction given
  explicitly, the LR from the ``lr`` column (when logged at every step) or from the run's
  schedule spec.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lrplan.curves import Curves
from lrplan.errors import ConfigError, LoadError
from lrplan.forgetting.clocks import elapsed
from lrplan.forgetting.cpt import ContinualRun


def per_step_lr(curves: Curves, run: str) -> np.ndarray:
    """Absolute LR at every step 0..T-1 of ``run``: from a split that logs LR at every step, else
    from the run's schedule spec (:attr:`RunMeta.schedule`)."""
    d = curves.data[curves.data["run"] == run]
    for _, g in d.groupby("split"):
        g = g.sort_values("step")
        steps, lr = g["step"].to_numpy(), g["lr"].to_numpy(float)
        if steps[0] == 0 and np.all(np.diff(steps) == 1) and np.all(np.isfinite(lr)):
            return lr
    spec = curves.meta[run].schedule if run in curves.meta else None
    if spec and spec != "custom":
        from lrplan.errors import SpecError
        from lrplan.schedules import parse

        try:  # a spec with its own length (the trainer's meta.json) ...
            return parse(spec).array()
        except SpecError:  # ... or one sized by the logged steps
            return parse(spec, int(d["step"].max()) + 1).array()
    raise LoadError(f"{curves.source}: run {run!r} logs no LR at every step and has no schedule spec; "
                    "the CPT law needs the LR of every step")


def mixture_switch(config: dict, source: str = "meta.json") -> tuple[int, float]:
    """(switch step, replay fraction) of a trainer config with a two-phase data mixture."""
    phases = sorted(config.get("mixture") or [], key=lambda p: p[0])
    if len(phases) < 2:
        raise LoadError(f"{source}: the run has no data switch (its mixture has {len(phases)} phase(s))")
    (_, first), (switch, second) = phases[0], phases[1]
    total = sum(second.values())
    old = [n for n, w in first.items() if w > 0]
    replay = sum(second.get(n, 0.0) for n in old) / total if total > 0 else 0.0
    return int(switch), float(replay)


def from_trainer_run(folder, split: str, name: str | None = None) -> ContinualRun:
    """A :class:`ContinualRun` for evaluation split ``split`` of a trainer run folder."""
    from lrplan.train.results import load_run, read_meta

    meta = read_meta(folder)
    if meta is None:
        raise LoadError(f"{folder}: no meta.json (not a trainer run folder)")
    curves = load_run(folder)
    switch, replay = mixture_switch(meta.get("config") or {}, f"{Path(folder) / 'meta.json'}")
    return from_curves(curves, meta["run"], split, switch, replay, name=name or meta["run"],
                       params=meta.get("params"))


def from_curves(curves: Curves, run: str, split: str, switch: int, replay: float = 0.0, name: str | None = None,
                params: float | None = None) -> ContinualRun:
    """A :class:`ContinualRun` from a curve table (evaluation points of ``split``)."""
    lr = per_step_lr(curves, run)
    c = curves.curve(run, split)
    if c.empty:
        raise LoadError(f"{curves.source}: run {run!r} has no rows in split {split!r}; splits: {', '.join(curves.splits)}")
    c = c[c["step"] < lr.size]
    return ContinualRun(lr, switch, c["step"].to_numpy(), c["loss"].to_numpy(), replay=replay,
                        params=params if params is not None else curves.meta[run].params, name=name or run)


def forgetting_curve_points(run: ContinualRun, clock: str = "lr_area", baseline: str = "last",
                            weight_decay: float | None = None, tokens_per_step: float | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
    """(tau, Delta L) after the switch: the loss change since the last evaluation before the
    switch (``baseline="last"``), on the chosen clock (``tokens`` needs ``tokens_per_step``).
    Delta L > 0 on the old domain = forgetting."""
    before = run.steps < run.switch
    if not before.any():
        raise ConfigError(f"{run.name}: no evaluation before the switch step {run.switch}; cannot measure a loss change")
    if baseline != "last":
        raise ConfigError(f"baseline: only 'last' (the last evaluation before the switch) is supported, got {baseline!r}")
    t0 = int(run.steps[before][-1])
    l0 = float(run.loss[before][-1])
    after = run.steps >= run.switch
    tau = elapsed(run.steps[after], t0, clock, lr=run.lr, tokens=None if tokens_per_step is None else np.arange(run.lr.size) * float(tokens_per_step),
                  weight_decay=weight_decay)
    return np.concatenate([[0.0], tau]), np.concatenate([[0.0], run.loss[after] - l0])
