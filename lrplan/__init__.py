"""lrplan: predict LLM loss curves under learning-rate schedules and batch sizes, and plan them.

Units used throughout: steps are optimizer steps (0-based); LR is absolute unless a name says
``_norm`` (peak-normalised); loss is in nats per token.
"""

__version__ = "0.1.0"

from lrplan.errors import LrplanError, LrplanWarning  # noqa: E402

__all__ = ["__version__", "LrplanError", "LrplanWarning"]
