"""Planner objectives: predicted loss of a per-step LR sequence and its exact gradient.

The planner needs, for a fitted law, the predicted loss at a few steps (the final step, or
checkpoints) and the gradient of a weighted sum of those losses with respect to every per-step LR.
Both are computed here in O(T) per evaluated step (prefix and suffix sums, no T x T matrices).

Laws (absolute LR, loss in nats/token, steps 0-based, the LR array covers steps 0..T-1 incl. warmup):

* Multi-power law, MPL (Luo et al. 2025, arXiv:2503.12811), faithful to the repository's evaluation
  (S1 includes warmup, warmup increases enter the drop sum)::

      L(s)   = L0 + A * S1(s)^(-alpha) + B * sum_{k=1..s} (eta_k - eta_{k-1}) * G(C * eta_k^(-gamma) * S_k(s))
      S1(s)  = sum_{tau<=s} eta_tau,  S_k(s) = sum_{tau=k..s} eta_tau,  G(x) = 1 - (1 + x)^(-beta)

* Momentum / LR-annealing law (Tissue et al. 2024, arXiv:2408.11029)::

      L(s)   = L0 + A * S1(s)^(-alpha) - C * S2(s)
      S2(s)  = sum_{k=1..s} (eta_{k-1} - eta_k) * (1 - lambda^(s-k+1)) / (1 - lambda)

An :class:`Objective` maps ``(eta, steps, weights)`` to ``(sum_i w_i L(s_i), dJ/deta)``;
:class:`Ensemble` averages members (bootstrap fits) or takes the upper band mean + z * std;
:class:`Weighted` is a fixed weighted mean of different laws (an ``auto`` fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lrplan.errors import ConfigError

#: LRs are clamped to at least this value inside eta^(-gamma) (as the MPL repository does).
ETA_MIN = 1e-10


def _steps(steps, T: int) -> np.ndarray:
    s = np.atleast_1d(np.asarray(steps, dtype=np.int64))
    if s.size and (s.min() < 0 or s.max() >= T):
        raise ConfigError(f"loss requested at step {int(s.max() if s.max() >= T else s.min())}, outside the run (0..{T - 1})")
    return s


class Objective:
    """A fitted law seen by the planner: ``loss(eta, steps)`` and ``value_grad(eta, steps, weights)``."""

    name = "law"

    def loss_at(self, eta: np.ndarray, s: int, grad: bool) -> tuple[float, np.ndarray | None]:
        raise NotImplementedError

    def loss(self, eta, steps) -> np.ndarray:
        """Predicted loss (nats) at each of ``steps`` for the per-step LR ``eta`` (absolute)."""
        eta = np.asarray(eta, dtype=np.float64)
        return np.array([self.loss_at(eta, int(s), False)[0] for s in _steps(steps, len(eta))])

    def value_grad(self, eta, steps, weights=None) -> tuple[float, np.ndarray]:
        """J = sum_i w_i L(s_i) and dJ/deta (same length as eta)."""
        vals, grad, w = self.losses_and_grads(eta, steps, weights)
        return float(np.dot(w, vals)), grad

    def losses_and_grads(self, eta, steps, weights=None):
        """(L(s_i) for each step, d(sum_i w_i L(s_i))/deta, the weights used)."""
        eta = np.asarray(eta, dtype=np.float64)
        s = _steps(steps, len(eta))
        w = np.ones(len(s)) if weights is None else np.asarray(weights, dtype=np.float64)
        vals, grad = np.empty(len(s)), np.zeros_like(eta)
        for i, (si, wi) in enumerate(zip(s, w)):
            vals[i], g = self.loss_at(eta, int(si), True)
            grad[: si + 1] += wi * g
        return vals, grad, w


def _area(eta: np.ndarray, s: int) -> tuple[np.ndarray, float]:
    """The LR up to step s and its sum S1(s) (which must be positive)."""
    e = eta[: s + 1]
    S1 = float(e.sum())
    if S1 <= 0:
        raise ConfigError("the LR sums to zero up to the evaluated step; the law is undefined there")
    return e, S1


@dataclass
class MPL(Objective):
    """Multi-power law (parameters in absolute-LR units, as published)."""

    L0: float
    A: float
    alpha: float
    B: float
    C: float
    beta: float
    gamma: float
    name: str = "mpl"

    def loss_at(self, eta, s, grad):
        e, S1 = _area(eta, s)
        d_all = e[1:] - e[:-1]                          # d_k, k = 1..s
        nz = np.flatnonzero(d_all)                      # only LR changes contribute (k = nz + 1)
        d = d_all[nz]
        ek = np.maximum(e[1:][nz], ETA_MIN)
        Sk = (S1 - np.cumsum(e)[:-1])[nz]               # S_k(s) = sum_{tau=k..s} eta_tau
        pw = ek ** (-self.gamma)
        base = 1.0 + self.C * pw * Sk
        bb = base ** (-self.beta)
        G = 1.0 - bb
        val = self.L0 + self.A * S1 ** (-self.alpha) + self.B * float(np.dot(d, G))
        if not grad:
            return val, None
        Gp = self.beta * bb / base
        g = np.full(s + 1, -self.alpha * self.A * S1 ** (-self.alpha - 1.0))
        g[1:][nz] += self.B * G                         # d_j depends on +eta_j
        g[:-1][nz] -= self.B * G                        # d_{j+1} depends on -eta_j
        dGp = d * Gp
        clamp = ek > ETA_MIN
        g[1:][nz] += self.B * dGp * self.C * (-self.gamma) * pw / ek * Sk * clamp
        acc = np.zeros(s)
        acc[nz] = dGp * pw
        g[1:] += self.B * self.C * np.cumsum(acc)       # S_k contains eta_j for every k <= j
        return val, g


@dataclass
class Momentum(Objective):
    """Momentum / LR-annealing law with decay factor ``lam`` (lambda)."""

    L0: float
    A: float
    alpha: float
    C: float
    lam: float = 0.999
    name: str = "momentum"

    def loss_at(self, eta, s, grad):
        e, S1 = _area(eta, s)
        k = np.arange(1, s + 1)
        wk = (1.0 - self.lam ** (s - k + 1.0)) / (1.0 - self.lam)
        drops = e[:-1] - e[1:]
        val = self.L0 + self.A * S1 ** (-self.alpha) - self.C * float(np.dot(drops, wk))
        if not grad:
            return val, None
        g = np.full(s + 1, -self.alpha * self.A * S1 ** (-self.alpha - 1.0))
        g[:-1] -= self.C * wk                            # +eta_{k-1} in drop k
        g[1:] += self.C * wk                             # -eta_k in drop k
        return val, g


class Ensemble(Objective):
    """Several fits of one law (bootstrap refits): ``mode="mean"`` optimises the mean prediction,
    ``mode="upper"`` the upper band mean + z * std (z = 1.645 for a one-sided 95 % / two-sided 90 %
    band), i.e. the schedule that is good even when the law is pessimistic.

    ``window``: the fit's band-widening refits (fit-window and shape refits, :mod:`lrplan.laws.base`);
    they are not optimised over, they only widen :meth:`band` (and the planner's gain bands) to
    contain their predictions."""

    name = "ensemble"

    def __init__(self, members: Sequence[Objective], mode: str = "mean", z: float = 1.645,
                 window: Sequence[Objective] = ()):
        if not members:
            raise ConfigError("an ensemble objective needs at least one fit")
        if mode not in ("mean", "upper"):
            raise ConfigError(f"robust mode {mode!r}; allowed: mean, upper")
        self.members, self.mode, self.z = list(members), mode, float(z)
        self.window = list(window)

    def interval(self, values: np.ndarray, window_values: np.ndarray, level: float = 0.9) -> tuple:
        """The central ``level`` quantile interval of ``values`` (members first axis) widened to
        contain ``window_values`` (window refits first axis; may be empty)."""
        q = (1.0 - level) / 2.0
        lo, hi = np.quantile(values, q, axis=0), np.quantile(values, 1.0 - q, axis=0)
        if len(window_values):
            lo, hi = np.minimum(lo, np.min(window_values, axis=0)), np.maximum(hi, np.max(window_values, axis=0))
        return lo, hi

    def loss(self, eta, steps):
        vals = np.array([m.loss(eta, steps) for m in self.members])
        mu = vals.mean(axis=0)
        return mu + self.z * vals.std(axis=0) if self.mode == "upper" else mu

    def band(self, eta, steps, level: float = 0.9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean and the central ``level`` quantile band over members at ``steps``, widened to the
        window refits' predictions."""
        vals = np.array([m.loss(eta, steps) for m in self.members])
        wvals = np.array([m.loss(eta, steps) for m in self.window])
        return (vals.mean(axis=0), *self.interval(vals, wvals, level))

    def value_grad(self, eta, steps, weights=None):
        eta = np.asarray(eta, dtype=np.float64)
        s = _steps(steps, len(eta))
        w = np.ones(len(s)) if weights is None else np.asarray(weights, dtype=np.float64)
        n = len(self.members)
        per_vals, per_grads = [], []
        for m in self.members:
            if self.mode == "mean":
                v, g = m.value_grad(eta, s, w)
                per_vals.append(v)
                per_grads.append(g)
            else:
                per_vals.append(m.loss(eta, s))
        if self.mode == "mean":
            return float(np.mean(per_vals)), np.mean(per_grads, axis=0)
        V = np.array(per_vals)                           # members x steps
        mu, sd = V.mean(axis=0), V.std(axis=0)
        total = float(np.dot(w, mu + self.z * sd))
        grad = np.zeros_like(eta)
        safe = np.where(sd > 0, sd, np.inf)
        for j, m in enumerate(self.members):
            # d(mu + z sd)/dV_j = 1/n + z (V_j - mu) / (n sd), per evaluated step
            coef = w * (1.0 / n + self.z * (V[j] - mu) / (n * safe))
            grad += m.value_grad(eta, s, coef)[1]
        return total, grad


class Weighted(Objective):
    """A fixed weighted mean of different laws (an ``auto`` fit: weights from held-out error)."""

    name = "weighted"

    def __init__(self, parts: Sequence[tuple[float, Objective]]):
        total = sum(w for w, _ in parts)
        if not parts or total <= 0:
            raise ConfigError("a weighted objective needs members with positive weight")
        self.parts = [(float(w) / total, m) for w, m in parts]

    def loss_at(self, eta, s, grad):
        vals = [(w, m.loss_at(eta, s, grad)) for w, m in self.parts]
        v = sum(w * r[0] for w, r in vals)
        return v, (sum(w * r[1] for w, r in vals) if grad else None)
