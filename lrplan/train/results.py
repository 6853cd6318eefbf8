"""Read trainer output without torch: one run folder or a whole sweep as :class:`lrplan.curves.Curves`.

A run folder holds ``curves.csv`` (canonical rows) and ``meta.json`` (see
:mod:`lrplan.train.trainer`); this module turns them into curve tables and summary rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from lrplan.curves import Curves, RunMeta
from lrplan.errors import LoadError


def read_meta(out: str | os.PathLike) -> dict | None:
    """``meta.json`` of a run folder as a dict, or ``None`` when there is none yet."""
    path = Path(out) / "meta.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise LoadError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None


def run_meta(meta: dict) -> RunMeta:
    """The :class:`RunMeta` of a trainer run (schedule spec, peak LR, batch, seq len, params)."""
    return RunMeta(run=meta["run"], schedule=meta.get("schedule"), peak_lr=meta.get("peak_lr"),
                   batch_size=meta.get("batch_size"), seq_len=meta.get("seq_len"), params=meta.get("params"),
                   source="lrplan.train", extra={"status": meta.get("status"), "seed": meta.get("seed")})


def read_curves_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"run": str, "split": str})
    except FileNotFoundError:
        raise LoadError(f"{path}: file not found") from None
    except pd.errors.EmptyDataError:
        raise LoadError(f"{path}: empty file") from None


def load_run(out: str | os.PathLike) -> Curves:
    """The run in folder ``out`` as a curve table (extra columns grad_norm/tokens_per_s dropped)."""
    out = Path(out)
    meta = read_meta(out)
    if meta is None:
        raise LoadError(f"{out}: no meta.json (not a trainer run folder)")
    frame = read_curves_csv(out / "curves.csv")
    return Curves(frame, {meta["run"]: run_meta(meta)}, source=str(out / "curves.csv"))


def load_proxy() -> tuple[Curves, pd.DataFrame]:
    """The bundled CPU proxy curves (``lrplan/data/proxy``): 24 runs of the ``nano`` (0.12M) and
    ``micro`` (0.83M) presets under 6 schedules x 2 seeds, 300 steps of 16 x 64 bytes of the
    stdlib corpus. Returns ``(curves, runs)``: train loss every step and val every 25 steps (nats/byte),
    and the runs table (``N``, ``D``, ``lr``, ``batch_size``, ``schedule``, ``seed``, final losses).
    Made by ``benchmarks/make_proxy_curves.py`` from ``grid.toml`` (see the README there)."""
    from importlib import resources

    root = resources.files("lrplan") / "data" / "proxy"
    with resources.as_file(root / "runs.csv") as p:
        runs = pd.read_csv(p)
    with resources.as_file(root / "curves.csv.gz") as p:
        frame = pd.read_csv(p, dtype={"run": str, "split": str})
    from lrplan.schedules import canonical_spec

    # exact T-step specs (runs.csv of older sweeps holds the spec without steps)
    meta = {r.run: RunMeta(run=r.run, schedule=canonical_spec(r.schedule, int(r.steps)), peak_lr=float(r.lr), batch_size=float(r.batch_size),
                           seq_len=int(r.seq_len), params=float(r.N), source="lrplan proxy",
                           extra={"preset": r.preset, "seed": int(r.seed)})
            for r in runs.itertuples()}
    return Curves(frame, meta, source="lrplan/data/proxy"), runs
