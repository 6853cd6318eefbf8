"""Shared machinery of the loaders: safe file reading, column roles, and the wide -> long step.

Most formats are, at heart, a (possibly sparse) table of logged rows: a step column, one or more
loss columns (train and eval at different steps), maybe an LR column. :func:`wide_to_curves`
turns such a table into the canonical long :class:`~lrplan.curves.Curves` table (one row per run,
split and step; never an outer-joined wide frame).
"""

from __future__ import annotations

import gzip
import json
import re
import warnings
import zlib
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from lrplan.curves import Curves, RunMeta
from lrplan.errors import LoadError, LrplanWarning

#: canonical targets a user column may be mapped to (``loss:<split>`` names an eval set)
TARGETS = ("run", "split", "step", "loss", "lr", "tokens", "batch_size")

# role tables: name (lower-case) -> priority (lower wins)
STEP_NAMES = {n: i for i, n in enumerate(
    ["step", "iter", "iteration", "global_step", "train/global_step", "trainer/global_step", "steps", "_step"])}
LR_NAMES = {n: i for i, n in enumerate(
    ["lr", "learning_rate", "train/learning_rate", "train/lr", "learning rate", "optimizer/lr", "lr-adamw",
     "lr-adam", "lr-sgd"])}
TOKEN_NAMES = {n: i for i, n in enumerate(
    ["tokens", "num_tokens", "tokens_seen", "consumed_tokens", "total_tokens", "train/tokens",
     "num_input_tokens_seen", "train/num_input_tokens_seen"])}
BATCH_NAMES = {n: i for i, n in enumerate(["batch_size", "global_batch_size", "train/batch_size", "global batch size"])}
RUN_NAMES = {n: i for i, n in enumerate(["run", "run_id", "run_name"])}
TRAIN_LOSS = {n: i for i, n in enumerate(
    ["loss", "train/loss", "train_loss", "lm loss", "training_loss", "train/lm_loss", "loss/train", "train loss"])}
EVAL_PREFIX = r"(?:val|eval|valid|validation)"
VAL_LOSS = {n: i for i, n in enumerate(
    ["val/loss", "eval/loss", "val_loss", "eval_loss", "valid_loss", "validation_loss", "validation/loss",
     "valid/loss", "loss/val", "loss/eval", "loss/valid", "loss/validation", "val loss", "eval loss"])}
TEST_LOSS = {n: i for i, n in enumerate(["test/loss", "test_loss", "loss/test", "test loss"])}
_NAMED_EVAL = re.compile(rf"^{EVAL_PREFIX}[/_](?P<set>[a-z0-9][a-z0-9.\-]*?)[/_]loss$")
_GENERIC_SETS = {"lm", "avg", "mean", "total"}

#: names too generic to be a run name on their own: use the parent directory instead
GENERIC_STEMS = {"log", "logs", "train", "training", "stdout", "stderr", "output", "out", "metrics", "history",
                 "trainer_state", "events", "run", "slurm", "console", "mlflow"}


def classify(name: str) -> tuple[str, str | None, int] | None:
    """The role of a column/tag/key name: ``(kind, split, priority)`` or None.

    ``kind`` is one of step, loss, lr, tokens, batch_size, run, split. Lightning suffixes: a train
    loss ``*_step`` is the per-step value (kept), ``*_epoch`` an epoch mean (ignored); an eval
    loss ``*_epoch`` is the mean over the eval set (kept), ``*_step`` a per-batch value (ignored).
    """
    low = str(name).strip().lower()
    for kind, table in (("step", STEP_NAMES), ("lr", LR_NAMES), ("tokens", TOKEN_NAMES),
                        ("batch_size", BATCH_NAMES), ("run", RUN_NAMES)):
        if low in table:
            return kind, None, table[low]
    if low == "split":
        return "split", None, 0
    if low.startswith("lr-"):  # Lightning LearningRateMonitor: lr-<Optimizer>[/pg<i>]
        return "lr", None, 50 + (0 if "/" not in low else 1)
    return _classify_loss(low)


def _classify_loss(low: str) -> tuple[str, str | None, int] | None:
    suffix = None
    for sfx in ("_step", "_epoch"):
        if low.endswith(sfx) and low != sfx.lstrip("_"):
            suffix, low = sfx, low[: -len(sfx)]
            break
    if low in TRAIN_LOSS:
        return None if suffix == "_epoch" else ("loss", "train", TRAIN_LOSS[low] + (1 if suffix else 0))
    split, prio = None, 0
    if low in VAL_LOSS:
        split, prio = "val", VAL_LOSS[low]
    elif low in TEST_LOSS:
        split, prio = "test", TEST_LOSS[low]
    else:
        m = _NAMED_EVAL.match(low)
        if m:
            split, prio = m.group("set"), 20
            if split in _GENERIC_SETS:
                split = "val"
    if split is None or suffix == "_step":
        return None
    return "loss", split, prio + (1 if suffix else 0)


def parse_target(target: str, key: str) -> tuple[str, str | None]:
    """A mapping target (``step``, ``loss``, ``loss:val``, ``val_loss``, ...) -> (kind, split)."""
    t = str(target).strip().lower()
    if t in ("val_loss", "eval_loss"):
        return "loss", "val"
    if t.startswith("loss:"):
        split = t[5:].strip()
        if not split:
            raise LoadError(f"column mapping {key}={target}: 'loss:' needs a split name, e.g. loss:val")
        return "loss", split
    if t == "loss":
        return "loss", "train"
    if t not in TARGETS:
        raise LoadError(f"column mapping {key}={target}: unknown target {target!r}; allowed: "
                        f"{', '.join(TARGETS)}, loss:<split>, val_loss")
    return t, None


def assign_roles(names: Iterable[str], columns: Mapping[str, str] | None, source: str) -> dict[str, tuple[str, str | None]]:
    """Pick one column per role: mapped columns first, then the best auto-detected name.

    Returns ``{column: (kind, split)}``; for loss columns ``split`` is the split they feed.
    """
    names = list(names)
    roles: dict[str, tuple[str, str | None]] = {}
    taken: set[tuple[str, str | None]] = set()
    for key, target in (columns or {}).items():
        if key not in names:
            shown = ", ".join(map(str, names[:20])) + (" ..." if len(names) > 20 else "")
            raise LoadError(f"{source}: column {key!r} from the mapping is not in the file; found: {shown}")
        role = parse_target(target, key)
        roles[key] = role
        taken.add(role)
    best: dict[tuple[str, str | None], tuple[int, str]] = {}
    for name in names:
        if name in roles:
            continue
        c = classify(name)
        if c is None:
            continue
        kind, split, prio = c
        role = (kind, split)
        if role in taken:
            continue
        if role not in best or prio < best[role][0]:
            best[role] = (prio, name)
    for role, (_, name) in best.items():
        roles[name] = role
    return roles


def numeric(values: pd.Series) -> pd.Series:
    """Numbers from a column of anything (strings, None, dicts from JSON): NaN where not a number."""
    try:
        return pd.to_numeric(values, errors="coerce").astype(np.float64)
    except (TypeError, ValueError):
        def one(v: Any) -> float:
            try:
                return float(v)
            except (TypeError, ValueError, OverflowError):
                return np.nan
        return values.map(one).astype(np.float64)


def logged(value: float):
    """A value for a sparse frame built from observations: a logged NaN stays visible as ``"nan"``
    (counted and dropped by :func:`~lrplan.curves.validate`) instead of looking like "not logged"."""
    return "nan" if value != value else value


def present(values: pd.Series) -> pd.Series:
    """Which cells hold a logged value (not empty/None/NaN-from-sparseness)."""
    if values.dtype == object:
        return values.map(lambda v: v is not None and not (isinstance(v, float) and np.isnan(v)) and v != "")
    return values.notna()


def wide_to_curves(df: pd.DataFrame, *, source: str, fmt: str, run: str, columns: Mapping[str, str] | None = None,
                   agg: Mapping[str, str] | None = None, extra: Mapping[str, Any] | None = None) -> Curves:
    """Turn a table of logged rows into canonical curves.

    ``df`` holds one logged row per line (sparse rows are fine). Loss columns become rows of their
    split; LR/tokens/batch size come from the same row or, when missing there, from another row
    of the same run and step (Lightning, TensorBoard and MLflow log them separately). A ``split``
    column (the canonical long CSV) overrides the split of a plain ``loss`` column and restricts
    that filling to rows of the same split, so that the table round-trips exactly. ``run`` names
    the run when the table has no run column. ``agg`` maps split -> aggregation kind
    (step/window_mean/eval_mean); ``extra`` is recorded in every run's ``RunMeta.extra``.
    """
    if len(df.columns) == 0 or len(df) == 0:
        raise LoadError(f"{source}: no rows")
    df = df.reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    if df.columns.duplicated().any():
        dup = df.columns[df.columns.duplicated()][0]
        raise LoadError(f"{source}: column {dup!r} appears twice")
    roles = assign_roles(df.columns, columns, source)
    by_kind: dict[str, list[tuple[str, str | None]]] = {}
    for col, (kind, split) in roles.items():
        by_kind.setdefault(kind, []).append((col, split))
    losses = by_kind.get("loss", [])
    if not losses:
        shown = ", ".join(list(df.columns)[:20])
        raise LoadError(f"{source}: no loss column (looked for loss, train/loss, val/loss, eval_loss, ...); "
                        f"found: {shown}; map one with --map NAME=loss")
    if "step" not in by_kind:
        shown = ", ".join(list(df.columns)[:20])
        raise LoadError(f"{source}: no step column (looked for step, iter, iteration, global_step, _step, ...); "
                        f"found: {shown}; map one with --map NAME=step")
    step_raw = df[by_kind["step"][0][0]]
    step_num = numeric(step_raw)
    runs = pd.Series(run, index=df.index)
    if "run" in by_kind:  # an empty run cell means the file's default run
        col = df[by_kind["run"][0][0]]
        runs = col.where(present(col), run).astype(str)
    split_col = df[by_kind["split"][0][0]].astype(str) if "split" in by_kind else None

    aux: dict[str, pd.Series] = {}
    for kind in ("lr", "tokens", "batch_size"):
        if kind in by_kind:
            s = numeric(df[by_kind[kind][0][0]])
            if s.isna().any() and s.notna().any():
                # with a split column (long tables) only rows of the same split share values
                key = pd.DataFrame({"run": runs, "split": "" if split_col is None else split_col,
                                    "step": step_num, "v": s})
                s = s.fillna(key.groupby(["run", "split", "step"])["v"].transform("last"))
            aux[kind] = s

    parts = []
    for col, split in losses:
        mask = present(df[col]).to_numpy(bool)
        if not mask.any():
            continue
        part = pd.DataFrame({"run": runs[mask].to_numpy(), "step": step_raw[mask].to_numpy(),
                             "loss": numeric(df[col])[mask].to_numpy()})
        if split_col is not None and split == "train" and columns_plain_loss(col, columns):
            part["split"] = split_col[mask].to_numpy()
        else:
            part["split"] = split
        for kind, s in aux.items():
            part[kind] = s[mask].to_numpy()
        parts.append(part)
    if not parts:
        raise LoadError(f"{source}: the loss column(s) {', '.join(c for c, _ in losses)} hold no values")
    long = pd.concat(parts, ignore_index=True)
    curves = Curves(long, source=source)
    used = {kind: [c for c, _ in cols] for kind, cols in by_kind.items()}
    splits = curves.data.groupby("run", sort=False)["split"].unique()
    for r, m in curves.meta.items():
        _fill_meta(m, source, fmt, agg, extra, None, splits[r])
        m.extra.setdefault("columns", {k: v for k, v in used.items() if k in ("step", "loss", "lr", "tokens")})
    return curves


def runs_to_curves(items: Iterable[tuple[str, pd.DataFrame | None, Mapping[str, Any]]], *, source: str, fmt: str,
                   columns: Mapping[str, str] | None, agg: Mapping[str, str], what: str = "loss metric") -> Curves:
    """:func:`wide_to_curves` for each ``(run, frame, extra)`` and join them.

    The mapping applies to the names each run has (a name in no run at all is an error); runs
    without any loss are skipped with a warning, unless no run has one (an error naming what
    names were seen).
    """
    parts, skipped, seen = [], [], {}
    for run, frame, extra in items:
        if frame is None or len(frame) == 0:
            skipped.append(run)
            continue
        seen.update(dict.fromkeys(map(str, frame.columns)))
        cols = {k: v for k, v in (columns or {}).items() if k in frame.columns} or None
        try:
            parts.append(wide_to_curves(frame, source=source, fmt=fmt, run=run, columns=cols, agg=agg, extra=extra))
        except LoadError as e:
            if "no loss column" not in str(e) and "hold no values" not in str(e):
                raise
            skipped.append(run)
    missing = [k for k in (columns or {}) if k not in seen]
    if missing:
        raise LoadError(f"{source}: {missing[0]!r} from the mapping is not a name in any run")
    if not parts:
        names = [n for n in seen if n != "step"][:12]
        raise LoadError(f"{source}: no {what} in any run (names seen: {', '.join(names) or 'none'}); "
                        "map one with --map NAME=loss")
    if skipped:
        warn(f"{source}: no {what} in run(s) {', '.join(map(str, skipped[:5]))}; skipped")
    curves = Curves.concat(parts)
    curves.source = source
    return curves


def parse_json(text: str, path: Path | str):
    """``json.loads`` with errors as one-line :class:`LoadError` naming ``path``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise LoadError(f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        raise LoadError(f"{path}: JSON nested too deeply") from None


def columns_plain_loss(col: str, columns: Mapping[str, str] | None) -> bool:
    """A loss column whose split comes from the ``split`` column (not named by its own name)."""
    if columns and col in columns:
        return str(columns[col]).strip().lower() == "loss"
    return col.strip().lower() == "loss"


def agg_of_splits(agg: Mapping[str, str] | None, splits: Iterable[str]) -> dict[str, str]:
    """How each split's loss was aggregated: ``agg`` where given, else ``eval_mean`` for an eval
    set and ``step`` for train."""
    agg = dict(agg or {})
    return {s: agg.get(s, "step" if s == "train" else "eval_mean") for s in splits}


def _fill_meta(m: RunMeta, source: str, fmt: str, agg, extra, meta, splits: Iterable[str]) -> None:
    m.source = source
    m.extra["format"] = fmt
    m.extra["agg"] = agg_of_splits(agg, splits)
    for k, v in (extra or {}).items():
        m.extra[k] = v
    for k, v in (meta or {}).items():
        if v is not None and getattr(m, k, None) is None:
            setattr(m, k, v)


def long_to_curves(rows: list[dict] | pd.DataFrame, *, source: str, fmt: str, agg=None, extra=None,
                   meta=None) -> Curves:
    """Canonical rows (run, split, step, loss[, lr, tokens, batch_size]) -> Curves with metadata."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if len(frame) == 0:
        raise LoadError(f"{source}: no loss values found")
    curves = Curves(frame, source=source)
    splits = curves.data.groupby("run", sort=False)["split"].unique()
    for r, m in curves.meta.items():
        _fill_meta(m, source, fmt, agg, extra, meta, splits[r])
    return curves


# -- files --------------------------------------------------------------------------------------
def read_bytes(path: Path, what: str = "file") -> bytes:
    """The bytes of ``path``; a missing/unreadable/empty file is a :class:`LoadError`."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise LoadError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a directory, expected a {what}") from None
    except PermissionError:
        raise LoadError(f"{path}: permission denied") from None
    except OSError as e:
        raise LoadError(f"{path}: cannot read ({e.strerror or e})") from None
    if data[:2] == GZIP_MAGIC:
        data = gunzip(path)
    if not data.strip():
        raise LoadError(f"{path}: empty {what}")
    return data


GZIP_MAGIC = b"\x1f\x8b"


def gunzip(path: Path, limit: int = -1) -> bytes:
    """The decompressed content of gzip file ``path`` (its first ``limit`` bytes, for sniffing)."""
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(limit)
    except (OSError, EOFError, zlib.error) as e:
        raise LoadError(f"{path}: corrupt or truncated gzip file ({e})") from None


def plain_name(path: Path) -> Path:
    """``path`` without a ``.gz`` suffix (``train.log.gz`` is read as ``train.log``)."""
    path = Path(path)
    return path.with_suffix("") if path.suffix.lower() == ".gz" else path


def read_text(path: Path, strict: bool = True) -> str:
    """UTF-8 text of ``path`` (BOM dropped). Binary content (NUL bytes, or invalid UTF-8 when
    ``strict``) is a :class:`LoadError`; non-strict decoding replaces bad bytes (console logs)."""
    data = read_bytes(path)
    if b"\x00" in data[:65536]:
        raise LoadError(f"{path}: binary file, not a text log or table")
    try:
        text = data.decode("utf-8-sig", errors="strict" if strict else "replace")
    except UnicodeDecodeError as e:
        raise LoadError(f"{path}: not UTF-8 text (byte {e.start}); binary or wrong encoding") from None
    if "\x00" in text:
        raise LoadError(f"{path}: binary file, not a text log or table")
    return text


def run_name_for(path: Path) -> str:
    """A run name for a single-run file: its stem, or its directory name when the stem is generic."""
    path = Path(path)
    resolved = path.resolve()
    path = plain_name(path)
    stem = path.stem if path.suffix else path.name
    for parent in resolved.parents:
        if not (stem.lower() in GENERIC_STEMS or stem.lower().startswith("events.out")) or not parent.name:
            break
        stem = parent.name
    return stem


def looks_like_json(text: str) -> bool:
    """JSON/JSONL content (a ``[`` must open a list of objects, not a ``[rank0]:`` log prefix)."""
    s = text.lstrip("\ufeff \t\r\n")
    return s.startswith("{") or re.match(r"\[\s*(\{|\]|$)", s) is not None


def relative_run(root: Path, directory: Path) -> str:
    """Run name of ``directory`` under ``root``: the relative path, or the root's name for itself."""
    rel = Path(directory).resolve().relative_to(Path(root).resolve()).as_posix()
    return Path(root).resolve().name if rel in (".", "") else rel


def rename_runs(curves: Curves, mapping: Mapping[str, str]) -> Curves:
    """A copy of ``curves`` with runs renamed (metadata follows)."""
    data = curves.data.copy()
    data["run"] = data["run"].map(lambda r: mapping.get(r, r))
    meta = {}
    for r, m in curves.meta.items():
        new = mapping.get(r, r)
        m2 = RunMeta(**{**m.__dict__, "run": new, "extra": dict(m.extra)})
        meta[new] = m2
    return Curves(data, meta, source=curves.source)


def warn(message: str) -> None:
    warnings.warn(LrplanWarning(message), stacklevel=3)
