"""A small robust fit engine shared by the loss laws, forgetting laws and hyper-parameter laws.

A model is a function ``model(theta) -> pred`` or ``-> (pred, jac)`` of a parameter vector
``theta`` (natural units, in the order of the declared :class:`Param` list), returning the
predicted values at the data points (and d pred / d theta, shape (n, p)). :func:`fit` minimises

    sum_i Huber_delta(w_i * (log y_i - log pred_i))      (``loss="huber"``, ``log=True``; default)
    or sum_i (w_i * (y_i - pred_i))^2 / 2                 (``loss="linear"``, ``log=False``)

with :func:`scipy.optimize.least_squares` (trust-region reflective, bounds, analytic Jacobian
when the model returns one; its ``huber`` loss with ``f_scale=delta`` is exactly Huber_delta).
Positive scale parameters are optimised in log space (``Param(log=True)``). Several starts are
tried (multi-start) and the lowest objective wins. :func:`profile_linear` solves the parameters
that enter linearly (variable projection) for given nonlinear ones, to seed starts cheaply.

The :class:`FitResult` carries the parameters, the objective, convergence, in-sample metrics
and identifiability diagnostics: the condition number of the Jacobian (in the optimiser's
coordinates) and approximate standard errors from (J^T J)^-1 scaled by the residual variance;
parameters whose relative standard error exceeds ``1`` or a Jacobian condition number above
``1e10`` produce warnings. Failure to converge from every start raises :class:`FitError` with a
one-line message.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from lrplan._blas import one_blas_thread
from lrplan.errors import ConfigError, FitError, LrplanWarning


@dataclass
class Param:
    """A fitted parameter: start value, bounds (natural units) and whether to optimise its log."""

    name: str
    init: float
    lo: float = -math.inf
    hi: float = math.inf
    log: bool = False

    def to_z(self, x):
        return np.log(x) if self.log else np.asarray(x, dtype=np.float64)

    def from_z(self, z):
        return np.exp(z) if self.log else z


@dataclass
class FitResult:
    """Outcome of :func:`fit`: ``params`` (name -> value), ``theta`` (vector), ``cost`` (objective),
    ``success``, ``nfev``, ``metrics`` (in-sample R2/MAE/PredE on raw values), ``cond`` (Jacobian
    condition number), ``rel_se`` (name -> approximate relative standard error), ``warnings``,
    ``at_bound`` (names of the parameters the solution holds on a bound)."""

    params: dict[str, float]
    theta: np.ndarray
    cost: float
    success: bool
    nfev: int
    metrics: dict[str, float]
    cond: float
    rel_se: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    starts: int = 1
    message: str = ""
    at_bound: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"params": self.params, "cost": self.cost, "success": self.success, "nfev": self.nfev,
                "metrics": self.metrics, "cond": self.cond if math.isfinite(self.cond) else None,
                "rel_se": {k: (v if math.isfinite(v) else None) for k, v in self.rel_se.items()},
                "warnings": self.warnings, "at_bound": list(self.at_bound), "starts": self.starts}


def huber(r, delta: float = 1e-3):
    """Huber_delta(r) = r^2/2 if |r| < delta else delta*(|r| - delta/2) (elementwise)."""
    a = np.abs(r)
    return np.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def profile_linear(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, lo=None, hi=None) -> np.ndarray:
    """Weighted least-squares solution of X c ~ y with optional bounds (variable projection step).

    ``X`` (n, m) columns multiply the linear parameters; ``w`` (n,) residual weights.
    """
    from scipy.optimize import lsq_linear

    Xw = X if w is None else X * w[:, None]
    yw = y if w is None else y * w
    m = X.shape[1]
    lo = np.full(m, -np.inf) if lo is None else np.asarray(lo, dtype=float)
    hi = np.full(m, np.inf) if hi is None else np.asarray(hi, dtype=float)
    scale = np.maximum(np.linalg.norm(Xw, axis=0), 1e-300)
    res = lsq_linear(Xw / scale, yw, bounds=(lo * scale, hi * scale), method="bvls")
    return res.x / scale


def _call(model, theta):
    out = model(theta)
    if isinstance(out, tuple):
        return np.asarray(out[0], dtype=np.float64), np.asarray(out[1], dtype=np.float64)
    return np.asarray(out, dtype=np.float64), None


def objective(model, theta, y, *, loss="huber", delta=1e-3, log=True, weights=None) -> float:
    """The objective :func:`fit` minimises, at ``theta``."""
    pred, _ = _call(model, np.asarray(theta, dtype=np.float64))
    r = _residuals(pred, y, log, weights)
    return float(np.sum(huber(r, delta))) if loss == "huber" else float(0.5 * np.sum(r * r))


def _residuals(pred, y, log, weights):
    if log:
        r = np.log(y) - np.log(np.maximum(pred, 1e-300))
    else:
        r = y - pred
    return r if weights is None else r * weights


def fit(model: Callable, params: Sequence[Param], y, starts: Sequence[Sequence[float]] | None = None, *,
        loss: str = "huber", delta: float = 1e-3, log: bool = True, weights=None, max_nfev: int = 400,
        xtol: float = 1e-10, ftol: float = 1e-12, label: str = "fit") -> FitResult:
    """Fit ``model`` to ``y`` from each start (default: the params' ``init``); keep the best.

    ``starts`` are vectors in natural units, clipped into the bounds. Raises :class:`FitError`
    when no start gives a finite objective.
    """
    from scipy.optimize import least_squares

    params = list(params)
    y = np.asarray(y, dtype=np.float64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if y.size < len(params):
        raise FitError(f"{label}: too few points ({y.size}) for {len(params)} parameters")
    if log and np.any(y <= 0):
        raise FitError(f"{label}: non-positive values cannot be fitted on log scale")
    zlo = np.array([p.to_z(p.lo) if not (p.log and p.lo <= 0) else -np.inf for p in params], dtype=float)
    zhi = np.array([p.to_z(p.hi) for p in params], dtype=float)
    logmask = np.array([p.log for p in params])

    def theta_of(z):
        t = z.copy()
        t[logmask] = np.exp(z[logmask])
        return t

    def fun(z):
        pred, _ = _call(model, theta_of(z))
        r = _residuals(pred, y, log, w)
        return np.where(np.isfinite(r), r, 1e3)

    def jac(z):
        theta = theta_of(z)
        pred, J = _call(model, theta)
        J = J.copy()
        J[:, logmask] *= theta[logmask]
        J = -J / np.maximum(pred, 1e-300)[:, None] if log else -J
        if w is not None:
            J *= w[:, None]
        return np.where(np.isfinite(J), J, 0.0)

    has_jac = _call(model, np.array([p.init for p in params], dtype=float))[1] is not None
    starts = [np.array([p.init for p in params], dtype=float)] if starts is None else [np.asarray(s, dtype=float) for s in starts]
    best, n_ok = None, 0
    for s in starts:
        z0 = np.array([p.to_z(v) for p, v in zip(params, s)], dtype=float)
        eps = 1e-9 * np.maximum(1.0, np.abs(z0))
        z0 = np.clip(z0, zlo + eps, zhi - eps)
        try:
            # least_squares takes a dense SVD of the Jacobian per iteration: threaded OpenBLAS is
            # 3-100x slower on these small problems when the cores are busy (lrplan._blas)
            with np.errstate(all="ignore"), one_blas_thread():
                res = least_squares(fun, z0, jac=jac if has_jac else "2-point", bounds=(zlo, zhi),
                                    loss="huber" if loss == "huber" else "linear", f_scale=delta,
                                    max_nfev=max_nfev, xtol=xtol, ftol=ftol, gtol=1e-12, x_scale="jac")
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
        if not np.isfinite(res.cost):
            continue
        n_ok += 1
        if best is None or res.cost < best.cost:
            best = res
    if best is None:
        raise FitError(f"{label}: the fit did not converge from any of {len(starts)} start(s)")
    theta = theta_of(best.x)
    pred, _ = _call(model, theta)
    r = _residuals(pred, y, log, w)
    cost = float(np.sum(huber(r, delta))) if loss == "huber" else float(0.5 * np.sum(r * r))
    if not np.isfinite(cost):
        raise FitError(f"{label}: the fit did not converge (non-finite objective)")
    cond, rel_se, warns, at_bound = _diagnostics(best, params, theta, r, y.size, label)
    resid = y - pred
    ss = float(np.sum((y - y.mean()) ** 2))
    metrics = {"R2": 1 - float(np.sum(resid ** 2)) / ss if ss > 0 else float("nan"),
               "MAE": float(np.mean(np.abs(resid))), "PredE": float(np.mean(np.abs(resid) / np.abs(y)))}
    success = bool(best.status > 0)
    if not success:
        warns.append(f"{label}: optimiser stopped before convergence ({best.message})")
    return FitResult(dict(zip([p.name for p in params], map(float, theta))), theta, cost, success, int(best.nfev),
                     metrics, cond, rel_se, warns, n_ok, str(best.message), at_bound)


def _diagnostics(res, params, theta, r, n, label):
    J = np.asarray(res.jac, dtype=np.float64)
    free = res.active_mask == 0  # parameters at an active bound are not free
    names = [p.name for p in params]
    rel = {k: float("nan") for k in names}
    warns = []
    try:
        sv = np.linalg.svd(J[:, free], compute_uv=False)
        cond = float(sv[0] / sv[-1]) if sv.size and sv[-1] > 0 else float("inf")
        dof = max(n - int(free.sum()), 1)
        s2 = float(np.sum(r * r)) / dof
        cov = np.linalg.pinv(J[:, free].T @ J[:, free]) * s2
        se_z = np.sqrt(np.maximum(np.diag(cov), 0.0))
        for i, k in zip(np.flatnonzero(free), se_z):
            p = params[i]
            rel[p.name] = float(k if p.log else k / max(abs(theta[i]), 1e-300))
    except np.linalg.LinAlgError:
        cond = float("inf")
    poor = [k for k, v in rel.items() if math.isfinite(v) and v > 1.0]
    if poor:
        warns.append(f"{label}: poorly identified parameter(s) {', '.join(poor)} (relative standard error > 100 %)")
    if cond > 1e10:
        warns.append(f"{label}: ill-conditioned fit (Jacobian condition number {cond:.1e}); parameters trade off")
    at_bound = [params[i].name for i in np.flatnonzero(res.active_mask != 0)]
    if at_bound:
        warns.append(f"{label}: parameter(s) at a bound: {', '.join(at_bound)}")
    return cond, rel, warns, at_bound


def warn_all(messages: Sequence[str]) -> None:
    """Emit each message as an :class:`LrplanWarning`."""
    for m in messages:
        warnings.warn(LrplanWarning(m), stacklevel=3)


def band_z(level: float) -> float:
    """Two-sided normal quantile of a band ``level`` in (0, 1) (0.9 -> 1.645)."""
    from scipy.stats import norm

    if not 0 < level < 1:
        raise ConfigError(f"band level must be in (0, 1), got {level}")
    return float(norm.ppf(0.5 + level / 2))


def bootstrap_weights(sizes: Sequence[int], rng: np.random.Generator, curves: bool = True) -> tuple[list[int], np.ndarray]:
    """One bootstrap draw over curves of ``sizes`` points: curves resampled with replacement
    (``curves=False``: every curve kept once, a stratified draw for designs of few curves, each
    its own schedule) and, within each drawn curve, moving blocks of points (up to 10 blocks of >= 5
    points). Returns the indices of the drawn curves and the residual weights of their points,
    concatenated in that order (sqrt of the multiplicity; a point in no drawn block keeps a small
    weight so that every curve's schedule information stays in the fit)."""
    counts = (np.bincount(rng.integers(0, len(sizes), len(sizes)), minlength=len(sizes)) if curves
              else np.ones(len(sizes), dtype=int))
    use = [i for i in range(len(sizes)) if counts[i] > 0]
    w = []
    for i in use:
        n = int(sizes[i])
        nb = max(1, min(10, n // 5))
        edges = np.linspace(0, n, nb + 1).astype(int)
        mult = np.zeros(n)
        for b in rng.integers(0, nb, nb):
            mult[edges[b]:edges[b + 1]] += 1
        w.append(np.sqrt(np.maximum(mult, 1e-3) * counts[i]))
    return use, np.concatenate(w) if w else np.zeros(0)
