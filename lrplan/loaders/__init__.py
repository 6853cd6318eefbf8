"""Read the training logs people already have into one canonical curve table.

>>> from lrplan.loaders import load, load_many
>>> curves = load("runs/")                          # format auto-detected      # doctest: +SKIP
>>> curves = load("log.csv", columns={"my_step": "step", "ppl_loss": "loss:val"})  # doctest: +SKIP

Every loader returns a :class:`~lrplan.curves.Curves`: one long table ``run, split, step, loss,
lr, tokens, batch_size`` (train and eval losses are separate ``split`` rows at their own steps,
never an outer-joined wide frame; LR is NaN where not logged), validated by
:func:`lrplan.curves.validate` (NaN/inf losses dropped and counted, duplicate or backwards steps
of resumed runs keep the last value, both with a :class:`~lrplan.errors.LrplanWarning`). Each
run's :class:`~lrplan.curves.RunMeta` records ``source`` and, in ``extra``, the ``format``, the
``file``, and ``agg``: how each split's loss was aggregated (``step`` = one step's batch,
``window_mean`` = mean over the logging window, ``eval_mean`` = mean over eval batches).

Formats (:data:`FORMATS`): ``table`` (CSV/TSV/JSON/JSONL), ``wandb-export``, ``wandb-history``,
``tensorboard``, ``hf``, ``lightning``, ``mlflow``, ``mlflow-sqlite``, ``lrplan-run``, ``nanogpt``,
``build-nanogpt``, ``modded-nanogpt``, ``megatron``, ``torchtitan``; see each module's docstring.
Bad input ends in a :class:`~lrplan.errors.LoadError` naming the file and the problem.
Runs that did not log their LR get it from their schedule with :func:`with_schedule`.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path
from typing import Callable, Iterable, Mapping

from lrplan.curves import Curves
from lrplan.errors import LoadError, LrplanError
from lrplan.loaders._common import classify, rename_runs, warn
from lrplan.loaders.detect import detect
from lrplan.loaders.hf import load_trainer_state
from lrplan.loaders.lightning import load_lightning
from lrplan.loaders.lr import with_schedule
from lrplan.loaders.lrplan_run import load_lrplan_runs
from lrplan.loaders.mlflow import load_mlflow_files, load_mlflow_sqlite
from lrplan.loaders.table import load_table
from lrplan.loaders.tensorboard import load_tensorboard
from lrplan.loaders.textlogs import DIALECTS, load_text_log
from lrplan.loaders.wandb import load_wandb_export

Loader = Callable[[Path, "Mapping[str, str] | None"], Curves]


def _dialect(name: str) -> Loader:
    return lambda path, columns: load_text_log(path, columns, dialect=name)


#: format name -> (loader, one-line description)
FORMATS: dict[str, tuple[Loader, str]] = {
    "table": (load_table, "CSV/TSV/JSON/JSONL with step and loss columns (incl. the canonical lrplan CSV)"),
    "wandb-export": (load_wandb_export, 'W&B UI "Export CSV" (Step, "<run> - <metric>" columns)'),
    "wandb-history": (lambda p, c: load_table(p, c, fmt="wandb-history"), "W&B run.history() dump (CSV/JSON/JSONL)"),
    "tensorboard": (load_tensorboard, "TensorBoard event files (a file or a directory of runs)"),
    "hf": (load_trainer_state, "Hugging Face trainer_state.json (or an output dir with checkpoint-*)"),
    "lightning": (load_lightning, "Lightning CSVLogger metrics.csv (version_N = run)"),
    "mlflow": (load_mlflow_files, "MLflow file store (mlruns/<exp>/<run>/metrics/<key>)"),
    "mlflow-sqlite": (load_mlflow_sqlite, "MLflow SQLite store (mlflow.db)"),
    "lrplan-run": (load_lrplan_runs, "lrplan trainer run folders (meta.json + curves.csv; a sweep directory)"),
    **{name: (_dialect(name), f"{name} console log") for name in DIALECTS},
}
ALIASES = {"csv": "table", "tsv": "table", "json": "table", "jsonl": "table", "lrplan": "table", "wandb": "wandb-export",
           "tb": "tensorboard", "tfevents": "tensorboard", "trainer_state": "hf", "trainer-state": "hf",
           "huggingface": "hf", "pl": "lightning", "mlruns": "mlflow", "sqlite": "mlflow-sqlite",
           "nanogpt-log": "nanogpt", "titan": "torchtitan", "megatron-lm": "megatron"}

# errors of parsing libraries that bad content can raise; they become one-line LoadErrors
_PARSE_ERRORS = (ValueError, KeyError, IndexError, TypeError, struct.error, UnicodeError, sqlite3.Error,
                 OverflowError, RecursionError)


def resolve_format(name: str) -> str:
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise LoadError(f"unknown format {name!r}; allowed: {', '.join(FORMATS)}")
    return key


def load(path: str | os.PathLike, format: str | None = None, columns: Mapping[str, str] | None = None,
         run: str | None = None, split: str | None = None) -> Curves:
    """Read one log file or directory into :class:`~lrplan.curves.Curves`.

    Parameters
    ----------
    path : a file, or a directory (TensorBoard logdir, ``mlruns/``, HF output dir, Lightning logs).
    format : a name from :data:`FORMATS` (or an alias like ``csv``, ``tb``); auto-detected if None.
    columns : ``{name in the file: target}`` with targets ``step``, ``loss`` (train), ``loss:<split>``
        (e.g. ``loss:val``), ``val_loss``, ``lr``, ``tokens``, ``batch_size``, ``run``, ``split``.
        Names are column headers, W&B metric names, TensorBoard tags or MLflow keys. Mapped
        columns take precedence over auto-detected ones.
    run : keep only this run; when the source holds a single run, name it ``run`` instead.
    split : keep only this split (``train``, ``val``, ...).
    """
    path = Path(path)
    fmt = resolve_format(format) if format is not None else detect(path, columns)
    loader = FORMATS[fmt][0]
    try:
        curves = loader(path, dict(columns) if columns else None)
    except LrplanError:
        raise
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as e:
        raise LoadError(f"{getattr(e, 'filename', None) or path}: {e.strerror or e}") from None
    except _PARSE_ERRORS as e:
        if os.environ.get("LRPLAN_DEBUG"):
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise LoadError(f"{path}: cannot read as {fmt}: {type(e).__name__} {first}".rstrip()) from None
    if run is not None:
        if run in curves.runs:
            curves = curves.select([run])
        elif len(curves.runs) == 1:
            curves = rename_runs(curves, {curves.runs[0]: run})
        else:
            raise LoadError(f"{path}: no run named {run!r}; runs: {', '.join(curves.runs[:10])}")
    if split is not None:
        curves = curves.select(split=split)
    return curves


def load_many(paths: Iterable[str | os.PathLike], format: str | None = None,
              columns: Mapping[str, str] | None = None, run: str | None = None,
              split: str | None = None, progress: Callable[[list[Path]], Iterable[Path]] | None = None) -> Curves:
    """:func:`load` each path and join them. Run names that clash across files are prefixed with
    the file stem (``<stem>/<run>``; the parent directory too if stems clash), with a warning.
    ``progress`` wraps the list of paths (e.g. ``rich.progress.track``)."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise LoadError("no files given")
    loaded = [load(p, format, columns, run, split) for p in (progress(paths) if progress else paths)]
    counts: dict[str, int] = {}
    for c in loaded:
        for r in c.runs:
            counts[r] = counts.get(r, 0) + 1
    clashing = {r for r, n in counts.items() if n > 1}
    if clashing:
        prefixes = _unique_prefixes(paths)
        loaded = [rename_runs(c, {r: f"{prefix}/{r}" for r in c.runs if r in clashing})
                  for c, prefix in zip(loaded, prefixes)]
        warn(f"run name(s) {', '.join(sorted(clashing)[:5])} appear in several files; "
             f"prefixed them with the file name ({', '.join(prefixes[:3])}{', ...' if len(prefixes) > 3 else ''})")
    return Curves.concat(loaded)


def _unique_prefixes(paths: list[Path]) -> list[str]:
    stems = [p.stem if p.suffix else p.name for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    longer = [f"{p.resolve().parent.name}/{s}" for p, s in zip(paths, stems)]
    if len(set(longer)) == len(longer):
        return longer
    return [f"{s}#{i + 1}" for i, s in enumerate(stems)]


__all__ = ["ALIASES", "FORMATS", "classify", "detect", "load", "load_many", "resolve_format", "with_schedule"]
