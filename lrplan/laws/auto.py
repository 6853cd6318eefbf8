"""``auto``: an ensemble of laws weighted (or selected) by leave-one-curve-out error.

Each member law (default: momentum, multi-power and convex-bound laws) is fitted on all the
fitting curves and refitted once per curve with that curve held out; its error on the held-out
curves (mean PredE, i.e. mean |L - Lhat| / L at the logged steps) scores it. ``mode="weight"``
(default) averages the members' predictions with weights proportional to 1 / score^2 (members
scoring worse than ``CUTOFF`` = 3 x the best get weight 0);
``mode="select"`` keeps only the best member. Why: the momentum law and the multi-power law have
complementary errors on the MPL benchmark (loss-laws guide, section 6), and in-sample fit is no
guide to extrapolation (section 7), so the choice uses held-out curves only. With a single fitting
curve there is nothing to hold out and the weights are equal.

Band: the members' bands are combined as a mixture (weighted variance of the members' predictions
plus their weighted band variances).
"""

from __future__ import annotations

import numpy as np

from lrplan.errors import FitError, LrplanError
from lrplan.laws.base import REGISTRY, Law, _z, register

DEFAULT_MEMBERS = ("momentum", "mpl", "bound")
#: members whose held-out error exceeds CUTOFF x the best member's get weight 0
CUTOFF = 3.0


@register
class AutoLaw(Law):
    name = "auto"
    param_names = ()

    def __init__(self, members=DEFAULT_MEMBERS, mode="weight", **kw):
        kw.pop("loo", None)
        super().__init__(loo=True, **kw)
        unknown = [m for m in members if m not in REGISTRY or m == "auto"]
        if unknown:
            raise LrplanError(f"auto law: unknown member law {unknown[0]!r}; choose from momentum, mpl, bound, power")
        if mode not in ("weight", "select"):
            raise LrplanError(f"auto law: mode must be 'weight' or 'select', got {mode!r}")
        self.members = tuple(members)
        self.mode = mode
        #: the members' reference shapes (shape refits go to the members that have one: mpl)
        self.reference_shapes = {k: v for m in self.members for k, v in REGISTRY[m].reference_shapes.items()}

    def options(self):
        return {"members": list(self.members), "mode": self.mode}

    def fit_data(self, data):
        fitted, scores = [], []
        errors = []
        for name in self.members:
            cls = REGISTRY[name]
            law = cls(n_boot=self.n_boot, loo=len(data) > 1, seed=self.seed, loss=self.loss, delta=self.delta,
                      window_refits=self.window_refits, shape_refits=self.shape_refits and bool(cls.reference_shapes))
            try:
                law.fit_data(data)
            except FitError as e:
                errors.append(str(e))
                continue
            fitted.append(law)
            loo = [r["PredE"] for r in law.loo_]
            scores.append(float(np.mean(loo)) if loo and len(loo) == len(data) else float("nan"))
        if not fitted:
            raise FitError(f"auto law: no member law could be fitted ({errors[0]})")
        s = np.array(scores)
        if np.all(np.isfinite(s)) and len(data) > 1:
            w = 1.0 / np.maximum(s, 1e-9) ** 2
            w[s > CUTOFF * s.min()] = 0.0
            if self.mode == "select":
                w = (np.arange(len(s)) == int(np.argmin(s))).astype(float)
        else:
            w = np.ones(len(fitted))
        self.members_ = fitted
        self.scores_ = {m.name: sc for m, sc in zip(fitted, scores)}
        self.weights_ = {m.name: float(x) for m, x in zip(fitted, w / w.sum())}
        self.peak_ = fitted[0].peak_
        self.params_ = {f"weight_{k}": v for k, v in self.weights_.items()}
        self.report_ = {"loo_PredE": self.scores_, "weights": self.weights_, "warnings": errors}
        self.data_ = fitted[0].data_
        return self

    def predict(self, lr, steps=None):
        self._check_fitted()
        return sum(self.weights_[m.name] * m.predict(lr, steps) for m in self.members_ if self.weights_[m.name] > 0)

    def predict_band(self, lr, steps=None, level=0.9, window=True, shape=True):
        self._check_fitted()
        z = _z(level)
        parts = [(self.weights_[m.name], m.predict_band(lr, steps, level, window, shape))
                 for m in self.members_ if self.weights_[m.name] > 0]
        pred = sum(w * p for w, (p, _, _) in parts)
        var = sum(w * (((hi - lo) / (2 * z)) ** 2 + (p - pred) ** 2) for w, (p, lo, hi) in parts)
        sd = np.sqrt(var)
        return pred, pred - z * sd, pred + z * sd

    def model_rel_sd(self):
        return float(sum(self.weights_[m.name] * m.model_rel_sd() for m in self.members_))

    def to_dict(self):
        d = super().to_dict()
        d["members"] = [m.to_dict() for m in self.members_]
        d["weights"] = self.weights_
        d["loo_PredE"] = self.scores_
        return d

    @classmethod
    def _from_dict(cls, d):
        opts = dict(d.get("options", {}))
        law = cls(**{k: v for k, v in opts.items() if k != "loo"})
        law.members_ = [Law.from_dict(m) for m in d.get("members", [])]
        if not law.members_:
            raise LrplanError("fit artifact: auto law without members")
        law.weights_ = {k: float(v) for k, v in d["weights"].items()}
        law.scores_ = d.get("loo_PredE", {})
        law.peak_ = float(d["peak_lr"])
        law.params_ = dict(d.get("params", {}))
        law.report_, law.data_ = d.get("fit", {}), d.get("data", [])  # its refit records stay empty: the members carry theirs
        return law
