"""Free-form schedule optimisation: the best non-increasing LR sequence under a fitted law.

As in the multi-power-law paper (Luo et al. 2025, arXiv:2503.12811, Sec. 5) the decision variable is
the sequence of LR decrements after warmup, but parametrised so that every constraint holds by
construction and plain box bounds suffice (L-BFGS-B with the analytic gradient of
:mod:`lrplan.plan.objectives`):

    eta_t = peak                                      for warmup <= t < D   (D = T - max_cooldown)
    eta_t = floor + (peak - floor) * exp(sum_{u=D..t} v_u)   for D <= t < T,  v_u <= 0

so the schedule is non-increasing, never below ``floor`` and at the peak until the cooldown may
start. ``v`` is piecewise constant on blocks (a geometric decay inside each block), solved
coarse-to-fine: 32 blocks, then every block split in 4, ... up to ``resolution`` blocks (each
level starts from the previous optimum, which it represents exactly, so the objective never
increases from one level to the next). The warmup is a fixed ramp; the peak is a variable only
when ``Constraints.peak_bounds`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lrplan.plan.constraints import Constraints
from lrplan.plan.objectives import Objective

#: Lower bound of the log-multiplier of one block (e^-40 ~ 4e-18: "reached the floor").
Z_MIN = -40.0
#: L-BFGS-B stops when an iteration improves the objective by less than this (in units of 1e-3 nats,
#: i.e. 1e-10 nats): finer levels would otherwise spend hundreds of iterations on < 1e-6 nats.
FTOL = 1e-7


def _blocks(n: int, k: int) -> np.ndarray:
    """Edges of ``k`` near-equal blocks over ``n`` steps (k+1 increasing ints from 0 to n)."""
    return np.unique(np.linspace(0, n, min(k, n) + 1).round().astype(np.int64))


def _refine(edges: np.ndarray, factor: int, limit: int) -> np.ndarray:
    """Split every block into ``factor`` parts (nested refinement), at most ``limit`` blocks."""
    out = [edges[:1]]
    for a, b in zip(edges[:-1], edges[1:]):
        out.append(np.unique(np.linspace(a, b, min(factor, b - a) + 1).round().astype(np.int64))[1:])
    new = np.concatenate(out)
    return new if len(new) - 1 <= limit else edges


@dataclass
class FreeformResult:
    """Optimised per-step LR (absolute, steps 0..T-1) and how it was found."""

    lr: np.ndarray
    objective: float
    peak: float
    levels: list[dict] = field(default_factory=list)


class _Param:
    """Maps (z blocks, log peak) <-> eta and pulls the gradient back."""

    def __init__(self, c: Constraints, edges: np.ndarray):
        self.c, self.edges = c, edges
        self.d0 = c.decay_start
        self.n = c.steps - self.d0
        self.lens = np.diff(edges).astype(np.float64)
        self.block_of = np.repeat(np.arange(len(self.lens)), np.diff(edges))
        self.free_peak = c.peak_bounds is not None

    def unpack(self, x):
        if self.free_peak:
            return x[:-1], float(np.exp(x[-1]))
        return x, self.c.peak

    def eta(self, x):
        z, p = self.unpack(x)
        v = (z / self.lens)[self.block_of]
        P = np.exp(np.cumsum(v))
        f = self.c.floor_lr(p)
        eta = np.empty(self.c.steps)
        w = self.c.warmup
        eta[:w] = self.c.warmup_lr(p)
        eta[w:self.d0] = p
        eta[self.d0:] = f + (p - f) * P
        return eta, P, p, f

    def grad(self, x, g_eta, P, p, f):
        gP = g_eta[self.d0:] * (p - f)
        gv = np.cumsum((gP * P)[::-1])[::-1]                  # dJ/dv_t = sum_{u>=t} dJ/dP_u P_u
        gz = np.bincount(self.block_of, weights=gv, minlength=len(self.lens)) / self.lens
        if not self.free_peak:
            return gz
        w = self.c.warmup
        dfdp = self.c.floor if self.c.floor_relative else 0.0
        deta = np.empty(self.c.steps)
        deta[:w] = self.c.warmup_lr(1.0)
        deta[w:self.d0] = 1.0
        deta[self.d0:] = dfdp + (1.0 - dfdp) * P
        return np.append(gz, p * float(np.dot(g_eta, deta)))

    def encode(self, eta_init: np.ndarray, p: float) -> np.ndarray:
        """Blocks that reproduce (the projection of) a schedule with peak ``p``."""
        f = self.c.floor_lr(p)
        r = (np.asarray(eta_init[self.d0:], dtype=np.float64) - f) / max(p - f, 1e-300)
        logP = np.log(np.clip(r, np.exp(Z_MIN), 1.0))
        logP = np.minimum.accumulate(logP)                       # non-increasing
        v = np.diff(np.concatenate([[0.0], logP]))
        z = np.bincount(self.block_of, weights=v, minlength=len(self.lens))
        z = np.clip(z, Z_MIN, 0.0)
        return np.append(z, np.log(p)) if self.free_peak else z

    def bounds(self):
        b = [(Z_MIN, 0.0)] * len(self.lens)
        if self.free_peak:
            lo, hi = self.c.peak_bounds
            b.append((np.log(lo), np.log(hi)))
        return b


def optimize_freeform(objective: Objective, constraints: Constraints, init: np.ndarray | None = None,
                      resolution: int = 4096, start_blocks: int = 32, maxiter: int = 400,
                      progress=None, ftol: float = FTOL) -> FreeformResult:
    """Minimise sum_i w_i L(checkpoint_i) over non-increasing schedules satisfying ``constraints``.

    Args:
        objective: the fitted law (or an :class:`~lrplan.plan.objectives.Ensemble`).
        constraints: see :class:`~lrplan.plan.constraints.Constraints`.
        init: a starting per-step LR or a list of them (e.g. the best family schedules; the
            coarsest level starts from each, the best continues); default: WSD-like linear decay
            over the allowed cooldown (at most the last 20 % of the run).
        resolution: maximum number of blocks (``>= steps`` gives a per-step free-form schedule).
        start_blocks: blocks of the coarsest level.
        maxiter: L-BFGS-B iterations per level.
        ftol: stop a level when an iteration gains less than ftol x 1e-3 nats (see :data:`FTOL`).
        progress: optional callable(level_index, n_levels) for a progress bar.
    """
    c = constraints
    n = c.steps - c.decay_start
    init = [default_init(c)] if init is None else init
    levels_edges = [_blocks(n, start_blocks)]
    while len(levels_edges[-1]) - 1 < min(resolution, n):
        nxt = _refine(levels_edges[-1], 4, max(resolution, start_blocks))
        if len(nxt) == len(levels_edges[-1]):
            break
        levels_edges.append(nxt)
    inits = [np.asarray(x, dtype=np.float64) for x in (init if isinstance(init, (list, tuple)) else [init])]
    steps, weights = c.checkpoints, c.weights
    j0 = min(float(objective.value_grad(x, steps, weights)[0]) for x in inits)
    scale = 1e3  # objective changes are ~1e-3 nats: keep L-BFGS-B's tolerances meaningful
    levels: list[dict] = []
    eta = peak = best = None
    for li, edges in enumerate(levels_edges):
        prm = _Param(c, edges)

        def fun(x, prm=prm):
            e, P, p, f = prm.eta(x)
            v, g = objective.value_grad(e, steps, weights)
            return scale * (v - j0), scale * prm.grad(x, g, P, p, f)

        # the coarsest level starts from every initial schedule; finer ones from the previous optimum
        starts = [prm.encode(x, _peak_of(x, c)) for x in inits] if li == 0 else [prm.encode(eta, peak)]
        found = []
        for x0 in starts:
            x, fx, nit, nfev = _lbfgsb(fun, x0, prm.bounds(), maxiter, ftol)
            found.append((fx, nit, nfev, x))
        fx, nit, nfev, x = min(found, key=lambda t: t[0])
        eta, _, peak, _ = prm.eta(x)
        best = float(objective.value_grad(eta, steps, weights)[0])
        levels.append({"blocks": len(edges) - 1, "iterations": nit, "evaluations": nfev, "objective": best})
        if progress is not None:
            progress(li + 1, len(levels_edges))
    return FreeformResult(lr=eta, objective=best, peak=peak, levels=levels)


def _lbfgsb(fun, x0, bounds, maxiter, ftol, restarts: int = 3):
    """L-BFGS-B, restarted (fresh curvature memory) while it stops abnormally and still improves."""
    from scipy.optimize import minimize

    x, fx = x0, fun(x0)[0]
    nit = nfev = 0
    for _ in range(restarts + 1):
        res = minimize(fun, x, jac=True, method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": maxiter, "ftol": ftol, "gtol": 1e-10, "maxcor": 20})
        nit, nfev = nit + int(res.nit), nfev + int(res.nfev)
        improved = res.fun < fx - 1e-9
        if res.fun <= fx:
            x, fx = res.x, float(res.fun)
        if res.success or not improved or nit >= maxiter:
            break
    return x, fx, nit, nfev


def _peak_of(eta: np.ndarray, c: Constraints) -> float:
    if c.peak_bounds is None:
        return c.peak
    return float(np.clip(eta[c.warmup:].max(), *c.peak_bounds))


def default_init(c: Constraints) -> np.ndarray:
    """Linear cooldown over the allowed cooldown, at most the last 20 % of the run (WSD-like)."""
    p = c.peak if c.peak_bounds is None else c.peak_bounds[1]
    f = c.floor_lr(p)
    cool = min(c.steps - c.decay_start, max(1, int(0.2 * c.steps)))
    eta = np.full(c.steps, p)
    eta[: c.warmup] = c.warmup_lr(p)
    t = np.arange(cool, dtype=np.float64)
    eta[c.steps - cool:] = p + (f - p) * (t + 1) / (cool + 1)
    return eta
