"""Plot a plan: the planned LR against the baselines, and their predicted loss curves with bands."""

from __future__ import annotations

import numpy as np


def plot_plan(curves: dict, lrs: dict, title: str | None = None):
    """Two panels: LR (absolute) against step, and predicted loss (nats) against step.

    Args:
        curves: name -> {"steps": array, "loss": array, optional "lo"/"hi": band arrays}.
        lrs: name -> per-step LR array (steps 0..T-1).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4))
    ax_lr, ax_loss = fig.subplots(1, 2)
    colors = {}
    for i, (name, lr) in enumerate(lrs.items()):
        line, = ax_lr.plot(np.arange(len(lr)), lr, lw=2.0 if name == "plan" else 1.3, label=name,
                           zorder=3 if name == "plan" else 2)
        colors[name] = line.get_color()
    for name, cv in curves.items():
        color = colors.get(name)
        ax_loss.plot(cv["steps"], cv["loss"], lw=2.0 if name == "plan" else 1.3, color=color, label=name,
                     zorder=3 if name == "plan" else 2)
        if "lo" in cv and "hi" in cv:
            ax_loss.fill_between(cv["steps"], cv["lo"], cv["hi"], color=color, alpha=0.18, lw=0)
    ax_lr.set_xlabel("step")
    ax_lr.set_ylabel("learning rate")
    ax_lr.grid(alpha=0.3)
    ax_lr.legend(fontsize=8)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("predicted loss (nats)")
    ax_loss.grid(alpha=0.3)
    # zoom on the part of the run where the curves differ: from 20 % of the run on
    all_loss = np.concatenate([np.asarray(cv["loss"]) for cv in curves.values()])
    all_steps = np.concatenate([np.asarray(cv["steps"]) for cv in curves.values()])
    late = all_steps >= 0.2 * all_steps.max()
    if late.any():
        lo, hi = all_loss[late].min(), all_loss[late].max()
        pad = 0.08 * (hi - lo + 1e-9)
        ax_loss.set_ylim(lo - pad, hi + pad)
    ax_loss.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
