"""Generic tables: CSV/TSV, JSON and JSONL, including W&B ``run.history()`` dumps.

What is read
------------
* **CSV/TSV** with a header. Columns are recognised by name (case-insensitive):
  step ``step|iter|iteration|global_step|train/global_step|trainer/global_step|_step`` (``_step``
  last: W&B counts log calls, nanoGPT's ``iter`` is the real step); train loss
  ``loss|train/loss|train_loss|lm loss``; eval loss ``val/loss|eval/loss|val_loss|eval_loss|
  valid_loss|test_loss`` (split ``val``/``test``; ``eval_<set>_loss`` -> split ``<set>``);
  LR ``lr|learning_rate|train/learning_rate|lr-AdamW``; tokens ``tokens|num_input_tokens_seen``;
  ``run`` and ``split`` columns. The canonical lrplan CSV (``run,split,step,loss,lr[,tokens,
  batch_size]``, written by :meth:`lrplan.curves.Curves.to_csv`) and its short form
  ``run,step,loss[,lr]`` round-trip exactly. A long ``metric,value`` table (``run_id, step,
  split, metric, value``) is pivoted first.
* **JSONL**: one JSON object per line (eval lines may hold only ``{"step": .., "val/loss": ..}``).
* **JSON**: a list of records, a pandas ``to_json`` dump (orient ``columns``/``split``/
  ``records``), or ``{"<run>": [records...], ...}`` for several runs.
* **W&B history dumps** (``run.history()`` / ``scan_history()`` saved as CSV/JSON/JSONL, with
  ``_step``, ``_runtime``, ``_timestamp``) are the same tables; the format name
  ``wandb-history`` only labels them.

Cells that are empty (or ``null``) are "not logged at this row"; a logged ``nan``/``inf`` loss
is dropped with a warning that counts it. Aggregation recorded: train ``step``, eval
``eval_mean`` (nanoGPT-style W&B dumps with ``iter``: train ``eval_mean`` too, since nanoGPT logs
``train/loss`` from its eval estimate).
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from lrplan.curves import Curves
from lrplan.errors import LoadError
from lrplan.loaders._common import (classify, looks_like_json, parse_json, plain_name, read_text, run_name_for,
                                    wide_to_curves)

WANDB_SYSTEM = {"_step", "_runtime", "_timestamp"}


def sniff_sep(text: str, path: Path) -> str:
    first = text.split("\n", 1)[0]
    if plain_name(path).suffix.lower() in (".tsv", ".tab") or ("\t" in first and "," not in first):
        return "\t"
    return ","


def read_csv_text(text: str, path: Path) -> pd.DataFrame:
    """A CSV/TSV as strings; empty cells are NaN, everything else is kept for :func:`numeric`."""
    sep = sniff_sep(text, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                             skipinitialspace=True, engine="c", index_col=False)
    except pd.errors.EmptyDataError:
        raise LoadError(f"{path}: no header line") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, csv.Error, ValueError, OverflowError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LoadError(f"{path}: malformed {'TSV' if sep == chr(9) else 'CSV'}: {first}") from None
    if df.columns.duplicated().any():
        raise LoadError(f"{path}: column {df.columns[df.columns.duplicated()][0]!r} appears twice in the header")
    unnamed = [c for c in df.columns if str(c).startswith("Unnamed: ")]
    if unnamed and len(unnamed) == len(df.columns):
        raise LoadError(f"{path}: the header has no column names")
    return df


def read_json_text(text: str, path: Path) -> dict[str, pd.DataFrame] | pd.DataFrame:
    """JSON/JSONL records as a frame, or ``{run: frame}`` for a per-run dump."""
    stripped = text.lstrip()
    if not stripped:
        raise LoadError(f"{path}: empty file")
    first = next(line for line in text.splitlines() if line.strip())
    if first.strip() != stripped.rstrip() and _is_json(first):  # JSONL: one object per line
        return pd.DataFrame(_jsonl_records(text, path))
    return _json_object(parse_json(text, path), path)


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
        return True
    except (json.JSONDecodeError, RecursionError):
        return False


def _jsonl_records(text: str, path: Path) -> list[dict]:
    records = []
    for i, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        rec = parse_json(line, f"{path}: line {i}")
        if not isinstance(rec, dict):
            raise LoadError(f"{path}: line {i}: expected a JSON object, got {type(rec).__name__}")
        records.append(rec)
    if not records:
        raise LoadError(f"{path}: no JSON records")
    return records


def _json_object(obj: Any, path: Path):
    if isinstance(obj, dict) and len(obj) == 0:
        raise LoadError(f"{path}: empty JSON object")
    if isinstance(obj, list):
        if not obj or not all(isinstance(r, dict) for r in obj):
            raise LoadError(f"{path}: expected a JSON list of objects (one per logged row)")
        return pd.DataFrame(obj)
    if not isinstance(obj, dict):
        raise LoadError(f"{path}: expected JSON records, got a {type(obj).__name__}")
    if "columns" in obj and "data" in obj and isinstance(obj["data"], list):  # orient="split"
        try:
            return pd.DataFrame(obj["data"], columns=obj["columns"])
        except (ValueError, TypeError) as e:
            raise LoadError(f"{path}: malformed split-orient JSON ({str(e).splitlines()[0]})") from None
    values = list(obj.values())
    if all(isinstance(v, list) and v and all(isinstance(r, dict) for r in v) for v in values):
        return {str(k): pd.DataFrame(v) for k, v in obj.items()}  # {run: [records]}
    if all(isinstance(v, (dict, list)) for v in values):  # orient="columns" (dict of dicts or lists)
        try:
            if all(isinstance(v, dict) for v in values):
                frame = pd.DataFrame(obj)
                try:
                    frame = frame.loc[sorted(frame.index, key=lambda i: int(i))]
                except (TypeError, ValueError):
                    pass
                return frame.reset_index(drop=True)
            return pd.DataFrame(obj)
        except (ValueError, TypeError) as e:
            raise LoadError(f"{path}: malformed column-orient JSON ({str(e).splitlines()[0]})") from None
    return pd.DataFrame([obj])  # a single record


def pivot_metric_value(df: pd.DataFrame) -> pd.DataFrame:
    """A long ``metric,value`` table -> sparse wide rows (one column per metric)."""
    cols = {str(c).lower(): c for c in df.columns}
    metric, value = cols["metric"], cols["value"]
    out = df.drop(columns=[metric, value]).copy()
    for name in pd.unique(df[metric].astype(str)):
        mask = df[metric].astype(str) == name
        out[name] = df[value].where(mask)
    split = cols.get("split")
    if split is not None:
        out[split] = out[split].replace({"eval": "val"})
    return out


def agg_for(df: pd.DataFrame) -> dict[str, str]:
    names = {str(c).lower() for c in df.columns}
    if "iter" in names and ("val/loss" in names or "val_loss" in names):  # nanoGPT logs its eval estimate
        return {"train": "eval_mean", "val": "eval_mean"}
    return {"train": "step", "val": "eval_mean"}


def frame_to_curves(df: pd.DataFrame, path: Path, fmt: str, columns: Mapping[str, str] | None, run: str) -> Curves:
    names = [str(c) for c in df.columns]
    lows = {n.lower() for n in names}
    has_loss = any((classify(n) or ("",))[0] == "loss" for n in names) or any(
        str(t).lower().startswith(("loss", "val_loss")) for t in (columns or {}).values())
    if {"metric", "value"} <= lows and not has_loss:
        df = pivot_metric_value(df)
    return wide_to_curves(df, source=str(path), fmt=fmt, run=run, columns=columns, agg=agg_for(df),
                          extra={"file": str(path)})


def load_table(path: Path, columns: Mapping[str, str] | None = None, fmt: str | None = None) -> Curves:
    """Load a CSV/TSV/JSON/JSONL table of logged rows (see the module docstring)."""
    path = Path(path)
    text = read_text(path)
    run = run_name_for(path)
    if looks_like_json(text):
        obj = read_json_text(text, path)
    else:
        obj = read_csv_text(text, path)
    if isinstance(obj, dict):
        curves = Curves.concat([frame_to_curves(frame, path, fmt or _fmt(frame), columns, name)
                                for name, frame in obj.items()])
        curves.source = str(path)
        return curves
    return frame_to_curves(obj, path, fmt or _fmt(obj), columns, run)


def _fmt(df: pd.DataFrame) -> str:
    return "wandb-history" if WANDB_SYSTEM & {str(c) for c in df.columns} else "table"
