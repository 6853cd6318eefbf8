"""Robust least squares used by the forgetting laws: Huber loss, multi-start, bounds.

Until the shared engine (``lrplan.fitting``) offers a generic residual fit, the forgetting laws
use this one small wrapper around :func:`scipy.optimize.least_squares` (``loss="huber"``), so the
fitting recipe of the forgetting-laws reference (Huber with delta ~ 1e-3, bounds, best of a grid of
starts, positive scales in log space) lives in exactly one place of this package.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Callable, Sequence

import numpy as np

from lrplan.errors import FitError


def huber_fit(residuals: Callable[[np.ndarray], np.ndarray], starts: Sequence[Sequence[float]],
              lower: Sequence[float], upper: Sequence[float], delta: float = 1e-3,
              what: str = "law", max_nfev: int = 100, keep: int = 4) -> tuple[np.ndarray, float]:
    """Minimise sum(huber(residuals(theta), delta)) from each start; return (theta, objective).

    ``max_nfev`` (per parameter) caps each start: along the flat valleys of these laws (E and
    beta trade off on short clock ranges) the optimiser would otherwise creep for thousands of
    evaluations at no gain in the objective. Starts are ranked by their initial objective and
    only the best ``keep`` are optimised (a cheap screen of the start grid).

    ``residuals`` maps the parameter vector (in the fit's own coordinates, e.g. log scales) to the
    residual vector. Raises :class:`FitError` if no start gives a finite objective.
    """
    from scipy.optimize import least_squares

    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    eps = np.where(np.isfinite(hi - lo), 1e-9 * (hi - lo), 0.0)
    ranked = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for x0 in starts:
            x0 = np.clip(np.asarray(x0, float), lo + eps, hi - eps)
            x0 = np.where(x0 <= lo, np.nextafter(lo, hi), np.where(x0 >= hi, np.nextafter(hi, lo), x0))
            r0 = residuals(x0)
            if np.all(np.isfinite(r0)):
                ranked.append((float(np.sum(_huber(r0, delta))), x0))
    ranked.sort(key=lambda t: t[0])
    best, best_cost = None, np.inf
    for _, x0 in ranked[:keep]:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                res = least_squares(residuals, x0, bounds=(lo, hi), loss="huber", f_scale=delta,
                                    x_scale="jac", max_nfev=max_nfev * len(x0))
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            continue
        if np.isfinite(res.cost) and res.cost < best_cost:
            best, best_cost = res.x, float(res.cost)
    if best is None:
        raise FitError(f"{what}: no start gave a finite fit (check the data for NaN/inf or too few points)")
    return best, best_cost


def _huber(r: np.ndarray, delta: float) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


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
    import json
    from pathlib import Path

    from lrplan.errors import LoadError

    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise LoadError(f"{path}: cannot read a {what} JSON ({type(e).__name__})") from None
