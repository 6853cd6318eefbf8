"""Synthetic LR x batch grids with a known optimum, for tests, examples and benchmark smoke runs.

    loss = L*(N, D) (1 + 1/2 dz^T H dz e^(k dz_lr)) (1 + noise),   dz = (ln lr - ln LR*(N, D), ln B - ln B*(D))
    L*(N, D) = 1.8 + 400 / N^0.34 + 410 / D^0.28        (a Chinchilla-like floor, nats)

with LR* and B* from a given law (default: the published Step Law constants), skew k (default 0: a
symmetric bowl; k > 0 rises faster above LR*, as real landscapes do) and LR / batch levels
on a sqrt(2) / 2x ladder around them (batch in tokens). Deterministic for a given ``seed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrplan.hparams.grid import cell_label

HESSIAN = np.array([[0.012, -0.004], [-0.004, 0.010]])  # relative loss per nat^2, like the Step Law grid


def synthetic_grid(Ns=(1e8, 2e8, 4e8), Ds=(2e9, 8e9, 3.2e10), lr_law=(1.79, -0.713, 0.307),
                   batch_law=(0.58, 0.571), hessian=HESSIAN, noise: float = 0.0005, lr_levels: int = 9,
                   batch_levels: int = 7, seq_len: int = 2048, seed: int = 0, skew: float = 0.0) -> pd.DataFrame:
    """A canonical grid (columns N, D, lr, batch [tokens], loss, cell, seq_len) with known optimum."""
    rng = np.random.default_rng(seed)
    rows = []
    for N in Ns:
        for D in Ds:
            lr0 = lr_law[0] * N ** lr_law[1] * D ** lr_law[2]
            b0 = batch_law[0] * D ** batch_law[1]
            floor = 1.8 + 400 / N ** 0.34 + 410 / D ** 0.28
            # ladders: not centred on the optimum (offset by a random fraction of a step)
            lrs = 2.0 ** (np.round(np.log2(lr0) * 2) / 2 + 0.5 * (np.arange(lr_levels) - lr_levels // 2))
            bs = seq_len * 2.0 ** (np.round(np.log2(b0 / seq_len)) + np.arange(batch_levels) - batch_levels // 2)
            for lr in lrs:
                for b in bs:
                    dz = np.array([np.log(lr / lr0), np.log(b / b0)])
                    loss = floor * (1 + 0.5 * dz @ hessian @ dz * np.exp(skew * dz[0])) * (1 + noise * rng.standard_normal())
                    rows.append({"N": N, "D": D, "lr": lr, "batch": b, "loss": loss, "seq_len": seq_len})
    g = pd.DataFrame(rows)
    g["cell"] = [cell_label(n, d) for n, d in zip(g["N"], g["D"])]
    return g
