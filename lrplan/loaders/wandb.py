"""W&B UI "Export CSV" files (a panel's data, several runs in one file).

Header as written by the W&B UI::

    "Step","brisk-pond-1 - train/loss","brisk-pond-1 - train/loss__MIN","brisk-pond-1 - train/loss__MAX","calm-sun-2 - train/loss"

* the first column is the x axis (``Step``, ``train/global_step``, ...); a time axis (``Wall
  Time``, ``Relative Time (...)``) has no steps and is refused;
* each other column is ``"<run> - <metric>"`` (grouped runs: ``"Group: <g> - <metric>"``, run
  ``<g>``, recorded as ``extra["group"]``); ``__MIN``/``__MAX`` columns are the min/max of the
  bucket the UI drew and are dropped; empty cells mean "not logged at this step";
* exports are sampled by the UI: a warning says so when a file has exactly 500 rows or a run's
  steps are unevenly spaced (use ``run.scan_history()`` for every step);
* metrics are recognised as in :mod:`lrplan.loaders.table` (``train/loss``, ``val/loss``,
  ``lr``, ...); ``columns`` maps metric names (without the run prefix).

Aggregation recorded: train ``step``, eval ``eval_mean`` (W&B does not say how a value was made).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from lrplan.curves import Curves
from lrplan.errors import LoadError
from lrplan.loaders._common import classify, numeric, read_text, runs_to_curves, warn
from lrplan.loaders.table import read_csv_text

_TIME_AXES = re.compile(r"^(wall time|relative time.*|_runtime|_timestamp|time)$", re.I)
_BAND = ("__MIN", "__MAX")


def split_header(name: str) -> tuple[str, str] | None:
    """``"<run> - <metric>"`` -> (run, metric), or None for a column without a run prefix."""
    run, sep, metric = str(name).rpartition(" - ")
    if not sep or not run.strip() or not metric.strip():
        return None
    return run.strip(), metric.strip()


def is_export_header(names: list[str]) -> bool:
    """Whether a CSV header looks like a W&B panel export."""
    if len(names) < 2 or split_header(names[0]) is not None:
        return False
    axis = names[0].strip()
    if (classify(axis) or ("",))[0] != "step" and not _TIME_AXES.match(axis):
        return False
    return all(split_header(n) is not None for n in names[1:])


def load_wandb_export(path: Path, columns: Mapping[str, str] | None = None) -> Curves:
    """Load a W&B panel "Export CSV" file: one run per ``"<run> - "`` prefix."""
    path = Path(path)
    df = read_csv_text(read_text(path), path)
    names = [str(c) for c in df.columns]
    if not is_export_header(names):
        raise LoadError(f"{path}: not a W&B export (expected a Step column then '<run> - <metric>' columns)")
    axis = names[0]
    if _TIME_AXES.match(axis.strip()):
        raise LoadError(f"{path}: the x axis is {axis!r}, not steps; re-export the panel with Step as x axis")
    if (classify(axis) or ("",))[0] != "step" and (columns or {}).get(axis) != "step":
        raise LoadError(f"{path}: unknown x axis column {axis!r}; map it with --map '{axis}=step'")
    steps = df[axis]
    per_run: dict[str, dict[str, pd.Series]] = {}
    groups: set[str] = set()
    for name in names[1:]:
        if name.endswith(_BAND):
            continue
        run, metric = split_header(name)
        if run.lower().startswith("group:"):
            run = run[6:].strip()
            groups.add(run)
        if metric in per_run.setdefault(run, {}):
            raise LoadError(f"{path}: column {name!r} appears twice")
        per_run[run][metric] = df[name]
    if not per_run:
        raise LoadError(f"{path}: no metric columns besides the band (__MIN/__MAX) columns")
    if len(df) == 500:
        warn(f"{path}: exactly 500 rows: W&B UI exports are sampled; export every step with run.scan_history()")
    _check_numeric_axis(steps, path)
    items = [(run, pd.DataFrame({"step": steps, **metrics}), {"file": str(path), **({"group": True} if run in groups else {})})
             for run, metrics in per_run.items()]
    curves = runs_to_curves(items, source=str(path), fmt="wandb-export", columns=columns,
                            agg={"train": "step", "val": "eval_mean"})
    uneven = []
    for (run, _), g in curves.data.groupby(["run", "split"], sort=False):
        d = np.diff(g["step"].to_numpy())
        if len(d) > 2 and len(np.unique(d[:-1])) > 1 and run not in uneven:
            uneven.append(run)
    if uneven:
        warn(f"{path}: unevenly spaced steps for run(s) {', '.join(uneven[:5])}: W&B UI exports are sampled; "
             "export every step with run.scan_history()")
    return curves


def _check_numeric_axis(steps: pd.Series, path: Path) -> None:
    vals = numeric(steps)
    if vals.isna().all():
        raise LoadError(f"{path}: the Step column holds no numbers")
