"""Schedule-agnostic power-law baseline: L(t) = L0 + A * (t + 1)^(-alpha), t in optimizer steps,
L in nats. It ignores the LR entirely (every schedule of the same length gets the same curve), so
it shows what schedule awareness buys. Fitted with Huber(1e-3) on log loss."""

from __future__ import annotations

import numpy as np

from lrplan import fitting
from lrplan.laws.base import Law, floor_param, register


@register
class PowerLaw(Law):
    name = "power"
    param_names = ("L0", "A", "alpha")

    def _params(self, data):
        return [floor_param(data), fitting.Param("A", 5.0, 1e-6, 1e6, log=True),
                fitting.Param("alpha", 0.3, 0.01, 3.0)]

    def _features(self, lr_norm, steps):
        return {"t": steps.astype(np.float64) + 1.0}

    def _eval(self, theta, f, grad=False):
        L0, A, alpha = theta
        p = f["t"] ** (-alpha)
        pred = L0 + A * p
        if not grad:
            return pred, None
        return pred, np.column_stack([np.ones_like(p), p, -A * p * np.log(f["t"])])

    def _starts(self, data, feats, params):
        y = np.concatenate([d.loss for d in data])
        t = np.concatenate([f["t"] for f in feats])
        ymin = float(y.min())
        out = []
        for alpha in (0.1, 0.3, 0.6, 1.0):
            X = np.column_stack([np.ones_like(t), t ** (-alpha)])
            L0, A = fitting.profile_linear(X, y, 1.0 / y, lo=[0, 1e-6], hi=[ymin, np.inf])
            out.append(np.array([min(L0, 0.999 * ymin), max(A, 1e-5), alpha]))
        return out

    def _to_abs(self, theta, peak):
        return dict(zip(self.param_names, map(float, theta)))

    def _to_norm(self, p, peak):
        return np.array([p[k] for k in self.param_names], dtype=float)
