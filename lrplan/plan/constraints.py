"""Planner constraints, checked up front so that an impossible request fails with one clear line.

Units: steps are 0-based optimizer steps; ``peak``/``floor`` are absolute LRs (``floor`` may also
be ``"<k>x"``, k times the peak); lengths (``warmup``, ``max_cooldown``) are steps (>= 1) or
fractions of the run (< 1), as in :mod:`lrplan.schedules`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from lrplan.errors import ConfigError, SpecError
from lrplan.schedules.core import warmup_ramp
from lrplan.schedules.families import resolve_length, resolve_lr


@dataclass
class Constraints:
    """What every planned schedule must satisfy.

    Attributes:
        steps: run length T (steps).
        peak: peak LR (absolute), used as is unless ``peak_bounds`` is given.
        peak_bounds: optional (low, high): the planner also chooses the peak in this range. Laws
            without an instability term (MPL, momentum) always prefer the highest peak, so give the
            range from a hyper-parameter law or a sweep.
        warmup: warmup steps (fixed linear ramp, not optimised); ``warmup_start`` its first LR as a
            fraction of peak; ``warmup_style`` ``linear`` or ``inclusive`` (see lrplan.schedules).
        floor: lowest LR allowed (absolute, or relative to the peak when ``floor_relative``).
        max_cooldown: the LR must stay at the peak until step T - max_cooldown (steps); None = no limit.
        checkpoints: steps at which the predicted loss enters the objective (default: the last step);
            ``weights`` their weights (default equal). Several checkpoints give an "anytime" schedule.
    """

    steps: int
    peak: float
    peak_bounds: tuple[float, float] | None = None
    warmup: int = 0
    warmup_start: float = 0.0
    warmup_style: str = "linear"
    floor: float = 0.0
    floor_relative: bool = False
    max_cooldown: int | None = None
    checkpoints: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    @classmethod
    def build(cls, steps, peak, warmup=0, floor=0.0, max_cooldown=None, checkpoints: Sequence | None = None,
              weights: Sequence | None = None, peak_bounds=None, warmup_start: float = 0.0,
              warmup_style: str = "linear") -> "Constraints":
        """Resolve fractions and ``kx`` floors and check feasibility (raises :class:`ConfigError`)."""
        try:
            T = float(steps)
        except (TypeError, ValueError):
            raise ConfigError(f"planner: steps must be a whole number, got {steps!r}") from None
        if not math.isfinite(T) or T != round(T) or T < 2:
            raise ConfigError(f"planner: steps must be a whole number >= 2, got {steps!r}")
        T = int(T)
        peak = float(peak)
        if not math.isfinite(peak) or peak <= 0:
            raise ConfigError(f"planner: peak LR must be positive, got {peak!r}")
        if peak_bounds is not None:
            lo, hi = (float(v) for v in peak_bounds)
            if not (0 < lo <= hi and math.isfinite(hi)):
                raise ConfigError(f"planner: peak bounds must satisfy 0 < low <= high, got {lo:g}..{hi:g}")
            peak = min(max(peak, lo), hi)
            peak_bounds = (lo, hi)
        try:
            w = resolve_length(warmup, T, "warmup")
            rel = isinstance(floor, str) and floor.strip().lower().endswith("x")
            fl = float(floor.strip()[:-1]) if rel else resolve_lr(floor, peak)
            if rel and (not math.isfinite(fl) or fl < 0):
                raise ConfigError(f"planner: floor={floor!r} must be a non-negative multiple of the peak")
            mc = None if max_cooldown is None else resolve_length(max_cooldown, T, "max_cooldown", allow_zero=False)
        except SpecError as e:
            raise ConfigError(f"planner: {e}") from None
        if w >= T:
            raise ConfigError(f"planner: warmup ({w} steps) is not shorter than the run ({T} steps)")
        floor_abs = fl * peak if rel else fl
        top = peak_bounds[0] if (peak_bounds and not rel) else peak
        if (rel and fl > 1) or (not rel and floor_abs > top):
            raise ConfigError(f"planner: floor {floor_abs:g} is above the peak LR {top:g}")
        if mc is not None and mc > T - w:
            raise ConfigError(f"planner: max_cooldown ({mc} steps) is longer than the run after warmup ({T - w} steps)")
        if not 0 <= float(warmup_start) <= 1:
            raise ConfigError(f"planner: warmup_start is a fraction of peak in [0, 1], got {warmup_start!r}")
        if warmup_style not in ("linear", "inclusive"):
            raise ConfigError(f"planner: warmup_style={warmup_style!r}; allowed: linear, inclusive")
        cps = [T - 1] if not checkpoints else []
        for c in checkpoints or []:
            try:
                v = float(c)
            except (TypeError, ValueError):
                raise ConfigError(f"planner: checkpoint {c!r} is not a step number") from None
            cs = round(v * T) if 0 < v < 1 else v  # a fraction of the run, or a step
            if cs != round(cs) or not w <= cs < T:
                raise ConfigError(f"planner: checkpoint step {c!r} is outside the trainable part of the run ({w}..{T - 1})")
            cps.append(int(cs))
        if len(set(cps)) != len(cps):
            raise ConfigError(f"planner: duplicate checkpoint steps {sorted(cps)}")
        if weights:
            if len(weights) != len(cps):
                raise ConfigError(f"planner: {len(weights)} weights for {len(cps)} checkpoints")
            ws = [float(x) for x in weights]
            if any(not math.isfinite(x) or x < 0 for x in ws) or sum(ws) <= 0:
                raise ConfigError("planner: checkpoint weights must be non-negative and not all zero")
        else:
            ws = [1.0 / len(cps)] * len(cps)
        return cls(steps=T, peak=peak, peak_bounds=peak_bounds, warmup=w, warmup_start=float(warmup_start),
                   warmup_style=warmup_style, floor=fl, floor_relative=rel, max_cooldown=mc,
                   checkpoints=cps, weights=ws)

    def floor_lr(self, peak: float | None = None) -> float:
        """The absolute floor for a given peak."""
        p = self.peak if peak is None else peak
        return self.floor * p if self.floor_relative else self.floor

    @property
    def decay_start(self) -> int:
        """First step at which the LR may leave the peak."""
        return self.warmup if self.max_cooldown is None else self.steps - self.max_cooldown

    def warmup_lr(self, peak: float) -> np.ndarray:
        """The fixed warmup LRs (absolute) for steps 0..warmup-1."""
        s = np.arange(self.warmup, dtype=np.float64)
        return warmup_ramp(s, self.warmup, peak, self.warmup_start, self.warmup_style)

    def check(self, eta: np.ndarray, rtol: float = 1e-9) -> None:
        """Raise AssertionError if ``eta`` violates the constraints (a check for tests and benchmarks)."""
        eta = np.asarray(eta)
        assert len(eta) == self.steps, "wrong length"
        p = eta[self.warmup:].max()
        tol = rtol * p
        body = eta[self.warmup:]
        assert np.all(np.diff(body) <= tol), "LR increases after warmup"
        assert body.min() >= self.floor_lr(p) - tol, "LR below the floor"
        assert np.all(np.abs(eta[self.warmup:self.decay_start] - p) <= tol), "LR leaves the peak before the cooldown may start"
        if self.peak_bounds:
            assert self.peak_bounds[0] - tol <= p <= self.peak_bounds[1] + tol, "peak out of bounds"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["peak_bounds"] = list(self.peak_bounds) if self.peak_bounds else None
        return d
