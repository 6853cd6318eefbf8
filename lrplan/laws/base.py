"""The common estimator interface of all loss-curve laws.

    law = MultiPowerLaw().fit(curves)                 # curves: lrplan.curves.Curves
    loss = law.predict(lr)                            # absolute LR per step -> loss (nats) per step
    loss, lo, hi = law.predict_band(lr, steps, level=0.9)
    law.params_                                       # fitted parameters, absolute-LR units
    Law.from_dict(law.to_dict())                      # JSON round trip

Inside a fit the LR is divided by the largest LR of the fitting curves (``peak_``); parameters
are stored in absolute units together with that peak. A subclass declares its parameters in
normalised units (:meth:`Law._params`), precomputes parameter-independent features of a schedule
(:meth:`Law._features`), evaluates the law and its Jacobian on them (:meth:`Law._eval`), and
converts parameters between normalised and absolute units (:meth:`Law._to_abs`/:meth:`Law._to_norm`).

Uncertainty (:meth:`Law.predict_band`): ``n_boot`` bootstrap refits (curves resampled with
replacement and, within each curve, moving blocks of logged steps resampled; each refit starts
from the fitted parameters) give a parameter band; leave-one-curve-out refits (``loo=True``)
measure the error on a curve the fit has not seen, and that relative error (its RMS) is added in
quadrature as model error. The band is pred * (1 +- z * sqrt(sd_boot^2 + sd_loo^2)) with z the
normal quantile of ``level``.

Fit-window refits (``window_refits``, fractions such as ``(0.1, 0.2, 0.3)``): the law is refitted
once per fraction f with the first f of every curve dropped (logged steps < f x the curve's last
logged step), from the law's own multi-start. A law that describes the curves refitted on a later
window predicts the same thing; where the refits disagree the prediction depends on which part of
the curves the fit weighted, an error that the bootstrap (parameter noise around one fit) does not
see and that grows when predicting far past the fitting horizon. The band is widened to contain
every window refit's prediction: ``lo = min(lo, min_f pred_f)``, ``hi = max(hi, max_f pred_f)``.

Shape refits (``shape_refits=True``, laws with :attr:`Law.reference_shapes` only: the multi-power
law): the law is refitted on all the data once per reference shape, with its shape parameters held
at published values (MPL: beta and gamma as Luo et al. 2025 fitted them at 25M-400M parameters).
When the fitting schedules do not pin the shape down (e.g. only constant and cosine runs: the fit
then sits on a shape bound), the fit and the reference refit describe the curves almost equally
well but can disagree on schedules the fit has not seen (a cooldown's shape). The band is widened
to contain every shape refit's prediction, as for window refits.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from lrplan import fitting
from lrplan.errors import FitError, LrplanError
from lrplan.laws.data import MIN_POINTS, CurveData, find_spikes, resolve

#: artifact format version written by :meth:`Law.to_dict`
FORMAT_VERSION = 1

REGISTRY: dict[str, type["Law"]] = {}


def register(cls):
    REGISTRY[cls.name] = cls
    return cls


def floor_param(data) -> fitting.Param:
    """The loss floor L0 (nats), bounded by the lowest observed loss."""
    ymin = min(float(d.loss.min()) for d in data)
    return fitting.Param("L0", 0.8 * ymin, 0.0, ymin)


def check_window_refits(fractions: Sequence[float]) -> tuple[float, ...]:
    """Validated fit-window fractions (each in (0, 0.9)): the share of each curve a refit drops."""
    try:
        out = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise LrplanError(f"window_refits: expected fractions such as 0.1,0.2,0.3, got {fractions!r}") from None
    bad = [f for f in out if not 0 < f < 0.9]
    if bad:
        raise LrplanError(f"window_refits: each fraction must be in (0, 0.9), got {bad[0]:g}")
    return out


def window_tail(d: CurveData, frac: float) -> CurveData:
    """``d`` without its first ``frac`` (logged steps < frac x the last logged step)."""
    keep = d.steps >= frac * d.steps[-1]
    return replace(d, steps=d.steps[keep], loss=d.loss[keep])


_z = fitting.band_z


class Law:
    """Base class. Options common to all laws: ``n_boot`` (bootstrap refits, 0 = none), ``loo``
    (leave-one-curve-out refits), ``seed``, ``loss`` (``huber`` on log loss or ``linear`` least
    squares on log loss), ``delta`` (Huber threshold, log-loss units), ``window_refits``
    (fractions of each curve dropped from its start for the fit-window refits, see the module
    docstring; empty = none), ``shape_refits`` (refit with the shape held at each of
    :attr:`reference_shapes`; see the module docstring)."""

    name = "law"
    #: names of the parameters in absolute units, in order
    param_names: tuple[str, ...] = ()
    #: leave-one-curve-out refits start from the full fit (one local refinement) instead of the
    #: law's multi-start. Only for laws whose refits land on the same optimum either way: a warm
    #: start that stays in the full fit's basin leaks the held-out curve into the LOO score.
    loo_warm_start = False
    #: reference shapes for ``shape_refits``: label -> {parameter: value}, unit-free parameters only
    #: (the same in absolute and peak-normalised units); empty = the law has none
    reference_shapes: dict[str, dict[str, float]] = {}

    def __init__(self, n_boot: int = 0, loo: bool = False, seed: int = 0, loss: str = "huber", delta: float = 1e-3,
                 window_refits: Sequence[float] = (), shape_refits: bool = False):
        self.n_boot = int(n_boot)
        self.loo = bool(loo)
        self.seed = int(seed)
        self.loss = loss
        self.delta = float(delta)
        self.window_refits = check_window_refits(window_refits)
        self.shape_refits = bool(shape_refits)
        #: refit records (bootstrap, leave-one-out, fit-window, reference-shape): empty until fitted or loaded
        self.boot_: list = []
        self.loo_: list = []
        self.window_: list = []
        self.shape_: list = []
        #: parameters the point fit (and its refits) held at a reference shape, normalised units
        self.fixed_: dict[str, float] = {}

    # ---- subclass hooks --------------------------------------------------------------------
    def options(self) -> dict[str, Any]:
        """Law-specific options saved in the artifact (constructor keyword arguments)."""
        return {}

    def _params(self, data: list[CurveData]) -> list[fitting.Param]:
        raise NotImplementedError

    def _starts(self, data: list[CurveData], feats: list, params: list[fitting.Param]) -> list[np.ndarray]:
        return [np.array([p.init for p in params])]

    def _features(self, lr_norm: np.ndarray, steps: np.ndarray):
        raise NotImplementedError

    def _eval(self, theta: np.ndarray, feats, grad: bool = False):
        raise NotImplementedError

    def _to_abs(self, theta: np.ndarray, peak: float) -> dict[str, float]:
        raise NotImplementedError

    def _to_norm(self, params: dict[str, float], peak: float) -> np.ndarray:
        raise NotImplementedError

    # ---- fitting ---------------------------------------------------------------------------
    def _fit_theta(self, data: list[CurveData], peak: float, feats=None, start=None, weights=None,
                   fixed: dict[str, float] | None = None) -> fitting.FitResult:
        """Fit on ``data``; ``fixed`` holds named parameters at values in normalised units (default:
        the shape the point fit holds, ``fixed_``; ``{}`` = all free)."""
        feats = feats if feats is not None else [self._features(d.lr / peak, d.steps) for d in data]
        params = self._params(data)
        y = np.concatenate([d.loss for d in data])
        fixed = self.fixed_ if fixed is None else fixed
        names = [p.name for p in params]
        unknown = [n for n in fixed if n not in names]
        if unknown:
            raise LrplanError(f"{self.name} law: cannot hold unknown parameter(s) {', '.join(unknown)} fixed "
                              f"(its parameters: {', '.join(names)})")
        free = np.array([n not in fixed for n in names])
        held = np.array([fixed.get(n, 0.0) for n in names], dtype=float)

        def full(theta_free):
            theta = held.copy()
            theta[free] = theta_free
            return theta

        def model(theta_free):
            outs = [self._eval(full(theta_free), f, grad=True) for f in feats]
            return np.concatenate([o[0] for o in outs]), np.vstack([o[1] for o in outs])[:, free]

        starts = [start] if start is not None else self._starts(data, feats, params)
        starts = [np.asarray(s, dtype=float)[free] for s in starts]
        res = fitting.fit(model, [p for p, f in zip(params, free) if f], y, starts, loss=self.loss, delta=self.delta,
                          weights=weights, label=f"{self.name} law")
        if not fixed:
            return res
        theta = full(res.theta)
        rel_se = {n: res.rel_se.get(n, float("nan")) for n in names}  # held parameters have no error
        return replace(res, theta=theta, params=dict(zip(names, map(float, theta))), rel_se=rel_se)

    def fit(self, curves, schedules: dict | None = None, runs: Sequence[str] | None = None) -> "Law":
        """Fit to the curves (all runs, or ``runs``); see :mod:`lrplan.laws.data` for the LR."""
        data = resolve(curves, schedules, runs)
        return self.fit_data(data)

    def fit_data(self, data: list[CurveData]) -> "Law":
        n_par = len(self._params(data))
        if sum(d.steps.size for d in data) < n_par + 2:
            raise FitError(f"{self.name} law: too few points ({sum(d.steps.size for d in data)}) for {n_par} parameters")
        peak = max(float(d.lr.max()) for d in data)
        feats = [self._features(d.lr / peak, d.steps) for d in data]
        self.fixed_, free, note = self._choose_shape(data, peak, feats)
        res = free if free is not None and not self.fixed_ else self._fit_theta(data, peak, feats)
        self.peak_ = peak
        self.theta_ = res.theta
        self.params_ = self._to_abs(res.theta, peak)
        self.report_ = res.to_dict()
        self.report_["fixed"] = dict(self.fixed_)
        spikes = find_spikes(data)
        self.report_["warnings"] = list(res.warnings) + ([note] if note else []) + spikes
        fitting.warn_all(self.report_["warnings"])
        self.data_ = [d.summary() for d in data]
        self.boot_ = self._bootstrap(data, peak, feats) if self.n_boot > 0 else []
        self.loo_ = self._leave_one_out(data, peak, feats) if self.loo and len(data) > 1 else []
        n_warn = len(self.report_["warnings"])
        self.window_ = self._window_refits(data, peak)
        self.shape_ = self._shape_refits(data, peak, feats, free) if self.shape_refits else []
        fitting.warn_all(self.report_["warnings"][n_warn:])
        return self

    def _choose_shape(self, data, peak, feats) -> tuple[dict[str, float], fitting.FitResult | None, str | None]:
        """The shape the point fit holds (``{}`` = none), the free fit if one was made to decide, and
        a note for the report. Laws with a shape option override this (the multi-power law)."""
        return {}, None, None

    def _shape_refits(self, data, peak, feats, free=None) -> list[dict[str, Any]]:
        """Refits with another shape: each reference shape for a free point fit; the free fit for a
        point fit that holds a shape (``free``: that fit, when it was already made)."""
        if not self.reference_shapes:
            self.report_["warnings"].append(f"shape refits: the {self.name} law has no reference shape; none made")
            return []
        alternatives = {"free": {}} if self.fixed_ else self.reference_shapes
        out = []
        for label, shape in alternatives.items():
            try:
                r = free if not shape and free is not None else self._fit_theta(data, peak, feats, fixed=shape)
            except FitError as e:
                self.report_["warnings"].append(f"shape refit {label!r} failed: {e}")
                continue
            out.append({"shape": label, "fixed": dict(shape), "params": self._to_abs(r.theta, peak),
                        "cost_ratio": float(r.cost / self.report_["cost"]) if self.report_.get("cost") else float("nan")})
        return out

    def _window_refits(self, data, peak) -> list[dict[str, Any]]:
        out = []
        for f in self.window_refits:
            tails = [window_tail(d, f) for d in data]
            sub = [t for t in tails if t.steps.size >= MIN_POINTS]
            if len(sub) < len(tails):
                short = ", ".join(t.run for t in tails if t.steps.size < MIN_POINTS)
                self.report_["warnings"].append(f"window refit dropping the first {f:g} of each curve leaves out "
                                                f"run(s) {short} (fewer than {MIN_POINTS} points left)")
            if not sub or sum(d.steps.size for d in sub) < len(self._params(sub)) + 2:
                self.report_["warnings"].append(f"window refit dropping the first {f:g} of each curve skipped: too few points left")
                continue
            try:
                r = self._fit_theta(sub, peak)
            except FitError as e:
                self.report_["warnings"].append(f"window refit dropping the first {f:g} of each curve failed: {e}")
                continue
            out.append({"drop": f, "params": self._to_abs(r.theta, peak)})
        return out

    def _bootstrap(self, data, peak, feats) -> list[dict[str, float]]:
        rng = np.random.default_rng(self.seed)
        out = []
        for _ in range(self.n_boot):
            use, w = fitting.bootstrap_weights([d.steps.size for d in data], rng)
            try:
                r = self._fit_theta([data[i] for i in use], peak, [feats[i] for i in use], start=self.theta_,
                                    weights=w)
            except FitError:
                continue
            out.append(self._to_abs(r.theta, peak))
        return out

    def _leave_one_out(self, data, peak, feats) -> list[dict[str, Any]]:
        out = []
        for i, held in enumerate(data):
            rest = [j for j in range(len(data)) if j != i]
            start = self.theta_ if self.loo_warm_start else None
            try:
                r = self._fit_theta([data[j] for j in rest], peak, [feats[j] for j in rest], start=start)
            except FitError:
                continue
            pred = self._eval(r.theta, feats[i])[0]
            rel = np.abs(held.loss - pred) / held.loss
            out.append({"held_out": held.run, "params": self._to_abs(r.theta, peak),
                        "PredE": float(rel.mean()), "WorstE": float(rel.max()),
                        "rel_rms": float(np.sqrt(np.mean(((held.loss - pred) / held.loss) ** 2)))})
        return out

    # ---- prediction ------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise LrplanError(f"{self.name} law: not fitted yet (call fit or load a fit artifact)")

    @staticmethod
    def _lr_steps(lr, steps):
        lr = np.asarray(lr, dtype=np.float64).ravel()
        if lr.size == 0 or not np.all(np.isfinite(lr)) or np.any(lr < 0):
            raise LrplanError("predict: the LR array must be non-empty, finite and >= 0")
        steps = np.arange(lr.size) if steps is None else np.asarray(steps, dtype=np.int64).ravel()
        if steps.size and (steps.min() < 0 or steps.max() >= lr.size):
            raise LrplanError(f"predict: steps must lie in 0..{lr.size - 1} (the LR array has {lr.size} steps)")
        return lr, steps

    def predict(self, lr, steps=None) -> np.ndarray:
        """Loss (nats) at ``steps`` (default: every step) for the absolute per-step LR ``lr``."""
        self._check_fitted()
        lr, steps = self._lr_steps(lr, steps)
        return self._eval(self.theta_, self._features(lr / self.peak_, steps))[0]

    def model_rel_sd(self) -> float:
        """Relative model error from leave-one-curve-out refits (RMS over held-out curves), 0 if none."""
        loo = getattr(self, "loo_", [])
        return float(np.sqrt(np.mean([r["rel_rms"] ** 2 for r in loo]))) if loo else 0.0

    def predict_band(self, lr, steps=None, level: float = 0.9, window: bool = True, shape: bool = True):
        """``(loss, lo, hi)``: prediction and a ``level`` band (see the module docstring);
        ``window=False`` leaves every refit out (bootstrap and leave-one-out only), ``shape=False``
        the shape refits only."""
        self._check_fitted()
        z = _z(level)
        lr, steps = self._lr_steps(lr, steps)
        feats = self._features(lr / self.peak_, steps)
        pred = self._eval(self.theta_, feats)[0]
        sd = np.zeros_like(pred)
        if getattr(self, "boot_", None):
            sims = np.array([self._eval_params(p, feats) for p in self.boot_])
            sd = np.std(sims / pred, axis=0, ddof=1) if len(sims) > 1 else np.zeros_like(pred)
        tot = np.sqrt(sd ** 2 + self.model_rel_sd() ** 2)
        lo, hi = pred * (1 - z * tot), pred * (1 + z * tot)
        for w in (self.window_ + (self.shape_ if shape else [])) if window else ():
            pw = self._eval_params(w["params"], feats)
            lo, hi = np.minimum(lo, pw), np.maximum(hi, pw)
        return pred, lo, hi

    def _eval_params(self, params: dict[str, float], feats) -> np.ndarray:
        """The law with other (absolute-unit) parameters, e.g. a refit's, on prepared features."""
        return self._eval(self._to_norm(params, self.peak_), feats)[0]

    # ---- artifacts -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready artifact (see docs/laws.md for the format)."""
        self._check_fitted()
        import lrplan

        return {
            "format": "lrplan-fit", "format_version": FORMAT_VERSION,
            "lrplan_version": getattr(lrplan, "__version__", "unknown"),
            "law": self.name,
            "options": {"n_boot": self.n_boot, "loo": self.loo, "seed": self.seed, "loss": self.loss,
                        "delta": self.delta, "window_refits": list(self.window_refits),
                        "shape_refits": self.shape_refits, **self.options()},
            "peak_lr": self.peak_,
            "params": dict(self.params_),
            "uncertainty": {"bootstrap": self.boot_, "leave_one_out": self.loo_, "model_rel_sd": self.model_rel_sd(),
                            "window": self.window_, "shape": self.shape_},
            "fit": self.report_,
            "data": self.data_,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Law":
        """Rebuild a fitted law from :meth:`to_dict` output (any registered law)."""
        if d.get("format") != "lrplan-fit":
            raise LrplanError("not an lrplan fit artifact (missing format: lrplan-fit)")
        if int(d.get("format_version", 0)) > FORMAT_VERSION:
            raise LrplanError(f"fit artifact format {d.get('format_version')} is newer than this lrplan supports ({FORMAT_VERSION})")
        name = d.get("law")
        if name not in REGISTRY:
            raise LrplanError(f"fit artifact: unknown law {name!r}; known: {', '.join(sorted(REGISTRY))}")
        law = REGISTRY[name]._from_dict(d)
        return law

    @classmethod
    def _from_dict(cls, d):
        law = cls(**d.get("options", {}))
        law.peak_ = float(d["peak_lr"])
        missing = [k for k in cls.param_names if k not in d["params"]]
        if missing:
            raise LrplanError(f"fit artifact: law {cls.name!r} lacks parameter(s) {', '.join(missing)}")
        law.params_ = {k: float(v) for k, v in d["params"].items()}
        law.theta_ = law._to_norm(law.params_, law.peak_)
        unc = d.get("uncertainty", {})
        law.boot_ = list(unc.get("bootstrap", []))
        law.loo_ = list(unc.get("leave_one_out", []))
        law.window_ = list(unc.get("window", []))
        law.shape_ = list(unc.get("shape", []))
        law.report_ = d.get("fit", {})
        law.data_ = d.get("data", [])
        return law

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"{type(self).__name__}({ps}; peak_lr={self.peak_:g})"
        return f"{type(self).__name__}(unfitted)"
