"""``lrplan curves ...``: inspect training logs and convert them to the canonical curve CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli.app import app, console, err_console
from lrplan.errors import LrplanError

curves_app = typer.Typer(help="Read training logs (CSV, W&B, TensorBoard, HF, Lightning, MLflow, console logs).",
                         no_args_is_help=True)
app.add_typer(curves_app, name="curves", rich_help_panel="Schedules and data")

FilesArg = Annotated[list[Path], typer.Argument(help="Log files or directories (format auto-detected).")]
FormatOpt = Annotated[Optional[str], typer.Option("--format", "-f", help="Force a format (see 'lrplan curves formats').")]
MapOpt = Annotated[Optional[list[str]], typer.Option(
    "--map", "-m", help="Column mapping NAME=TARGET (TARGET: step, loss, loss:<split>, val_loss, lr, tokens, run, split); repeatable.")]
RunOpt = Annotated[Optional[str], typer.Option(help="Keep only this run (or name a file's only run).")]
SplitOpt = Annotated[Optional[str], typer.Option(help="Keep only this split (train, val, ...).")]
ScheduleOpt = Annotated[Optional[list[str]], typer.Option(
    "--schedule", help="Fill missing LR from a schedule spec: [RUN=]SPEC, e.g. run1='cosine:peak=3e-4,warmup=200' "
                       "(without RUN= for every run); repeatable.")]


def parse_map(items: list[str] | None) -> dict[str, str] | None:
    """``["old=new", ...]`` -> ``{old: new}``; the last ``=`` separates (names may contain ``=``)."""
    if not items:
        return None
    out = {}
    for item in items:
        name, sep, target = item.rpartition("=")
        if not sep or not name.strip() or not target.strip():
            raise LrplanError(f"--map {item!r}: expected NAME=TARGET, e.g. --map 'valid ppl loss=loss:val'")
        out[name.strip()] = target.strip()
    return out


def _load(files, fmt, mapping, run, split, schedule=None):
    from lrplan.loaders import load_many, with_schedule

    def progress(paths):
        from rich.progress import track

        return track(paths, description="reading logs", console=err_console, transient=True) if len(paths) > 1 else paths

    curves = load_many(files, format=fmt, columns=parse_map(mapping), run=run, split=split, progress=progress)
    for item in schedule or []:
        name, sep, spec = item.partition("=")
        if sep and name.strip() in curves.meta:  # RUN=SPEC (a spec alone also contains '=')
            curves = with_schedule(curves, spec.strip(), runs=[name.strip()])
        else:
            curves = with_schedule(curves, item.strip())
    return curves


@curves_app.command("inspect")
def inspect(files: FilesArg, format: FormatOpt = None, map: MapOpt = None, run: RunOpt = None,
            split: SplitOpt = None, schedule: ScheduleOpt = None,
            json_out: Annotated[bool, typer.Option("--json", help="Print the rows as JSON instead of a table.")] = False):
    """Print one row per run and split: points, step range, loss range, LR present, schedule."""
    from rich.table import Table

    curves = _load(files, format, map, run, split, schedule)
    data = curves.data
    if json_out:
        import json

        rows = curves.summary()
        rows["loss_first"] = [float(g["loss"].iloc[0]) for _, g in data.groupby(["run", "split"], sort=False)]
        rows["agg"] = [(curves.meta[r].extra.get("agg") or {}).get(s, "") for r, s in zip(rows["run"], rows["split"])]
        rows["format"] = [curves.meta[r].extra.get("format", "") for r in rows["run"]]
        print(json.dumps(rows.to_dict("records"), indent=1))
        return
    show_schedule = any(m.schedule for m in curves.meta.values())
    table = Table(show_header=True)
    table.add_column("run", overflow="fold", min_width=16)
    table.add_column("split", min_width=5)
    for col in ("points", "steps", "loss first→last"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("lr", min_width=3)
    table.add_column("agg", overflow="fold")
    if show_schedule:
        table.add_column("schedule")
    formats = {}
    for (r, s), g in data.groupby(["run", "split"], sort=False):
        meta = curves.meta[r]
        formats.setdefault(meta.extra.get("format", "?"), []).append(r)
        lr = g["lr"].notna()
        row = [str(r), str(s), str(len(g)), f"{int(g['step'].iloc[0])}–{int(g['step'].iloc[-1])}",
               f"{g['loss'].iloc[0]:.4g}→{g['loss'].iloc[-1]:.4g}",
               "yes" if lr.all() else ("partial" if lr.any() else "no"), (meta.extra.get("agg") or {}).get(s, "")]
        if show_schedule:
            row.append(meta.schedule or "")
        table.add_row(*row)
    console.print(table)
    fmt = ", ".join(f"{k} ({len(set(v))} run(s))" for k, v in formats.items())
    console.print(f"{len(curves.runs)} run(s), {len(data)} point(s), splits: {', '.join(curves.splits)}; format: {fmt}",
                  highlight=False, soft_wrap=True)


@curves_app.command("convert")
def convert(files: FilesArg,
            out: Annotated[Path, typer.Option("--out", "-o", help="Output CSV (run,split,step,loss,lr[,tokens,batch_size]).")],
            format: FormatOpt = None, map: MapOpt = None, run: RunOpt = None, split: SplitOpt = None,
            schedule: ScheduleOpt = None):
    """Read logs and write the canonical lrplan curve CSV (readable again by every lrplan command)."""
    curves = _load(files, format, map, run, split, schedule)
    curves.to_csv(out)
    err_console.print(f"wrote {out}: {len(curves.runs)} run(s), {len(curves)} point(s)", highlight=False)


@curves_app.command("formats")
def formats():
    """List the log formats lrplan reads."""
    from rich.table import Table

    from lrplan.loaders import FORMATS

    table = Table(show_header=True)
    table.add_column("format")
    table.add_column("what")
    for name, (_, what) in FORMATS.items():
        table.add_row(name, what)
    console.print(table)
