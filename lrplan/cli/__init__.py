"""The ``lrplan`` command. Each command module registers its commands on import."""

from lrplan.cli.app import app, console, err_console, main

# command modules (one per area); demo first (its help panel leads), then sorted
from lrplan.cli import demo_cmds  # noqa: E402,F401
from lrplan.cli import curves_cmds  # noqa: E402,F401
from lrplan.cli import fit_cmds  # noqa: E402,F401
from lrplan.cli import forgetting_cmds  # noqa: E402,F401
from lrplan.cli import hparams_cmds  # noqa: E402,F401
from lrplan.cli import plan_cmds  # noqa: E402,F401
from lrplan.cli import schedule_cmds  # noqa: E402,F401
from lrplan.cli import train_cmds  # noqa: E402,F401

__all__ = ["app", "console", "err_console", "main"]
