"""Plan a schedule: family search, free-form optimisation, baselines, predicted gains with bands.

>>> from lrplan.plan import plan_schedule, Constraints, MPL
>>> law = MPL(2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644)
>>> c = Constraints.build(steps=24000, peak=3e-4, warmup=2160)
>>> p = plan_schedule(law, c)                       # doctest: +SKIP
>>> p.gains()                                        # doctest: +SKIP
{'cosine to 10%': 0.065, 'wsd 20% linear': 0.0029}

Everything is a prediction of the fitted law (nats, at the checkpoint steps); the band comes from
the law's bootstrap refits when it has them, widened to contain its fit-window refits (fits with
the first 10/20/30 % of each curve dropped, ``lrplan fit --window-refits``) and its reference-shape
refits (the multi-power law refitted with the published beta and gamma, ``lrplan fit
--shape-refits``) when it has those.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from lrplan.plan.constraints import Constraints
from lrplan.plan.freeform import default_init, optimize_freeform
from lrplan.plan.objectives import Ensemble, Objective
from lrplan.plan.search import Candidate, baselines, search_families
from lrplan.schedules import Schedule, custom

#: free-form blocks the planner uses unless told otherwise: 32 geometric blocks (finer towards the
#: end, geometric decay inside each). On the multi-power-law data a per-step plan is predicted better
#: by at most 0.0002 nats; on the built-in trainer, with MPL fitted on short constant + cosine runs,
#: the per-step plan exploited the law with abrupt drops and trained 0.034 (T1 = 200) and 0.061
#: (T1 = 1000) nats/byte worse than the 32-block plan (benchmarks/RESULTS.md, plan_vs_training*).
#: More blocks: ``resolution=4096``. ``lrplan plan --resolution`` repeats this default as a literal
#: (the CLI does not import numpy at start-up); a test keeps the two equal.
DEFAULT_RESOLUTION = 32


@dataclass
class Plan:
    """A planned schedule and its predictions.

    Attributes:
        schedule: the planned per-step LR (absolute).
        constraints: what it satisfies.
        objective: weighted predicted loss at the checkpoints (nats) under the optimised objective.
        method: ``freeform`` or ``family`` (the best family schedule won, e.g. ``freeform=False``).
        families: the family candidates, best first.
        baselines: reference schedules (cosine to 10 %, WSD 20 % linear).
        predicted: per schedule name ("plan", "best family", baselines): predicted loss at the
            checkpoints (point fit) and, with a band model, the band of the final loss.
        gain_band: per baseline, the central band of (baseline - plan) final loss over bootstrap fits,
            widened to contain the fit-window and shape refits' gains.
        levels: free-form optimisation levels (blocks, iterations, objective).
        seconds: wall-clock planning time.
    """

    schedule: Schedule
    constraints: Constraints
    objective: float
    method: str
    families: list[Candidate]
    baselines: dict[str, Schedule]
    predicted: dict[str, dict] = field(default_factory=dict)
    gain_band: dict[str, list[float]] = field(default_factory=dict)
    levels: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    law: dict = field(default_factory=dict)

    def final(self, name: str = "plan") -> float:
        return self.predicted[name]["final"]

    def gains(self) -> dict[str, float]:
        """Predicted final-loss gain (nats) of the plan over each baseline (positive = plan better)."""
        return {k: self.final(k) - self.final("plan") for k in self.baselines}

    def to_dict(self) -> dict:
        return {
            "steps": self.constraints.steps,
            "peak_lr": self.schedule.peak,
            "method": self.method,
            "objective": self.objective,
            "constraints": self.constraints.to_dict(),
            "law": self.law,
            "predicted": self.predicted,
            "gain": self.gains(),
            "gain_band": self.gain_band,
            "best_family": self.families[0].spec if self.families else None,
            "families": [{"spec": f.spec, "objective": f.objective} for f in self.families],
            "baselines": {k: s.spec for k, s in self.baselines.items()},
            "optimisation": {"levels": self.levels, "seconds": self.seconds},
            "lr_milestones": milestones(self.schedule.array()),
        }


def milestones(lr: np.ndarray) -> dict:
    """First step at which the LR falls below 99/50/10/1 % of its peak, and the final LR."""
    p = float(lr.max())
    out = {}
    start = int(np.argmax(lr))
    for q in (0.99, 0.5, 0.1, 0.01):
        below = np.flatnonzero(lr[start:] < q * p)
        out[f"below_{q:g}x"] = int(below[0] + start) if below.size else None
    out["final_lr"] = float(lr[-1])
    return out


#: plans longer than this multiple of the fitted steps warn when the fit has no window refits
EXTRAPOLATION_WARN = 1.5


def _warn_band_limits(steps: int, info: dict) -> None:
    """Warn when the fit's bands leave out an error they could include: extrapolation far past the
    fitted steps without window refits, an MPL shape on its bound without a shape refit."""
    import warnings

    from lrplan.errors import LrplanWarning

    fitted = info.get("fitted_steps")
    if fitted and steps > EXTRAPOLATION_WARN * fitted and not info.get("window_refits"):
        warnings.warn(f"plan for {steps} steps from curves fitted up to step {fitted}: the bands cover the fit's "
                      "parameter noise only; refit with `lrplan fit --window-refits 0.1,0.2,0.3` to include the "
                      "extrapolation error (see docs/planner.md)", LrplanWarning, stacklevel=3)
    shape_at_bound = {"mpl.beta", "mpl.gamma"} & set(info.get("at_bound", []))
    if shape_at_bound and not info.get("shape_refits"):
        warnings.warn("the fit's annealing shape (beta/gamma) sits on a bound, so the fitting curves do not pin it "
                      "down and gains over other cooldowns can be far off; refit with `lrplan fit --shape-refits` "
                      "to widen the bands by the published shape, or without `--mpl-shape free` to fit with it "
                      "(see docs/laws.md)", LrplanWarning, stacklevel=3)


def plan_schedule(objective: Objective, constraints: Constraints, freeform: bool = True, families: bool = True,
                  band_model: Ensemble | None = None, level: float = 0.9, resolution: int = DEFAULT_RESOLUTION,
                  maxiter: int = 400, progress=None, law_info: dict | None = None, ftol: float | None = None) -> Plan:
    """Plan the schedule that minimises ``objective`` under ``constraints``.

    Args:
        objective: the law to optimise (point fit, or an Ensemble for the robust option).
        constraints: see :class:`~lrplan.plan.constraints.Constraints`.
        freeform: run the free-form optimiser (started from the best family schedule).
        families: run the family search (if both are off, this is an error).
        band_model: bootstrap fits used for bands on predictions and gains (optional); its fit-window
            and shape refits (``band_model.window``) widen every band to contain their predictions.
        level: band coverage (0.9 = 5 %..95 % of the bootstrap predictions).
        resolution, maxiter, ftol: free-form settings (see :func:`optimize_freeform`).
    """
    from lrplan.errors import ConfigError

    if not (freeform or families):
        raise ConfigError("planner: nothing to do (both the free-form and the family search are off)")
    t0 = time.perf_counter()
    c = constraints
    _warn_band_limits(c.steps, law_info or {})
    cands = search_families(objective, c) if families else []
    levels: list[dict] = []
    if freeform:
        # start from the best few family schedules and the default WSD-like start (non-convex problem)
        init = [x.schedule.array() for x in cands[:3]] + [default_init(c)]
        res = optimize_freeform(objective, c, init=init, resolution=resolution, maxiter=maxiter, progress=progress,
                                **({} if ftol is None else {"ftol": ftol}))
        levels = res.levels
        if cands and cands[0].objective < res.objective:
            sched, obj, method = cands[0].schedule, cands[0].objective, "family"
        else:
            sched, obj, method = custom(res.lr, spec=""), res.objective, "freeform"
    else:
        sched, obj, method = cands[0].schedule, cands[0].objective, "family"
    seconds = time.perf_counter() - t0
    base = baselines(c)
    named = {"plan": sched}
    if cands:
        named["best family"] = cands[0].schedule
    named.update(base)
    last = [c.steps - 1]
    predicted, per_member = {}, {}
    for name, s in named.items():
        lr = s.array()
        entry = {"final": float(objective.loss(lr, last)[0]),
                 "checkpoints": {int(k): float(v) for k, v in zip(c.checkpoints, objective.loss(lr, c.checkpoints))}}
        if name != "plan" and name != "best family":
            entry["spec"] = s.spec
        if band_model is not None:
            vals = np.array([m.loss(lr, last)[0] for m in band_model.members])
            wvals = np.array([m.loss(lr, last)[0] for m in band_model.window])
            entry["band"] = [float(x) for x in band_model.interval(vals, wvals, level)]
            per_member[name] = vals, wvals
        predicted[name] = entry
    gain_band = {}
    if band_model is not None:
        for name in base:
            diff, wdiff = (a - b for a, b in zip(per_member[name], per_member["plan"]))
            gain_band[name] = [float(x) for x in band_model.interval(diff, wdiff, level)]
    return Plan(schedule=sched, constraints=c, objective=float(obj), method=method, families=cands, baselines=base,
                predicted=predicted, gain_band=gain_band, levels=levels, seconds=seconds, law=law_info or {})
