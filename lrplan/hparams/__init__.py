"""Hyper-parameter and batch-size laws, and the LR/batch recommender (issue 4).

* :mod:`~lrplan.hparams.grid`: results tables of LR x batch grids (units, diverged runs);
* :mod:`~lrplan.hparams.optimum`: each (N, D) cell's optimum (grid argmin, near-optimal set, convex
  bowl with plateau width, edge flags);
* :mod:`~lrplan.hparams.laws`: :class:`HparamLaw` (LR*(N, D), B*(D), compute forms, joint model,
  bootstrap intervals); :mod:`~lrplan.hparams.published`: Step Law and DeepSeek presets;
* :mod:`~lrplan.hparams.batch`: critical batch size, LR-batch coupling, curve transfer across batch;
* :mod:`~lrplan.hparams.recommend`: :func:`recommend` for a target (N, D);
* :mod:`~lrplan.hparams.evaluate`: regret on a run grid, leave-one-cell-out evaluation.

See docs/hparams.md.
"""

from lrplan.hparams.batch import (
    CriticalBatch, critical_batch_table, fit_bcrit_law, fit_critical_batch, scale_lr, steps_to_target,
    transfer_curve,
)
from lrplan.hparams.compute import flops_per_token, training_compute
from lrplan.hparams.evaluate import leave_one_cell_out, regret
from lrplan.hparams.grid import load_grid
from lrplan.hparams.laws import HparamLaw
from lrplan.hparams.optimum import cell_optima, fit_bowl, optima_frame
from lrplan.hparams.published import published
from lrplan.hparams.recommend import Recommendation, recommend

__all__ = [
    "CriticalBatch", "HparamLaw", "Recommendation", "cell_optima", "critical_batch_table", "fit_bcrit_law",
    "fit_bowl", "fit_critical_batch", "flops_per_token", "leave_one_cell_out", "load_grid", "optima_frame",
    "published", "recommend", "regret", "scale_lr", "steps_to_target", "training_compute", "transfer_curve",
]
