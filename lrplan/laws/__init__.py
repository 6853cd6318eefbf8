"""Loss-curve laws: fit schedule-aware laws to logged curves, predict unseen schedules.

One estimator per law, all with the interface of :class:`lrplan.laws.base.Law`
(``fit(curves, schedules=None)``, ``predict(lr, steps=None)``, ``predict_band(...)``,
``params_``, ``to_dict()``/``Law.from_dict()``):

=============  =====================================================================
``momentum``   :class:`MomentumLaw` -- Tissue et al. 2024 (LR annealing, S1/S2 areas)
``mpl``        :class:`MultiPowerLaw` -- Luo et al. 2025 (multi-power law)
``bound``      :class:`BoundLaw` -- Schaipp et al. 2025 (convex last-iterate bound)
``power``      :class:`PowerLaw` -- schedule-agnostic L0 + A*(t+1)^-alpha baseline
``auto``       :class:`AutoLaw` -- members weighted by leave-one-curve-out error
=============  =====================================================================

Artifacts: :func:`lrplan.laws.artifacts.save_fit` / :func:`load_fit` (also finds shipped fits in
``fits/`` by name). Kernels for other areas: :mod:`lrplan.laws.kernels`.
"""

from lrplan.laws.base import REGISTRY, Law
from lrplan.laws.momentum import MomentumLaw
from lrplan.laws.mpl import MultiPowerLaw
from lrplan.laws.bound import BoundLaw
from lrplan.laws.power import PowerLaw
from lrplan.laws.auto import AutoLaw
from lrplan.laws.artifacts import load_fit, save_fit, shipped_fits

LAWS = ("momentum", "mpl", "bound", "power", "auto")


def make_law(name: str, **options) -> Law:
    """A new unfitted law by name (``momentum``, ``mpl``, ``bound``, ``power``, ``auto``)."""
    from lrplan.errors import LrplanError

    if name not in REGISTRY:
        raise LrplanError(f"unknown law {name!r}; choose from {', '.join(LAWS)}")
    return REGISTRY[name](**options)


__all__ = ["Law", "MomentumLaw", "MultiPowerLaw", "BoundLaw", "PowerLaw", "AutoLaw", "LAWS", "make_law",
           "load_fit", "save_fit", "shipped_fits", "REGISTRY"]
