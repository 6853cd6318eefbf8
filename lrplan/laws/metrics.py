"""Curve-prediction metrics of the multi-power-law benchmark (Luo et al. 2025, arXiv:2503.12811).

Computed per curve on the raw loss L (nats) and the prediction Lhat at the logged steps, then
averaged over curves (:func:`average`):

* R2 = 1 - sum (L - Lhat)^2 / sum (L - mean L)^2
* MAE = mean |L - Lhat|; RMSE = sqrt(mean (L - Lhat)^2)
* PredE = mean |L - Lhat| / L; WorstE = max |L - Lhat| / L
* FinalE = |L - Lhat| / L at the last logged step (lrplan's addition)
"""

from __future__ import annotations

import numpy as np

NAMES = ("R2", "MAE", "RMSE", "PredE", "WorstE", "FinalE")


def curve_metrics(loss, pred) -> dict[str, float]:
    """Metrics of one curve (``loss``, ``pred``: raw loss in nats at the same steps)."""
    y = np.asarray(loss, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    r = y - p
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    rel = np.abs(r) / y
    return {
        "R2": 1.0 - float(np.sum(r ** 2)) / ss_tot if ss_tot > 0 else float("nan"),
        "MAE": float(np.mean(np.abs(r))),
        "RMSE": float(np.sqrt(np.mean(r ** 2))),
        "PredE": float(np.mean(rel)),
        "WorstE": float(np.max(rel)),
        "FinalE": float(rel[-1]),
    }


def average(per_curve: dict[str, dict[str, float]]) -> dict[str, float]:
    """Arithmetic mean of each metric over curves."""
    rows = list(per_curve.values())
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def coverage(loss, lo, hi) -> float:
    """Fraction of observed points inside [lo, hi]."""
    y = np.asarray(loss)
    return float(np.mean((y >= np.asarray(lo)) & (y <= np.asarray(hi))))
