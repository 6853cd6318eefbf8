"""The planner: the best LR schedule (and peak LR / batch) for a budget under a fitted loss law.

Modules (one job each):

* :mod:`~lrplan.plan.objectives` -- predicted loss of a per-step LR sequence and its exact O(T)
  gradient (multi-power law, momentum law, bootstrap ensembles: mean or upper band).
* :mod:`~lrplan.plan.constraints` -- what a plan must satisfy (peak, warmup, floor, max cooldown,
  checkpoints); infeasible requests raise :class:`~lrplan.errors.ConfigError`.
* :mod:`~lrplan.plan.search` -- family schedules (WSD shapes, cosine, linear, rex) with optimised knobs.
* :mod:`~lrplan.plan.freeform` -- free-form non-increasing schedule, coarse-to-fine L-BFGS-B.
* :mod:`~lrplan.plan.planner` -- :func:`plan_schedule`: search + free-form + baselines + gains.
* :mod:`~lrplan.plan.fits` -- fitted laws (objects, JSON, names) to objectives.
* :mod:`~lrplan.plan.output` -- the plan folder (plan.json, lr.csv, PyTorch snippet, plot).
* :mod:`~lrplan.plan.target` -- peak LR / batch / steps for (N, D) from the hyper-parameter laws,
  optional batch ramp.

User guide: ``docs/planner.md``.
"""

from lrplan.plan.constraints import Constraints
from lrplan.plan.fits import load_objective
from lrplan.plan.freeform import FreeformResult, optimize_freeform
from lrplan.plan.objectives import MPL, Ensemble, Momentum, Objective
from lrplan.plan.planner import DEFAULT_RESOLUTION, Plan, plan_schedule
from lrplan.plan.search import Candidate, baselines, search_families

__all__ = ["Constraints", "load_objective", "FreeformResult", "optimize_freeform", "MPL", "Ensemble", "Momentum",
           "Objective", "Plan", "plan_schedule", "DEFAULT_RESOLUTION", "Candidate", "baselines", "search_families"]
