"""Fact retention metrics and law (Chang et al. 2024, "How Do Large Language Models Acquire Factual
Knowledge During Pretraining?", NeurIPS 2024, arXiv:2406.11813).

Inputs are two long tables:

* probe log-probabilities ``probe, passage, step, logprob`` (nats, log-probability of the probe's
  target span given its input, scored after the update of ``step``), optionally with ``scenario``
  (e.g. once / duplicated / paraphrased) and ``kind`` (memorisation / semantic / compositional);
* exposures ``passage, step``: the steps whose batch contained the passage.

Metrics (paper definitions, with this package's step convention):

* pre-exposure value l_pre(i): the last probed log-prob before exposure step t_i;
* local acquisition maximum t_LAM(i) = argmax of l over probed steps in [t_i, t_i + window)
  (window 50 for AdamW beta1 = 0.9, because 0.9^50 ~ 0.005; use 1 without momentum);
* effectivity E_i = l(t_LAM(i)) - l_pre(i): the log-prob gain of exposure i;
* retainability R(t) = [l(t_LAM + t) - l_0] / [l(t_LAM) - l_0], from the LAM of the last exposure,
  with l_0 = the value before the first exposure (so R = 1 at t = 0 and 0 when the total gain is
  lost); t counts steps after t_LAM;
* outliers: at each t, R values outside [Q1 - k*IQR, Q3 + k*IQR] across probes are dropped
  (k = 1.5 in the paper, 2.0 in the released code; default 2.0);
* law: R(t) = b - a*log10(t) fitted by ordinary least squares on the probe-averaged R at
  t = 1..T (``polyfit(log10 t, R, 1)`` as in the authors' script); decay constant a, its standard
  error, R2, and the learnability threshold tau = 10^(b/a) (the x-intercept).

Drift correction (an addition to the paper's recipe, for small models still learning the general
distribution): with ``control`` probes (facts that are never injected), their mean log-probability
per step is subtracted from every probe before the metrics, so the general rise of all
log-probabilities is not mistaken for retention (:func:`drift_corrected`).

Probes whose total gain l(t_LAM) - l_0 is not positive carry no retention information: they are
dropped with a :class:`~lrplan.errors.LrplanWarning`; if every probe of a group is such a probe,
:class:`~lrplan.errors.FitError` is raised.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from lrplan.errors import FitError, LoadError, LrplanWarning


def _check_tables(logprob: pd.DataFrame, exposures: pd.DataFrame) -> None:
    for name, frame, cols in (("probe log-prob table", logprob, ("probe", "passage", "step", "logprob")),
                              ("exposure table", exposures, ("passage", "step"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise LoadError(f"{name}: missing column(s) {', '.join(missing)}")
    if not np.all(np.isfinite(logprob["logprob"].to_numpy(float))):
        raise LoadError("probe log-prob table: NaN/inf log-probabilities")
    no_exp = set(logprob["passage"]) - set(exposures["passage"])
    if no_exp:
        raise LoadError(f"exposure table: no exposure for passage(s) {', '.join(map(str, sorted(no_exp)[:5]))}")


def drift_corrected(logprob: pd.DataFrame, control: pd.DataFrame) -> pd.DataFrame:
    """``logprob`` minus the mean log-probability of the ``control`` probes at the same step.

    Steps without control scores are dropped (with a warning naming how many rows).
    """
    for name, frame in (("probe log-prob table", logprob), ("control probe table", control)):
        missing = [c for c in ("step", "logprob") if c not in frame.columns]
        if missing:
            raise LoadError(f"{name}: missing column(s) {', '.join(missing)}")
    if control.empty:
        raise LoadError("control probe table: no rows")
    drift = control.groupby("step")["logprob"].mean()
    out = logprob.copy()
    d = out["step"].map(drift)
    if d.isna().any():
        warnings.warn(LrplanWarning(f"drift correction: dropped {int(d.isna().sum())} row(s) at steps without control probes"),
                      stacklevel=2)
    out["logprob"] = out["logprob"] - d
    return out[d.notna()].reset_index(drop=True)


def acquisition(logprob: pd.DataFrame, exposures: pd.DataFrame, window: int = 50) -> pd.DataFrame:
    """Effectivity of every exposure of every probe.

    Returns columns ``probe, passage, exposure, step, t_lam, l_pre, l_lam, effectivity`` (one row
    per probe and exposure; ``exposure`` counts from 0).
    """
    _check_tables(logprob, exposures)
    if window < 1:
        raise FitError(f"window: must be >= 1 step, got {window}")
    exp_by = {p: np.sort(g["step"].to_numpy(np.int64)) for p, g in exposures.groupby("passage")}
    rows = []
    for (probe, passage), g in logprob.groupby(["probe", "passage"], sort=False):
        g = g.sort_values("step")
        steps, lp = g["step"].to_numpy(np.int64), g["logprob"].to_numpy(float)
        for i, ti in enumerate(exp_by[passage]):
            before = np.nonzero(steps < ti)[0]
            inwin = np.nonzero((steps >= ti) & (steps < ti + window))[0]
            if before.size == 0 or inwin.size == 0:
                continue
            j = inwin[np.argmax(lp[inwin])]
            rows.append({"probe": probe, "passage": passage, "exposure": i, "step": int(ti), "t_lam": int(steps[j]),
                         "l_pre": float(lp[before[-1]]), "l_lam": float(lp[j]),
                         "effectivity": float(lp[j] - lp[before[-1]])})
    if not rows:
        raise FitError("acquisition: no exposure has a probed step before it and inside its window")
    return pd.DataFrame(rows)


def retainability(logprob: pd.DataFrame, exposures: pd.DataFrame, window: int = 50, min_gain: float = 0.0,
                  what: str = "probes") -> pd.DataFrame:
    """R(t) for every probe after the LAM of its passage's last exposure.

    Returns columns ``probe, passage, t, R, gain`` (t >= 1 in steps after t_LAM; ``gain`` =
    l(t_LAM) - l_0 in nats). Probes with ``gain <= min_gain`` are dropped (warning); if none is
    left, :class:`FitError`.
    """
    acq = acquisition(logprob, exposures, window)
    first = acq.sort_values("exposure").groupby("probe").first()
    last = acq.sort_values("exposure").groupby("probe").last()
    rows, dead = [], []
    for (probe, passage), g in logprob.groupby(["probe", "passage"], sort=False):
        if probe not in last.index:
            continue
        l0, t_lam, l_lam = first.loc[probe, "l_pre"], int(last.loc[probe, "t_lam"]), last.loc[probe, "l_lam"]
        gain = l_lam - l0
        if not gain > min_gain:
            dead.append(probe)
            continue
        after = g[g["step"] > t_lam]
        rows.append(pd.DataFrame({"probe": probe, "passage": passage, "t": after["step"].to_numpy(np.int64) - t_lam,
                                  "R": (after["logprob"].to_numpy(float) - l0) / gain, "gain": gain}))
    n = len(dead) + len(rows)
    if not rows:
        raise FitError(f"{what}: none of the {n} probe(s) gained log-probability after exposure "
                       f"(gain <= {min_gain:g} nats): nothing was learned, so nothing can be forgotten")
    if dead:
        warnings.warn(LrplanWarning(f"{what}: dropped {len(dead)} of {n} probe(s) that never gained log-probability "
                                    f"(gain <= {min_gain:g} nats)"), stacklevel=2)
    return pd.concat(rows, ignore_index=True)


def average_retention(R: pd.DataFrame, iqr_k: float | None = 2.0) -> pd.DataFrame:
    """Probe-averaged R per t after the IQR outlier rule; columns ``t, R, n``."""
    out = []
    for t, g in R.groupby("t", sort=True):
        v = g["R"].to_numpy(float)
        if iqr_k is not None and v.size >= 4:
            q1, q3 = np.percentile(v, [25, 75])
            v = v[(v >= q1 - iqr_k * (q3 - q1)) & (v <= q3 + iqr_k * (q3 - q1))]
        out.append({"t": int(t), "R": float(v.mean()), "n": int(v.size)})
    return pd.DataFrame(out)


class RetentionLaw:
    """R(t) = b - a*log10(t), fitted by OLS on probe-averaged retainability (Chang et al. 2024).

    Fitted attributes: ``a_`` (decay constant per decade of t, > 0 when forgetting), ``b_``,
    ``slope_se_`` (standard error of the slope), ``r2_``, ``threshold_`` (x-intercept 10^(b/a),
    in the units of t; inf when a <= 0), ``n_points_``.
    """

    def fit(self, t, R) -> "RetentionLaw":
        from scipy.stats import linregress

        t, R = np.asarray(t, float).ravel(), np.asarray(R, float).ravel()
        ok = np.isfinite(t) & np.isfinite(R) & (t >= 1)
        if ok.sum() < 3:
            raise FitError(f"retention law: {int(ok.sum())} usable point(s) with t >= 1, need at least 3")
        fit = linregress(np.log10(t[ok]), R[ok])
        self.a_, self.b_ = float(-fit.slope), float(fit.intercept)
        self.slope_se_ = float(fit.stderr)
        self.r2_ = float(fit.rvalue ** 2)
        self.n_points_ = int(ok.sum())
        self.threshold_ = float(10.0 ** (self.b_ / self.a_)) if self.a_ > 0 and self.b_ / self.a_ < 300 else float("inf")
        return self

    def predict(self, t) -> np.ndarray:
        if not hasattr(self, "a_"):
            raise FitError("retention law is not fitted yet; call fit() first")
        return self.b_ - self.a_ * np.log10(np.asarray(t, float))

    def __repr__(self) -> str:
        if not hasattr(self, "a_"):
            return "RetentionLaw(unfitted)"
        return f"RetentionLaw(a={self.a_:.4f}+-{self.slope_se_:.4f}, b={self.b_:.4f}, R2={self.r2_:.3f}, threshold={self.threshold_:.4g})"


def retention_report(logprob: pd.DataFrame, exposures: pd.DataFrame, by: Sequence[str] = ("scenario",),
                     window: int = 50, min_gain: float = 0.0, iqr_k: float | None = 2.0,
                     max_t: int | None = None, control: pd.DataFrame | None = None) -> pd.DataFrame:
    """Effectivity and fitted retention law per group (e.g. per exposure scenario and probe kind).

    ``control``: log-probabilities of never-injected probes for :func:`drift_corrected`.

    Returns one row per group: the group keys, ``probes`` (kept), ``effectivity`` (mean gain of
    the first exposure, nats), ``a, a_se, b, r2, threshold, points``.
    """
    if control is not None:
        logprob = drift_corrected(logprob, control)
    by = [c for c in by if c in logprob.columns]
    groups = logprob.groupby(by, sort=True) if by else [((), logprob)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{k}={v}" for k, v in zip(by, key)) or "all probes"
        acq = acquisition(g, exposures, window)
        R = retainability(g, exposures, window, min_gain, what=label)
        if max_t is not None:
            R = R[R["t"] <= max_t]
        avg = average_retention(R, iqr_k)
        law = RetentionLaw().fit(avg["t"], avg["R"])
        rows.append({**dict(zip(by, key)), "probes": int(R["probe"].nunique()),
                     "effectivity": float(acq[acq["exposure"] == 0]["effectivity"].mean()),
                     "a": law.a_, "a_se": law.slope_se_, "b": law.b_, "r2": law.r2_,
                     "threshold": law.threshold_, "points": law.n_points_})
    return pd.DataFrame(rows)
