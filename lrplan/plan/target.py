"""LR and batch plan for a target (N parameters, D tokens): hyper-parameter laws + the curve law.

1. The hyper-parameter law (:func:`lrplan.hparams.recommend`, e.g. the Step Law, Li et al. 2025,
   arXiv:2503.04715, or a law fitted on your own grid) gives the peak LR, the batch size B (tokens and
   sequences), the number of steps T = D / B and a warmup.
2. The curve law plans the schedule *shape* for T steps at the peak it was fitted at (laws such as
   MPL are fitted at one peak and batch; the shape is what transfers), and the planned LR is rescaled
   to the recommended peak. Predicted losses and gains are therefore those of the fitted setting.
3. Optional batch-size ramp: the batch grows linearly from ``ramp_start`` x B to B over the first
   ``ramp`` fraction of the D tokens (more optimizer steps early, when the critical batch is small;
   McCandlish et al. 2018, arXiv:1812.06162). The LR follows the planned schedule by token progress
   and is scaled with the batch by the square-root rule (Adam; Malladi et al. 2022), ``lr * sqrt(b/B)``.

Units: N parameters (the law's kind), D tokens, batch in tokens and sequences, LR absolute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lrplan.errors import ConfigError
from lrplan.plan.constraints import Constraints
from lrplan.plan.planner import DEFAULT_RESOLUTION, Plan, plan_schedule
from lrplan.schedules import custom


@dataclass
class TargetPlan:
    """A schedule + batch plan for (N, D).

    Attributes:
        plan: the schedule plan at T = D / B steps (LR rescaled to the recommended peak).
        recommendation: the hyper-parameter law's recommendation (dict; see lrplan.hparams).
        lr_scale: recommended peak / the curve fit's peak (the factor applied to the planned shape).
        batch_seqs: per-step batch in sequences (None without a ramp: constant B).
        ramp: the ramp settings (None without a ramp).
    """

    plan: Plan
    recommendation: dict
    lr_scale: float
    batch_seqs: np.ndarray | None = None
    lr: np.ndarray | None = None
    ramp: dict | None = field(default=None)

    def to_dict(self) -> dict:
        d = {"recommendation": self.recommendation, "lr_scale": self.lr_scale, "ramp": self.ramp}
        if self.batch_seqs is not None:
            d["ramp_steps"] = int(len(self.batch_seqs))
            d["ramp_tokens"] = float(np.sum(self.batch_seqs) * self.recommendation["seq_len"])
        return d


def batch_ramp(lr: np.ndarray, batch_seqs: float, seq_len: int, tokens: float, ramp: float, ramp_start: float,
               multiple_of: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Per-step (batch in sequences, LR) for a linear batch ramp over the first ``ramp`` of the tokens.

    ``lr`` is the planned per-step LR at the constant batch B = ``batch_seqs``; it is followed by
    token progress and scaled by sqrt(b/B). The last step may overshoot ``tokens`` by under a batch.
    """
    if not 0 < ramp < 1:
        raise ConfigError(f"planner: batch ramp must be a fraction of the tokens in (0, 1), got {ramp!r}")
    if not 0 < ramp_start <= 1:
        raise ConfigError(f"planner: ramp start must be a fraction of the batch in (0, 1], got {ramp_start!r}")
    B = float(batch_seqs)
    b, seen = [], 0.0
    ramp_tokens = ramp * tokens
    while seen < tokens:
        frac = min(seen / ramp_tokens, 1.0)
        bt = B * (ramp_start + (1.0 - ramp_start) * frac)
        bt = max(multiple_of, multiple_of * round(bt / multiple_of))
        b.append(bt)
        seen += bt * seq_len
    b = np.array(b, dtype=np.float64)
    progress = (np.cumsum(b) - b) * seq_len / tokens          # tokens seen before each step / D
    idx = np.minimum((progress * len(lr)).astype(np.int64), len(lr) - 1)
    return b, lr[idx] * np.sqrt(b / B)


def plan_for_target(objective, hparam_law, N: float, D: float, fit_peak: float, seq_len: int = 2048,
                    floor=0.0, max_cooldown=None, checkpoints=None, weights=None, band_model=None,
                    ramp: float | None = None, ramp_start: float = 0.25, multiple_of: int = 1,
                    resolution: int = DEFAULT_RESOLUTION, progress=None, law_info: dict | None = None) -> TargetPlan:
    """Plan peak LR, batch, steps and schedule for ``N`` parameters and ``D`` tokens (module doc)."""
    from lrplan.hparams import recommend

    rec = recommend(hparam_law, N, D, seq_len=seq_len)
    if rec.steps < 2:
        raise ConfigError(f"planner: the recommended batch ({rec.batch_tokens:.3g} tokens) leaves {rec.steps} step(s) "
                          f"for D={D:.3g} tokens")
    c = Constraints.build(rec.steps, fit_peak, warmup=min(rec.warmup_steps, rec.steps - 1), floor=floor,
                          max_cooldown=max_cooldown, checkpoints=checkpoints, weights=weights)
    plan = plan_schedule(objective, c, band_model=band_model, resolution=resolution, progress=progress,
                         law_info=law_info)
    scale = rec.lr / fit_peak
    plan.schedule = custom(plan.schedule.array() * scale)
    out = TargetPlan(plan=plan, recommendation=rec.to_dict(), lr_scale=scale)
    if ramp:
        b, lr = batch_ramp(plan.schedule.array(), rec.batch_seqs, seq_len, D, ramp, ramp_start, multiple_of)
        out.batch_seqs, out.lr = b, lr
        out.ramp = {"fraction_of_tokens": ramp, "start_fraction_of_batch": ramp_start, "lr_rule": "sqrt",
                    "steps": int(len(b))}
    return out
