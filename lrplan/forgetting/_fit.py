"""Fitting helpers of the forgetting laws, on top of the shared engine :mod:`lrplan.fitting`.

The recipe of the forgetting-laws reference (Huber with delta ~ 1e-3, bounds, best of a grid of
starts, positive scales in log space) runs through :func:`lrplan.fitting.fit`. The start grids of
these laws are large and their valleys flat (E and beta trade off on short clock ranges), so
:func:`robust_fit` first screens the grid by the objective at each start and optimises only the
best few, each with a capped number of evaluations.
"""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from lrplan.errors import FitError, LoadError
from lrplan.fitting import FitResult, Param, fit, objective


def robust_fit(model: Callable[[np.ndarray], np.ndarray], params: Sequence[Param], y: np.ndarray,
               starts: Sequence[Sequence[float]], *, delta: float = 1e-3, log: bool = False, label: str = "law",
               keep: int = 4, max_nfev: int = 100) -> FitResult:
    """Screen ``starts`` (natural units) by objective, fit from the best ``keep`` with
    :func:`lrplan.fitting.fit` (``max_nfev`` evaluations per parameter)."""
    y = np.asarray(y, dtype=np.float64)
    lo = np.array([p.lo for p in params], float)
    hi = np.array([p.hi for p in params], float)
    ranked = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for s in starts:
            s = np.clip(np.asarray(s, float), lo, hi)
            try:
                cost = objective(model, s, y, delta=delta, log=log)
            except (ValueError, FloatingPointError):
                continue
            if np.isfinite(cost):
                ranked.append((cost, s))
    if not ranked:
        raise FitError(f"{label}: no start gives a finite objective (check the data for NaN/inf)")
    ranked.sort(key=lambda t: t[0])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fit(model, params, y, [s for _, s in ranked[:keep]], delta=delta, log=log,
                   max_nfev=max_nfev * len(params), label=label)


def grid(*axes: Sequence[float]) -> list[tuple[float, ...]]:
    """All combinations of the given start values (a multi-start grid)."""
    return list(itertools.product(*axes))


def r2_score(y: np.ndarray, yhat: np.ndarray) -> float:
    """Coefficient of determination 1 - SSres/SStot (NaN for a constant ``y``)."""
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    sst = float(np.sum((y - y.mean()) ** 2))
    return float("nan") if sst == 0 else 1.0 - float(np.sum((y - yhat) ** 2)) / sst


def read_json(path, what: str) -> dict:
    """Read a fitted-law JSON file; :class:`LoadError` naming ``path`` if it cannot be read."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise LoadError(f"{path}: cannot read a {what} JSON ({type(e).__name__})") from None
