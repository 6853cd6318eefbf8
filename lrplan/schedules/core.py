"""The :class:`Schedule` object, warmup, joining and custom schedules.

A schedule is a plain function of the optimizer step (0-based) returning the absolute learning
rate, bundled with its length ``steps`` (T). ``schedule.array()`` evaluates it exactly, in float64,
at steps 0..T-1. Past the end a schedule holds its last value (so a trainer that runs a few steps
longer does not crash); negative steps are an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from lrplan.errors import LoadError, SpecError

StepFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class Schedule:
    """A learning-rate schedule of ``steps`` optimizer steps.

    Attributes:
        fn: vectorised map from an int64 array of steps in [0, steps) to float64 absolute LR.
        steps: total number of steps T.
        peak: the largest LR of the schedule (absolute); used to peak-normalise.
        spec: a spec string that rebuilds this schedule (``""`` for array-only schedules).
        params: the parsed parameters (family, warmup, ...), for reports and artifacts.
    """

    fn: StepFn
    steps: int
    peak: float
    spec: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if int(self.steps) != self.steps or self.steps < 1:
            raise SpecError(f"schedule length must be a positive whole number of steps, got {self.steps}")

    def __call__(self, step):
        """LR at ``step`` (int or array of ints). Steps >= T hold the last LR."""
        s = np.asarray(step)
        if np.any(s < 0):
            raise ValueError("schedule steps must be >= 0")
        clipped = np.minimum(s.astype(np.int64), self.steps - 1)
        out = self.fn(np.atleast_1d(clipped))
        return float(out[0]) if s.ndim == 0 else out.reshape(s.shape)

    def array(self) -> np.ndarray:
        """Exact per-step LR for steps 0..T-1 (float64, absolute)."""
        return np.asarray(self.fn(np.arange(self.steps, dtype=np.int64)), dtype=np.float64)

    def normalised(self) -> np.ndarray:
        """Per-step LR divided by the peak."""
        return self.array() / self.peak

    def __len__(self) -> int:
        return self.steps

    @property
    def warmup(self) -> int:
        """Steps of the initial warmup (of the first part of a join; 0 without a warmup)."""
        params = self.params["parts"][0] if self.params.get("family") == "join" else self.params
        return int(params.get("warmup", 0) or 0)

    def __repr__(self) -> str:
        return f"Schedule({self.spec or 'custom'!r}, steps={self.steps}, peak={self.peak:g})"


def warmup_ramp(s: np.ndarray, warmup: int, peak: float, start: float, style: str) -> np.ndarray:
    """LR on the warmup steps ``s`` (0 <= s < warmup): linear from ``start*peak`` to ``peak``.

    ``style="linear"`` (HF/PyTorch convention): lr = start + (peak - start) * s / warmup, so the
    peak is first reached at step ``warmup``. ``style="inclusive"`` (multi-power-law data):
    an evenly spaced ramp of ``warmup`` values from ``start`` to ``peak`` inclusive,
    lr = start + (peak - start) * s / (warmup - 1).
    """
    lo = start * peak
    denom = warmup - 1 if style == "inclusive" else warmup
    if denom <= 0:
        return np.full(s.shape, peak, dtype=np.float64)
    return lo + (peak - lo) * (s / denom)


def with_warmup(body: StepFn, warmup: int, peak: float, start: float = 0.0, style: str = "linear") -> StepFn:
    """Wrap ``body`` (defined for steps >= warmup) with a linear warmup on steps < warmup."""
    if warmup <= 0:
        return body

    def fn(s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=np.int64)
        out = np.empty(s.shape, dtype=np.float64)
        w = s < warmup
        if w.any():
            out[w] = warmup_ramp(s[w].astype(np.float64), warmup, peak, start, style)
        if (~w).any():
            out[~w] = body(s[~w])
        return out

    return fn


def join(parts: Sequence[Schedule], spec: str | None = None) -> Schedule:
    """Concatenate schedules end to end (re-warm phases, continual pre-training, cycles).

    Each part keeps its own step counter starting at 0, so a part with a warmup re-warms.
    """
    parts = list(parts)
    if not parts:
        raise SpecError("join needs at least one schedule")
    lengths = np.array([p.steps for p in parts], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    total = int(lengths.sum())

    def fn(s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=np.int64)
        idx = np.searchsorted(starts, s, side="right") - 1
        out = np.empty(s.shape, dtype=np.float64)
        for i, part in enumerate(parts):
            m = idx == i
            if m.any():
                out[m] = part.fn(s[m] - starts[i])
        return out

    return Schedule(
        fn=fn,
        steps=total,
        peak=max(p.peak for p in parts),
        spec=spec if spec is not None else " + ".join(p.spec or "custom" for p in parts),
        params={"family": "join", "parts": [p.params for p in parts], "lengths": lengths.tolist()},
    )


def custom(lr: Sequence[float] | np.ndarray, spec: str = "") -> Schedule:
    """A schedule from an explicit per-step LR array (absolute LR, one value per step)."""
    arr = np.array(lr, dtype=np.float64).ravel()
    if arr.size == 0:
        raise SpecError("custom schedule: the LR array is empty")
    if not np.all(np.isfinite(arr)):
        raise SpecError("custom schedule: the LR array contains NaN or inf")
    if np.any(arr < 0):
        raise SpecError("custom schedule: the LR array contains negative values")
    peak = float(arr.max())
    if peak <= 0:
        raise SpecError("custom schedule: every LR is zero")

    def fn(s: np.ndarray) -> np.ndarray:
        return arr[np.asarray(s, dtype=np.int64)]

    return Schedule(fn=fn, steps=int(arr.size), peak=peak, spec=spec, params={"family": "custom"})


def read_lr_rows(path: str | Path) -> dict[str | None, tuple[np.ndarray, np.ndarray]]:
    """Read a ``step,lr`` or ``run,step,lr`` CSV: ``{run (None without a run column): (steps, lr)}``
    with steps sorted, unique, non-negative integers (int64) and LRs absolute and non-negative.

    Every reader of LR files goes through here, so they reject bad files with the same messages.
    """
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise LoadError(f"{path}: file not found") from None
    except Exception as e:  # pandas raises many types for corrupt input
        raise LoadError(f"{path}: cannot read as CSV ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    cols = {str(c).strip().lower(): c for c in df.columns}
    if "step" not in cols or "lr" not in cols:
        raise LoadError(f"{path}: an LR file needs columns 'step' and 'lr' (or run,step,lr), found {list(df.columns)}")
    steps = pd.to_numeric(df[cols["step"]], errors="coerce").to_numpy(dtype=float)
    lrs = pd.to_numeric(df[cols["lr"]], errors="coerce").to_numpy(dtype=float)
    if len(steps) == 0:
        raise LoadError(f"{path}: no rows")
    if not (np.all(np.isfinite(steps)) and np.all(np.isfinite(lrs))):
        raise LoadError(f"{path}: non-numeric, NaN or inf values in 'step' or 'lr'")
    if np.any(steps < 0) or np.any(steps != np.round(steps)):
        raise LoadError(f"{path}: steps must be non-negative integers")
    if np.any(lrs < 0):
        raise LoadError(f"{path}: negative learning rates")
    runs = df[cols["run"]].astype(str).to_numpy() if "run" in cols else np.full(steps.size, None, dtype=object)
    out = {}
    for run in dict.fromkeys(runs):
        m = runs == run
        order = np.argsort(steps[m], kind="stable")
        s, v = steps[m][order].astype(np.int64), lrs[m][order]
        if np.any(np.diff(s) == 0):
            name = f"run {run!r}" if run is not None else "the schedule"
            raise LoadError(f"{path}: {name} has duplicate steps")
        out[run] = (s, v)
    return out


def from_csv(path: str | Path, run: str | None = None) -> Schedule:
    """A custom schedule from a ``step,lr`` CSV (or ``run,step,lr`` with ``run`` selected).

    Steps must be unique; rows need not be consecutive: the LR is held constant (previous value)
    between listed steps, and the schedule ends at the last listed step.
    """
    table = read_lr_rows(path)
    if run is None:
        if len(table) != 1:
            raise LoadError(f"{path}: holds several runs ({', '.join(sorted(table)[:5])}); name one")
        steps, lrs = next(iter(table.values()))
    else:
        if str(run) not in table:
            raise LoadError(f"{path}: no rows for run {run!r}")
        steps, lrs = table[str(run)]
    # before the first listed step, hold the first value
    idx = np.maximum(np.searchsorted(steps, np.arange(int(steps[-1]) + 1), side="right") - 1, 0)
    return custom(lrs[idx], spec=f"file:{path}")
