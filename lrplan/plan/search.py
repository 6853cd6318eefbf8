"""Search over schedule families and their knobs under a fitted law.

Candidates (all with the constraint's warmup, peak and floor; see :mod:`lrplan.schedules`):

* ``wsd`` with each cooldown shape (linear, cosine, exp, 1-sqrt, square, mirror-cosine; Hagele et
  al. 2024, arXiv:2405.18392): the cooldown length (steps) is optimised in [1, longest allowed];
* ``cosine`` and ``linear``: the floor (as a fraction of the peak) is optimised in
  [constraint floor, 1); the bound gives "decay to zero" / "linear to floor";
* ``rex`` to the floor, and ``constant`` (the do-nothing reference).

cosine/linear/rex decay from the end of warmup, so they are only candidates when no
``max_cooldown`` is set. Knobs are optimised with scipy's bounded scalar search on the objective
(weighted predicted loss at the checkpoints); each evaluation is O(T).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrplan.plan.constraints import Constraints
from lrplan.plan.objectives import Objective
from lrplan.schedules import COOLDOWN_SHAPES, Schedule, constant, cosine, linear, rex, wsd


@dataclass
class Candidate:
    """One family schedule and its objective value (weighted predicted loss, nats)."""

    schedule: Schedule
    objective: float

    @property
    def spec(self) -> str:
        return self.schedule.spec


def _warm(c: Constraints) -> dict:
    return {"warmup": c.warmup, "warmup_start": c.warmup_start, "warmup_style": c.warmup_style}


def baselines(c: Constraints) -> dict[str, Schedule]:
    """The two reference schedules a plan is compared with, at the constraint's peak and warmup:
    cosine to 10 % of the peak and WSD with a 20 % linear cooldown to zero."""
    return {
        "cosine to 10%": cosine(peak=c.peak, steps=c.steps, floor="0.1x", **_warm(c)),
        "wsd 20% linear": wsd(peak=c.peak, steps=c.steps, cooldown=max(1, min(round(0.2 * c.steps), c.steps - c.warmup)),
                              shape="linear", floor=0.0, **_warm(c)),
    }


def search_families(objective: Objective, c: Constraints, shapes=COOLDOWN_SHAPES, xatol: float = 1e-3) -> list[Candidate]:
    """Optimise every family's knobs under ``c``; returns candidates sorted best first.

    ``xatol`` is the knob tolerance as a fraction of its range.
    """
    from scipy.optimize import minimize_scalar

    p, T = c.peak, c.steps
    floor = c.floor_lr(p)
    warm = _warm(c)
    cps, wts = c.checkpoints, c.weights

    def score(s: Schedule) -> float:
        return float(np.dot(wts, objective.loss(s.array(), cps)))

    out: list[Candidate] = [Candidate(s := constant(peak=p, steps=T, **warm), score(s))]
    longest = T - c.decay_start
    for shape in shapes:
        if shape == "exp" and floor <= 0:
            continue
        make = lambda n, shape=shape: wsd(peak=p, steps=T, cooldown=int(n), shape=shape, floor=floor, **warm)  # noqa: E731
        if longest <= 3:
            best_n = min(range(1, longest + 1), key=lambda n: score(make(n)))
        else:
            r = minimize_scalar(lambda x: score(make(round(x))), bounds=(1, longest), method="bounded",
                                options={"xatol": max(0.5, xatol * longest)})
            best_n = int(round(r.x))
            # the bounded search never evaluates the end points exactly
            best_n = min((best_n, longest), key=lambda n: score(make(n)))
        s = make(best_n)
        out.append(Candidate(s, score(s)))
    if c.max_cooldown is None or c.decay_start <= c.warmup:
        lo = floor / p
        for fam in (cosine, linear):
            make = lambda r, fam=fam: fam(peak=p, steps=T, floor=float(r) * p, **warm)  # noqa: E731
            if lo < 1:
                res = minimize_scalar(lambda r: score(make(r)), bounds=(lo, 1.0), method="bounded",
                                      options={"xatol": xatol})
                r = min((max(lo, round(float(res.x), 4)), lo), key=lambda r: score(make(r)))
            else:
                r = lo
            s = make(r)
            out.append(Candidate(s, score(s)))
        s = rex(peak=p, steps=T, floor=floor, **warm)
        out.append(Candidate(s, score(s)))
    return sorted(out, key=lambda cand: cand.objective)
