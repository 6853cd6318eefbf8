"""Small multiples: held-out curves, observed points against the predicted curve and its band."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def plot_validation(law, items: Sequence, level: float = 0.9, title: str | None = None, ncols: int = 3):
    """One panel per held-out curve: observed loss (dots, nats), predicted loss (line) and band
    (shaded) at the logged steps, LR (absolute) on a second axis.

    ``items``: objects with ``run``, ``steps``, ``loss`` and per-step ``lr`` (e.g.
    :class:`lrplan.laws.data.CurveData`).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    n = len(items)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.1 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax, d in zip(axes, items):
        steps = np.asarray(d.steps)
        pred, lo, hi = law.predict_band(d.lr, steps, level=level)
        err = np.abs(pred - d.loss) / d.loss
        ax.plot(steps, d.loss, ".", ms=2.5, color="0.25", label="measured")
        ax.plot(steps, pred, color="C0", lw=1.4, label="predicted")
        ax.fill_between(steps, lo, hi, color="C0", alpha=0.2, lw=0, label=f"{int(level * 100)} % band")
        ax2 = ax.twinx()
        ax2.plot(np.arange(d.lr.size), d.lr, color="C3", lw=0.8, ls=":", alpha=0.8)
        ax2.set_yticks([])
        ax.set_title(f"{d.run}: mean err {100 * err.mean():.2f} %, worst {100 * err.max():.2f} %", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel("loss (nats)", fontsize=8)
        ax.tick_params(labelsize=7)
        q = np.percentile(d.loss, [0, 97])
        pad = 0.08 * (q[1] - q[0] + 1e-9)
        ax.set_ylim(min(q[0], np.min(lo)) - pad, q[1] + pad)
        ax.grid(alpha=0.3)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
