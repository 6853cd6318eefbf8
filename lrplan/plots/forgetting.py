"""Plots of continual training: old- and new-domain loss around a data switch, forgetting curves."""

from __future__ import annotations

from typing import Sequence


def _figure(ncols: int, width: float = 5.2, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height))
    return fig, [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]


def plot_continual(panels: Sequence[tuple[str, Sequence, object]], title: str | None = None):
    """One panel per domain: measured loss (dots) and law prediction (line) against step.

    ``panels``: ``(panel title, runs, law or None)`` with ``runs`` a list of
    :class:`~lrplan.forgetting.cpt.ContinualRun`; the switch step is a dotted vertical line.
    """
    import numpy as np

    fig, axes = _figure(len(panels))
    for ax, (name, runs, law) in zip(axes, panels):
        lo, hi = np.inf, -np.inf
        for i, run in enumerate(runs):
            color = f"C{i % 10}"
            ax.plot(run.steps, run.loss, ".", ms=3, color=color, label=run.name)
            if run.loss.size:
                lo, hi = min(lo, float(run.loss.min())), max(hi, float(run.loss.max()))
            if law is not None:
                first = int(run.steps[run.steps > 0].min()) if np.any(run.steps > 0) else 1
                steps = np.arange(first, run.lr.size)
                ax.plot(steps, law.predict(run, steps), "-", lw=1.2, color=color, alpha=0.8)
            ax.axvline(run.switch, color="0.5", ls=":", lw=1)
        if np.isfinite(lo) and hi > lo:
            ax.set_ylim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
        ax.set_xlabel("step")
        ax.set_ylabel("validation loss (nats/token)")
        ax.set_title(name + ("  (lines: fitted law)" if law is not None else ""), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_forgetting(curves: Sequence[tuple[str, Sequence[float], Sequence[float]]], clock: str = "lr_area", law=None,
                    ylabel: str = "loss change since the switch (nats)"):
    """Forgetting curves ``(label, tau, y)`` on one clock, with an optional fitted law."""
    import numpy as np

    fig, (ax,) = _figure(1, 6.0)
    tmax = 0.0
    for i, (label, tau, y) in enumerate(curves):
        ax.plot(tau, y, ".", ms=3, color=f"C{i % 10}", label=label)
        tmax = max(tmax, float(np.max(tau)))
    if law is not None:
        t = np.linspace(0, tmax, 400)
        if law.family in ("log", "power"):
            t = t[t > 0]
        ax.plot(t, law.predict(t), "k-", lw=1.4, label=f"{law.family} law")
    ax.set_xlabel({"lr_area": "LR area since the switch (sum of LR)", "steps": "steps since the switch",
                   "tokens": "tokens since the switch", "wd": "weight-decay clock"}.get(clock, clock))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
