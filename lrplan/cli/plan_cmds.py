"""``lrplan plan``: the best schedule for a budget under a fitted law, exported ready to use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli.app import app, console, err_console


def _lr_value(text: str | None, name: str):
    if text is None:
        return None
    t = text.strip()
    if t.lower().endswith("x"):
        return t
    try:
        return float(t)
    except ValueError:
        from lrplan.errors import ConfigError

        raise ConfigError(f"--{name}={text!r} is not a number (absolute LR, or e.g. 0.1x for 0.1 x peak)") from None


@app.command("plan", rich_help_panel="Planning")
def plan_cmd(
    fit: Annotated[str, typer.Option("--fit", help="Fitted law: FIT.json, a shipped fit name, or mpl-25/mpl-100/mpl-400.")],
    steps: Annotated[int, typer.Option("--steps", "-T", help="Run length T (optimizer steps).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (plan.json, lr.csv, lr_scheduler.py, predicted.csv, plan.png).")],
    peak: Annotated[Optional[float], typer.Option(help="Peak LR (absolute); default: the fit's peak.")] = None,
    peak_min: Annotated[Optional[float], typer.Option(help="Let the planner choose the peak in [peak-min, peak-max].")] = None,
    peak_max: Annotated[Optional[float], typer.Option(help="Upper bound of the peak LR (with --peak-min).")] = None,
    warmup: Annotated[float, typer.Option(help="Warmup steps (>= 1) or fraction of T (< 1); a fixed linear ramp.")] = 0,
    warmup_style: Annotated[str, typer.Option(help="linear (peak at step W) or inclusive (peak at step W-1).")] = "linear",
    floor: Annotated[Optional[str], typer.Option(help="Lowest LR: absolute, or e.g. 0.01x of the peak.")] = None,
    max_cooldown: Annotated[Optional[float], typer.Option(help="LR stays at the peak until T - max-cooldown (steps or fraction).")] = None,
    checkpoint: Annotated[Optional[list[float]], typer.Option("--checkpoint", help="Step (or fraction of T) where the loss must be good; repeat for an anytime schedule. Default: the last step.")] = None,
    weight: Annotated[Optional[list[float]], typer.Option("--weight", help="Weight of each --checkpoint (same order).")] = None,
    robust: Annotated[str, typer.Option(help="none (point fit), mean (mean of bootstrap fits) or upper (upper band).")] = "none",
    level: Annotated[float, typer.Option(help="Band coverage for predictions (0.9 = 5-95 %).")] = 0.9,
    freeform: Annotated[bool, typer.Option(help="Run the free-form optimiser (otherwise: best family schedule).")] = True,
    resolution: Annotated[int, typer.Option(help="Free-form: maximum number of LR blocks (>= T: per step).")] = 4096,
    plot: Annotated[bool, typer.Option(help="Write plan.png.")] = True,
):
    """Plan the LR schedule for T steps under a fitted law; write it with predictions and baselines."""
    from rich.progress import Progress
    from rich.table import Table

    from lrplan.errors import ConfigError
    from lrplan.plan import Constraints, load_objective, plan_schedule
    from lrplan.plan.output import write_plan

    if robust not in ("none", "mean", "upper"):
        raise ConfigError(f"--robust={robust!r}; allowed: none, mean, upper")
    if not 0 < level < 1:
        raise ConfigError(f"--level must be in (0, 1), got {level!r}")
    if resolution < 1:
        raise ConfigError(f"--resolution must be >= 1, got {resolution!r}")
    from scipy.stats import norm

    point, objective, band, info = load_objective(fit, robust=None if robust == "none" else robust,
                                                  z=float(norm.ppf(0.5 + level / 2)))
    if peak is None:
        peak = info.get("peak_lr")
        if peak is None and peak_max is None:
            raise ConfigError(f"--peak is needed: the fit {fit!r} records no peak LR")
        peak = peak if peak is not None else peak_max
    bounds = None
    if (peak_min is None) != (peak_max is None):
        raise ConfigError("give both --peak-min and --peak-max (or neither)")
    if peak_min is not None:
        bounds = (peak_min, peak_max)
    c = Constraints.build(steps, peak, warmup=int(warmup) if warmup >= 1 else warmup,
                          floor=_lr_value(floor, "floor") or 0.0,
                          max_cooldown=(int(max_cooldown) if max_cooldown >= 1 else max_cooldown) if max_cooldown else None,
                          checkpoints=checkpoint, weights=weight, peak_bounds=bounds, warmup_style=warmup_style)
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("planning", total=None)
        p = plan_schedule(objective, c, freeform=freeform, band_model=band, level=level, resolution=resolution,
                          progress=lambda i, n: bar.update(task, completed=i, total=n), law_info=info)
    write_plan(p, out, point, band, plot=plot)

    table = Table(title=f"predicted final loss at step {c.steps - 1} (nats)", show_header=True)
    table.add_column("schedule")
    table.add_column("final loss", justify="right")
    table.add_column(f"band {level:.0%}", justify="right")
    table.add_column("plan gain", justify="right")
    table.add_column("gain band", justify="right")
    gains = p.gains()
    for name, entry in p.predicted.items():
        b = entry.get("band")
        gb = p.gain_band.get(name)
        table.add_row(name, f"{entry['final']:.4f}", f"{b[0]:.4f}..{b[1]:.4f}" if b else "-",
                      f"{gains[name]:+.4f}" if name in gains else "-",
                      f"{gb[0]:+.4f}..{gb[1]:+.4f}" if gb else "-")
    console.print(table)
    ms = p.to_dict()["lr_milestones"]
    console.print(f"plan: {p.method}, peak {p.schedule.peak:.4g}, below 0.5x peak at step {ms['below_0.5x']}, "
                  f"final LR {ms['final_lr']:.3g}; planned in {p.seconds:.1f} s", highlight=False)
    if p.method == "family":
        console.print(f"schedule: {p.schedule.spec}", highlight=False, soft_wrap=True)
    err_console.print(f"wrote {out}/")
