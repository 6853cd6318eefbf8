"""How good is a recommendation on a grid that was actually run? Regret and held-out evaluation.

Regret of a recommendation (lr, batch tokens) in one (N, D) cell = loss of the cell's run nearest to it
in log space (Euclidean distance in (log2 lr, log2 batch); ties go to the first run) relative to the
cell's best run::

    regret = loss(nearest run) / min(loss over the cell) - 1

This is how Step Law's accuracy claims and the reference numbers of hparam-laws.md are read off a
grid: no interpolation, only losses that were measured.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd


def nearest_run(cell: pd.DataFrame, lr: float, batch: float) -> pd.Series:
    """The row of ``cell`` nearest to (lr, batch tokens) in (log2 lr, log2 batch)."""
    d = (np.log2(cell["lr"].to_numpy()) - np.log2(lr)) ** 2 + (np.log2(cell["batch"].to_numpy()) - np.log2(batch)) ** 2
    return cell.iloc[int(np.argmin(d))]


def regret(cell: pd.DataFrame, lr: float, batch: float) -> float:
    """Relative regret (fraction, 0.001 = 0.1 %) of (lr, batch tokens) in one cell (see module doc)."""
    return float(nearest_run(cell, lr, batch)["loss"] / cell["loss"].min() - 1)


def subsample(grid: pd.DataFrame, fraction: float, rng: np.random.Generator) -> pd.DataFrame:
    """A random ``fraction`` of each cell's runs (at least 6 per cell), without replacement."""
    parts = []
    for _, g in grid.groupby("cell", sort=False):
        k = min(len(g), max(6, int(round(fraction * len(g)))))
        parts.append(g.iloc[np.sort(rng.choice(len(g), k, replace=False))])
    return pd.concat(parts, ignore_index=True)


def leave_one_cell_out(grid: pd.DataFrame, recommend: Callable[[pd.DataFrame, float, float], tuple[float, float]],
                       fraction: float = 1.0, rng: np.random.Generator | None = None,
                       cells: list[str] | None = None, train_filter: Callable | None = None) -> pd.DataFrame:
    """For each held-out cell: build a recommendation from the other cells (each subsampled to
    ``fraction`` of its runs) and score it on the held-out cell's full grid.

    ``recommend(train_grid, N, D) -> (lr, batch tokens)``; ``train_filter(train_grid, held_row)``
    may restrict the training cells (e.g. only smaller N for an extrapolation test). Returns one row
    per held-out cell with the recommendation and its regret.
    """
    rng = rng or np.random.default_rng(0)
    rows = []
    for cell, held in grid.groupby("cell", sort=False):
        if cells is not None and cell not in cells:
            continue
        train = grid[grid["cell"] != cell]
        N, D = float(held["N"].iloc[0]), float(held["D"].iloc[0])
        if train_filter is not None:
            train = train_filter(train, N, D)
        if fraction < 1:
            train = subsample(train, fraction, rng)
        lr, b = recommend(train, N, D)
        rows.append({"cell": cell, "N": N, "D": D, "lr": float(lr), "batch": float(b),
                     "regret": regret(held, lr, b), "train_runs": len(train)})
    return pd.DataFrame(rows)
