"""The optimum of one (N, D) cell of an LR x batch grid.

Three readings of the same cell (hparam-laws.md section 7):

* the plain **grid minimum** (quantised to the grid, noisy);
* the **near-optimal set**: runs within ``tol`` (relative, default 0.25 % as Step Law and DeepSeek)
  of the cell minimum, summarised by its geometric mean and its extent;
* a **convex quadratic surrogate** ("bowl") in z = (ln lr, ln batch) fitted to the runs within
  ``window`` of the minimum (default 3 %)::

      loss / loss_min - 1 = c + 1/2 (z - z*)^T H (z - z*),   H = L L^T  (positive definite)

  Its centre z* is a sub-grid optimum, its curvature H (relative loss per nat^2 of ln lr / ln B)
  gives the plateau: the region within ``tol`` of the optimum is the ellipse
  1/2 (z - z*)^T H (z - z*) <= tol, whose half-width along ln lr is sqrt(2 tol (H^-1)_00).

An optimum whose grid minimum sits on the edge of the tested LRs or batches, or whose surrogate
centre falls outside them, is flagged ``edge`` (laws should not extrapolate from it). A cell with
fewer than 3 batch sizes gets a 1-D bowl in ln lr at its best batch; the batch optimum is then the
best tested batch and is flagged as an edge when there is more than one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrplan.errors import FitError
from lrplan.fitting import Param
from lrplan.fitting import fit as robust_fit

TOL = 0.0025
WINDOW = 0.03
FOCUS = 0.002


@dataclass
class Bowl:
    """Relative loss excess 1/2 (z - center)^T hessian (z - center) in z = (ln lr, ln batch tokens).

    ``hessian[1, 1]`` is NaN when the batch axis was not fitted (1-D bowl)."""

    center: np.ndarray
    hessian: np.ndarray
    floor: float  # loss (nats) at the centre

    def excess(self, lr, batch) -> np.ndarray:
        """Predicted relative excess loss over the optimum at (lr, batch tokens)."""
        dz = np.stack([np.log(lr) - self.center[0], np.log(batch) - self.center[1]])
        h = np.nan_to_num(self.hessian)
        return 0.5 * np.einsum("i...,ij,j...->...", dz, h, dz)

    def half_widths(self, tol: float = TOL) -> tuple[float, float]:
        """Half-widths (nats of ln lr, ln batch) of the region within ``tol`` of the optimum."""
        return plateau_half_widths(self.hessian, tol)


def plateau_half_widths(hessian: np.ndarray, tol: float) -> tuple[float, float]:
    h = np.asarray(hessian, dtype=float)
    if not np.isfinite(h[1, 1]):
        return float(np.sqrt(2 * tol / h[0, 0])), float("nan")
    inv = np.linalg.inv(h)
    return float(np.sqrt(2 * tol * inv[0, 0])), float(np.sqrt(2 * tol * inv[1, 1]))


def fit_bowl(lr, batch, loss, window: float = WINDOW, min_points: int = 8, focus: float | None = FOCUS) -> Bowl:
    """Fit the convex bowl to one cell's runs (see module doc). ``batch`` in tokens, ``loss`` nats.

    ``focus`` (relative loss, optional) weights each run by exp(-excess / (2 focus)), concentrating the
    fit near the minimum (real landscapes are not quadratic out to a few per cent: high LRs rise faster);
    it is switched off when too few effective points would remain (:func:`focus_weights`).
    Uses the runs within ``window`` of the minimum, at least ``min_points`` of the best ones; robust
    (Huber, scale 0.1 % relative loss) least squares with :func:`lrplan.fitting.fit`, from several starts. Raises :class:`FitError` when fewer than 3 LRs are usable.
    """
    lr, batch, loss = (np.asarray(a, dtype=float) for a in (lr, batch, loss))
    lo = float(loss.min())
    rel = loss / lo - 1
    x, y = np.log(lr), np.log(batch)
    i0 = int(np.argmin(loss))
    two_d = len(np.unique(np.round(y, 6))) >= 3
    if not two_d:  # 1-D bowl in ln lr at the best batch
        keep = np.isclose(y, y[i0])
        x, y, rel = x[keep], y[keep], rel[keep]
        i0 = int(np.argmin(rel))
    order = np.argsort(rel)
    k = max(int(np.sum(rel <= window)), min(min_points, len(rel)))
    sel = order[:k]
    xs, ys, rs = x[sel], y[sel], rel[sel]
    if len(np.unique(np.round(xs, 6))) < 3:
        sel = order[: max(k, 3 * (1 + 2 * two_d))]
        xs, ys, rs = x[sel], y[sel], rel[sel]
        if len(np.unique(np.round(xs, 6))) < 3:
            raise FitError("fewer than 3 distinct LRs near the minimum; cannot fit the LR bowl")
    span = max(np.ptp(xs), np.log(2))
    h0 = 2 * max(np.max(rs), 1e-3) / (span / 2) ** 2
    xmin, xmax, ymin, ymax = x.min() - 1, x.max() + 1, y.min() - 1, y.max() + 1
    if two_d:
        def model(p):
            u, v = xs - p[1], ys - p[2]
            a, b = p[3] * u + p[4] * v, p[5] * v
            jac = np.column_stack([np.ones_like(u), -a * p[3], -(a * p[4] + b * p[5]), a * u, a * v, b * v])
            return 1 + p[0] + 0.5 * (a * a + b * b), jac
        params = [Param("c", 0.0, -0.05, 0.05), Param("x", x[i0], xmin, xmax), Param("y", y[i0], ymin, ymax),
                  Param("l11", np.sqrt(h0), 1e-4, 1e2, log=True), Param("l21", 0.0, -1e2, 1e2),
                  Param("l22", np.sqrt(h0), 1e-4, 1e2, log=True)]
        near = rs <= np.quantile(rs, 0.25)
        starts = [[0.0, x[i0], y[i0], np.sqrt(h0), 0.0, np.sqrt(h0)],
                  [0.0, xs[near].mean(), ys[near].mean(), np.sqrt(h0), 0.0, np.sqrt(h0)]]
        init = _linear_init(xs, ys, rs)
        if init is not None:
            starts.append(init)
    else:
        def model(p):
            u = xs - p[1]
            jac = np.column_stack([np.ones_like(u), -p[2] * u, 0.5 * u * u])
            return 1 + p[0] + 0.5 * p[2] * u * u, jac
        params = [Param("c", 0.0, -0.05, 0.05), Param("x", x[i0], xmin, xmax), Param("h", h0, 1e-8, 1e4, log=True)]
        starts = [[0.0, x[i0], h0]]
    weights = focus_weights(rs, focus, len(params))
    p = robust_fit(model, params, 1 + rs, starts, loss="huber", delta=1e-3, log=False, weights=weights,
                   label="bowl").theta
    if two_d:
        L = np.array([[p[3], 0.0], [p[4], p[5]]])
        h = L @ L.T
        center = np.array([p[1], p[2]])
    else:
        h = np.array([[p[2], 0.0], [0.0, np.nan]])
        center = np.array([p[1], y[i0]])
    return Bowl(center=center, hessian=h, floor=lo * (1 + p[0]))


def focus_weights(excess: np.ndarray, focus: float | None, n_params: int) -> np.ndarray | None:
    """exp(-excess / (2 focus)) weights, or None (unweighted) when ``focus`` is off or the weights
    would leave fewer effective points ((sum w)^2 / sum w^2) than ``n_params + 2`` (small grids)."""
    if not focus:
        return None
    w = np.exp(-np.asarray(excess, dtype=float) / (2 * focus))
    return w if w.sum() ** 2 / np.sum(w * w) >= n_params + 2 else None


def _linear_init(x, y, r):
    """Unconstrained quadratic least squares; the (c, centre, log-Cholesky) start if convex."""
    A = np.column_stack([np.ones_like(x), x, y, x * x, x * y, y * y])
    if len(x) < 6 or np.linalg.matrix_rank(A) < 6:
        return None
    q = np.linalg.lstsq(A, r, rcond=None)[0]
    h = np.array([[2 * q[3], q[4]], [q[4], 2 * q[5]]])
    if np.any(np.linalg.eigvalsh(h) <= 0):
        return None
    center = -np.linalg.solve(h, q[1:3])
    c = q[0] + q[1:3] @ center + 0.5 * center @ h @ center
    L = np.linalg.cholesky(h)
    return [c, center[0], center[1], L[0, 0], L[1, 0], L[1, 1]]


@dataclass
class CellOptimum:
    """One cell's optimum read three ways. LR absolute, batch in tokens, loss in nats."""

    cell: str
    N: float
    D: float
    runs: int
    lr_grid: float
    batch_grid: float
    loss_min: float
    lr_near: float  # geometric mean of the near-optimal set
    batch_near: float
    near_runs: int
    lr_near_range: tuple[float, float]
    batch_near_range: tuple[float, float]
    bowl: Bowl
    edge: str  # "" or a description of the edge (e.g. "lr-high", "batch-low")

    @property
    def lr_opt(self) -> float:
        return float(np.exp(self.bowl.center[0]))

    @property
    def batch_opt(self) -> float:
        return float(np.exp(self.bowl.center[1]))


def _edge(value: float, levels: np.ndarray, name: str) -> str:
    if len(levels) < 2:
        return ""
    if value <= levels.min() + 1e-9:
        return f"{name}-low"
    if value >= levels.max() - 1e-9:
        return f"{name}-high"
    return ""


def cell_optimum(g: pd.DataFrame, tol: float = TOL, window: float = WINDOW, focus: float | None = FOCUS) -> CellOptimum:
    """Optimum of one cell of a grid (:func:`lrplan.hparams.grid.load_grid` rows of one cell)."""
    lr, batch, loss = (g[c].to_numpy(dtype=float) for c in ("lr", "batch", "loss"))
    cell = str(g["cell"].iloc[0])
    try:
        bowl = fit_bowl(lr, batch, loss, window=window, focus=focus)
    except FitError as e:
        raise FitError(f"cell {cell}: {e}") from None
    i0 = int(np.argmin(loss))
    near = loss <= loss[i0] * (1 + tol)
    xl, yl = np.log(lr), np.log(batch)
    edges = [_edge(xl[i0], xl, "lr"), _edge(yl[i0], yl, "batch")]
    # surrogate centre outside the tested box: clip and flag
    c = bowl.center.copy()
    for j, (v, nm) in enumerate(((xl, "lr"), (yl, "batch"))):
        if c[j] < v.min() or c[j] > v.max():
            edges.append(f"{nm}-{'low' if c[j] < v.min() else 'high'}")
            c[j] = np.clip(c[j], v.min(), v.max())
    bowl.center = c
    return CellOptimum(
        cell=cell, N=float(g["N"].iloc[0]), D=float(g["D"].iloc[0]), runs=len(g),
        lr_grid=float(lr[i0]), batch_grid=float(batch[i0]), loss_min=float(loss[i0]),
        lr_near=float(np.exp(xl[near].mean())), batch_near=float(np.exp(yl[near].mean())), near_runs=int(near.sum()),
        lr_near_range=(float(lr[near].min()), float(lr[near].max())),
        batch_near_range=(float(batch[near].min()), float(batch[near].max())),
        bowl=bowl, edge=",".join(dict.fromkeys(e for e in edges if e)),
    )


def cell_optima(grid: pd.DataFrame, tol: float = TOL, window: float = WINDOW,
                focus: float | None = FOCUS, known: dict | None = None) -> list[CellOptimum]:
    """:func:`cell_optimum` for every cell, in order of (N, D).

    ``known`` (cell -> :class:`CellOptimum`) supplies optima already computed from the same runs with
    the same ``tol``/``window``/``focus`` (e.g. once per cell before many leave-one-cell-out refits);
    cells missing from it are fitted here. A cell's optimum depends on its own runs only."""
    from lrplan.hparams.grid import check_cells

    check_cells(grid)
    cells = grid.sort_values(["N", "D"]).groupby("cell", sort=False)
    known = known or {}
    return [known[c] if c in known else cell_optimum(g, tol=tol, window=window, focus=focus) for c, g in cells]


def optima_frame(optima: list[CellOptimum]) -> pd.DataFrame:
    """One row per cell: grid, near-optimal and surrogate optima, plateau half-widths, edge flags."""
    rows = []
    for o in optima:
        hw = o.bowl.half_widths()
        rows.append({"cell": o.cell, "N": o.N, "D": o.D, "runs": o.runs, "loss_min": o.loss_min,
                     "lr_grid": o.lr_grid, "batch_grid": o.batch_grid,
                     "lr_near": o.lr_near, "batch_near": o.batch_near, "near_runs": o.near_runs,
                     "lr_opt": o.lr_opt, "batch_opt": o.batch_opt, "loss_opt": o.bowl.floor,
                     "plateau_lr_octaves": 2 * hw[0] / np.log(2), "plateau_batch_octaves": 2 * hw[1] / np.log(2),
                     "edge": o.edge})
    return pd.DataFrame(rows)
