"""User-facing errors and warnings.

Every error lrplan raises on bad input is a :class:`LrplanError` whose message is one line that
names the file or key at fault and the problem. The CLI prints it and exits with code 2.
"""

from __future__ import annotations


class LrplanError(Exception):
    """Bad input or an impossible request. ``str(err)`` is a one-line message for the user."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class SpecError(LrplanError, ValueError):
    """A schedule spec string (or other spec) is malformed."""


class LoadError(LrplanError):
    """A log file cannot be read into a curve table."""


class FitError(LrplanError):
    """A law cannot be fitted (too few points, no convergence, ...)."""


class ConfigError(LrplanError, ValueError):
    """An invalid configuration (trainer, sweep, planner constraints)."""


class LrplanWarning(UserWarning):
    """Something the user should know about that does not stop the work (dropped NaN rows,
    poorly identified parameters, a fit on another schedule family, ...)."""
