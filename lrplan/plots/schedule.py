"""Plot LR schedules."""

from __future__ import annotations

from typing import Sequence

from lrplan.schedules.core import Schedule


def plot_schedules(schedules: Sequence[Schedule], labels: Sequence[str] | None = None, log: bool = False,
                   title: str | None = None):
    """LR (absolute) against step for one or more schedules."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    for i, s in enumerate(schedules):
        label = labels[i] if labels else (s.spec or "custom")
        if len(label) > 70:
            label = label[:67] + "..."
        ax.plot(range(s.steps), s.array(), lw=1.6, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
