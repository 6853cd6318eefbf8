"""``lrplan schedule ...``: show, export and list schedules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli.app import app, console, err_console

schedule_app = typer.Typer(help="Build, inspect and export LR schedules from spec strings.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule", rich_help_panel="Schedules and data")


@schedule_app.command("show")
def show(
    spec: Annotated[str, typer.Argument(help="Schedule spec, e.g. 'wsd:peak=3e-4,warmup=100,cooldown=0.2'.")],
    steps: Annotated[Optional[int], typer.Option("--steps", "-T", help="Total steps T (if not in the spec).")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a PNG/SVG plot of the LR.")] = None,
    csv: Annotated[Optional[Path], typer.Option(help="Write the per-step LR as a step,lr CSV.")] = None,
    torch: Annotated[Optional[Path], typer.Option("--torch", help="Write a PyTorch LambdaLR snippet (.py); the CSV goes next to it.")] = None,
    log: Annotated[bool, typer.Option(help="Log-scale LR axis in the plot.")] = False,
):
    """Evaluate SPEC for T steps: print a summary and optionally write a plot, CSV or PyTorch snippet."""
    import numpy as np
    from rich.table import Table

    from lrplan import _io
    from lrplan.schedules import parse, to_csv, torch_snippet

    sched = parse(spec, steps)
    lr = sched.array()
    console.print(f"schedule: {sched.spec}", highlight=False, soft_wrap=True)
    table = Table(show_header=True)
    table.add_column("step", justify="right")
    table.add_column("lr", justify="right")
    table.add_column("lr / peak", justify="right")
    marks = sorted({0, *(int(round(q * (sched.steps - 1))) for q in (0.1, 0.25, 0.5, 0.75, 0.8, 0.9, 0.95)), sched.steps - 1})
    w = sched.warmup
    if 0 < w < sched.steps:
        marks = sorted(set(marks) | {w - 1, w})
    for m in marks:
        table.add_row(str(m), f"{lr[m]:.6g}", f"{lr[m] / sched.peak:.4f}")
    console.print(table)
    console.print(f"steps {sched.steps}  peak {sched.peak:.6g}  final {lr[-1]:.6g}  "
                  f"LR area (sum) {float(np.sum(lr)):.6g}", highlight=False)
    if csv is not None:
        to_csv(sched, csv)
        err_console.print(f"wrote {csv}")
    if torch is not None:
        csv_path = torch.with_suffix(".csv")
        to_csv(sched, csv_path)
        _io.write_text(torch, torch_snippet(sched, csv_name=csv_path.name))
        err_console.print(f"wrote {torch} and {csv_path}")
    if plot is not None:
        from lrplan.plots import plot_schedules

        fig = plot_schedules([sched], log=log)
        _io.save_figure(fig, plot)
        err_console.print(f"wrote {plot}")


@schedule_app.command("list")
def list_families():
    """List the schedule families and the keys each accepts."""
    from rich.table import Table

    from lrplan.schedules import FAMILIES, family_keys

    table = Table(show_header=True)
    table.add_column("family")
    table.add_column("keys")
    table.add_column("what it is")
    for name, fn in FAMILIES.items():
        doc = (fn.__doc__ or "").strip().splitlines()[0]
        table.add_row(name, ", ".join(family_keys(name)), doc)
    table.add_row("file", "file:PATH", "Custom schedule from a step,lr CSV.")
    table.add_row("A + B", "", "Join pieces end to end (re-warm); every piece but the last needs steps=.")
    console.print(table)
