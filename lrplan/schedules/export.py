"""Export schedules: ``step,lr`` CSV, a PyTorch ``LambdaLR`` factory and a code snippet."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lrplan import _io
from lrplan.schedules.core import Schedule


def to_frame(schedule: Schedule, every: int = 1):
    """A pandas DataFrame with columns ``step, lr`` (every ``every``-th step, the last always kept)."""
    import pandas as pd

    lr = schedule.array()
    idx = np.arange(0, schedule.steps, max(int(every), 1))
    if idx[-1] != schedule.steps - 1:
        idx = np.append(idx, schedule.steps - 1)
    return pd.DataFrame({"step": idx, "lr": lr[idx]})


def to_csv(schedule: Schedule, path: str | Path, every: int = 1) -> Path:
    """Write the schedule as a ``step,lr`` CSV (atomically); full float64 precision."""
    frame = to_frame(schedule, every)
    return _io.write_csv(path, frame, float_format="%.17g")


def lambda_lr(schedule: Schedule, optimizer, last_epoch: int = -1):
    """A ``torch.optim.lr_scheduler.LambdaLR`` that applies ``schedule`` exactly.

    Each param group's ``lr`` is set to the schedule's peak and the multiplier at step s is
    ``lr[s] / peak``; call ``scheduler.step()`` once per optimizer step. Needs torch.
    """
    try:
        from torch.optim.lr_scheduler import LambdaLR
    except ImportError as e:  # pragma: no cover - exercised without torch
        from lrplan.errors import LrplanError

        raise LrplanError("exporting to PyTorch needs torch: pip install 'lrplan[train]'") from e
    ratio = schedule.array() / schedule.peak
    last = len(ratio) - 1
    for group in optimizer.param_groups:
        group["lr"] = schedule.peak
        group.setdefault("initial_lr", schedule.peak)
        group["initial_lr"] = schedule.peak

    def factor(step: int) -> float:
        return float(ratio[min(max(step, 0), last)])

    return LambdaLR(optimizer, factor, last_epoch=last_epoch)


def torch_snippet(schedule: Schedule, csv_name: str = "lr.csv") -> str:
    """A self-contained PyTorch snippet (no lrplan needed) that applies the schedule from its CSV."""
    return f'''"""LR schedule exported by lrplan: {schedule.spec or "custom"} ({schedule.steps} steps, peak {schedule.peak:g}).

Usage:
    optimizer = torch.optim.AdamW(model.parameters(), lr={schedule.peak!r})
    scheduler = make_scheduler(optimizer)          # call scheduler.step() after every optimizer.step()
"""
import csv
from pathlib import Path

import torch

PEAK_LR = {schedule.peak!r}
TOTAL_STEPS = {schedule.steps}


def load_lr(path=Path(__file__).with_name("{csv_name}")):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    lr = [0.0] * TOTAL_STEPS
    steps = [int(r["step"]) for r in rows]
    values = [float(r["lr"]) for r in rows]
    j = 0
    for s in range(TOTAL_STEPS):  # hold the last listed value between listed steps
        while j + 1 < len(steps) and steps[j + 1] <= s:
            j += 1
        lr[s] = values[j]
    return lr


def make_scheduler(optimizer, path=None):
    lr = load_lr() if path is None else load_lr(path)
    for group in optimizer.param_groups:
        group["lr"] = PEAK_LR
        group["initial_lr"] = PEAK_LR
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr[min(step, TOTAL_STEPS - 1)] / PEAK_LR
    )
'''
