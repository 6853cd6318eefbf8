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
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (plan.json, lr.csv, lr_scheduler.py, predicted.csv, plan.png).")],
    steps: Annotated[Optional[int], typer.Option("--steps", "-T", help="Run length T (optimizer steps); with --params/--tokens it comes from the hyper-parameter law.")] = None,
    peak: Annotated[Optional[float], typer.Option(help="Peak LR (absolute); default: the fit's peak.")] = None,
    peak_min: Annotated[Optional[float], typer.Option(help="Let the planner choose the peak between --peak-min and --peak-max.")] = None,
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
    resolution: Annotated[int, typer.Option(help="Free-form: maximum number of LR blocks (>= T: per step; more blocks let "
                                                 "a poorly identified law be exploited, see docs/planner.md).")] = 32,
    plot: Annotated[bool, typer.Option(help="Write plan.png.")] = True,
    params: Annotated[Optional[float], typer.Option("--params", help="Target model size N (parameters, as the hyper-parameter law counts them).")] = None,
    tokens: Annotated[Optional[float], typer.Option("--tokens", help="Target training tokens D.")] = None,
    hparams: Annotated[str, typer.Option(help="Hyper-parameter law for --params/--tokens: steplaw, deepseek or a law JSON from lrplan hparams.")] = "steplaw",
    seq_len: Annotated[int, typer.Option(help="Sequence length (tokens) for --params/--tokens.")] = 2048,
    batch_ramp: Annotated[Optional[float], typer.Option(help="Ramp the batch up over this fraction of the tokens (writes ramp.csv).")] = None,
    ramp_start: Annotated[float, typer.Option(help="First batch of the ramp, as a fraction of the recommended batch.")] = 0.25,
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
    target = params is not None or tokens is not None
    if target:
        if params is None or tokens is None:
            raise ConfigError("give both --params and --tokens for a target plan")
        if steps is not None or peak_min is not None or peak_max is not None:
            raise ConfigError("with --params/--tokens the steps and peak LR come from the hyper-parameter law; "
                              "drop --steps/--peak-min/--peak-max")
    elif steps is None:
        raise ConfigError("give --steps (or --params and --tokens to plan for a target)")
    elif batch_ramp is not None:
        raise ConfigError("--batch-ramp needs a target plan (--params and --tokens)")
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
    floor_v = _lr_value(floor, "floor") or 0.0
    max_cd = (int(max_cooldown) if max_cooldown >= 1 else max_cooldown) if max_cooldown else None
    extra, tables = None, None
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("planning", total=None)
        prog = lambda i, n: bar.update(task, completed=i, total=n)  # noqa: E731
        if target:
            tp = _target_plan(objective, band, info, hparams, params, tokens, peak, seq_len, floor_v, max_cd,
                              checkpoint, weight, batch_ramp, ramp_start, resolution, prog)
            p, extra = tp.plan, {"target": tp.to_dict()}
            if tp.batch_seqs is not None:
                import pandas as pd

                tables = {"ramp.csv": pd.DataFrame({"step": range(len(tp.batch_seqs)), "batch_seqs": tp.batch_seqs,
                                                    "lr": tp.lr})}
        else:
            c = Constraints.build(steps, peak, warmup=int(warmup) if warmup >= 1 else warmup, floor=floor_v,
                                  max_cooldown=max_cd, checkpoints=checkpoint, weights=weight, peak_bounds=bounds,
                                  warmup_style=warmup_style)
            p = plan_schedule(objective, c, freeform=freeform, band_model=band, level=level, resolution=resolution,
                              progress=prog, law_info=info)
    c = p.constraints
    write_plan(p, out, point, band, plot=plot, extra=extra, tables=tables)

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
        console.print(f"schedule: {p.families[0].spec}", highlight=False, soft_wrap=True)
    if extra:
        r = extra["target"]["recommendation"]
        console.print(f"target: N={r['N']:.3g}, D={r['D']:.3g} tokens -> peak LR {r['lr']:.3g}, batch "
                      f"{r['batch_seqs']:.4g} x {r['seq_len']} tokens, {r['steps']} steps, warmup {r['warmup_steps']} "
                      f"({r['law']}); schedule shape planned at the fit's peak and rescaled x{extra['target']['lr_scale']:.3g}",
                      highlight=False, soft_wrap=True)
    err_console.print(f"wrote {out}/")


def _target_plan(objective, band, info, hparams, params, tokens, peak, seq_len, floor, max_cd, checkpoint, weight,
                 ramp, ramp_start, resolution, progress):
    from lrplan.errors import ConfigError
    from lrplan.plan.target import plan_for_target

    try:
        from lrplan.hparams import HparamLaw, published
    except ImportError:
        raise ConfigError("--params/--tokens need the hyper-parameter laws (lrplan.hparams)") from None
    key = hparams.strip().lower().replace("-", "").replace("_", "")
    law = published(hparams) if key in ("steplaw", "deepseek") else HparamLaw.load(hparams)
    return plan_for_target(objective, law, params, tokens, fit_peak=peak, seq_len=seq_len, floor=floor,
                           max_cooldown=max_cd, checkpoints=checkpoint, weights=weight, band_model=band, ramp=ramp,
                           ramp_start=ramp_start, resolution=resolution, progress=progress, law_info=info)
