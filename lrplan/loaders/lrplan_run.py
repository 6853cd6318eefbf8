"""Run folders of lrplan's own trainer (:mod:`lrplan.train`): ``<out>/curves.csv`` (canonical rows
``run,split,step,tokens,lr,loss,batch_size,grad_norm,tokens_per_s``) next to ``<out>/meta.json``
(run name, schedule spec, peak LR, batch size, sequence length, parameter count, status).

A path may be one run folder or a sweep directory holding many (walked recursively); each folder
is one run named as in its ``meta.json``. The train loss is the mean over the step's
micro-batches (``agg = step``), val the mean over the eval batches (``eval_mean``). Reading needs
no torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from lrplan.curves import Curves
from lrplan.errors import LoadError
from lrplan.loaders._common import rename_runs
from lrplan.loaders.table import load_table

FILES = ("meta.json", "curves.csv")


def is_run_folder(path: Path) -> bool:
    return all((Path(path) / f).is_file() for f in FILES)


def find_run_folders(path: Path) -> list[Path]:
    path = Path(path)
    if is_run_folder(path):
        return [path]
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        if all(f in filenames for f in FILES):
            found.append(Path(dirpath))
            dirnames[:] = []  # checkpoints and the like below a run folder are not runs
    return found


def load_lrplan_runs(path: Path, columns: Mapping[str, str] | None = None) -> Curves:
    """Load one trainer run folder, or every run folder under a sweep directory."""
    from lrplan.train.results import read_meta, run_meta

    path = Path(path)
    folders = find_run_folders(path) if path.is_dir() else []
    if not folders:
        raise LoadError(f"{path}: no lrplan run folders (meta.json + curves.csv) here")
    parts = []
    for folder in folders:
        meta = read_meta(folder) or {}
        curves = load_table(folder / "curves.csv", columns, fmt="lrplan-run")
        name = str(meta.get("run") or folder.name)
        if curves.runs != [name]:
            if len(curves.runs) != 1:
                raise LoadError(f"{folder / 'curves.csv'}: holds runs {', '.join(curves.runs[:5])}, expected only {name!r}")
            curves = rename_runs(curves, {curves.runs[0]: name})
        m = run_meta({**meta, "run": name})
        if m.schedule == "custom":  # trained on an LR array: the logged lr column is the schedule
            m.schedule = None
        m.source = str(folder)
        m.extra = {**curves.meta[name].extra, **{k: v for k, v in m.extra.items() if v is not None},
                   "format": "lrplan-run", "file": str(folder)}
        curves.meta[name] = m
        parts.append(curves)
    out = Curves.concat(parts)
    out.source = str(path)
    return out
