"""Forgetting and continual pre-training laws.

* :mod:`~lrplan.forgetting.clocks`: time since a switch or exposure in steps, tokens, LR area or
  the AdamW weight-decay clock.
* :mod:`~lrplan.forgetting.families`: forgetting-curve families (log, power, shifted power,
  saturating power shift, exponential, mixture of exponentials), fitted and compared.
* :mod:`~lrplan.forgetting.cpt`: the continual pre-training law of Wang et al. 2025 with the
  replay-ratio and model-size extensions (:class:`CPTLaw`, :class:`ContinualRun`).
* :mod:`~lrplan.forgetting.retention`: fact-retention metrics and law of Chang et al. 2024.
"""

from lrplan.forgetting.clocks import CLOCKS, elapsed, lr_area_since
from lrplan.forgetting.cpt import CPTLaw, ContinualRun, annealing_areas
from lrplan.forgetting.families import FAMILIES, ForgettingLaw, compare, forgetting_curve
from lrplan.forgetting.retention import (
    RetentionLaw, acquisition, average_retention, drift_corrected, retainability, retention_report,
)

__all__ = [
    "CLOCKS", "elapsed", "lr_area_since", "CPTLaw", "ContinualRun", "annealing_areas", "FAMILIES",
    "ForgettingLaw", "compare", "forgetting_curve", "RetentionLaw", "acquisition", "average_retention", "drift_corrected",
    "retainability", "retention_report",
]
