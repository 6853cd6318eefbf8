"""Multi-power law (Luo et al. 2025, "A Multi-Power Law for Loss Curve Prediction Across Learning
Rate Schedules", arXiv:2503.12811; code github.com/thu-yao-01-luo/MultiPowerLaw, MIT):

    L(t) = L0 + A * S1(t)^(-alpha) - B * LD(t)
    LD(t) = sum_{k=1..t} (eta_{k-1} - eta_k) * (1 - (C * eta_k^(-gamma) * S_k(t) + 1)^(-beta))
    S1(t) = sum_{tau<=t} eta_tau (warmup included),  S_k(t) = sum_{tau=k..t} eta_tau

exactly as the paper's code evaluates it (warmup LR increases enter as negative drops). Units:
eta absolute LR, t optimizer steps, L nats. In absolute units B scales like 1/LR and
C like LR^(gamma-1); lrplan fits on peak-normalised LR and stores absolute parameters.

Fitting (lrplan's recipe, not the repository's AdamW one): Huber(1e-3) on log loss; variable
projection over a small grid of (alpha, C, beta, gamma) solves (L0, A, B) by weighted least
squares to pick starts; the best starts are refined jointly with trust-region least squares and
analytic gradients. beta is bounded to [0.3, 1.5] to stay off the B/beta ridge (as beta -> 0 with
B*beta fixed the law degenerates) and gamma to [0.3, 0.9] (C and gamma trade off when the fitting
curves visit few LR levels); the published fits (beta ~ 0.59, gamma ~ 0.64) lie well inside.

Reference shape (``shape_refits=True``): beta and gamma held at the mean of the published fits
(25M, 100M, 400M: beta 0.583-0.598, gamma 0.635-0.655), the only MPL parameters that do not
depend on the LR units. Constant and cosine fitting runs of a small model can leave the shape on
its bounds; the refit with the published shape then shows how much a prediction for another
cooldown depends on it (see :mod:`lrplan.laws.base`).

``shape`` chooses the shape of the point fit itself: ``"free"`` fits beta and gamma;
``"published"`` holds them at the published values (5 free parameters); ``"auto"`` (default) fits
them and, when the free fit puts either on a bound (the fitting schedules do not identify the
shape), holds them at the published values instead. A held shape applies to every refit
(bootstrap, leave-one-out, window), and the shape refit is then the free fit. ``auto`` became the
default after the planner checks on the built-in trainer (benchmarks/RESULTS.md,
``plan_vs_training*``): every free fit there put beta on its bound and over-predicted the plan's
gain over WSD about 2x; with the held shape five pre-registered checks predicted it within 0.003
nats/byte (docs/laws.md has the trade-off on the multi-power-law curves).
"""

from __future__ import annotations

import itertools

import numpy as np

from lrplan import fitting
from lrplan.errors import LrplanError
from lrplan.laws import kernels as K
from lrplan.laws.base import Law, floor_param, register

#: steps x change points up to which predictions use the exact change-point sum
EXACT_BUDGET = 200_000
#: above this many evaluation steps (and with many change points) predictions use
#: :func:`lrplan.laws.kernels.mpl_drop_every_step`
EVERY_STEP_MIN = 5_000
#: predictions at a few steps of schedules this long (the bundled curves have <= 72,000 steps)
#: build the far field on a grid of LONG_GRID steps with a near field of LONG_NEAR grid blocks
#: (:func:`lrplan.laws.kernels.drop_terms` with ``grid``; <= 1.5e-6 nats on a 1M-step cosine)
LONG_SCHEDULE = 200_000
LONG_NEAR, LONG_GRID = 6, 16
#: bounds that keep fits off the B/beta ridge (beta -> 0) and the C/gamma trade-off
BETA_BOUNDS = (0.3, 1.5)
GAMMA_BOUNDS = (0.3, 0.9)
#: point-fit shape options (see the module docstring)
SHAPES = ("free", "published", "auto")
#: a shape parameter within this fraction of its range from a bound counts as on the bound
BOUND_TOL = 1e-4
#: mean of the published beta and gamma (lrplan.datasets.MPL_PUBLISHED_PARAMS; a test keeps them equal)
PUBLISHED_SHAPE = {"beta": 0.59138235, "gamma": 0.64379453}


@register
class MultiPowerLaw(Law):
    name = "mpl"
    param_names = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
    #: the multi-start grid costs ~0.4 s per refit; warm and cold LOO refits agree on the bundled
    #: curves (same held-out PredE at 25M/100M/400M), so LOO refits refine the full fit
    loo_warm_start = True
    reference_shapes = {"published": PUBLISHED_SHAPE}

    def __init__(self, shape: str = "auto", **kw):
        super().__init__(**kw)
        if shape not in SHAPES:
            raise LrplanError(f"mpl law: shape must be one of {', '.join(SHAPES)}, got {shape!r}")
        self.shape = shape

    def options(self):
        return {"shape": self.shape}

    def _choose_shape(self, data, peak, feats):
        if self.shape == "free":
            return {}, None, None
        if self.shape == "published":
            return dict(PUBLISHED_SHAPE), None, None
        free = self._fit_theta(data, peak, feats, fixed={})
        on_bound = [n for n, (lo, hi) in (("beta", BETA_BOUNDS), ("gamma", GAMMA_BOUNDS))
                    if min(free.params[n] - lo, hi - free.params[n]) <= BOUND_TOL * (hi - lo)]
        if not on_bound:
            return {}, free, None
        held = ", ".join(f"{k} {v:.3f}" for k, v in PUBLISHED_SHAPE.items())
        return dict(PUBLISHED_SHAPE), free, (f"mpl law: the free fit puts {' and '.join(on_bound)} on a bound (the fitting "
                                             f"curves do not identify the annealing shape): shape held at the published {held}")

    def _params(self, data):
        return [
            floor_param(data),
            fitting.Param("A", 0.5, 1e-6, 1e3, log=True),
            fitting.Param("alpha", 0.5, 0.01, 2.0),
            fitting.Param("B", 0.1, 1e-6, 1e3, log=True),
            fitting.Param("C", 0.2, 1e-4, 1e3, log=True),
            fitting.Param("beta", 0.6, BETA_BOUNDS[0], BETA_BOUNDS[1]),
            fitting.Param("gamma", 0.6, GAMMA_BOUNDS[0], GAMMA_BOUNDS[1]),
        ]

    #: near-field size of the fast drop terms: 16 while fitting (faster; error about 1e-6 nats on
    #: the bundled schedules), 32 for predictions (~2e-7 nats; the published-parameter TEST table's
    #: 25M WorstE, 0.0040950 with exact sums, sits on a rounding edge that near=16 tips over)
    near = 32
    #: True while fitting: always drop terms (they carry gradients), never the every-step scheme
    _fitting = False

    def fit_data(self, data):
        self._fitting, self.near = True, 16
        try:
            return super().fit_data(data)
        finally:
            self._fitting, self.near = False, 32

    def _features(self, lr_norm, steps):
        S1 = np.maximum(np.cumsum(lr_norm)[steps], K.MIN_AREA)
        n_cp = int(np.count_nonzero(np.diff(lr_norm)))
        if not self._fitting and steps.size > EVERY_STEP_MIN and n_cp * steps.size > EXACT_BUDGET:
            # many evaluation steps: the multilevel every-step scheme, then pick the steps
            return {"S1": S1, "lr": lr_norm, "steps": steps, "terms": None}
        method = "exact" if n_cp * steps.size <= EXACT_BUDGET else "fast"
        near, grid = self.near, 1
        if method == "fast" and not self._fitting and lr_norm.size >= LONG_SCHEDULE:
            near, grid = LONG_NEAR, LONG_GRID  # far field from a coarse table
        terms = K.drop_terms(lr_norm, steps, method=method, near=near, max_exact=EXACT_BUDGET, grid=grid)
        if self._fitting:
            terms.prepared()  # a fit evaluates these terms hundreds of times
        return {"S1": S1, "lr": None, "terms": terms}

    def _eval(self, theta, f, grad=False):
        L0, A, alpha, B, C, beta, gamma = theta
        S1 = f["S1"]
        p = S1 ** (-alpha)
        if f["terms"] is None:
            ld = K.mpl_drop_every_step(f["lr"][:int(f["steps"].max()) + 1], C, beta, gamma)[f["steps"]]
            return L0 + A * p - B * ld, None
        if not grad:
            return L0 + A * p - B * K.mpl_drop(f["terms"], C, beta, gamma), None
        ld, dC, db, dg = K.mpl_drop(f["terms"], C, beta, gamma, grad=True)
        J = np.column_stack([np.ones_like(S1), p, -A * p * np.log(S1), -ld, -B * dC, -B * db, -B * dg])
        return L0 + A * p - B * ld, J

    def _starts(self, data, feats, params):
        y = np.concatenate([d.loss for d in data])
        w = 1.0 / y
        S1 = np.concatenate([f["S1"] for f in feats])
        ymin = float(y.min())
        cands = []
        for alpha, C, beta, gamma in itertools.product((0.35, 0.5, 0.65), (0.05, 0.2, 1.0), (0.4, 0.7), (0.4, 0.7)):
            ld = np.concatenate([K.mpl_drop(f["terms"], C, beta, gamma) for f in feats])
            X = np.column_stack([np.ones_like(S1), S1 ** (-alpha), -ld])
            L0, A, B = fitting.profile_linear(X, y, w, lo=[0, 1e-6, 1e-6], hi=[ymin, np.inf, np.inf])
            pred = X @ np.array([L0, A, B])
            if np.all(pred > 0):
                cost = float(np.sum(fitting.huber(np.log(y) - np.log(pred), self.delta)))
                cands.append((cost, [min(L0, ymin * 0.999), max(A, 1e-5), alpha, max(B, 1e-5), C, beta, gamma]))
        cands.sort(key=lambda c: c[0])
        return [np.array(c[1]) for c in cands[:2]] or [np.array([p.init for p in params])]

    def _to_abs(self, theta, peak):
        L0, A, alpha, B, C, beta, gamma = map(float, theta)
        return {"L0": L0, "A": A * peak ** alpha, "alpha": alpha, "B": B / peak, "C": C * peak ** (gamma - 1),
                "beta": beta, "gamma": gamma}

    def _to_norm(self, p, peak):
        return np.array([p["L0"], p["A"] * peak ** (-p["alpha"]), p["alpha"], p["B"] * peak,
                         p["C"] * peak ** (1 - p["gamma"]), p["beta"], p["gamma"]], dtype=float)


def published(size: str = "100") -> MultiPowerLaw:
    """The published MPL fit of a bundled model size (25, 100, 400) as a fitted law."""
    from lrplan.datasets import MPL_PUBLISHED_PARAMS, _check_size

    law = MultiPowerLaw()
    law.peak_ = 3e-4
    law.params_ = dict(zip(MultiPowerLaw.param_names, MPL_PUBLISHED_PARAMS[_check_size(size)]))
    law.theta_ = law._to_norm(law.params_, law.peak_)
    law.boot_, law.loo_, law.report_, law.data_ = [], [], {"source": "published (Luo et al. 2025)"}, []
    return law
