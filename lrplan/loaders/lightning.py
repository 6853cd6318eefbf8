"""PyTorch Lightning ``CSVLogger``: ``<save_dir>/<name>/version_N/metrics.csv``.

::

    epoch,step,train_loss_step,train_loss_epoch,val_loss,lr-AdamW
    0,49,8.6205,,,
    0,49,,,,0.0003
    0,286,,,6.8337,
    0,286,,7.6404,,

* rows are sparse: step rows, LR rows (``LearningRateMonitor`` adds ``lr-<Optimizer>``), val rows
  and epoch rows share ``step`` (0-based, the first log at 49 with ``log_every_n_steps=50``);
  LR and loss logged at the same step in different rows are joined;
* suffixes: a train ``*_step`` column is the per-step value (``agg = step``), ``*_epoch`` the
  epoch mean (ignored); an eval ``val_loss``/``val_loss_epoch`` is the mean over the validation
  set (``eval_mean``), ``val_loss_step`` a single batch (ignored);
* a directory is walked for ``metrics.csv``; each file's directory (``version_N``, or
  ``<name>/version_N`` when several names are present) is a run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from lrplan.curves import Curves
from lrplan.errors import LoadError
from lrplan.loaders._common import read_text, relative_run, wide_to_curves
from lrplan.loaders.table import read_csv_text

METRICS = "metrics.csv"


def find_metrics(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise LoadError(f"{path}: no such file or directory")
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        if METRICS in filenames:
            found.append(Path(dirpath) / METRICS)
    if not found:
        raise LoadError(f"{path}: no {METRICS} under this directory")
    return found


def load_lightning(path: Path, columns: Mapping[str, str] | None = None) -> Curves:
    """Load one Lightning ``metrics.csv`` or every one under a directory (one run per directory)."""
    path = Path(path)
    files = find_metrics(path)
    root = path if path.is_dir() else path.parent.parent
    parts = []
    for f in files:
        frame = read_csv_text(read_text(f), f)
        run = relative_run(root, f.parent)
        parts.append(wide_to_curves(frame, source=str(f), fmt="lightning", run=run, columns=columns,
                                    agg={"train": "step", "val": "eval_mean"}, extra={"file": str(f)}))
    return Curves.concat(parts)
