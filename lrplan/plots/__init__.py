"""Plots (matplotlib object API). Every function returns a ``Figure``; save with
:func:`lrplan._io.save_figure` (atomic). The CLI forces the ``Agg`` backend."""

from lrplan.plots.forgetting import plot_continual, plot_forgetting
from lrplan.plots.schedule import plot_schedules

__all__ = ["plot_continual", "plot_forgetting", "plot_schedules"]
