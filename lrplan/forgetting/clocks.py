"""Clocks for forgetting: how much "time" has passed since an event (a data switch or a fact exposure).

Three clocks (forgetting-laws reference, section 1), all measured from an event at step ``t0``
(0-based optimizer step; the event's own update is the first one counted):

* ``steps``:   tau = t - t0                                        (optimizer steps)
* ``tokens``:  tau = tokens[t] - tokens[t0]                        (tokens)
* ``lr_area``: tau = S1(t0 -> t) = sum_{s=t0+1..t} eta_s          (absolute LR x steps; the CPT law's
  S1_cpt, Wang et al. 2025, arXiv:2505.07796)
* ``wd``:      tau = -sum_{s=t0+1..t} ln(1 - eta_s * lambda_wd)    (AdamW's cumulative decay of the
  weights written at t0, Bordt et al. 2025; ~ lambda_wd * S1 for small eta)

The LR area clock removes the trivial dependence of forgetting speed on the LR level (Chang et al.
2024: late checkpoints forget more slowly only because their LR is lower). Whether it removes it
fully is what ``benchmarks/cpt_clock.py`` measures.
"""

from __future__ import annotations

import numpy as np

from lrplan.errors import ConfigError

CLOCKS = ("steps", "tokens", "lr_area", "wd")


def lr_area_since(lr: np.ndarray, t0: int) -> np.ndarray:
    """S1(t0 -> t) for every step t of the per-step LR array ``lr`` (0 for t <= t0)."""
    lr = np.asarray(lr, dtype=np.float64)
    csum = np.cumsum(lr)
    out = csum - csum[t0]
    out[: t0 + 1] = 0.0
    return out


def elapsed(steps, t0: int, clock: str = "steps", lr=None, tokens=None, weight_decay: float | None = None) -> np.ndarray:
    """Clock value at each step of ``steps`` since the event at step ``t0``.

    Args:
        steps: query steps (ints >= t0).
        t0: event step (the switch step or the exposure step).
        clock: one of :data:`CLOCKS`.
        lr: per-step absolute LR covering steps 0..max(steps) (``lr_area`` and ``wd`` clocks).
        tokens: tokens seen at each step, same length as ``steps`` plus the value at t0 looked up
            from the same array: pass the per-step token count array covering 0..max(steps).
        weight_decay: AdamW weight decay (``wd`` clock).
    """
    steps = np.asarray(steps, dtype=np.int64)
    if clock not in CLOCKS:
        raise ConfigError(f"clock: unknown clock {clock!r}; choose one of {', '.join(CLOCKS)}")
    if steps.size and steps.min() < t0:
        raise ConfigError(f"clock: query step {int(steps.min())} is before the event step {t0}")
    if clock == "steps":
        return (steps - t0).astype(np.float64)
    arr = lr if clock in ("lr_area", "wd") else tokens
    if arr is None:
        need = "a per-step LR array (lr=)" if clock != "tokens" else "a per-step token count (tokens=)"
        raise ConfigError(f"clock {clock!r} needs {need}")
    arr = np.asarray(arr, dtype=np.float64)
    if steps.size and steps.max() >= arr.size:
        raise ConfigError(f"clock {clock!r}: the per-step array has {arr.size} steps, query step {int(steps.max())} is past it")
    if not np.all(np.isfinite(arr[t0: (steps.max() + 1 if steps.size else t0 + 1)])):
        raise ConfigError(f"clock {clock!r}: the per-step array has NaN/inf values after step {t0}")
    if clock == "tokens":
        return arr[steps] - arr[t0]
    if clock == "lr_area":
        return lr_area_since(arr, t0)[steps]
    if weight_decay is None or weight_decay <= 0:
        raise ConfigError("clock 'wd' needs weight_decay > 0")
    prod = arr * weight_decay
    if np.any(prod >= 1):
        raise ConfigError("clock 'wd': lr * weight_decay must stay below 1")
    return lr_area_since(-np.log1p(-prod), t0)[steps]
