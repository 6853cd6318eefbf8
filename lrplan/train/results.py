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
