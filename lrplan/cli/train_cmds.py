"""``lrplan train`` and ``lrplan sweep``: the built-in proxy trainer (needs ``lrplan[train]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lrplan.cli.app import app, console, err_console
from lrplan.errors import ConfigError, LrplanError

PANEL = "Proxy training"
TORCH_TIP = ("the trainer needs torch: pip install 'lrplan[train]' "
             "(on CPU-only machines install torch==2.13.0 first: pip install torch==2.13.0)")


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise LrplanError(TORCH_TIP) from None


@app.command("train", rich_help_panel=PANEL)
def train_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (curves.csv, meta.json, ckpt.pt). Re-running resumes.")],
    preset: Annotated[str, typer.Option(help="Model preset: nano (~0.12M), micro (~0.83M), small (~3.3M).")] = "nano",
    schedule: Annotated[str, typer.Option(help="LR schedule spec, e.g. 'wsd:peak=3e-3,warmup=50,cooldown=0.2'.")] = "cosine:peak=3e-3,warmup=0.1,floor=0.1x",
    peak_lr: Annotated[Optional[float], typer.Option(help="Rescale the schedule to this peak LR (absolute).")] = None,
    steps: Annotated[int, typer.Option("--steps", "-T", help="Optimizer steps.")] = 500,
    batch_size: Annotated[int, typer.Option("--batch-size", "-B", help="Sequences per optimizer step.")] = 16,
    grad_accum: Annotated[int, typer.Option(help="Micro-batches per step (batch size must divide).")] = 1,
    seed: Annotated[int, typer.Option(help="Seed for init and data order.")] = 0,
    corpus: Annotated[str, typer.Option(help="stdlib | synthetic[:vocab=32,branch=4] | PATH to a text file or folder.")] = "stdlib",
    n_layer: Annotated[Optional[int], typer.Option(help="Override the preset's layers.")] = None,
    n_head: Annotated[Optional[int], typer.Option(help="Override the preset's heads.")] = None,
    n_embd: Annotated[Optional[int], typer.Option(help="Override the preset's width.")] = None,
    block_size: Annotated[Optional[int], typer.Option(help="Override the preset's context length (tokens).")] = None,
    weight_decay: Annotated[float, typer.Option(help="AdamW weight decay (matrices only).")] = 0.1,
    beta1: Annotated[float, typer.Option(help="AdamW beta1.")] = 0.9,
    beta2: Annotated[float, typer.Option(help="AdamW beta2.")] = 0.95,
    grad_clip: Annotated[float, typer.Option(help="Clip the gradient norm (0 = off).")] = 1.0,
    eval_every: Annotated[int, typer.Option(help="Validate every K steps.")] = 50,
    eval_batches: Annotated[int, typer.Option(help="Fixed validation batches (of 32 sequences).")] = 4,
    checkpoint_every: Annotated[int, typer.Option(help="Checkpoint every K steps.")] = 100,
    device: Annotated[str, typer.Option(help="auto (CUDA with bf16 if present, else CPU), cpu, cuda[:N].")] = "auto",
    threads: Annotated[Optional[int], typer.Option(help="torch CPU threads (default: torch's choice).")] = None,
    run: Annotated[Optional[str], typer.Option(help="Run name in the logs (default: the folder name).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
):
    """Train a small byte-level GPT with an lrplan schedule; logs canonical curves to OUT/curves.csv."""
    _need_torch()
    from lrplan.train.results import read_meta
    from lrplan.train.trainer import DONE, TrainConfig, train

    cfg = TrainConfig(preset=preset, n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size,
                      schedule=schedule, peak_lr=peak_lr, steps=steps, batch_size=batch_size, grad_accum=grad_accum,
                      beta1=beta1, beta2=beta2, weight_decay=weight_decay, grad_clip=grad_clip, seed=seed,
                      corpus=corpus, eval_every=eval_every, eval_batches=eval_batches,
                      checkpoint_every=checkpoint_every, device=device, threads=threads, run=run)
    cfg.validate()
    meta = read_meta(out)
    if meta is not None and meta.get("status") in DONE:
        res = train(cfg, out)  # checks that the folder holds this same run
        err_console.print(f"{out}: run already {res.status} ({res.steps_done} steps, final val loss "
                          f"{_num(res.final_val_loss)}); nothing to do", highlight=False, soft_wrap=True)
        return 0
    res = train(cfg, out, progress=not quiet)
    if res.resumed_from is not None:
        err_console.print(f"resumed from step {res.resumed_from}", highlight=False)
    console.print(f"{res.status}: {res.steps_done} steps, {res.params:,} params, final train loss "
                  f"{_num(res.final_train_loss)}, val loss {_num(res.final_val_loss)} -> {out / 'curves.csv'}",
                  highlight=False, soft_wrap=True)
    return 0


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _parse_set(items: list[str]) -> dict:
    """``key=v1,v2`` command-line grid axes; values parsed as TOML scalars (numbers, true/false)."""
    import tomllib

    grid = {}
    for item in items:
        key, eq, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key or not raw.strip():
            raise ConfigError(f"--set {item!r}: expected key=value[,value...]")
        values = []
        for part in raw.split(","):
            part = part.strip()
            try:
                values.append(tomllib.loads(f"v = {part}")["v"])
            except tomllib.TOMLDecodeError:
                values.append(part)
        grid[key] = values
    return grid


@app.command("sweep", rich_help_panel=PANEL)
def sweep_cmd(
    grid_file: Annotated[Optional[Path], typer.Argument(help="Grid TOML ([base], [grid], [launcher] tables).", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Sweep folder: runs/<name>/, curves.csv, runs.csv.")] = Path("sweep"),
    launcher: Annotated[Optional[str], typer.Option(help="local | submitit | ray (default: the TOML's, else local).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Parallel runs for the local launcher (default: cores).")] = None,
    schedule: Annotated[Optional[list[str]], typer.Option(help="Grid axis: a schedule spec (repeat the option).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Grid axis or setting: key=v1,v2 (e.g. seed=0,1,2; preset=nano,micro).")] = None,
    cluster: Annotated[Optional[str], typer.Option(help="submitit cluster: slurm (default when available), local, debug.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the runs and exit.")] = False,
):
    """Run a grid of trainer configs (schedules x peak LRs x batch sizes x sizes x seeds, any TrainConfig field)."""
    from lrplan.train import sweep as sw

    base, grid, lopts = sw.read_grid(grid_file) if grid_file is not None else ({}, {}, {})
    if schedule:
        grid["schedule"] = list(schedule)
    grid.update(_parse_set(set_ or []))
    if not grid and not base:
        raise ConfigError("sweep: give a GRID.toml or grid axes (--schedule SPEC, --set key=v1,v2)")
    _need_torch()
    configs = sw.expand_grid(base, grid, source=str(grid_file or "command line"))
    if dry_run:
        for c in configs:
            console.print(c["run"], highlight=False)
        return 0
    name = launcher or lopts.get("name", "local")
    if lopts.get("name", "local") != name:  # the TOML's options belong to another launcher
        lopts = {}
    workers = workers or lopts.get("workers")
    options = {k: v for k, v in lopts.items() if k not in ("name", "workers")}
    if cluster is not None:
        options["cluster"] = cluster
    from lrplan.train.launchers import get_launcher

    lau = get_launcher(name, workers=workers, folder=out / "submitit", **options)
    skipped = sum(1 for c in configs if (sw.read_meta(out / "runs" / c["run"]) or {}).get("status") in ("finished", "diverged"))
    err_console.print(f"sweep: {len(configs)} runs ({skipped} already done) with the {name} launcher -> {out}", highlight=False)
    table = sw.run_sweep(configs, out, lau)
    counts = table["status"].value_counts().to_dict()
    console.print(", ".join(f"{v} {k}" for k, v in counts.items()) + f" -> {out / 'runs.csv'}, {out / 'curves.csv'}",
                  highlight=False, soft_wrap=True)
    return 0
