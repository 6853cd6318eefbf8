"""Forgetting-curve families on a chosen clock tau (steps, tokens or LR area since the event).

``y`` is either a loss increase since a data switch (Delta L in nats, 0 at tau = 0; positive on the
old domain = forgetting, negative on the new domain = adaptation) or a retainability R of injected
facts (1 at tau = 0, 0 when the gain is gone). ``origin`` is that known value at tau = 0.

=================  ===============================================  ==============================
id                 form                                             source
=================  ===============================================  ==============================
``log``            y = b + a*log10(tau)           (tau > 0)         Chang et al. 2024 (F1)
``power``          y = b*tau^c                    (tau > 0)         Wixted & Ebbesen 1991 (F2)
``shifted_power``  y = m*(1 + h*tau)^(-f)                            Wickelgren (F3)
``saturating``     y = origin + B*(1 - (1 + E*tau)^(-beta))         CPT law shift term, Wang et al.
                                                                    2025, arXiv:2505.07796 (F4)
``exponential``    y = origin + B*(1 - exp(-k*tau))                  baseline (F5)
``mixture``        y = origin + sum_j B_j*(1 - exp(-k_j*tau)),       model-free check of power-ness
                   k_j on a fixed log grid, sign(B_j) common, NNLS  (Kahana & Adler 2002) (F6)
=================  ===============================================  ==============================

Fits minimise a Huber loss (delta in the units of ``y``) with bounds and a start grid; positive
scales (h, E, k) are fitted in log space. :func:`compare` ranks families by held-out error (fit on
the earliest part of the clock, score the rest) and by AIC/BIC.

>>> import numpy as np
>>> tau = np.linspace(0, 4, 200)
>>> law = ForgettingLaw("saturating").fit(tau, 0.37 * (1 - (1 + 28 * tau) ** -0.19))
>>> round(law.params_["B"], 2), round(law.params_["beta"], 2)
(0.37, 0.19)
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from lrplan import _io
from lrplan.errors import FitError, LrplanWarning
from lrplan.fitting import Param
from lrplan.forgetting._fit import grid, r2_score, read_json, robust_fit

FAMILIES = ("log", "power", "shifted_power", "saturating", "exponential", "mixture")


@dataclass(frozen=True)
class _Family:
    names: tuple[str, ...]
    positive_tau: bool                   # needs tau > 0
    fn: Callable[..., np.ndarray]        # fn(tau, origin, **params)


def _log(tau, origin, a, b):
    return b + a * np.log10(tau)


def _power(tau, origin, b, c):
    return b * np.power(tau, c)


def _shifted(tau, origin, m, h, f):
    return m * np.power(1.0 + h * tau, -f)


def _saturating(tau, origin, B, E, beta):
    return origin + B * (1.0 - np.power(1.0 + E * tau, -beta))


def _exponential(tau, origin, B, k):
    return origin + B * (1.0 - np.exp(-k * tau))


_FAM = {
    "log": _Family(("a", "b"), True, _log),
    "power": _Family(("b", "c"), True, _power),
    "shifted_power": _Family(("m", "h", "f"), False, _shifted),
    "saturating": _Family(("B", "E", "beta"), False, _saturating),
    "exponential": _Family(("B", "k"), False, _exponential),
}


def forgetting_curve(family: str, tau, params: dict, origin: float = 0.0) -> np.ndarray:
    """Evaluate a family at clock values ``tau`` (pure function; see the module table)."""
    tau = np.asarray(tau, dtype=np.float64)
    if family == "mixture":
        k = np.asarray(params["k"], float)
        w = np.asarray(params["weights"], float)
        return origin + (1.0 - np.exp(-np.outer(tau, k))) @ w
    if family not in _FAM:
        raise FitError(f"family: unknown forgetting family {family!r}; choose one of {', '.join(FAMILIES)}")
    f = _FAM[family]
    with np.errstate(all="ignore"):
        return f.fn(tau, origin, **{n: params[n] for n in f.names})


def _starts_and_params(family: str, tau: np.ndarray, y: np.ndarray, origin: float):
    """Start grid (natural units) and :class:`~lrplan.fitting.Param` bounds for one family; the
    scales come from the data, rates (h, E, k) are fitted in log space."""
    span = float(np.max(np.abs(y - origin))) or 1.0
    tpos = tau[tau > 0]
    tmed = float(np.median(tpos)) if tpos.size else 1.0
    rates = np.exp(np.log(1.0 / tmed) + np.array([-4.0, -1.0, 2.0, 5.0]))
    sign = 1.0 if np.mean(y - origin) >= 0 else -1.0
    big = 1e3 * (span + abs(origin) + 1)

    def amp(name):
        return Param(name, span, -big, big)

    def rate(name):
        return Param(name, 1.0 / tmed, np.exp(-30.0), np.exp(30.0), log=True)

    def expo(name, lo=1e-4):
        return Param(name, 0.5, lo, 3.0)

    if family == "log":
        return grid([-span, span], [float(np.mean(y))]), [amp("a"), amp("b")]
    if family == "power":
        return grid([float(np.mean(y)) or 1.0], [-0.5, -0.1, 0.1, 0.5]), [amp("b"), expo("c", -3.0)]
    if family == "shifted_power":
        m0 = float(y[np.argmin(tau)]) or span
        return grid([m0], rates, [0.1, 0.5, 1.5]), [amp("m"), rate("h"), expo("f")]
    if family == "saturating":
        return grid([1.5 * sign * span], rates, [0.1, 0.5, 1.5]), [amp("B"), rate("E"), expo("beta")]
    if family == "exponential":
        return grid([sign * span], rates), [amp("B"), rate("k")]
    raise FitError(f"family: unknown forgetting family {family!r}; choose one of {', '.join(FAMILIES)}")


class ForgettingLaw:
    """One forgetting family fitted to (tau, y) points.

    Args:
        family: one of :data:`FAMILIES`.
        origin: value of ``y`` at tau = 0 (0 for a loss increase, 1 for retainability); used by the
            ``saturating``, ``exponential`` and ``mixture`` families.
        delta: Huber delta in the units of ``y`` (1e-3 nats by default).
        clock: name of the clock ``tau`` is on (recorded in reports and JSON).

    Fitted attributes: ``params_`` (dict), ``n_params_``, ``n_points_``, ``r2_``, ``rmse_``,
    ``aic_``, ``bic_`` (Gaussian, ``n ln(RSS/n) + 2k`` / ``+ k ln n``), and for ``mixture``
    ``active_rates_`` (rates with non-zero weight) and ``rate_span_decades_`` (log10 of the
    largest over the smallest active rate: a wide span says the curve is a power law in disguise;
    AIC/BIC count two parameters per active rate).
    """

    def __init__(self, family: str = "saturating", origin: float = 0.0, delta: float = 1e-3, clock: str = "steps",
                 n_rates: int = 24):
        if family not in FAMILIES:
            raise FitError(f"family: unknown forgetting family {family!r}; choose one of {', '.join(FAMILIES)}")
        self.family, self.origin, self.delta, self.clock, self.n_rates = family, float(origin), float(delta), clock, int(n_rates)

    # -- fitting ---------------------------------------------------------------
    def _points(self, tau, y):
        tau, y = np.asarray(tau, float).ravel(), np.asarray(y, float).ravel()
        if tau.shape != y.shape:
            raise FitError(f"{self.family}: tau and y have different lengths ({tau.size} vs {y.size})")
        ok = np.isfinite(tau) & np.isfinite(y) & (tau >= 0)
        if self.family in ("log", "power"):
            ok &= tau > 0
        if np.any(tau[np.isfinite(tau)] < 0):
            raise FitError(f"{self.family}: negative clock values (tau must be measured since the event)")
        tau, y = tau[ok], y[ok]
        need = 2 if self.family == "mixture" else len(_FAM[self.family].names) + 1
        if tau.size < need:
            raise FitError(f"{self.family}: {tau.size} usable point(s), need at least {need}")
        return tau, y

    def fit(self, tau, y) -> "ForgettingLaw":
        tau, y = self._points(tau, y)
        if self.family == "mixture":
            self._fit_mixture(tau, y)
        else:
            fam = _FAM[self.family]

            def model(theta):
                return fam.fn(tau, self.origin, **dict(zip(fam.names, theta)))

            starts, params = _starts_and_params(self.family, tau, y, self.origin)
            res = robust_fit(model, params, y, starts, delta=self.delta, log=False,
                             label=f"forgetting law {self.family!r}")
            self.params_ = {k: float(v) for k, v in res.params.items()}
            self.fit_warnings_ = list(res.warnings)
            if res.at_bound:
                warnings.warn(LrplanWarning(f"forgetting law {self.family!r}: parameter(s) at a bound: "
                                            f"{', '.join(res.at_bound)}; the clock range may be too short to identify them"),
                              stacklevel=2)
        yhat = self.predict(tau)
        n = tau.size
        rss = float(np.sum((y - yhat) ** 2))
        k = self.n_params_
        self.n_points_ = n
        self.r2_ = r2_score(y, yhat)
        self.rmse_ = float(np.sqrt(rss / n))
        ll = n * np.log(max(rss, 1e-300) / n)
        self.aic_ = float(ll + 2 * k)
        self.bic_ = float(ll + k * np.log(n))
        self.tau_range_ = (float(tau.min()), float(tau.max()))
        return self

    def _fit_mixture(self, tau, y):
        from scipy.optimize import nnls

        tpos = tau[tau > 0]
        if tpos.size < 2:
            raise FitError("mixture: needs at least two points with tau > 0")
        k = np.logspace(np.log10(0.1 / tpos.max()), np.log10(10.0 / tpos.min()), self.n_rates)
        z = y - self.origin
        sign = 1.0 if np.sum(z) >= 0 else -1.0
        basis = 1.0 - np.exp(-np.outer(tau, k))
        w, _ = nnls(basis, sign * z)
        self.params_ = {"k": k.tolist(), "weights": (sign * w).tolist()}
        active = k[w > 1e-9 * max(w.max(), 1e-300)]
        self.active_rates_ = active.tolist()
        self.rate_span_decades_ = float(np.log10(active.max() / active.min())) if active.size else 0.0

    @property
    def n_params_(self) -> int:
        self._check()
        if self.family == "mixture":
            return int(np.count_nonzero(self.params_["weights"])) * 2 or 1
        return len(_FAM[self.family].names)

    def _check(self):
        if not hasattr(self, "params_"):
            raise FitError(f"forgetting law {self.family!r} is not fitted yet; call fit() first")

    def predict(self, tau) -> np.ndarray:
        """Predicted ``y`` at clock values ``tau`` (same units as the fitted data)."""
        self._check()
        return forgetting_curve(self.family, tau, self.params_, self.origin)

    def half_life(self) -> float:
        """Clock value at which half of the asymptotic change B is reached (saturating and
        exponential families; inf if never)."""
        self._check()
        p = self.params_
        if self.family == "saturating":
            return float((2.0 ** (1.0 / p["beta"]) - 1.0) / p["E"])
        if self.family == "exponential":
            return float(np.log(2.0) / p["k"])
        raise FitError(f"half_life: defined for the saturating and exponential families, not {self.family!r}")

    # -- persistence -------------------------------------------------------------
    def to_dict(self) -> dict:
        self._check()
        out = {"law": "forgetting", "family": self.family, "origin": self.origin, "delta": self.delta,
               "clock": self.clock, "params": self.params_,
               "metrics": {"r2": self.r2_, "rmse": self.rmse_, "aic": self.aic_, "bic": self.bic_, "n": self.n_points_}}
        return json.loads(json.dumps(out, allow_nan=True).replace("NaN", "null"))

    @classmethod
    def from_dict(cls, d: dict) -> "ForgettingLaw":
        if d.get("law") != "forgetting" or "params" not in d:
            raise FitError("forgetting law JSON: missing 'law': 'forgetting' or 'params'")
        law = cls(d["family"], d.get("origin", 0.0), d.get("delta", 1e-3), d.get("clock", "steps"))
        law.params_ = dict(d["params"])
        m = d.get("metrics", {})
        law.r2_, law.rmse_, law.aic_, law.bic_ = (m.get(k, float("nan")) for k in ("r2", "rmse", "aic", "bic"))
        law.n_points_ = m.get("n", 0)
        return law

    def save(self, path) -> Path:
        return _io.write_json(path, self.to_dict())

    @classmethod
    def load(cls, path) -> "ForgettingLaw":
        return cls.from_dict(read_json(path, "forgetting law"))

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"ForgettingLaw({self.family!r}, unfitted)"
        if self.family == "mixture":
            return f"ForgettingLaw('mixture', {len(self.active_rates_)} active rates over {self.rate_span_decades_:.1f} decades)"
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"ForgettingLaw({self.family!r}, {ps}, R2={self.r2_:.4f})"


def compare(tau, y, families=FAMILIES, origin: float = 0.0, holdout: float = 0.25, delta: float = 1e-3,
            clock: str = "steps") -> pd.DataFrame:
    """Fit each family on the earliest ``1 - holdout`` of the clock range and score the rest.

    Returns one row per family: ``family, n_params, r2_fit, aic, bic`` (on the fit part),
    ``r2_heldout, rmse_heldout, max_abs_err_heldout`` (on tau beyond the cut), sorted by held-out
    RMSE. Families that cannot be fitted get NaN scores and their error in ``note``.
    """
    tau, y = np.asarray(tau, float).ravel(), np.asarray(y, float).ravel()
    if not 0 < holdout < 1:
        raise FitError(f"holdout: must be in (0, 1), got {holdout}")
    cut = np.quantile(tau[np.isfinite(tau)], 1 - holdout)
    fit_m, test_m = tau <= cut, tau > cut
    rows = []
    for fam in families:
        row = {"family": fam}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LrplanWarning)
                law = ForgettingLaw(fam, origin, delta, clock).fit(tau[fit_m], y[fit_m])
            pred = law.predict(tau[test_m])
            err = pred - y[test_m]
            row.update(n_params=law.n_params_, r2_fit=law.r2_, aic=law.aic_, bic=law.bic_,
                       r2_heldout=r2_score(y[test_m], pred), rmse_heldout=float(np.sqrt(np.mean(err ** 2))),
                       max_abs_err_heldout=float(np.max(np.abs(err))), note="")
        except FitError as e:
            row.update(n_params=np.nan, r2_fit=np.nan, aic=np.nan, bic=np.nan, r2_heldout=np.nan,
                       rmse_heldout=np.nan, max_abs_err_heldout=np.nan, note=str(e))
        rows.append(row)
    return pd.DataFrame(rows).sort_values("rmse_heldout", na_position="last").reset_index(drop=True)
