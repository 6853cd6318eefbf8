"""Plots (matplotlib object API). Every function returns a ``Figure``; save with
:func:`lrplan._io.save_figure` (atomic). The CLI forces the ``Agg`` backend."""

from lrplan.plots.schedule import plot_schedules

__all__ = ["plot_schedules"]
