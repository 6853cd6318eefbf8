"""``lrplan recommend``, ``lrplan fit-hparams``, ``lrplan critical-batch``: LR / batch laws (docs/hparams.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli.app import app, console, err_console

PANEL = "Hyper-parameters and batch size"


def _terms(text: str, option: str) -> tuple[str, ...]:
    from lrplan.errors import ConfigError

    terms = tuple(t.strip().upper() for t in text.split(",") if t.strip())
    bad = [t for t in terms if t not in ("N", "D", "C")]
    if bad:
        raise ConfigError(f"--{option}: unknown term {bad[0]!r}; use a comma list of N, D, C")
    return terms


def _load_law(fit: Optional[str], preset: Optional[str]):
    from lrplan.errors import ConfigError, FitError
    from lrplan.hparams import HparamLaw, published

    if (fit is None) == (preset is None):
        raise ConfigError("give exactly one of --fit LAW.json and --preset steplaw|deepseek")
    if preset is not None:
        return published(preset)
    p = Path(fit)
    if not p.is_file():
        from lrplan.laws.artifacts import shipped_fits

        shipped = shipped_fits()
        name = p.name[:-5] if p.name.endswith(".json") else p.name
        if name not in shipped:
            raise FitError(f"{fit}: no such law file or shipped fit name")
        p = shipped[name]
    return HparamLaw.load(p)


def _fmt_range(r) -> str:
    return "-" if not r else f"{r[0]:.3g} .. {r[1]:.3g}"


@app.command("recommend", rich_help_panel=PANEL)
def recommend_cmd(
    params: Annotated[float, typer.Option("--params", "-N", help="Parameters N (the law's kind; non-embedding for Step Law).")],
    tokens: Annotated[float, typer.Option("--tokens", "-D", help="Training tokens D.")],
    fit: Annotated[Optional[str], typer.Option("--fit", help="Law JSON from `lrplan fit-hparams` (or a shipped fit name).")] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", help="Published law: steplaw or deepseek.")] = None,
    seq_len: Annotated[int, typer.Option("--seq-len", help="Sequence length (tokens) for the batch in sequences.")] = 2048,
    tol: Annotated[float, typer.Option("--tol", help="Plateau: relative loss excess allowed (0.0025 = 0.25 %).")] = 0.0025,
    level: Annotated[float, typer.Option(help="Interval coverage (0.9 = 5-95 %).")] = 0.9,
    schedule: Annotated[Optional[str], typer.Option(help="The schedule you plan to use (spec); warns if the law was fitted under another family.")] = None,
    multiple_of: Annotated[Optional[int], typer.Option(help="Hardware batch: a multiple of this many sequences (default: a power of two).")] = None,
    layers: Annotated[Optional[int], typer.Option("--layers", help="n_layer (compute-based laws, e.g. --preset deepseek).")] = None,
    d_model: Annotated[Optional[int], typer.Option("--d-model", help="d_model (compute-based laws).")] = None,
    d_ff: Annotated[Optional[int], typer.Option("--d-ff", help="FFN width (the 'steplaw' compute accounting).")] = None,
    batch_seqs: Annotated[Optional[float], typer.Option("--batch-seqs", help="Your batch (sequences) when the law has no batch part.")] = None,
    critical: Annotated[Optional[Path], typer.Option("--critical", help="B_crit law JSON from `lrplan critical-batch --against data`.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the recommendation as JSON.")] = None,
):
    """Peak LR and batch size for N parameters and D tokens, with plateau, intervals and B_crit."""
    from rich.table import Table

    from lrplan import _io
    from lrplan.hparams import recommend

    law = _load_law(fit, preset)
    bcrit = _load_bcrit(critical) if critical else None
    shape = {k: v for k, v in {"n_layer": layers, "d_model": d_model, "d_ff": d_ff}.items() if v is not None}
    rec = recommend(law, params, tokens, seq_len=seq_len, tol=tol, level=level, schedule=schedule,
                    multiple_of=multiple_of, bcrit_law=bcrit, batch_seqs=batch_seqs, **shape)
    t = Table(show_header=True, title=f"{rec.law}")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_column(f"{level:.0%} interval" if rec.interval else "interval", justify="right")
    iv = rec.interval or {}
    t.add_row("peak LR", f"{rec.lr:.4g}", _fmt_range(iv.get("lr")))
    t.add_row("batch (tokens)", f"{rec.batch_tokens:,.0f}", _fmt_range(iv.get("batch_tokens")))
    t.add_row("batch (sequences)", f"{rec.batch_seqs:,.1f}",
              _fmt_range([b / seq_len for b in iv["batch_tokens"]]) if iv.get("batch_tokens") else "-")
    t.add_row("steps", f"{rec.steps:,}", "")
    t.add_row("warmup steps (heuristic)", f"{rec.warmup_steps:,}", "")
    if rec.plateau:
        t.add_row(f"plateau LR (within {tol:.2%})", _fmt_range(rec.plateau["lr"]), "")
        if "batch" in rec.plateau:
            t.add_row(f"plateau batch, sequences (within {tol:.2%})",
                      _fmt_range([b / seq_len for b in rec.plateau["batch"]]), "")
    hw = rec.hardware
    excess = f", +{hw['predicted_excess']:.3%} loss" if "predicted_excess" in hw else ""
    t.add_row("hardware batch (sequences)", f"{hw['batch_seqs']:,.0f}",
              f"LR {hw['lr']:.4g}{excess}{' (outside plateau)' if hw['inside_plateau'] is False else ''}")
    t.add_row("B_crit (tokens)", "-" if rec.b_crit_tokens is None else f"{rec.b_crit_tokens:,.0f}", "")
    console.print(t)
    if rec.plateau is None:
        console.print("no plateau: this law carries no curvature (fit your own grid with `lrplan fit-hparams`)",
                      highlight=False)
    for n in rec.notes:
        console.print(f"note: {n}", highlight=False, soft_wrap=True)
    if json_out is not None:
        _io.write_json(json_out, rec.to_dict())
        err_console.print(f"wrote {json_out}")


def _load_bcrit(path: Path):
    import json

    from lrplan.errors import FitError
    from lrplan.hparams.powerlaw import PowerLaw

    try:
        d = json.loads(Path(path).read_text())
        if d.get("format") != "lrplan.bcrit/1" or d.get("law") is None:
            raise KeyError("format")
        law = PowerLaw.from_dict(d["law"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
        raise FitError(f"{path}: not a B_crit law from `lrplan critical-batch --against data` ({type(e).__name__})") from None
    if "D" not in law.exponents:
        raise FitError(f"{path}: the B_crit law is a function of {', '.join(law.exponents)}; the recommender needs "
                       "one fitted against data (--against data)")
    return law


@app.command("fit-hparams", rich_help_panel=PANEL)
def fit_hparams_cmd(
    runs: Annotated[Path, typer.Argument(help="Results table CSV (N, D, lr, batch_size, loss) or an `lrplan sweep` folder / runs.csv.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Law JSON to write.")],
    method: Annotated[str, typer.Option(help="joint | surrogate | near (Step Law recipe) | grid.")] = "joint",
    batch_unit: Annotated[str, typer.Option(help="Unit of a batch_size column: auto | tokens | sequences.")] = "auto",
    seq_len: Annotated[Optional[int], typer.Option("--seq-len", help="Tokens per sequence (batch in sequences, no seq_len column).")] = None,
    lr_terms: Annotated[str, typer.Option(help="Variables of the LR law (comma list of N, D, C).")] = "N,D",
    batch_terms: Annotated[str, typer.Option(help="Variables of the batch law (N, D, C).")] = "D",
    accounting: Annotated[str, typer.Option(help="Compute for C terms: 6N | 6N+attn | deepseek | steplaw.")] = "6N",
    tol: Annotated[float, typer.Option(help="Near-optimal tolerance (relative; 0.0025 = 0.25 %).")] = 0.0025,
    window: Annotated[float, typer.Option(help="Runs within this relative excess of their cell minimum shape the bowl.")] = 0.03,
    skew: Annotated[Optional[bool], typer.Option("--skew/--no-skew", help="Joint model: let the bowl rise faster above the optimal LR than below (fitted asymmetry; default on for --method joint).")] = None,
    boot: Annotated[int, typer.Option(help="Bootstrap refits for intervals (0 = none).")] = 50,
    bootstrap: Annotated[str, typer.Option(help="Resample runs (within cells) or cells.")] = "runs",
    schedule: Annotated[Optional[str], typer.Option(help="Schedule family the runs used (recorded; recommend warns on others).")] = None,
    diverged: Annotated[float, typer.Option(help="Drop runs more than this relative excess above their cell minimum.")] = 0.5,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    plot: Annotated[Optional[Path], typer.Option(help="Write a PNG/SVG of the fitted optimum surfaces.")] = None,
):
    """Fit LR*(N, D) and B*(D) laws to a grid of finished runs; write a versioned law JSON."""
    from rich.progress import Progress
    from rich.table import Table

    from lrplan import _io
    from lrplan.hparams import HparamLaw, load_grid

    path = runs / "runs.csv" if runs.is_dir() else runs
    grid = load_grid(path, batch_unit=batch_unit, seq_len=seq_len, diverged=diverged)
    if schedule is None and "schedule" in _columns(path):
        schedule = _common_family(path)
    law = HparamLaw(method=method, lr_terms=_terms(lr_terms, "lr-terms"), batch_terms=_terms(batch_terms, "batch-terms"),
                    accounting=accounting, tol=tol, window=window, n_boot=boot, bootstrap=bootstrap, seed=seed,
                    schedule=schedule, seq_len=seq_len, name=f"fitted on {path}", skew=skew)
    with Progress(console=err_console, transient=True) as progress:
        progress.add_task(f"fitting ({boot} bootstrap refits)", total=None)
        law.fit(grid)
    law.save(out)
    t = Table(show_header=True)
    for c in ("cell", "runs", "LR grid", "LR bowl", "B grid (seq)" if seq_len else "B grid", "B bowl", "plateau LR oct", "edge"):
        t.add_column(c)
    div = seq_len or 1
    for _, r in law.optima_.iterrows():
        t.add_row(r["cell"], str(r["runs"]), f"{r['lr_grid']:.3g}", f"{r['lr_opt']:.3g}", f"{r['batch_grid'] / div:.4g}",
                  f"{r['batch_opt'] / div:.4g}", f"{r['plateau_lr_octaves']:.2f}", r["edge"] or "-")
    console.print(t)
    console.print(repr(law), highlight=False, soft_wrap=True)
    err_console.print(f"wrote {out}")
    if plot is not None:
        from lrplan.plots.hparams import plot_hparam_law

        _io.save_figure(plot_hparam_law(law, grid), plot)
        err_console.print(f"wrote {plot}")


def _columns(path: Path) -> list[str]:
    import pandas as pd

    return list(pd.read_csv(path, nrows=0).columns)


def _common_family(path: Path) -> str | None:
    import pandas as pd

    from lrplan.hparams.recommend import schedule_family

    fams = {schedule_family(str(s)) for s in pd.read_csv(path)["schedule"].dropna()}
    return fams.pop() if len(fams) == 1 else None


@app.command("critical-batch", rich_help_panel=PANEL)
def critical_batch_cmd(
    curves: Annotated[Path, typer.Argument(help="Curve log(s) of runs at several batch sizes (any format `lrplan curves` reads).")],
    target: Annotated[list[float], typer.Option("--target", help="Target loss (nats); repeat for several.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the B_crit table and law as JSON.")] = None,
    seq_len: Annotated[Optional[int], typer.Option("--seq-len", help="Tokens per sequence: report batch in tokens.")] = None,
    split: Annotated[Optional[str], typer.Option(help="Split to read (default: train, else val).")] = None,
    against: Annotated[str, typer.Option(help="Fit B_crit against the target loss or the data E_min: loss | data.")] = "data",
):
    """Critical batch size from steps-to-target-loss at several batch sizes: S = S_min (1 + B_crit / B)."""
    from rich.table import Table

    from lrplan import _io
    from lrplan.hparams import critical_batch_table, fit_bcrit_law
    from lrplan.loaders import load

    c = load(curves)
    table = critical_batch_table(c, target, split=split, seq_len=seq_len)
    law = fit_bcrit_law(table, against) if len(table) >= 2 else None
    unit = "tokens" if seq_len else "batch units"
    t = Table(show_header=True)
    for col in ("target loss", f"B_crit ({unit})", "S_min (steps)", f"E_min ({unit} x steps)", "runs reaching it"):
        t.add_column(col, justify="right")
    for _, r in table.iterrows():
        t.add_row(f"{r['loss']:.4g}", f"{r['b_crit']:,.4g}", f"{r['s_min']:,.4g}", f"{r['e_min']:,.4g}", str(r["runs"]))
    console.print(t)
    if law is not None:
        console.print(law.formula("B_crit"), highlight=False)
    if out is not None:
        _io.write_json(out, {"format": "lrplan.bcrit/1", "unit": unit, "against": against,
                             "table": table.to_dict(orient="list"), "law": None if law is None else law.to_dict()})
        err_console.print(f"wrote {out}")
