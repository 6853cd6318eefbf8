"""``lrplan demo``: fit, predict, plan and recommend on bundled data; writes a report folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lrplan.cli.app import app, console, err_console


@app.command("demo", rich_help_panel="Start here")
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for report.md, PNG plots and the plan.")] = Path("lrplan-demo"),
    size: Annotated[str, typer.Option(help="Model size of the multi-power-law curves: 25, 100 or 400 (M params).")] = "100",
    law: Annotated[str, typer.Option(help="Loss law to fit: momentum, mpl, bound, power or auto.")] = "auto",
    plan: Annotated[bool, typer.Option(help="Also plan a schedule under the fitted law.")] = True,
):
    """Run lrplan's whole job on bundled data (no torch needed) and print a short report."""
    from rich.table import Table

    from lrplan.demo import _fmt, run_demo

    with console.status("lrplan demo", spinner="dots") if console.is_terminal else _null():
        result = run_demo(out, size=size, law=law, plan=plan,
                          say=lambda m: err_console.print(f"[dim]> {m}[/dim]", highlight=False))
    for s in result.sections:
        console.rule(f"[bold]{s.title}")
        if s.text:
            console.print(s.text, highlight=False)
        if s.table is not None:
            t = Table(show_header=True, header_style="bold")
            for c in s.table.columns:
                t.add_column(str(c), justify="left" if s.table[c].dtype == object else "right")
            for _, r in s.table.iterrows():
                t.add_row(*[_fmt(v) for v in r.to_list()])
            console.print(t)
    console.print(f"\nwrote {result.out}/report.md and the plots in {result.seconds:.1f} s", highlight=False)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False
