"""The ``lrplan`` typer application and the entry point that turns errors into one line + exit 2.

Command modules register themselves on :data:`app` (or on a sub-app they add to it) when
imported from :mod:`lrplan.cli`. Heavy imports (scipy, matplotlib, torch) belong inside the
command functions so that ``lrplan --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
import warnings

import typer
from rich.console import Console
from rich.markup import escape

from lrplan.errors import LrplanError, LrplanWarning

app = typer.Typer(
    name="lrplan",
    help="Predict LLM loss curves under LR schedules and batch sizes you have not run, and plan them.",
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: stdout stays machine-readable; messages, warnings and progress go to stderr.
console = Console()
err_console = Console(stderr=True)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, LrplanWarning):
        err_console.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)
    elif os.environ.get("LRPLAN_DEBUG"):
        err_console.print(f"[dim]{category.__name__}: {message} ({filename}:{lineno})[/dim]", highlight=False)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point. Returns/exits with 0 on success, 2 on bad input."""
    warnings.showwarning = _show_warning
    warnings.simplefilter("default", LrplanWarning)
    args = sys.argv[1:] if argv is None else list(argv)
    code = 0
    try:
        rv = app(args=args, prog_name="lrplan", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except LrplanError as e:
        err_console.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
        code = 2
    except typer.TyperException as e:  # usage errors (typer's click): exit code 2
        if type(e).__name__ == "NoArgsIsHelpError":
            e.show()  # prints the help text
        else:
            fmt = getattr(e, "format_message", None)
            msg = " ".join((fmt() if fmt else str(e)).split())
            ctx = getattr(e, "ctx", None)
            where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            err_console.print(f"[red]error:[/red] {msg}{where}", highlight=False, soft_wrap=True)
        code = getattr(e, "exit_code", 2)
    except typer.Exit as e:
        code = getattr(e, "exit_code", 0)
    except typer.Abort:
        err_console.print("aborted")
        code = 130
    except KeyboardInterrupt:
        err_console.print("interrupted")
        code = 130
    except (FileNotFoundError, IsADirectoryError, PermissionError, NotADirectoryError) as e:
        name = getattr(e, "filename", None) or ""
        err_console.print(f"[red]error:[/red] {name}: {e.strerror or e}", highlight=False, soft_wrap=True)
        code = 2
    except Exception as e:  # a bug, not bad input: say so, keep the traceback behind a flag
        if os.environ.get("LRPLAN_DEBUG"):
            raise
        first = str(e).splitlines()[0] if str(e) else ""
        err_console.print(f"[red]internal error:[/red] {type(e).__name__}: {first} "
                          "(this is a bug in lrplan; rerun with LRPLAN_DEBUG=1 for a traceback)",
                          highlight=False, soft_wrap=True)
        code = 1
    if argv is None:
        sys.exit(code)
    return code
