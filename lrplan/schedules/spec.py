"""Compact schedule spec strings.

Grammar::

    spec   := piece ( "+" piece )*            # pieces are joined end to end (re-warm phases)
    piece  := family [ ":" key "=" value ( "," key "=" value )* ]
            | "file:" PATH                    # custom schedule from a step,lr CSV

Values are numbers (``3e-4``, ``2160``), fractions of the run for lengths (``0.2``, ``20%``),
LRs relative to the peak (``0.1x``), names (``shape=1-sqrt``) or lists separated by ``/``
(``milestones=0.8/0.9``). Every piece needs ``steps=`` except the last of a join, which takes
what is left of the total given to :func:`parse`.

Examples::

    constant:peak=3e-4,warmup=2160
    cosine:peak=6e-4,warmup=715,floor=0.1x
    wsd:peak=3e-4,warmup=2160,cooldown=0.2,shape=1-sqrt,floor=3e-5
    step:peak=4.2e-4,warmup=2000,milestones=0.8/0.9,factor=0.316
    cosine:peak=3e-4,steps=20000,warmup=500 + cosine:peak=1e-4,warmup=200     # re-warm
"""

from __future__ import annotations

import difflib
import inspect
import re

import numpy as np

from lrplan.errors import SpecError
from lrplan.schedules.core import Schedule, from_csv, join
from lrplan.schedules.families import FAMILIES, FAMILY_ALIASES

_SPLIT = re.compile(r"\+(?=\s*[A-Za-z])")
_LIST_KEYS = {"milestones"}
_TEXT_KEYS = {"shape", "decay_shape", "anneal_shape", "warmup_style", "anneal", "floor", "const"}


def family_keys(family: str) -> list[str]:
    """The keys a family accepts in a spec."""
    return list(inspect.signature(FAMILIES[family]).parameters)


def _value(family: str, key: str, raw: str, spec: str):
    raw = raw.strip()
    if raw == "":
        raise SpecError(f"schedule spec {spec!r}: key '{key}' of {family} has no value")
    if key in _LIST_KEYS:
        return [_number(family, key, part, spec) for part in raw.split("/")]
    if key in _TEXT_KEYS:
        if key in ("floor", "const"):
            if raw.lower().endswith("x"):
                return raw
            return _number(family, key, raw, spec)
        return raw
    if key == "three_phase":
        if raw.lower() in ("1", "true", "yes"):
            return True
        if raw.lower() in ("0", "false", "no"):
            return False
        raise SpecError(f"schedule spec {spec!r}: three_phase must be 0 or 1, got {raw!r}")
    return _number(family, key, raw, spec)


def _number(family: str, key: str, raw: str, spec: str) -> float:
    t = raw.strip()
    try:
        if t.endswith("%"):
            return float(t[:-1]) / 100.0
        return float(t)
    except ValueError:
        raise SpecError(f"schedule spec {spec!r}: {family} key '{key}' expects a number, got {raw!r}") from None


def _resolve_family(name: str, spec: str) -> str:
    fam = name.strip().lower()
    fam = FAMILY_ALIASES.get(fam, fam)
    if fam not in FAMILIES:
        close = difflib.get_close_matches(fam, list(FAMILIES) + list(FAMILY_ALIASES), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise SpecError(f"schedule spec {spec!r}: unknown family '{name.strip()}'{hint}; allowed: "
                        f"{', '.join(FAMILIES)}, file:PATH")
    return fam


def parse_piece(piece: str, steps: int | None = None, spec: str | None = None) -> Schedule:
    """Parse one piece (no ``+``) into a Schedule. ``steps`` is used when the piece has none."""
    spec = spec if spec is not None else piece
    piece = piece.strip()
    if not piece:
        raise SpecError(f"schedule spec {spec!r}: empty schedule")
    name, _, body = piece.partition(":")
    if name.strip().lower() in ("file", "csv"):
        path = body.strip()
        if not path:
            raise SpecError(f"schedule spec {spec!r}: file: needs a path to a step,lr CSV")
        sched = from_csv(path)
        if steps is not None and sched.steps != steps:
            raise SpecError(f"schedule spec {spec!r}: the LR file has {sched.steps} steps but {steps} were asked for")
        return sched
    fam = _resolve_family(name, spec)
    allowed = family_keys(fam)
    kwargs: dict = {}
    if body.strip():
        for item in body.split(","):
            if not item.strip():
                raise SpecError(f"schedule spec {spec!r}: empty item (two commas in a row?)")
            key, eq, raw = item.partition("=")
            key = key.strip().lower().replace("-", "_")
            if not eq:
                raise SpecError(f"schedule spec {spec!r}: '{item.strip()}' is not key=value")
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise SpecError(f"schedule spec {spec!r}: unknown key '{key}' for {fam}{hint}; allowed: {', '.join(allowed)}")
            if key in kwargs:
                raise SpecError(f"schedule spec {spec!r}: key '{key}' given twice")
            kwargs[key] = _value(fam, key, raw, spec)
    if "steps" in kwargs:
        if steps is not None and int(kwargs["steps"]) != steps:
            raise SpecError(f"schedule spec {spec!r}: steps={int(kwargs['steps'])} in the spec but {steps} requested")
    elif steps is not None:
        kwargs["steps"] = steps
    try:
        return FAMILIES[fam](**kwargs)
    except SpecError as e:
        msg = str(e)
        raise SpecError(msg if spec in msg else f"schedule spec {spec!r}: {msg}") from None


def parse(spec: str | Schedule, steps: int | None = None) -> Schedule:
    """Parse a spec string (see module docstring) into a :class:`Schedule` of ``steps`` steps.

    A Schedule passes through (its length is checked against ``steps`` when given).
    """
    if isinstance(spec, Schedule):
        if steps is not None and spec.steps != steps:
            raise SpecError(f"schedule {spec.spec!r} has {spec.steps} steps, not {steps}")
        return spec
    if not isinstance(spec, str):
        raise SpecError(f"a schedule spec must be a string, got {type(spec).__name__}")
    if steps is not None:
        if int(steps) != steps or steps < 1:
            raise SpecError(f"steps must be a positive whole number, got {steps!r}")
        steps = int(steps)
    text = spec.strip()
    if not text:
        raise SpecError("schedule spec is empty; e.g. 'cosine:peak=3e-4,warmup=100'")
    if text.lower().startswith(("file:", "csv:")):
        return parse_piece(text, steps, spec)
    pieces = [p for p in _SPLIT.split(text)]
    if len(pieces) == 1:
        return parse_piece(pieces[0], steps, spec)
    parts: list[Schedule] = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        if last and steps is not None:
            remaining = steps - sum(p.steps for p in parts)
            if remaining < 1:
                raise SpecError(f"schedule spec {spec!r}: the pieces before the last already use {steps - remaining} of {steps} steps")
            has_steps = re.search(r"(^|[:,])\s*steps\s*=", piece) is not None
            parts.append(parse_piece(piece, None if has_steps else remaining, spec))
            if parts[-1].steps != remaining:
                raise SpecError(f"schedule spec {spec!r}: pieces add up to {sum(p.steps for p in parts)} steps, not {steps}")
        else:
            if re.search(r"(^|[:,])\s*steps\s*=", piece) is None and not piece.strip().lower().startswith("file:"):
                raise SpecError(f"schedule spec {spec!r}: piece {i + 1} ('{piece.strip()}') needs steps= "
                                "(only the last piece of a join may take the remaining steps)")
            parts.append(parse_piece(piece, None, spec))
    return join(parts, spec=" + ".join(p.spec for p in parts))


_ABS_LR_KEY = re.compile(r"(?<=[:,])(peak|floor|const)=([^,+\s]+)")


def canonical_spec(spec: str, steps: int | None = None, peak: float | None = None) -> str:
    """The canonical spec (explicit ``steps``, absolute LRs) of ``spec`` over ``steps`` steps,
    rescaled so that its maximum LR is ``peak`` when given (every absolute LR is scaled).

    Returns ``"custom"`` when a rescaled schedule cannot be written as a spec (e.g. the Power
    scheduler, whose LR is not proportional to its peak).
    """
    sched = parse(spec, steps)
    if peak is None or peak == sched.peak:
        return sched.spec
    factor = float(peak) / sched.peak
    scaled = _ABS_LR_KEY.sub(lambda m: f"{m.group(1)}={float(m.group(2)) * factor!r}", sched.spec)
    try:
        ok = np.allclose(parse(scaled).array(), sched.array() * factor, rtol=1e-12, atol=0)
    except SpecError:
        ok = False
    return scaled if ok else "custom"


def lr_array(spec: str | Schedule, steps: int | None = None):
    """Shortcut: the exact per-step LR (float64) of a spec for steps 0..T-1."""
    return parse(spec, steps).array()
