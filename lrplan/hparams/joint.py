"""Joint model of a whole grid: L(N, D, lr, B) = L*(cell) x (1 + bowl), fitted to all runs at once.

    loss / loss_min(cell) - 1 = c_cell + 1/2 dz^T H(D) dz  x e^(k dz_lr)   (k = 0 unless ``skew``)
    dz = (ln lr - ln LR*(N, D),  ln B - ln B*(N, D))
    LR*(N, D) = a N^alpha D^beta,   B*(D) = b D^gamma   (any power-law terms over N, D, C)
    H(D) = H0 (D / D_ref)^(-w)      (H0 = L L^T positive definite; w > 0: the plateau widens with D)

Every run inside the fitting window (``window`` relative excess over its cell minimum) informs the law
directly, so sub-optimal runs help locate the optimum and far fewer runs per cell are needed than for
the two-stage "optimum per cell, then OLS" recipe (hparam-laws.md section 7, "joint model"). Robust
Huber least squares (:func:`lrplan.fitting.fit`, scale 0.1 % relative loss) down-weights outliers;
diverged runs should already be dropped (:func:`lrplan.hparams.grid.drop_diverged`). The per-cell offsets c_cell give L*(N, D)
at the optimum (``floors``) for a loss law fitted afterwards if wanted.

``skew=True`` fits k too: the bowl steepens by e^(k dz_lr) on the high-LR side (k > 0). The optimum
stays at dz = 0 (the factor is 1 there, and the bowl's slope there is 0), so k only changes how the
runs away from the optimum inform it. Real landscapes rise faster above the optimal LR than below it;
a symmetric bowl then pulls LR* down by an amount that grows with the fitting window. On the Step Law
grid (all runs, windows 2-10 %, weightings 0.2 %-none) the skewed fit's LR* moves 3x less with those
knobs (spread 0.34 vs 0.93 octaves, mean over cells), with k = 0.1-0.35 per nat.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrplan.errors import FitError, LrplanWarning
from lrplan.fitting import Param
from lrplan.fitting import fit as robust_fit
from lrplan.hparams.optimum import focus_weights
from lrplan.hparams.powerlaw import PowerLaw

SKEW_BOUND = 3.0  # |k| per nat: e^(3 u) is a 20x steeper rise one nat above LR*, far beyond real grids
MAX_NFEV = 2000  # far above need: on the Step Law grid's 30 % subsets, 1,530 fits took 10-153 evaluations


@dataclass
class JointFit:
    lr_law: PowerLaw
    batch_law: PowerLaw
    hessian: np.ndarray  # relative loss per nat^2 at D = d_ref
    width_exp: float  # w in H(D) = H0 (D / d_ref)^(-w)
    d_ref: float
    floors: dict  # cell -> loss (nats) at the optimum
    cost: float
    nfev: int  # model evaluations of the winning solve (the cap is MAX_NFEV)
    converged: bool  # the solver met its tolerance before the cap
    skew: float = 0.0  # k: the bowl is multiplied by e^(k ln(lr / LR*)) (0 = symmetric)


def _window_rows(grid: pd.DataFrame, window: float, min_points: int = 8) -> pd.DataFrame:
    rel = grid["loss"] / grid.groupby("cell")["loss"].transform("min") - 1
    g = grid.assign(rel=rel)
    rank = g.groupby("cell")["rel"].rank(method="first")
    return g[(g["rel"] <= window) | (rank <= min_points)].reset_index(drop=True)


def fit_joint(grid: pd.DataFrame, lr_terms, batch_terms, window: float = 0.03, start: tuple | None = None,
              hessian0: np.ndarray | None = None, width_scaling: bool = True, focus: float | None = None,
              skew: bool = False) -> JointFit:
    """Fit the joint model to ``grid`` (canonical grid rows; needs column C for C terms).

    ``start`` = (lr PowerLaw, batch PowerLaw) initial laws (e.g. the two-stage fit); ``hessian0`` an
    initial bowl Hessian (relative units); ``skew`` fits the asymmetry k of the module doc."""
    for cell, g in grid.groupby("cell"):
        if g["batch"].nunique() < 3:
            raise FitError(f"cell {cell}: joint model needs at least 3 batch sizes per cell "
                           f"(found {g['batch'].nunique()}); use method 'surrogate'")
    g = _window_rows(grid, window)
    cells = list(dict.fromkeys(g["cell"]))
    ci = g["cell"].map({c: i for i, c in enumerate(cells)}).to_numpy()
    K = len(cells)
    logs = {t: np.log(g[t].to_numpy(dtype=float)) for t in set(lr_terms) | set(batch_terms)}
    mean = {t: float(v.mean()) for t, v in logs.items()}
    xl, yl, rel = np.log(g["lr"].to_numpy()), np.log(g["batch"].to_numpy()), g["rel"].to_numpy()
    d_ref = float(np.exp(np.log(g["D"].to_numpy()).mean()))
    lnD = np.log(g["D"].to_numpy() / d_ref)
    na, nb = 1 + len(lr_terms), 1 + len(batch_terms)

    def unpack(p):
        a, b = p[:na], p[na:na + nb]
        c = p[na + nb:na + nb + K]
        l11, l21, l22, w = p[na + nb + K:na + nb + K + 4]
        k = p[na + nb + K + 4] if skew else 0.0
        return a, b, c, np.array([[l11, 0.0], [l21, l22]]), w, k

    fa = np.column_stack([np.ones(len(g))] + [logs[t] - mean[t] for t in lr_terms])
    fb = np.column_stack([np.ones(len(g))] + [logs[t] - mean[t] for t in batch_terms])
    onehot = np.zeros((len(g), K))
    onehot[np.arange(len(g)), ci] = 1.0

    def model(p):
        a, b, c, L, w, k = unpack(p)
        u, v = xl - fa @ a, yl - fb @ b
        A, B = L[0, 0] * u + L[1, 0] * v, L[1, 1] * v
        m = np.exp(k * u)  # skew: the bowl steepens by e^(k u) on the high-LR side (k > 0)
        s = np.exp(-w * lnD) * m
        q = A * A + B * B
        du, dv = s * A * L[0, 0] + 0.5 * k * q * s, s * (A * L[1, 0] + B * L[1, 1])
        cols = [-du[:, None] * fa, -dv[:, None] * fb, onehot, s * A * u, s * A * v, s * B * v, -0.5 * q * s * lnD]
        if skew:
            cols.append(0.5 * q * s * u)
        return 1 + c[ci] + 0.5 * q * s, np.column_stack(cols)

    def centred(law: PowerLaw | None, terms, fallback):
        if law is None:
            return [fallback] + [0.0] * len(terms)
        coef = [law.exponents.get(t, 0.0) for t in terms]
        value = np.log(law.prefactor) + sum(e * mean[t] for e, t in zip(coef, terms))
        return [value, *coef]

    a0 = centred(start[0] if start else None, lr_terms, float(xl.mean()))
    b0 = centred(start[1] if start else None, batch_terms, float(yl.mean()))
    h0 = hessian0 if hessian0 is not None and np.all(np.linalg.eigvalsh(hessian0) > 0) else np.diag([0.01, 0.01])
    L0 = np.linalg.cholesky(h0)
    wmax = 2.0 if width_scaling else 1e-12
    params = ([Param(f"lr{i}", v) for i, v in enumerate(a0)] + [Param(f"b{i}", v) for i, v in enumerate(b0)]
              + [Param(f"c{i}", 0.0, -0.05, 0.05) for i in range(K)]
              + [Param("l11", L0[0, 0], 1e-4, 1e2, log=True), Param("l21", L0[1, 0], -1e2, 1e2),
                 Param("l22", L0[1, 1], 1e-4, 1e2, log=True), Param("w", 0.0, -wmax, wmax)]
              + ([Param("k", 0.0, -SKEW_BOUND, SKEW_BOUND)] if skew else []))
    weights = focus_weights(rel, focus, len(params))
    res = robust_fit(model, params, 1 + rel, loss="huber", delta=1e-3, log=False, weights=weights,
                     max_nfev=MAX_NFEV, label="joint model")  # one BLAS thread per solve (lrplan.fitting)
    if not res.success:
        warnings.warn(LrplanWarning(f"joint model: the fit stopped after {res.nfev} evaluations without converging "
                                    f"({res.message}); the law may be off"), stacklevel=2)
    a, b, c, L, w, k = unpack(res.theta)
    if "k" in res.at_bound:
        warnings.warn(LrplanWarning(f"joint model: the bowl skew k = {k:+.2f} per nat is on its bound "
                                    f"(+-{SKEW_BOUND:g}): the runs do not identify the asymmetry; try skew=False "
                                    "or more LRs around the optimum"), stacklevel=2)

    def to_law(coef, terms):
        return PowerLaw(float(np.exp(coef[0] - sum(e * mean[t] for e, t in zip(coef[1:], terms)))),
                        {t: float(e) for t, e in zip(terms, coef[1:])})

    mins = g.groupby("cell")["loss"].min()
    return JointFit(lr_law=to_law(a, lr_terms), batch_law=to_law(b, batch_terms), hessian=L @ L.T,
                    width_exp=float(w), d_ref=d_ref, floors={k: float(mins[k] * (1 + c[i])) for i, k in enumerate(cells)},
                    cost=float(res.cost), nfev=res.nfev, converged=res.success, skew=float(k))
