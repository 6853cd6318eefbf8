"""``lrplan cpt ...`` (continual pre-training law) and ``lrplan forgetting ...`` (forgetting curves,
fact retention). See docs/forgetting.md.

RUNS arguments are trainer run folders (``curves.csv`` + ``meta.json``; the switch step and replay
fraction come from the config's data mixture) or canonical curve CSV files (every run in them;
give ``--switch`` and ``--replay``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli.app import app, console, err_console

cpt_app = typer.Typer(help="Continual pre-training law (Wang et al. 2025): fit old/new-domain loss across a data switch, predict other continual schedules.", no_args_is_help=True)
forget_app = typer.Typer(help="Forgetting curves on a chosen clock and fact retention (Chang et al. 2024).", no_args_is_help=True)
app.add_typer(cpt_app, name="cpt", rich_help_panel="Continual pre-training")
app.add_typer(forget_app, name="forgetting", rich_help_panel="Continual pre-training")

RunsArg = Annotated[list[Path], typer.Argument(help="Trainer run folders or curve CSV files.")]
SplitOpt = Annotated[str, typer.Option(help="Evaluation split of the domain (trainer runs: val_old or val_new).")]
SwitchOpt = Annotated[Optional[int], typer.Option(help="Switch step (first step on the new data); needed for CSV files.")]
ReplayOpt = Annotated[Optional[float], typer.Option(help="Replay fraction of old data after the switch, in [0, 1] (CSV files; default 0).")]


def load_runs(paths: list[Path], split: str, switch: int | None, replay: float | None):
    """ContinualRun objects from trainer folders or curve CSV files (one per run)."""
    import pandas as pd

    from lrplan.curves import Curves
    from lrplan.errors import ConfigError, LoadError
    from lrplan.forgetting.runs import from_curves, from_trainer_run

    runs = []
    for p in paths:
        if p.is_dir():
            overrides = {k: v for k, v in (("switch", switch), ("replay", replay)) if v is not None}
            runs.append(dataclasses.replace(from_trainer_run(p, split), **overrides))
            continue
        if not p.exists():
            raise LoadError(f"{p}: no such file or folder")
        if switch is None:
            raise ConfigError(f"{p}: a curve CSV needs --switch (the first step on the new data)")
        try:
            frame = pd.read_csv(p)
        except Exception as e:  # pandas raises many types on bad files
            raise LoadError(f"{p}: cannot read as CSV ({type(e).__name__})") from None
        curves = Curves.from_frame(frame, source=str(p))
        runs += [from_curves(curves, r, split, switch, replay or 0.0) for r in curves.runs]
    return runs


@cpt_app.command("fit")
def cpt_fit(
    runs: RunsArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the fitted law (JSON).")],
    split: SplitOpt = "val_old",
    domain: Annotated[str, typer.Option(help="pt (old data: forgetting) or cpt (new data: adaptation).")] = "pt",
    switch: SwitchOpt = None,
    replay: ReplayOpt = None,
    replay_law: Annotated[bool, typer.Option("--replay-law", help="Fit the replay-ratio extension.")] = False,
    replay_form: Annotated[str, typer.Option(help="Replay factor: exp (Eq. 8) or hyperbolic ((1 - r)/(1 + a2 r)).")] = "exp",
    size_law: Annotated[bool, typer.Option("--size-law", help="Fit the model-size extension (Eq. 7).")] = False,
    skip: Annotated[int, typer.Option(help="Steps after the switch left out of the fit (stability gap).")] = 0,
    shift_clock: Annotated[str, typer.Option(help="Clock of the shift term: lr_area (paper) or steps.")] = "lr_area",
    shift_form: Annotated[str, typer.Option(help="Shift term: saturating (paper) or boxcox (log at beta = 0, growing for beta < 0).")] = "saturating",
    anneal_cpt: Annotated[bool, typer.Option("--anneal-cpt/--no-anneal-cpt", help="Keep the continual annealing term -C2*S2cpt (paper); leave it out for an old domain that does not gain from the re-decay.")] = True,
    lam: Annotated[str, typer.Option(help="Momentum of the annealing area: a value in (0, 1) (paper: 0.999) or 'fit' (chosen from 0.95-0.999 by the fit).")] = "0.999",
    transient: Annotated[bool, typer.Option("--transient/--no-transient", help="Add the early-training transient D*exp(-S1/s0), for fits that include the first few hundred steps of pre-training.")] = False,
    first_step: Annotated[int, typer.Option(help="Ignore evaluations before this step.")] = 1,
    boot: Annotated[int, typer.Option(help="Bootstrap refits for the prediction band (0 = none).")] = 10,
    loo: Annotated[bool, typer.Option(help="Leave-one-run-out refits: the error on an unseen continual schedule enters the band.")] = True,
    seed: Annotated[int, typer.Option(help="Random seed of the bootstrap.")] = 0,
    plot: Annotated[Optional[Path], typer.Option(help="Write a plot of data and fit.")] = None,
):
    """Fit the CPT law to one domain's validation loss of one or more continual runs."""
    from lrplan.forgetting import CPTLaw

    loaded = [_from(r, first_step) for r in load_runs(runs, split, switch, replay)]
    law = CPTLaw(domain, replay=replay_form if replay_law else False, size=size_law, skip=skip, lam=_lam(lam),
                 shift_clock=shift_clock, shift_form=shift_form, anneal_cpt=anneal_cpt, transient=transient,
                 n_boot=boot, loo=loo, seed=seed).fit(loaded)
    law.save(out)
    console.print(f"{law!r}", highlight=False, soft_wrap=True)
    unseen = "".join(f"; left out {d['held_out']}: {100 * d['rel_rms']:.2f} %" for d in law.loo_)
    console.print(f"relative error after the switch: in-sample RMS {100 * law.res_rel_sd_:.2f} %{unseen}; "
                  f"band model error {100 * law.model_rel_sd():.2f} %, {len(law.boot_)} bootstrap refits", highlight=False)
    err_console.print(f"wrote {out}")
    if plot is not None:
        _plot_continual([(f"{split} ({domain})", loaded, law)], plot)


def _lam(text: str) -> float | str:
    """``--lam``: 'fit' or a number (range checked by CPTLaw)."""
    if text.strip().lower() == "fit":
        return "fit"
    try:
        return float(text)
    except ValueError:
        from lrplan.errors import ConfigError

        raise ConfigError(f"--lam: expected a momentum in (0, 1) or 'fit', got {text!r}") from None


def _from(run, first_step: int):
    return run.select(run.steps >= first_step)


def _plot_continual(panels, path: Path):
    from lrplan import _io
    from lrplan.plots.forgetting import plot_continual

    _io.save_figure(plot_continual(panels), path)
    err_console.print(f"wrote {path}")


@cpt_app.command("predict")
def cpt_predict(
    law_path: Annotated[Path, typer.Argument(help="A fitted CPT law (JSON from `lrplan cpt fit`).")],
    schedule: Annotated[str, typer.Option(help="The whole schedule, pre-training + continual, e.g. 'wsd:...,steps=600 + cosine:...,steps=600'.")],
    switch: Annotated[int, typer.Option(help="Switch step (first step on the new data).")],
    steps: Annotated[Optional[int], typer.Option("--steps", "-T", help="Total steps (if not in the spec).")] = None,
    replay: Annotated[float, typer.Option(help="Replay fraction of old data after the switch, in [0, 1].")] = 0.0,
    params: Annotated[Optional[float], typer.Option(help="Model size N (size-extended laws).")] = None,
    every: Annotated[int, typer.Option(help="Report every K steps.")] = 50,
    level: Annotated[float, typer.Option(help="Probability of the prediction band, in (0, 1).")] = 0.9,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write step,lr,loss,lo,hi,shift as CSV.")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a plot of the predicted loss.")] = None,
):
    """Predict one domain's loss under a proposed continual schedule (re-warm peak, re-decay, replay)."""
    import numpy as np
    import pandas as pd

    from lrplan import _io
    from lrplan.errors import ConfigError
    from lrplan.forgetting import CPTLaw, ContinualRun
    from lrplan.schedules import parse

    if every < 1:
        raise ConfigError(f"--every must be >= 1, got {every}")
    law = CPTLaw.load(law_path)
    lr = parse(schedule, steps).array()
    run = ContinualRun(lr, switch, replay=replay, params=params, name="proposed")
    grid = np.unique(np.concatenate([np.arange(every, lr.size, every), [switch - 1, lr.size - 1]]))
    pred, lo, hi = law.predict_band(run, grid, level)
    table = pd.DataFrame({"step": grid, "lr": lr[grid], "loss": pred, "lo": lo, "hi": hi, "shift": law.shift(run, grid)})
    band = (f" ({100 * level:g} % band {lo[-1]:.4f}-{hi[-1]:.4f})" if hi[-1] > lo[-1] else
            " (no band: the law file holds no bootstrap refits and no error estimate; refit with `lrplan cpt fit`)")
    console.print(f"{law.domain} domain, switch {switch}, replay {replay:g}: loss before switch "
                  f"{pred[grid == switch - 1][0]:.4f}, final {pred[-1]:.4f} nats{band} (shift {table['shift'].iloc[-1]:+.4f})",
                  highlight=False)
    if out is not None:
        _io.write_csv(out, table, float_format="%.8g")
        err_console.print(f"wrote {out}")
    if plot is not None:
        run.steps, run.loss = grid, pred
        _plot_continual([(f"predicted ({law.domain} domain)", [run], law)], plot)


@forget_app.command("fit")
def forgetting_fit(
    runs: RunsArg,
    split: SplitOpt = "val_old",
    switch: SwitchOpt = None,
    replay: ReplayOpt = None,
    clock: Annotated[str, typer.Option(help="steps, tokens, lr_area or wd.")] = "lr_area",
    family: Annotated[str, typer.Option(help="A family (log, power, shifted_power, saturating, exponential, mixture) or 'all' to compare.")] = "all",
    holdout: Annotated[float, typer.Option(help="Fraction of the clock range held out when comparing.")] = 0.25,
    weight_decay: Annotated[Optional[float], typer.Option(help="AdamW weight decay (wd clock).")] = None,
    tokens_per_step: Annotated[Optional[float], typer.Option(help="Tokens per step (tokens clock).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the fitted law (one family) or the comparison (all) to JSON/CSV.")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a plot of the forgetting curves.")] = None,
):
    """Fit forgetting families to the loss change since the switch, pooled over RUNS."""
    import numpy as np

    from lrplan import _io
    from lrplan.errors import ConfigError
    from lrplan.forgetting import FAMILIES, ForgettingLaw, compare
    from lrplan.forgetting.runs import forgetting_curve_points

    if family != "all" and family not in FAMILIES:
        raise ConfigError(f"--family: unknown family {family!r}; choose all or one of {', '.join(FAMILIES)}")
    curves = []
    for run in load_runs(runs, split, switch, replay):
        tau, dl = forgetting_curve_points(run, clock, weight_decay=weight_decay, tokens_per_step=tokens_per_step)
        curves.append((run.name, tau, dl))
    tau = np.concatenate([c[1] for c in curves])
    y = np.concatenate([c[2] for c in curves])
    law = None
    if family == "all":
        table = compare(tau, y, holdout=holdout, clock=clock)
        console.print(table.drop(columns="note").to_string(index=False, float_format=lambda v: f"{v:.4g}"), highlight=False)
        if out is not None:
            _io.write_csv(out, table, float_format="%.6g")
            err_console.print(f"wrote {out}")
        best = table["family"].iloc[0]
        law = ForgettingLaw(best, clock=clock).fit(tau, y)
    else:
        law = ForgettingLaw(family, clock=clock).fit(tau, y)
        console.print(repr(law), highlight=False, soft_wrap=True)
        if out is not None:
            law.save(out)
            err_console.print(f"wrote {out}")
    if plot is not None:
        from lrplan.plots.forgetting import plot_forgetting

        _io.save_figure(plot_forgetting(curves, clock, law), plot)
        err_console.print(f"wrote {plot}")


@forget_app.command("predict")
def forgetting_predict(
    law_path: Annotated[Path, typer.Argument(help="A fitted forgetting law (JSON from `lrplan forgetting fit --family X`).")],
    schedule: Annotated[str, typer.Option(help="Schedule spec covering the event and the steps after it.")],
    event: Annotated[int, typer.Option(help="Event step (switch or exposure) the clock starts from.")],
    steps: Annotated[Optional[int], typer.Option("--steps", "-T", help="Total steps (if not in the spec).")] = None,
    every: Annotated[int, typer.Option(help="Report every K steps.")] = 50,
    weight_decay: Annotated[Optional[float], typer.Option(help="AdamW weight decay (wd clock).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write step,tau,y as CSV.")] = None,
):
    """Predict the forgetting curve after EVENT under SCHEDULE on the law's clock."""
    import numpy as np
    import pandas as pd

    from lrplan import _io
    from lrplan.errors import ConfigError
    from lrplan.forgetting import ForgettingLaw, elapsed
    from lrplan.schedules import parse

    law = ForgettingLaw.load(law_path)
    lr = parse(schedule, steps).array()
    if not 0 <= event < lr.size - 1:
        raise ConfigError(f"--event: step {event} is outside the schedule (0..{lr.size - 2})")
    if law.clock == "tokens":
        raise ConfigError("forgetting predict: a law on the tokens clock needs token counts; refit on steps or lr_area")
    grid = np.unique(np.concatenate([np.arange(event, lr.size, max(every, 1)), [lr.size - 1]]))
    tau = elapsed(grid, event, law.clock, lr=lr, weight_decay=weight_decay)
    pred = law.predict(np.maximum(tau, 1e-12) if law.family in ("log", "power") else tau)
    table = pd.DataFrame({"step": grid, "tau": tau, "y": pred})
    console.print(table.iloc[:: max(1, len(table) // 12)].to_string(index=False, float_format=lambda v: f"{v:.5g}"), highlight=False)
    if out is not None:
        _io.write_csv(out, table, float_format="%.8g")
        err_console.print(f"wrote {out}")


@forget_app.command("plot")
def forgetting_plot(
    runs: RunsArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Image file (PNG/SVG/PDF).")],
    old: Annotated[str, typer.Option(help="Split of the old domain.")] = "val_old",
    new: Annotated[str, typer.Option(help="Split of the new domain.")] = "val_new",
    law_old: Annotated[Optional[Path], typer.Option(help="A fitted CPT law for the old domain (drawn as lines).")] = None,
    law_new: Annotated[Optional[Path], typer.Option(help="A fitted CPT law for the new domain.")] = None,
    switch: SwitchOpt = None,
    replay: ReplayOpt = None,
):
    """Plot old- and new-domain loss of continual runs around the switch (with fitted laws)."""
    from lrplan.forgetting import CPTLaw

    panels = []
    for split, lawp in ((old, law_old), (new, law_new)):
        panels.append((split, load_runs(runs, split, switch, replay), CPTLaw.load(lawp) if lawp else None))
    _plot_continual(panels, out)


@forget_app.command("retention")
def forgetting_retention(
    probes: Annotated[Path, typer.Argument(help="Probe log-probabilities CSV: probe, passage, step, logprob [, scenario, kind].")],
    exposures: Annotated[Path, typer.Argument(help="Exposures CSV: passage, step.")],
    by: Annotated[str, typer.Option(help="Comma-separated grouping columns (those present are used).")] = "scenario,kind",
    window: Annotated[int, typer.Option(help="Steps after an exposure searched for the local acquisition maximum (50 for AdamW beta1 0.9).")] = 50,
    iqr: Annotated[float, typer.Option(help="IQR outlier factor (0 = off).")] = 2.0,
    control: Annotated[Optional[Path], typer.Option(help="CSV of never-injected control probes (step, logprob): subtract their mean drift.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the report as CSV.")] = None,
):
    """Effectivity, retainability law R = b - a*log10(t) and learnability threshold per group."""
    import pandas as pd

    from lrplan import _io
    from lrplan.errors import LoadError
    from lrplan.forgetting import retention_report

    frames = []
    for p in (probes, exposures) + ((control,) if control is not None else ()):
        try:
            frames.append(pd.read_csv(p))
        except FileNotFoundError:
            raise LoadError(f"{p}: file not found") from None
        except Exception as e:
            raise LoadError(f"{p}: cannot read as CSV ({type(e).__name__})") from None
    rep = retention_report(frames[0], frames[1], by=tuple(c.strip() for c in by.split(",") if c.strip()),
                           window=window, iqr_k=iqr or None, control=frames[2] if control is not None else None)
    console.print(rep.to_string(index=False, float_format=lambda v: f"{v:.4g}"), highlight=False)
    if out is not None:
        _io.write_csv(out, rep, float_format="%.6g")
        err_console.print(f"wrote {out}")
