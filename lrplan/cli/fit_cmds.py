"""``lrplan fit``, ``lrplan predict``, ``lrplan plot``: fit loss laws, predict unseen schedules.

    lrplan fit CURVES... [--lr-file LR.csv] [--schedule RUN=SPEC]... [--law auto] --out FIT.json
    lrplan predict FIT.json|NAME (--lr-file LR.csv | --schedule SPEC --steps T) [--every K] --out PRED.csv
    lrplan plot FIT.json|NAME [CURVES...] [--lr-file ...] [--schedule RUN=SPEC]... [--predict SPEC --steps T] --out PLOT.png
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli.app import app, console, err_console
from lrplan.cli.curves_cmds import FormatOpt, MapOpt, SplitOpt
from lrplan.errors import LrplanError

LAW_HELP = "Law: momentum (Tissue et al. 2024), mpl (Luo et al. 2025), bound (Schaipp et al. 2025), power (baseline), auto (LOO-weighted ensemble)."


def _schedule_pairs(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        run, sep, spec = item.partition("=")
        if not sep or not run.strip() or not spec.strip():
            raise LrplanError(f"--schedule {item!r}: expected RUN=SPEC, e.g. --schedule run1='cosine:peak=3e-4,warmup=500'")
        out[run.strip()] = spec.strip()
    return out


def _load_curves(files: list[Path], fmt: str | None = None, mapping: list[str] | None = None,
                 split: str | None = None):
    from lrplan.cli.curves_cmds import _load

    return _load(files, fmt, mapping, None, split)


def _fit_schedules(curves, lr_file: Optional[Path], schedule: list[str] | None) -> dict:
    from lrplan.laws.data import read_lr_file

    scheds: dict = {}
    if lr_file is not None:
        table = read_lr_file(lr_file)
        if None in table:
            if len(curves.runs) != 1:
                raise LrplanError(f"{lr_file}: has no run column but the curves hold {len(curves.runs)} runs; "
                                  "use columns run,step,lr")
            scheds[curves.runs[0]] = table[None]
        else:
            for run, arr in table.items():
                if run in curves.meta:
                    scheds[run] = arr
            missing = [r for r in curves.runs if r not in table and not curves.meta[r].schedule]
            if missing and not schedule:
                raise LrplanError(f"{lr_file}: no LR rows for run {missing[0]!r}; add rows run={missing[0]} or --schedule {missing[0]}=SPEC")
    scheds.update(_schedule_pairs(schedule))
    return scheds


@app.command("fit", rich_help_panel="Loss laws")
def fit_cmd(
    curves: Annotated[list[Path], typer.Argument(help="Loss-curve logs (canonical CSV run,step,loss[,lr] or any supported format).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Fit artifact to write (JSON).")],
    law: Annotated[str, typer.Option(help=LAW_HELP)] = "auto",
    lr_file: Annotated[Optional[Path], typer.Option("--lr-file", help="CSV run,step,lr with the LR at every step of each run.")] = None,
    schedule: Annotated[Optional[list[str]], typer.Option("--schedule", help="RUN=SPEC: the schedule of a run (repeatable).")] = None,
    runs: Annotated[Optional[list[str]], typer.Option("--run", help="Fit only these runs (repeatable).")] = None,
    boot: Annotated[int, typer.Option(help="Bootstrap refits for the prediction band (0 = none).")] = 10,
    loo: Annotated[bool, typer.Option(help="Leave-one-curve-out refits (model error in the band).")] = True,
    seed: Annotated[int, typer.Option(help="Random seed of the bootstrap.")] = 0,
    window_refits: Annotated[str, typer.Option("--window-refits", help=(
        "Comma-separated fractions, e.g. 0.1,0.2,0.3: refit once per fraction with that share of each curve's start "
        "dropped; bands widen to contain these refits (recommended when predicting or planning far past the fitted steps)."))] = "",
    shape_refits: Annotated[bool, typer.Option("--shape-refits", help=(
        "Also refit with the law's shape held at its published values (mpl: beta, gamma; auto: its mpl member); "
        "bands widen to contain that refit (recommended when the fit puts beta or gamma on a bound)."))] = False,
    mpl_shape: Annotated[str, typer.Option("--mpl-shape", help=(
        "mpl only: auto (fit beta and gamma, but hold them at the published values when the free fit puts either on "
        "a bound, i.e. the curves do not identify the annealing shape), free or published (always hold them)."))] = "auto",
    split: SplitOpt = None,
    fmt: FormatOpt = None,
    mapping: MapOpt = None,
):
    """Fit a loss law to logged curves and write a fit artifact.

    By default each run's ``train`` split is fitted (else ``val``); ``--split val`` picks the
    evaluation loss, e.g. of `lrplan train` runs whose train loss is a noisy single batch."""
    if law == "cpt":  # the continual pre-training law has its own command (switch step, domain split)
        raise LrplanError("--law cpt: use `lrplan cpt fit RUNS --split val_old --domain pt --out FIT.json` "
                          "(the CPT law needs the switch step and one domain's split; see docs/forgetting.md)")
    from rich.table import Table

    from lrplan.laws import make_law, save_fit

    if boot < 0:
        raise LrplanError(f"--boot must be >= 0, got {boot}")
    c = _load_curves(curves, fmt, mapping, split)
    scheds = _fit_schedules(c, lr_file, schedule)
    fractions = [x.strip() for x in window_refits.split(",") if x.strip()]
    try:
        fractions = [float(x) for x in fractions]
    except ValueError:
        raise LrplanError(f"--window-refits {window_refits!r}: expected comma-separated fractions such as 0.1,0.2,0.3") from None
    opts = {"n_boot": boot, "seed": seed, "window_refits": fractions, "shape_refits": shape_refits}
    opts |= {} if law == "auto" else {"loo": loo}
    if mpl_shape != "auto":
        if law != "mpl":
            raise LrplanError(f"--mpl-shape {mpl_shape}: only for --law mpl (got --law {law})")
        opts["shape"] = mpl_shape
    estimator = make_law(law, **opts)
    if shape_refits and not estimator.reference_shapes:
        raise LrplanError(f"--shape-refits: the {law} law has no published reference shape (only mpl, or auto with an mpl member)")
    fitted = estimator.fit(c, schedules=scheds, runs=runs)
    save_fit(fitted, out)
    table = Table(title=f"{law} law fitted on {len(fitted.data_)} run(s)", show_header=True)
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for k, v in fitted.params_.items():
        table.add_row(k, f"{v:.6g}")
    console.print(table)
    rep = fitted.report_
    if "metrics" in rep:
        console.print("in-sample: " + "  ".join(f"{k} {v:.5g}" for k, v in rep["metrics"].items()), highlight=False)
    if law == "auto":
        console.print("leave-one-curve-out PredE: " + "  ".join(f"{k} {v:.5f}" for k, v in fitted.scores_.items()), highlight=False)
    for m in getattr(fitted, "members_", [fitted]):
        for r in m.shape_:
            fixed = ", ".join(f"{k} {v:g}" for k, v in r["fixed"].items())
            console.print(f"shape refit {r['shape']!r} ({m.name}: {fixed}): in-sample objective x{r['cost_ratio']:.3f} "
                          "of the fit's; bands include it", highlight=False)
    err_console.print(f"wrote {out}")


def _predict_inputs(lr_file: Optional[Path], schedule: Optional[str], steps: Optional[int]) -> dict:
    from lrplan.laws.data import read_lr_file
    from lrplan.schedules import parse

    if (lr_file is None) == (schedule is None):
        raise LrplanError("give exactly one of --lr-file LR.csv or --schedule SPEC (with --steps T)")
    if lr_file is not None:
        return read_lr_file(lr_file)
    try:
        sched = parse(schedule, steps)
    except LrplanError as e:
        if steps is None:
            raise LrplanError(f"--schedule {schedule!r}: give --steps T (the schedule length) ({e})") from None
        raise
    return {None: sched.array()}


@app.command("predict", rich_help_panel="Loss laws")
def predict_cmd(
    fit: Annotated[str, typer.Argument(help="Fit artifact (JSON) or the name of a shipped fit (see fits/).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Prediction CSV: [run,]step,loss,loss_lo,loss_hi.")],
    lr_file: Annotated[Optional[Path], typer.Option("--lr-file", help="CSV step,lr (or run,step,lr) at every step.")] = None,
    schedule: Annotated[Optional[str], typer.Option("--schedule", help="Schedule spec to predict.")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", "-T", help="Schedule length T (with --schedule).")] = None,
    every: Annotated[int, typer.Option(help="Write every K-th step.")] = 1,
    level: Annotated[float, typer.Option(help="Band level (0.9 = 90 % band).")] = 0.9,
):
    """Predict the loss curve (with a band) of schedules that were not run."""
    import numpy as np
    import pandas as pd

    from lrplan import _io
    from lrplan.laws import load_fit

    if every < 1:
        raise LrplanError(f"--every must be >= 1, got {every}")
    law = load_fit(fit)
    frames = []
    for run, lr in _predict_inputs(lr_file, schedule, steps).items():
        idx = np.arange(0, lr.size, every)
        pred, lo, hi = law.predict_band(lr, idx, level=level)
        df = pd.DataFrame({"step": idx, "loss": pred, "loss_lo": lo, "loss_hi": hi})
        if run is not None:
            df.insert(0, "run", run)
        frames.append(df)
    _io.write_csv(out, pd.concat(frames, ignore_index=True), float_format="%.8g")
    err_console.print(f"wrote {out} ({sum(len(f) for f in frames)} rows)")


@app.command("plot", rich_help_panel="Loss laws")
def plot_cmd(
    fit: Annotated[str, typer.Argument(help="Fit artifact (JSON) or shipped fit name.")],
    curves: Annotated[Optional[list[Path]], typer.Argument(help="Observed curves to overlay with their fitted curves.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG (or SVG/PDF) to write.")] = Path("fit.png"),
    lr_file: Annotated[Optional[Path], typer.Option("--lr-file", help="CSV run,step,lr for the observed curves.")] = None,
    schedule: Annotated[Optional[list[str]], typer.Option("--schedule", help="RUN=SPEC for an observed curve (repeatable).")] = None,
    predict: Annotated[Optional[list[str]], typer.Option("--predict", help="Schedule spec to predict (repeatable).")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", "-T", help="Length of the --predict schedules.")] = None,
    level: Annotated[float, typer.Option(help="Band level.")] = 0.9,
    log: Annotated[bool, typer.Option(help="Log-scale step axis.")] = False,
):
    """Plot observed, fitted and predicted curves with the band and the LR on a second axis."""
    from lrplan import _io
    from lrplan.laws import load_fit
    from lrplan.laws.data import resolve
    from lrplan.plots.curves import plot_fit
    from lrplan.schedules import parse

    law = load_fit(fit)
    observed = []
    if curves:
        c = _load_curves(curves)
        observed = resolve(c, _fit_schedules(c, lr_file, schedule))
    predicted = []
    for spec in predict or []:
        sched = parse(spec, steps)
        predicted.append((sched.spec, sched.array()))
    if not observed and not predicted:
        raise LrplanError("nothing to plot: give observed CURVES and/or --predict SPEC --steps T")
    fig = plot_fit(law, observed, predicted, level=level, log=log)
    _io.save_figure(fig, out)
    err_console.print(f"wrote {out}")
