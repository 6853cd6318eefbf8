"""Schedule families. Each is a plain function returning a :class:`Schedule`.

Conventions shared by every family:

* ``peak``: the absolute peak LR (1.0 gives a peak-normalised schedule).
* ``steps``: total length T in optimizer steps, warmup included.
* ``warmup``: warmup length, in steps (int >= 1) or as a fraction of T (0 < x < 1);
  ``warmup_start``: LR at step 0 as a fraction of peak (0 = from zero, 0.01 = from peak/100);
  ``warmup_style``: ``linear`` (peak reached at step ``warmup``, the HF/PyTorch convention) or
  ``inclusive`` (peak reached at step ``warmup-1``, the multi-power-law data convention).
* Lengths such as ``cooldown`` are likewise steps (>= 1) or fractions of T (< 1).
* ``floor`` is an absolute LR, or a string like ``"0.1x"`` meaning 0.1 x peak.
* Decay progress after warmup is ``p = (s - start) / (end - start)`` in [0, 1): the floor is
  reached at step T, one past the last step (as in PyTorch, HF and the multi-power-law code).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from lrplan.errors import SpecError
from lrplan.schedules.core import Schedule, with_warmup

COOLDOWN_SHAPES = ("linear", "cosine", "exp", "1-sqrt", "square", "mirror-cosine")
SHAPE_ALIASES = {"geometric": "exp", "exponential": "exp", "sqrt": "1-sqrt", "lin": "linear", "cos": "cosine"}


# ----------------------------------------------------------------------------- helpers


def fmt(x) -> str:
    """Shortest round-trip text for a spec value."""
    if isinstance(x, str):
        return x
    if isinstance(x, (bool, np.bool_)):
        return str(int(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x)) if abs(x) >= 1 or x == 0 else repr(x)
    return repr(x)


def resolve_length(value, total: int, name: str, allow_zero: bool = True) -> int:
    """Steps from a length given in steps (>= 1, whole) or as a fraction of ``total`` (< 1)."""
    if value is None:
        return 0
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise SpecError(f"{name} must be a non-negative number of steps or a fraction of the run, got {value!r}")
    if v == 0:
        if not allow_zero:
            raise SpecError(f"{name} must be positive")
        return 0
    if v < 1:
        return int(round(v * total))
    if v != round(v):
        raise SpecError(f"{name}={value!r}: give whole steps (>= 1) or a fraction of the run (< 1)")
    return int(v)


def resolve_lr(value, peak: float, name: str = "floor") -> float:
    """Absolute LR from a number or ``"<k>x"`` (k times the peak)."""
    if value is None:
        return 0.0
    if isinstance(value, str):
        t = value.strip().lower()
        try:
            v = float(t[:-1]) * peak if t.endswith("x") else float(t)
        except ValueError:
            raise SpecError(f"{name}={value!r} is not a number (use e.g. 3e-5 or 0.1x for 0.1 x peak)") from None
    else:
        v = float(value)
    if not math.isfinite(v) or v < 0:
        raise SpecError(f"{name} must be a non-negative LR, got {value!r}")
    return v


def check_shape(shape: str, name: str = "shape") -> str:
    s = SHAPE_ALIASES.get(str(shape).lower(), str(shape).lower())
    if s not in COOLDOWN_SHAPES:
        raise SpecError(f"{name}={shape!r} is not a cooldown shape; allowed: {', '.join(COOLDOWN_SHAPES)}")
    return s


def decay_curve(p: np.ndarray, hi: float, lo: float, shape: str) -> np.ndarray:
    """LR at decay progress ``p`` in [0, 1] going from ``hi`` (p=0) to ``lo`` (p=1).

    Shapes (Hagele et al. 2024, arXiv:2405.18392): linear, cosine, exp (geometric,
    hi^(1-p) * lo^p; needs lo > 0), 1-sqrt, square (1 - p^2), mirror-cosine (2*linear - cosine).
    """
    p = np.asarray(p, dtype=np.float64)
    if shape == "linear":
        return hi * (1.0 - p) + lo * p
    if shape == "cosine":
        return lo + 0.5 * (hi - lo) * (1.0 + np.cos(np.pi * p))
    if shape == "exp":
        if lo <= 0:
            raise SpecError("an exponential (geometric) decay needs floor > 0")
        return hi ** (1.0 - p) * lo**p
    if shape == "1-sqrt":
        return lo + (hi - lo) * (1.0 - np.sqrt(p))
    if shape == "square":
        return lo + (hi - lo) * (1.0 - p**2)
    if shape == "mirror-cosine":
        return lo + (hi - lo) * (2.0 * (1.0 - p) - 0.5 * (1.0 + np.cos(np.pi * p)))
    raise SpecError(f"unknown cooldown shape {shape!r}; allowed: {', '.join(COOLDOWN_SHAPES)}")


def _common(name, peak, steps, warmup, warmup_start, warmup_style):
    if steps is None:
        raise SpecError(f"{name}: the number of steps is missing (give steps=T in the spec or --steps)")
    steps = resolve_length(steps, 0, "steps", allow_zero=False) if float(steps) >= 1 else None
    if steps is None:
        raise SpecError(f"{name}: steps must be a whole number >= 1")
    peak = float(peak)
    if not math.isfinite(peak) or peak <= 0:
        raise SpecError(f"{name}: peak must be a positive LR, got {peak!r}")
    w = resolve_length(warmup, steps, "warmup")
    if w >= steps:
        raise SpecError(f"{name}: warmup ({w} steps) must be shorter than the run ({steps} steps)")
    ws = float(warmup_start)
    if not 0 <= ws <= 1:
        raise SpecError(f"{name}: warmup_start is a fraction of peak in [0, 1], got {warmup_start!r}")
    style = str(warmup_style).lower()
    if style not in ("linear", "inclusive"):
        raise SpecError(f"{name}: warmup_style={warmup_style!r}; allowed: linear, inclusive")
    return peak, steps, w, ws, style


def _spec(family: str, **kv) -> str:
    items = [f"{k}={fmt(v)}" for k, v in kv.items() if v is not None]
    return family + (":" + ",".join(items) if items else "")


def _make(family, body, peak, steps, w, ws, style, spec_kv, params) -> Schedule:
    fn = with_warmup(body, w, peak, ws, style)
    warm_kv = {}
    if w:
        warm_kv["warmup"] = w
        if ws:
            warm_kv["warmup_start"] = ws
        if style != "linear":
            warm_kv["warmup_style"] = style
    spec = _spec(family, peak=peak, steps=steps, **spec_kv, **warm_kv)
    params = {"family": family, "peak": peak, "steps": steps, "warmup": w, "warmup_start": ws,
              "warmup_style": style, **params}
    return Schedule(fn=fn, steps=steps, peak=peak, spec=spec, params=params)


def _progress(s: np.ndarray, start: int, end: int) -> np.ndarray:
    return (np.asarray(s, dtype=np.float64) - start) / max(end - start, 1)


# ----------------------------------------------------------------------------- families


def constant(peak: float = 1.0, steps: int | None = None, warmup=0, warmup_start: float = 0.0,
             warmup_style: str = "linear") -> Schedule:
    """Constant LR ``peak`` after warmup."""
    peak, steps, w, ws, style = _common("constant", peak, steps, warmup, warmup_start, warmup_style)
    return _make("constant", lambda s: np.full(np.shape(s), peak), peak, steps, w, ws, style, {}, {})


def linear(peak: float = 1.0, steps: int | None = None, floor=0.0, warmup=0, warmup_start: float = 0.0,
           warmup_style: str = "linear") -> Schedule:
    """Linear decay from ``peak`` (at the end of warmup) towards ``floor`` (reached at step T)."""
    peak, steps, w, ws, style = _common("linear", peak, steps, warmup, warmup_start, warmup_style)
    lo = resolve_lr(floor, peak)
    _check_floor("linear", lo, peak)
    body = lambda s: decay_curve(_progress(s, w, steps), peak, lo, "linear")  # noqa: E731
    return _make("linear", body, peak, steps, w, ws, style, {"floor": lo or None}, {"floor": lo})


def cosine(peak: float = 1.0, steps: int | None = None, floor=0.0, warmup=0, warmup_start: float = 0.0,
           warmup_style: str = "linear") -> Schedule:
    """Half-cosine decay from ``peak`` to ``floor``: floor + (peak-floor)/2 * (1 + cos(pi p))."""
    peak, steps, w, ws, style = _common("cosine", peak, steps, warmup, warmup_start, warmup_style)
    lo = resolve_lr(floor, peak)
    _check_floor("cosine", lo, peak)
    body = lambda s: decay_curve(_progress(s, w, steps), peak, lo, "cosine")  # noqa: E731
    return _make("cosine", body, peak, steps, w, ws, style, {"floor": lo or None}, {"floor": lo})


def wsd(peak: float = 1.0, steps: int | None = None, cooldown=0.2, shape: str = "linear", floor=0.0,
        warmup=0, warmup_start: float = 0.0, warmup_style: str = "linear") -> Schedule:
    """Warmup-stable-decay: constant ``peak`` then a cooldown of ``cooldown`` steps (or fraction of T)
    to ``floor`` with the given shape (linear, cosine, exp, 1-sqrt, square, mirror-cosine)."""
    peak, steps, w, ws, style = _common("wsd", peak, steps, warmup, warmup_start, warmup_style)
    lo = resolve_lr(floor, peak)
    _check_floor("wsd", lo, peak)
    shp = check_shape(shape)
    c = resolve_length(cooldown, steps, "cooldown")
    if c > steps - w:
        raise SpecError(f"wsd: cooldown ({c} steps) is longer than the run after warmup ({steps - w} steps)")
    if shp == "exp" and lo <= 0:
        raise SpecError("wsd: shape=exp (geometric) needs floor > 0")
    d = steps - c

    def body(s):
        s = np.asarray(s)
        return np.where(s < d, peak, decay_curve(np.clip(_progress(s, d, steps), 0, None), peak, lo, shp))

    return _make("wsd", body, peak, steps, w, ws, style,
                 {"cooldown": c, "shape": shp, "floor": lo or None},
                 {"cooldown": c, "decay_start": d, "shape": shp, "floor": lo})


def multistep(peak: float = 1.0, steps: int | None = None, milestones: Sequence = (0.8, 0.9), factor: float = 0.316,
              every=None, warmup=0, warmup_start: float = 0.0, warmup_style: str = "linear") -> Schedule:
    """Step decay: the LR is multiplied by ``factor`` at each milestone (steps, or fractions of T),
    or every ``every`` steps. Default: DeepSeek's 80/10/10 ("8-1-1") schedule, 1 -> 0.316 -> 0.1."""
    peak, steps, w, ws, style = _common("step", peak, steps, warmup, warmup_start, warmup_style)
    g = float(factor)
    if not 0 < g <= 1:
        raise SpecError(f"step: factor must be in (0, 1], got {factor!r}")
    if every is not None:
        e = resolve_length(every, steps, "every", allow_zero=False)
        ms = np.arange(w + e, steps, e, dtype=np.int64)
    else:
        if isinstance(milestones, (int, float, str)):
            milestones = [milestones]
        ms = np.array(sorted(resolve_length(m, steps, "milestones", allow_zero=False) for m in milestones), dtype=np.int64)
        if len(ms) and (ms[0] <= w or ms[-1] >= steps):
            raise SpecError(f"step: milestones {ms.tolist()} must lie after warmup ({w}) and before the end ({steps})")

    def body(s):
        k = np.searchsorted(ms, np.asarray(s), side="right")
        return peak * g ** k.astype(np.float64)

    kv = {"every": resolve_length(every, steps, "every")} if every is not None else {"milestones": "/".join(fmt(int(m)) for m in ms)}
    return _make("step", body, peak, steps, w, ws, style, {**kv, "factor": g},
                 {"milestones": ms.tolist(), "factor": g})


def exponential(peak: float = 1.0, steps: int | None = None, rate=None, floor=None, warmup=0,
                warmup_start: float = 0.0, warmup_style: str = "linear") -> Schedule:
    """Exponential decay: peak * rate^(s - warmup) (per-step multiplier ``rate``), or geometric
    decay reaching ``floor`` at step T when ``floor`` is given instead. Never below ``floor``."""
    peak, steps, w, ws, style = _common("exp", peak, steps, warmup, warmup_start, warmup_style)
    if rate is None and floor is None:
        raise SpecError("exp: give rate (per-step multiplier) or floor (LR reached at the end)")
    lo = resolve_lr(floor, peak) if floor is not None else 0.0
    _check_floor("exp", lo, peak)
    if rate is not None:
        r = float(rate)
        if not 0 < r <= 1:
            raise SpecError(f"exp: rate is a per-step multiplier in (0, 1], got {rate!r}")
        body = lambda s: np.maximum(peak * r ** (np.asarray(s, dtype=np.float64) - w), lo)  # noqa: E731
        kv = {"rate": r, "floor": lo or None}
    else:
        if lo <= 0:
            raise SpecError("exp: floor must be > 0 for a geometric decay")
        body = lambda s: decay_curve(_progress(s, w, steps), peak, lo, "exp")  # noqa: E731
        kv = {"floor": lo}
    return _make("exp", body, peak, steps, w, ws, style, kv, {"rate": rate, "floor": lo})


def inverse_sqrt(peak: float = 1.0, steps: int | None = None, timescale=None, cooldown=0, shape: str = "linear",
                 floor=0.0, warmup=0, warmup_start: float = 0.0, warmup_style: str = "linear") -> Schedule:
    """Inverse square root: peak / sqrt(1 + (s - warmup) / timescale) (timescale defaults to the
    warmup, giving fairseq's peak * sqrt(warmup / s)), with an optional final cooldown of
    ``cooldown`` steps/fraction from the LR reached there down to ``floor`` (Zhai et al. 2022)."""
    peak, steps, w, ws, style = _common("rsqrt", peak, steps, warmup, warmup_start, warmup_style)
    ts = resolve_length(timescale, steps, "timescale") if timescale is not None else max(w, 1)
    if ts <= 0:
        raise SpecError("rsqrt: timescale must be positive")
    lo = resolve_lr(floor, peak)
    shp = check_shape(shape)
    c = resolve_length(cooldown, steps, "cooldown")
    if c > steps - w:
        raise SpecError(f"rsqrt: cooldown ({c} steps) is longer than the run after warmup ({steps - w} steps)")
    d = steps - c
    rs = lambda s: peak / np.sqrt(1.0 + (np.asarray(s, dtype=np.float64) - w) / ts)  # noqa: E731
    hi_at_d = float(rs(np.array([d]))[0])
    if c and lo > hi_at_d:
        raise SpecError(f"rsqrt: floor {lo:g} is above the LR where the cooldown starts ({hi_at_d:g})")

    def body(s):
        s = np.asarray(s)
        if not c:
            return rs(s)
        return np.where(s < d, rs(s), decay_curve(np.clip(_progress(s, d, steps), 0, None), hi_at_d, lo, shp))

    kv = {"timescale": ts}
    if c:
        kv.update(cooldown=c, shape=shp, floor=lo or None)
    return _make("rsqrt", body, peak, steps, w, ws, style, kv, {"timescale": ts, "cooldown": c, "shape": shp, "floor": lo})


def rex(peak: float = 1.0, steps: int | None = None, floor=0.0, warmup=0, warmup_start: float = 0.0,
        warmup_style: str = "linear") -> Schedule:
    """REX (Chen et al. 2022, arXiv:2107.04197): floor + (peak - floor) * (1 - p) / (1 - p/2)."""
    peak, steps, w, ws, style = _common("rex", peak, steps, warmup, warmup_start, warmup_style)
    lo = resolve_lr(floor, peak)
    _check_floor("rex", lo, peak)

    def body(s):
        p = _progress(s, w, steps)
        return lo + (peak - lo) * (1.0 - p) / (1.0 - 0.5 * p)

    return _make("rex", body, peak, steps, w, ws, style, {"floor": lo or None}, {"floor": lo})


def power(peak: float = 0.02, steps: int | None = None, a: float = 4.0, b: float = 0.51, batch: float = 1.0,
          tokens_per_step: float = 1.0, cooldown=0.1, shape: str = "exp", floor="0.001x", warmup=0,
          warmup_start: float = 0.0, warmup_style: str = "linear") -> Schedule:
    """Power scheduler (Shen et al. 2024, "Power Scheduler", arXiv:2408.13359):
    lr(n) = min(peak, batch * a * n^(-b)) with n the tokens seen after the step
    (n = (s + 1) * tokens_per_step), followed by a final cooldown (default: exponential over the
    last 10 % of steps) to ``floor``. ``batch`` is the paper's batch-size multiplier beta.
    """
    peak, steps, w, ws, style = _common("power", peak, steps, warmup, warmup_start, warmup_style)
    a, b, beta, tps = float(a), float(b), float(batch), float(tokens_per_step)
    if a <= 0 or b <= 0 or beta <= 0 or tps <= 0:
        raise SpecError("power: a, b, batch and tokens_per_step must be positive")
    shp = check_shape(shape)
    c = resolve_length(cooldown, steps, "cooldown")
    if c > steps - w:
        raise SpecError(f"power: cooldown ({c} steps) is longer than the run after warmup ({steps - w} steps)")
    lo = resolve_lr(floor, peak)
    d = steps - c
    pw = lambda s: np.minimum(peak, beta * a * ((np.asarray(s, dtype=np.float64) + 1.0) * tps) ** (-b))  # noqa: E731
    hi_at_d = float(pw(np.array([d]))[0])
    if c and shp == "exp" and lo <= 0:
        raise SpecError("power: an exponential cooldown needs floor > 0")

    def body(s):
        s = np.asarray(s)
        if not c:
            return pw(s)
        return np.where(s < d, pw(s), decay_curve(np.clip(_progress(s, d, steps), 0, None), hi_at_d, min(lo, hi_at_d), shp))

    return _make("power", body, peak, steps, w, ws, style,
                 {"a": a, "b": b, "batch": beta, "tokens_per_step": tps, "cooldown": c, "shape": shp, "floor": lo},
                 {"a": a, "b": b, "batch": beta, "tokens_per_step": tps, "cooldown": c, "shape": shp, "floor": lo})


def cyclic(peak: float = 1.0, steps: int | None = None, period=None, floor=0.0, shape: str = "triangular",
           cycle_decay: float = 1.0, warmup=0, warmup_start: float = 0.0, warmup_style: str = "linear") -> Schedule:
    """Cyclic LR with cycles of ``period`` steps (or fraction of T) after warmup.

    shape ``triangular``: floor -> peak -> floor within each cycle (Smith 2017);
    ``cosine``: cosine from the cycle's peak to ``floor`` then restart (SGDR, Loshchilov & Hutter 2017);
    ``sawtooth``: linear from the cycle's peak to ``floor`` then restart.
    ``cycle_decay`` multiplies the peak at each new cycle.
    """
    peak, steps, w, ws, style = _common("cyclic", peak, steps, warmup, warmup_start, warmup_style)
    if period is None:
        raise SpecError("cyclic: period (steps per cycle, or fraction of the run) is required")
    per = resolve_length(period, steps, "period", allow_zero=False)
    lo = resolve_lr(floor, peak)
    _check_floor("cyclic", lo, peak)
    shp = str(shape).lower()
    if shp not in ("triangular", "cosine", "sawtooth"):
        raise SpecError(f"cyclic: shape={shape!r}; allowed: triangular, cosine, sawtooth")
    cd = float(cycle_decay)
    if not 0 < cd <= 1:
        raise SpecError(f"cyclic: cycle_decay must be in (0, 1], got {cycle_decay!r}")

    def body(s):
        u = np.asarray(s, dtype=np.int64) - w
        k = u // per
        p = (u - k * per) / per
        hi = lo + (peak - lo) * cd ** k.astype(np.float64)
        if shp == "triangular":
            return lo + (hi - lo) * (1.0 - np.abs(2.0 * p - 1.0))
        if shp == "cosine":
            return lo + 0.5 * (hi - lo) * (1.0 + np.cos(np.pi * p))
        return hi * (1.0 - p) + lo * p

    return _make("cyclic", body, peak, steps, w, ws, style,
                 {"period": per, "floor": lo or None, "shape": shp, "cycle_decay": cd if cd != 1 else None},
                 {"period": per, "floor": lo, "shape": shp, "cycle_decay": cd})


def infinite(peak: float = 1.0, steps: int | None = None, const="0.5x", decay=0.1, anneal=0.1, floor=0.0,
             decay_shape: str = "cosine", anneal_shape: str = "linear", warmup=0, warmup_start: float = 0.0,
             warmup_style: str = "linear") -> Schedule:
    """Infinite schedule (Ibrahim et al. 2024, arXiv:2403.08763): warmup, cool down over ``decay``
    steps from peak to the constant ``const``, hold it, then anneal over the last ``anneal`` steps
    to ``floor``. Lengths in steps or fractions of T; ``const``/``floor`` absolute or ``kx``."""
    peak, steps, w, ws, style = _common("infinite", peak, steps, warmup, warmup_start, warmup_style)
    cst = resolve_lr(const, peak, "const")
    lo = resolve_lr(floor, peak)
    if not lo <= cst <= peak:
        raise SpecError(f"infinite: need floor <= const <= peak, got floor={lo:g}, const={cst:g}, peak={peak:g}")
    dk = resolve_length(decay, steps, "decay")
    an = resolve_length(anneal, steps, "anneal")
    if w + dk + an > steps:
        raise SpecError(f"infinite: warmup + decay + anneal ({w}+{dk}+{an}) exceed the run ({steps} steps)")
    dshp, ashp = check_shape(decay_shape, "decay_shape"), check_shape(anneal_shape, "anneal_shape")
    a0 = steps - an

    def body(s):
        s = np.asarray(s)
        out = np.full(s.shape, cst, dtype=np.float64)
        m = s < w + dk
        if m.any():
            out[m] = decay_curve(_progress(s[m], w, w + dk), peak, cst, dshp)
        m = s >= a0
        if m.any():
            out[m] = decay_curve(_progress(s[m], a0, steps), cst, lo, ashp)
        return out

    return _make("infinite", body, peak, steps, w, ws, style,
                 {"const": cst, "decay": dk, "anneal": an, "floor": lo or None, "decay_shape": dshp, "anneal_shape": ashp},
                 {"const": cst, "decay": dk, "anneal": an, "floor": lo, "decay_shape": dshp, "anneal_shape": ashp})


def onecycle(peak: float = 1.0, steps: int | None = None, pct: float = 0.3, div: float = 25.0,
             final_div: float = 1e4, anneal: str = "cos", three_phase: bool = False) -> Schedule:
    """One-cycle policy exactly as ``torch.optim.lr_scheduler.OneCycleLR`` (Smith & Topin 2018):
    from peak/div up to peak over ``pct`` of the run, then down to peak/(div*final_div)."""
    peak, steps, _, _, _ = _common("onecycle", peak, steps, 0, 0.0, "linear")
    pct, div, final_div = float(pct), float(div), float(final_div)
    if not 0 < pct < 1:
        raise SpecError(f"onecycle: pct must be in (0, 1), got {pct!r}")
    if div <= 0 or final_div <= 0:
        raise SpecError("onecycle: div and final_div must be positive")
    an = str(anneal).lower()
    if an not in ("cos", "linear"):
        raise SpecError(f"onecycle: anneal={anneal!r}; allowed: cos, linear")
    init, final = peak / div, peak / (div * final_div)
    if three_phase:
        phases = [(float(pct * steps) - 1, init, peak), (float(2 * pct * steps) - 2, peak, init), (steps - 1.0, init, final)]
    else:
        phases = [(float(pct * steps) - 1, init, peak), (steps - 1.0, peak, final)]

    def body(s):
        s = np.asarray(s, dtype=np.float64)
        out = np.empty(s.shape, dtype=np.float64)
        start = 0.0
        done = np.zeros(s.shape, dtype=bool)
        for i, (end, a, b) in enumerate(phases):
            m = ~done & ((s <= end) | (i == len(phases) - 1))
            p = (s[m] - start) / (end - start) if end > start else np.ones(m.sum())
            out[m] = (b + (a - b) / 2.0 * (np.cos(np.pi * p) + 1)) if an == "cos" else ((b - a) * p + a)
            done |= m
            start = end
        return out

    spec = _spec("onecycle", peak=peak, steps=steps, pct=pct, div=div, final_div=final_div, anneal=an,
                 three_phase=int(three_phase) if three_phase else None)
    return Schedule(fn=body, steps=steps, peak=peak, spec=spec,
                    params={"family": "onecycle", "peak": peak, "steps": steps, "pct": pct, "div": div,
                            "final_div": final_div, "anneal": an, "three_phase": bool(three_phase), "warmup": 0})


def _check_floor(name: str, lo: float, peak: float) -> None:
    if lo > peak:
        raise SpecError(f"{name}: floor {lo:g} is above peak {peak:g}")


FAMILIES = {
    "constant": constant,
    "linear": linear,
    "cosine": cosine,
    "wsd": wsd,
    "step": multistep,
    "exp": exponential,
    "rsqrt": inverse_sqrt,
    "rex": rex,
    "power": power,
    "cyclic": cyclic,
    "infinite": infinite,
    "onecycle": onecycle,
}

FAMILY_ALIASES = {
    "const": "constant",
    "cos": "cosine",
    "multistep": "step",
    "exponential": "exp",
    "inverse-sqrt": "rsqrt",
    "inverse_sqrt": "rsqrt",
    "invsqrt": "rsqrt",
    "one-cycle": "onecycle",
    "one_cycle": "onecycle",
    "wsd-cooldown": "wsd",
    "trapezoid": "wsd",
    "sgdr": "cyclic",
}
