"""Turn a :class:`~lrplan.curves.Curves` table plus schedules into per-run fitting data.

Every law needs the LR at EVERY step up to the last logged step of a run. It comes from, in this
order: ``schedules[run]`` (a spec string, :class:`~lrplan.schedules.Schedule` or per-step array of
absolute LR), the run's ``meta.schedule`` spec, or an ``lr`` column logged at every step 0..last.
Otherwise a :class:`~lrplan.errors.LrplanError` says to add ``--lr-file`` or ``--schedule RUN=SPEC``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrplan.curves import Curves
from lrplan.errors import FitError, LrplanError
from lrplan.schedules import Schedule, parse

#: fewest logged points a run must have to take part in a fit
MIN_POINTS = 5


@dataclass
class CurveData:
    """One run ready for fitting: logged ``steps`` (0-based) and ``loss`` (nats), the per-step
    absolute LR ``lr`` (length > last logged step) and where that LR came from (``schedule``)."""

    run: str
    steps: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    schedule: str

    def summary(self) -> dict:
        return {"run": self.run, "points": int(self.steps.size), "first_step": int(self.steps[0]),
                "last_step": int(self.steps[-1]), "loss_last": float(self.loss[-1]),
                "lr_steps": int(self.lr.size), "peak_lr": float(self.lr.max()), "schedule": self.schedule}


def _schedule_lr(sched: Schedule, need: int) -> np.ndarray:
    """Per-step LR of a schedule; a run evaluated once more after its last update (a final eval at
    step T of a T-step schedule) holds the final LR for that one step, as a Schedule does past its end."""
    if sched.steps == need - 1:
        return sched(np.arange(need))
    return sched.array()


def _lr_from(value, run: str, need: int) -> tuple[np.ndarray, str]:
    if isinstance(value, Schedule):
        return _schedule_lr(value, need), value.spec or "custom"
    if isinstance(value, str):
        try:
            sched = parse(value)
        except LrplanError:
            sched = parse(value, need)
        return _schedule_lr(sched, need), sched.spec
    arr = np.asarray(value, dtype=np.float64).ravel()
    return arr, f"array[{arr.size}]"


def resolve(curves: Curves, schedules: dict | None = None, runs=None) -> list[CurveData]:
    """Per-run :class:`CurveData` for ``runs`` (default: all runs of ``curves``)."""
    schedules = dict(schedules or {})
    unknown = [r for r in schedules if r not in curves.meta]
    if unknown:
        raise LrplanError(f"--schedule {unknown[0]}=...: no run named {unknown[0]!r} in the curves; runs: {', '.join(curves.runs[:10])}")
    out = []
    for run in runs or curves.runs:
        c = curves.curve(run)
        steps = c["step"].to_numpy(np.int64)
        loss = c["loss"].to_numpy(np.float64)
        last = int(steps[-1])
        if run in schedules:
            lr, src = _lr_from(schedules[run], run, last + 1)
        elif curves.meta[run].schedule:
            lr, src = _lr_from(curves.meta[run].schedule, run, last + 1)
        else:
            lrcol = c["lr"].to_numpy(np.float64)
            full = steps.size == last + 1 and np.array_equal(steps, np.arange(last + 1)) and np.all(np.isfinite(lrcol))
            if not full:
                have = "no lr column" if not np.isfinite(lrcol).any() else f"an lr column at {int(np.isfinite(lrcol).sum())} of {last + 1} steps"
                raise LrplanError(f"run {run!r}: the law needs the LR at every step 0..{last} but the curve has {have}; "
                                  f"add --lr-file LR.csv (run,step,lr) or --schedule {run}=SPEC")
            lr, src = lrcol, "lr column"
        if lr.size <= last:
            raise LrplanError(f"run {run!r}: the LR ({src}) covers steps 0..{lr.size - 1} but the curve is logged up to "
                              f"step {last}; give an LR for every logged step")
        if not np.all(np.isfinite(lr)) or np.any(lr < 0) or lr.max() <= 0:
            raise LrplanError(f"run {run!r}: the LR ({src}) has NaN, negative or all-zero values")
        if steps.size < MIN_POINTS:
            raise FitError(f"run {run!r}: too few points to fit ({steps.size}; need at least {MIN_POINTS})")
        out.append(CurveData(run, steps, loss, lr, src))
    if not out:
        raise FitError("no curves to fit")
    return out


def find_spikes(data: list[CurveData], floor: float = 0.02, window: int = 5) -> list[str]:
    """Describe upward loss spikes: logged points whose log loss exceeds the medians of both their
    left and right neighbours (``window`` points each side, at least 2) by more than
    max(``floor``, 8 robust SDs). Trends and LR drops (loss falling) are not spikes."""
    msgs = []
    for d in data:
        y = np.log(d.loss)
        n = y.size
        r = np.full(n, -np.inf)
        full = np.median(np.lib.stride_tricks.sliding_window_view(y, window), axis=1) if n >= window else np.empty(0)
        for i in range(2, n - 2):
            # medians of full windows come from ``full`` (window starting at j = full[j])
            left = full[i - window] if i >= window else np.median(y[:i])
            right = full[i + 1] if i + 1 + window <= n else np.median(y[i + 1:])
            r[i] = y[i] - max(left, right)
        fin = r[np.isfinite(r)]
        if fin.size < 3:
            continue
        mad = 1.4826 * float(np.median(np.abs(fin - np.median(fin))))
        bad = np.flatnonzero(r > max(floor, 8 * mad))
        if bad.size:
            shown = ", ".join(str(int(s)) for s in d.steps[bad][:5]) + (" ..." if bad.size > 5 else "")
            msgs.append(f"run {d.run!r}: {bad.size} loss spike(s) at step(s) {shown}; "
                        "the robust (Huber) fit down-weights them")
    return msgs


def read_lr_file(path) -> dict[str | None, np.ndarray]:
    """Read an LR file: ``step,lr`` (one schedule, key ``None``) or ``run,step,lr`` (one per run).

    The LR must be given at every step 0..last of each schedule (absolute LR); returns per-step arrays.
    """
    from lrplan.errors import LoadError
    from lrplan.schedules.core import read_lr_rows

    out = {}
    for run, (s, v) in read_lr_rows(path).items():
        name = f"run {run!r}" if run is not None else "the schedule"
        expected = np.arange(s[-1] + 1)
        if s.size != expected.size or not np.array_equal(s, expected):
            missing = np.setdiff1d(expected, s)
            raise LoadError(f"{path}: {name} needs the LR at every step 0..{s[-1]}; step {missing[0]} is missing "
                            f"({missing.size} missing)")
        if v.max() <= 0:
            raise LoadError(f"{path}: {name} has an all-zero LR")
        out[run] = v
    return out
