"""Sweeps: a grid of trainer configs run through a launcher, gathered into two tables.

Grid TOML (``lrplan sweep GRID.toml``)::

    [base]                      # any TrainConfig field, shared by every run
    preset = "nano"
    steps = 600
    corpus = "stdlib"

    [grid]                      # every combination of these lists is one run
    schedule = { constant = "constant:warmup=50", cosine = "cosine:warmup=50,floor=0.1x" }
    peak_lr = [1e-3, 3e-3]      # rescales each schedule to this peak (absolute LR)
    batch_size = [16, 32]
    preset = ["nano", "micro"]
    seed = [0, 1]

    [launcher]                  # optional defaults for the command line
    name = "local"
    workers = 2

``schedule`` may be a list of specs or a table name -> spec (the name goes into run names).
Run names join the varied values, e.g. ``nano-cosine-lr0.003-bs16-s1``.

Output folder::

    grid.json       the expanded configs
    runs/<name>/    one trainer folder per run (curves.csv, meta.json, ckpt.pt)
    curves.csv      canonical curve rows of every finished run (run, split, step, tokens, lr,
                    loss, batch_size, grad_norm, tokens_per_s): ``lrplan fit`` reads it
    runs.csv        one row per run (see :data:`SUMMARY_COLUMNS`)

Idempotent: runs whose ``meta.json`` says ``finished`` or ``diverged`` are skipped on re-run;
``failed`` or interrupted runs are resumed from their checkpoints. A run that crashes is recorded
as ``failed`` (with the error) and does not stop the others.
"""

from __future__ import annotations

import itertools
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from lrplan import _io
from lrplan.curves import Curves
from lrplan.errors import ConfigError, LrplanError
from lrplan.train.results import read_curves_csv, read_meta, run_meta

#: Columns of ``runs.csv``, for scaling/hyper-parameter-law fits (units in brackets).
SUMMARY_COLUMNS = {
    "run": "run name (folder under runs/)",
    "status": "finished | diverged | failed | running (interrupted)",
    "N": "parameters (count; tied embedding counted once, position embedding included)",
    "N_nonembed": "parameters without token and position embeddings (count)",
    "D": "tokens trained on (steps_done * batch_size * seq_len)",
    "lr": "peak learning rate (absolute)",
    "batch_size": "sequences per optimizer step",
    "batch_tokens": "tokens per optimizer step (batch_size * seq_len)",
    "seq_len": "sequence length (tokens)",
    "steps": "planned optimizer steps",
    "steps_done": "optimizer steps completed",
    "schedule": "exact schedule spec as trained (steps and peak_lr rescaling folded in; \"custom\" for LR arrays)",
    "seed": "training seed",
    "loss": "final validation loss (nats/token) of a finished run, the value to fit; empty otherwise",
    "val_loss": "last validation loss logged (nats/token; for a diverged run, before it diverged)",
    "min_val_loss": "lowest validation loss logged (nats/token)",
    "train_loss": "mean train loss over the last 5 % of steps (nats/token)",
    "wall_s": "wall-clock seconds of the last session",
    "error": "error message of a failed run",
}

SHORT = {"peak_lr": "lr", "batch_size": "bs", "seed": "s", "steps": "T", "grad_accum": "ga",
         "weight_decay": "wd", "n_layer": "L", "n_embd": "d", "n_head": "h", "block_size": "ctx"}


def read_grid(path: str | os.PathLike) -> tuple[dict, dict, dict]:
    """``(base, grid, launcher)`` tables of a grid TOML file."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    unknown = sorted(set(doc) - {"base", "grid", "launcher"})
    if unknown:
        raise ConfigError(f"{path}: unknown table [{unknown[0]}]; expected [base], [grid], [launcher]")
    for key in doc:
        if not isinstance(doc[key], dict):
            raise ConfigError(f"{path}: '{key}' must be a table ([{key}])")
    return doc.get("base", {}), doc.get("grid", {}), doc.get("launcher", {})


def _label(key: str, value: Any) -> str:
    if key == "preset":
        return str(value)
    if isinstance(value, float):
        value = f"{value:g}"
    return f"{SHORT.get(key, key)}{value}"


def expand_grid(base: Mapping[str, Any], grid: Mapping[str, Any], source: str = "grid") -> list[dict]:
    """Every combination of the ``grid`` lists on top of ``base``: a list of TrainConfig dicts,
    each with a unique ``run`` name made of the varied values. Each config is validated."""
    from lrplan.train.trainer import TrainConfig

    axes: list[tuple[str, list[tuple[str, Any]]]] = []
    for key, values in grid.items():
        if isinstance(values, dict):
            if key != "schedule":
                raise ConfigError(f"{source}: grid '{key}' must be a list (only schedule may be a name -> spec table)")
            options = [(str(k), v) for k, v in values.items()]
        else:
            if not isinstance(values, list):
                values = [values]
            if key == "schedule":
                fams = [str(v).split(":")[0].strip() for v in values]
                options = [(f if fams.count(f) == 1 else f"{f}{i}", v) for i, (f, v) in enumerate(zip(fams, values))]
            else:
                options = [(_label(key, v), v) for v in values]
        if not options:
            raise ConfigError(f"{source}: grid '{key}' has no values")
        axes.append((key, options))
    configs, names = [], set()
    for combo in itertools.product(*(opts for _, opts in axes)):
        cfg = dict(base)
        label = []
        for (key, options), (name, value) in zip(axes, combo):
            cfg[key] = value
            if len(options) > 1:
                label.append(name)
        cfg["run"] = "-".join(label) or str(base.get("run") or "run")
        if cfg["run"] in names:
            raise ConfigError(f"{source}: two runs would be named {cfg['run']!r}; give schedules names in a table")
        names.add(cfg["run"])
        where = f"{source} run {cfg['run']}"
        try:
            TrainConfig.from_dict(cfg, source=where).validate()
        except LrplanError as e:
            raise ConfigError(str(e) if str(e).startswith(where) else f"{where}: {e}") from None
        configs.append(cfg)
    return configs


def run_one(config: dict) -> dict:
    """Train one run into ``config["out"]`` (a top-level function, so launchers can pickle it).

    Never raises for a failing run: the error is recorded in ``meta.json`` (status ``failed``).
    Returns the run's summary row.
    """
    config = dict(config)
    out = Path(config.pop("out"))
    try:
        from lrplan.train.trainer import train

        train(config, out)
    except Exception as e:  # record and go on: one bad run must not stop a sweep
        meta = read_meta(out) or {}
        if meta.get("status") != "failed":
            meta.update({"run": config.get("run") or out.name, "status": "failed", "config": config,
                         "error": f"{type(e).__name__}: {e}"})
            _io.write_json(out / "meta.json", meta)
    return summarize(out)


def summarize(out: str | os.PathLike) -> dict:
    """The ``runs.csv`` row of one run folder (see :data:`SUMMARY_COLUMNS`)."""
    out = Path(out)
    meta = read_meta(out) or {"run": out.name, "status": "missing"}
    cfg = meta.get("config") or {}
    model = meta.get("model") or {}
    row: dict[str, Any] = {"run": meta.get("run", out.name), "status": meta.get("status")}
    params = meta.get("params")
    row["N"] = params
    if params is not None and model:
        row["N_nonembed"] = params - (model["vocab_size"] + model["block_size"]) * model["n_embd"]
    row["D"] = meta.get("tokens")
    row["lr"] = meta.get("peak_lr")
    row["batch_size"] = meta.get("batch_size", cfg.get("batch_size"))
    row["seq_len"] = meta.get("seq_len")
    if row["seq_len"] and row["batch_size"]:
        row["batch_tokens"] = row["batch_size"] * row["seq_len"]
    row["steps"] = meta.get("steps", cfg.get("steps"))
    row["steps_done"] = meta.get("steps_done")
    row["schedule"] = meta.get("schedule") or (cfg.get("schedule") if cfg.get("lr") is None else "custom")
    row["seed"] = cfg.get("seed")
    row["val_loss"] = meta.get("final_val_loss")
    row["loss"] = row["val_loss"] if row["status"] == "finished" else None
    curves = out / "curves.csv"
    if curves.exists():
        d = read_curves_csv(curves)
        val = d[d["split"] == "val"]["loss"]
        train = d[d["split"] == "train"]["loss"].to_numpy()
        row["min_val_loss"] = float(val.min()) if len(val) else None
        if len(train):
            row["train_loss"] = float(np.mean(train[-max(len(train) // 20, 1):]))
    row["wall_s"] = meta.get("wall_s")
    row["error"] = meta.get("error")
    for k in ("preset", "n_layer", "n_head", "n_embd", "block_size"):
        row[k] = model.get(k, cfg.get(k)) if k != "preset" else cfg.get("preset")
    for k, v in cfg.items():  # every other config value, for grouping
        if k not in row and k not in ("lr", "run") and not isinstance(v, (list, dict)):
            row[k] = v
    return row


def run_sweep(configs: Sequence[dict], out: str | os.PathLike, launcher=None) -> pd.DataFrame:
    """Run ``configs`` (from :func:`expand_grid`) into ``out/runs/<run>``; skip finished runs;
    gather ``out/curves.csv`` and ``out/runs.csv``. Returns the runs table."""
    from lrplan.train.launchers import LocalLauncher

    out = Path(out)
    launcher = launcher or LocalLauncher()
    _io.write_json(out / "grid.json", list(configs))
    todo = []
    for cfg in configs:
        meta = read_meta(out / "runs" / cfg["run"])
        if meta is None or meta.get("status") not in ("finished", "diverged"):
            todo.append(dict(cfg, out=str(out / "runs" / cfg["run"])))
    if todo:
        launcher.map(run_one, todo)
    return gather(out, [c["run"] for c in configs])


def gather(out: str | os.PathLike, runs: Sequence[str] | None = None) -> pd.DataFrame:
    """Write ``out/runs.csv`` (all runs) and ``out/curves.csv`` (finished runs); return runs."""
    out = Path(out)
    if runs is None:
        runs = sorted(p.name for p in (out / "runs").iterdir() if p.is_dir())
    rows = [summarize(out / "runs" / r) for r in runs]
    table = pd.DataFrame(rows)
    first = [c for c in SUMMARY_COLUMNS if c in table.columns]
    table = table[first + [c for c in table.columns if c not in first]]
    _io.write_csv(out / "runs.csv", table)
    frames = [read_curves_csv(out / "runs" / r["run"] / "curves.csv") for r in rows if r["status"] == "finished"]
    if frames:
        _io.write_csv(out / "curves.csv", pd.concat(frames, ignore_index=True), float_format="%.10g")
    return read_curves_csv(out / "runs.csv")  # as readers will see it (empty cells as NaN)


def load_sweep(out: str | os.PathLike) -> tuple[Curves, pd.DataFrame]:
    """``(curves of the finished runs, runs table)`` of a sweep folder."""
    out = Path(out)
    table = read_curves_csv(out / "runs.csv")
    meta = {}
    for r in table["run"]:
        m = read_meta(out / "runs" / r)
        if m is not None:
            meta[r] = run_meta(m)
    frame = read_curves_csv(out / "curves.csv")
    return Curves(frame, meta, source=str(out / "curves.csv")), table
