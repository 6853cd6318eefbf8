"""Plot observed, fitted and predicted loss curves with prediction bands and the LR."""

from __future__ import annotations

import numpy as np


def plot_fit(law, observed=(), predicted=(), level: float = 0.9, log: bool = False, title: str | None = None):
    """Figure with the loss (nats) against step and the LR (absolute) on a second axis.

    ``observed``: :class:`lrplan.laws.data.CurveData` items (points + fitted curve with band);
    ``predicted``: ``(label, lr_array)`` pairs (predicted curve with band).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    ax2 = ax.twinx()
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    lo_y, hi_y = [], []

    def curve(label, lr, start, color, points=None):
        steps = np.unique(np.linspace(start, lr.size - 1, min(lr.size - start, 2000)).astype(np.int64))
        p, lo, hi = law.predict_band(lr, steps, level=level)
        ax.plot(steps, p, color=color, lw=1.6, label=label)
        ax.fill_between(steps, lo, hi, color=color, alpha=0.18, lw=0)
        ax2.plot(np.arange(lr.size), lr, color=color, lw=0.8, ls=":", alpha=0.8)
        lo_y.append(np.min(lo))
        hi_y.append(np.percentile(hi, 97))
        if points is not None:
            ax.plot(points[0], points[1], ".", color=color, ms=3, alpha=0.7)
            lo_y.append(points[1].min())
            hi_y.append(np.percentile(points[1], 97))

    for i, d in enumerate(observed):
        curve(f"{d.run} (observed + fit)", d.lr, int(d.steps[0]), colors[i % len(colors)], (d.steps, d.loss))
    for j, (label, lr) in enumerate(predicted):
        start = max(1, int(np.argmax(lr >= lr.max())))  # from the end of warmup
        label = label if len(label) <= 60 else label[:57] + "..."
        curve(f"{label} (predicted)", lr, start, colors[(len(observed) + j) % len(colors)])
    if lo_y:
        pad = 0.05 * (max(hi_y) - min(lo_y))
        ax.set_ylim(min(lo_y) - pad, max(hi_y) + pad)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats)")
    ax2.set_ylabel("learning rate (dotted)")
    if log:
        ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(title or f"{law.name} law, {int(level * 100)} % band")
    fig.tight_layout()
    return fig
