"""Momentum / LR-annealing law (Tissue, Wang, Wang et al. 2024, "Scaling Law with Learning Rate
Annealing", arXiv:2408.11029; variants from the continual-pre-training paper, Wang, Tissue et
al. 2025):

    L(t) = L0 + A * S1(t)^(-alpha) - C * S2(t)^zeta
    S1(t) = sum_{tau<=t} eta_tau,   m_i = lambda*m_{i-1} + (eta_{i-1} - eta_i),
    S2(t) = sum_{i<=t} m_i * eta_i^eps

Units: eta absolute LR, t steps, L nats. Original law: eps = 0, zeta = 1 (four fitted
parameters L0, A, alpha, C). Options:

* ``lam``: a number (fixed), ``"grid"`` (default: fit for each of ``lam_grid`` = 0.99, 0.995,
  0.999 and keep the lowest training objective) or ``"fit"`` (lambda fitted in [0.9, 0.9999]
  with an analytic gradient).
* ``warmup``: ``"include"`` (default; S1 and S2 over the full schedule incl. warmup, the MPL code's
  convention) or ``"peak"`` (warmup steps replaced by constant peak LR before computing S1/S2).
* ``eps`` (LR-weighted S2, e.g. 0.1 or 0.2) and ``power=True`` (fit zeta in -C*S2^zeta).

Fitting: Huber(1e-3) on log loss; (L0, A, C) profiled out by weighted least squares over an
alpha grid to pick starts, then trust-region least squares with analytic gradients.
"""

from __future__ import annotations

import numpy as np

from lrplan import fitting
from lrplan.errors import LrplanError
from lrplan.laws import kernels as K
from lrplan.laws.base import Law, floor_param, register


def _warmup_to_peak(lr):
    i = int(np.argmax(lr >= lr.max()))
    out = lr.copy()
    out[:i] = lr.max()
    return out


@register
class MomentumLaw(Law):
    name = "momentum"
    param_names = ("L0", "A", "alpha", "C", "lam")

    def __init__(self, lam="grid", lam_grid=(0.99, 0.995, 0.999), warmup="include", eps=0.0, power=False, **kw):
        super().__init__(**kw)
        if not (lam in ("grid", "fit") or (isinstance(lam, (int, float)) and 0 < float(lam) < 1)):
            raise LrplanError(f"momentum law: lam must be a number in (0, 1), 'grid' or 'fit', got {lam!r}")
        if warmup not in ("include", "peak"):
            raise LrplanError(f"momentum law: warmup must be 'include' or 'peak', got {warmup!r}")
        self.lam = lam
        self.lam_grid = tuple(float(x) for x in lam_grid)
        self.warmup = warmup
        self.eps = float(eps)
        self.power = bool(power)
        self.lam_ = float(lam) if isinstance(lam, (int, float)) else self.lam_grid[-1]

    def options(self):
        return {"lam": self.lam, "lam_grid": list(self.lam_grid), "warmup": self.warmup, "eps": self.eps, "power": self.power}

    @property
    def _fit_lam(self):
        return self.lam == "fit"

    def _params(self, data):
        ps = [floor_param(data), fitting.Param("A", 0.5, 1e-6, 1e3, log=True),
              fitting.Param("alpha", 0.5, 0.01, 2.0), fitting.Param("C", 1e-3, 1e-9, 1e3, log=True)]
        if self.power:
            ps.append(fitting.Param("zeta", 1.0, 0.2, 2.0))
        if self._fit_lam:
            ps.append(fitting.Param("lam", self.lam_, 0.9, 0.9999))
        return ps

    def _features(self, lr_norm, steps):
        lr = _warmup_to_peak(lr_norm) if self.warmup == "peak" else lr_norm
        S1 = np.maximum(np.cumsum(lr)[steps], K.MIN_AREA)
        return {"lr": lr, "steps": steps, "S1": S1, "S2": {}}

    def _s2(self, f, lam, grad):
        if lam not in f["S2"]:
            if len(f["S2"]) > 8:  # lam='fit' visits many values: keep the cache small
                f["S2"].clear()
            f["S2"][lam] = K.momentum_s2(f["lr"], lam, self.eps)[f["steps"]]
        s2 = f["S2"][lam]
        return (s2, K.momentum_s2_dlam(f["lr"], lam, self.eps)[f["steps"]]) if grad else (s2, None)

    def _split(self, theta):
        """theta = [L0, A, alpha, C, (zeta), lam]; lam is optimised only with lam='fit' (during a
        fixed-lambda optimisation theta lacks it and ``lam_`` is used)."""
        L0, A, alpha, C = theta[:4]
        n_core = 5 if self.power else 4
        zeta = theta[4] if self.power else 1.0
        lam = float(theta[n_core]) if len(theta) > n_core else self.lam_
        return L0, A, alpha, C, zeta, lam

    def _eval(self, theta, f, grad=False):
        L0, A, alpha, C, zeta, lam = self._split(theta)
        S1 = f["S1"]
        p = S1 ** (-alpha)
        s2, ds2 = self._s2(f, lam, grad and self._fit_lam)
        a = np.maximum(np.abs(s2), 1e-300)
        s2z = np.sign(s2) * a ** zeta
        pred = L0 + A * p - C * s2z
        if not grad:
            return pred, None
        cols = [np.ones_like(S1), p, -A * p * np.log(S1), -s2z]
        if self.power:
            cols.append(-C * s2z * np.log(a))
        if self._fit_lam:
            cols.append(-C * zeta * a ** (zeta - 1) * ds2)
        return pred, np.column_stack(cols)

    def _starts(self, data, feats, params):
        y = np.concatenate([d.loss for d in data])
        S1 = np.concatenate([f["S1"] for f in feats])
        s2 = np.concatenate([self._s2(f, self.lam_, False)[0] for f in feats])
        ymin = float(y.min())
        cands = []
        for alpha in (0.3, 0.4, 0.5, 0.6, 0.7):
            X = np.column_stack([np.ones_like(S1), S1 ** (-alpha), -s2])
            L0, A, C = fitting.profile_linear(X, y, 1.0 / y, lo=[0, 1e-6, 1e-9], hi=[ymin, np.inf, np.inf])
            pred = X @ np.array([L0, A, C])
            if np.all(pred > 0):
                cost = float(np.sum(fitting.huber(np.log(y) - np.log(pred), self.delta)))
                start = [min(L0, 0.999 * ymin), max(A, 1e-5), alpha, max(C, 1e-8)]
                start += [1.0] if self.power else []
                start += [self.lam_] if self._fit_lam else []
                cands.append((cost, start))
        cands.sort(key=lambda c: c[0])
        return [np.array(c[1]) for c in cands[:2]] or [np.array([p.init for p in params])]

    def _fit_theta(self, data, peak, feats=None, start=None, weights=None):
        if self._fit_lam:
            return super()._fit_theta(data, peak, feats, start, weights)
        feats = feats if feats is not None else [self._features(d.lr / peak, d.steps) for d in data]
        if start is not None:  # warm start (bootstrap): keep its lambda
            lams, start = [float(start[-1])], start[:-1]
        else:
            lams = self.lam_grid if self.lam == "grid" else [float(self.lam)]
        best = None
        for lam in lams:
            self.lam_ = lam
            r = super()._fit_theta(data, peak, feats, start, weights)
            if best is None or r.cost < best[0].cost:
                best = (r, lam)
        r, lam = best
        r.theta = np.r_[r.theta, lam]
        r.params["lam"] = lam
        return r

    def _to_abs(self, theta, peak):
        L0, A, alpha, C, zeta, lam = map(float, self._split(theta))
        out = {"L0": L0, "A": A * peak ** alpha, "alpha": alpha, "C": C * peak ** (-(1 + self.eps) * zeta), "lam": lam}
        if self.power:
            out["zeta"] = zeta
        return out

    def _to_norm(self, p, peak):
        zeta = float(p.get("zeta", 1.0))
        th = [p["L0"], p["A"] * peak ** (-p["alpha"]), p["alpha"], p["C"] * peak ** ((1 + self.eps) * zeta)]
        th += [zeta] if self.power else []
        return np.array(th + [float(p["lam"])], dtype=float)
