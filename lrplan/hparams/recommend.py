"""Recommend peak LR and batch size for a target (N parameters, D tokens) from a law.

    rec = recommend(law, N=1e9, D=2e10, seq_len=2048)
    rec.lr, rec.batch_tokens, rec.batch_seqs, rec.plateau, rec.interval, rec.b_crit, rec.warmup_steps

* the law's optimum (:class:`lrplan.hparams.laws.HparamLaw`, fitted or a published preset);
* bootstrap intervals when the law carries bootstrap samples;
* the plateau: LR and batch ranges whose predicted loss is within ``tol`` (relative) of the optimum,
  from the fitted bowl curvature, and a hardware-friendly batch inside it (a power of two, or a
  multiple of ``multiple_of`` sequences, nearest the optimum in log space) with the LR the bowl
  prefers at that batch (the bowl's LR-batch correlation moves it) and its predicted excess loss;
* B_crit at the target from a critical-batch law B_crit = k D^gamma (tokens) when given
  (:func:`lrplan.hparams.batch.fit_bcrit_law` with ``against="data"``);
* warmup: a heuristic, not a fitted law: about N tokens of warmup (warmup scaled with model size;
  unverified rule of thumb), clipped to 1-10 % of the run; DeepSeek's preset uses its 2,000 steps;
* warnings: extrapolation beyond the fitted (N, D) range by more than 2x, a plan whose schedule family
  differs from the one the law was fitted under.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from lrplan.errors import ConfigError, LrplanWarning
from lrplan.hparams.laws import HparamLaw
from lrplan.hparams.optimum import TOL
from lrplan.hparams.powerlaw import PowerLaw

#: schedule families that decay to a floor (a law fitted under "decay" accepts any of them)
DECAYING = {"cosine", "linear", "wsd", "multistep", "exponential", "inverse_sqrt", "rex", "power", "onecycle",
            "infinite"}


@dataclass
class Recommendation:
    """Units: LR absolute; batch in tokens and sequences; steps are optimizer steps."""

    N: float
    D: float
    seq_len: int
    lr: float
    batch_tokens: float
    batch_seqs: float
    steps: int
    warmup_steps: int
    law: str
    interval: dict | None = None
    plateau: dict | None = None
    hardware: dict | None = None
    b_crit_tokens: float | None = None
    schedule: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items()}


def schedule_family(spec: str | None) -> str | None:
    if not spec:
        return None
    return spec.strip().split(":", 1)[0].split("+", 1)[0].strip().lower() or None


def check_schedule(law: HparamLaw, spec: str | None) -> str | None:
    """A warning text when the plan's schedule family differs from the law's, else None."""
    fam, want = schedule_family(spec), schedule_family(law.schedule)
    if fam is None or want is None:
        return None
    if want == "decay" and fam in DECAYING:
        return None
    if fam != want:
        return (f"the law was fitted under schedule {law.schedule!r} but the plan uses {fam!r}; optimal LR and "
                "batch depend on the schedule (refit on runs with your schedule)")
    return None


def _hardware_batch(law: HparamLaw, N, D, lr, b, seq_len, tol, multiple_of, plateau, shape) -> dict:
    seqs = b / seq_len
    if multiple_of:
        cands = multiple_of * np.arange(1, max(2, int(4 * seqs / multiple_of) + 2))
    else:
        cands = 2.0 ** np.arange(0, max(1, int(math.log2(max(seqs, 1)) + 3)))
    lo, hi = (plateau["batch"] if plateau and "batch" in plateau else (b, b))
    inside = [c for c in cands if lo / seq_len <= c <= hi / seq_len]
    pool = inside or list(cands)
    pick = float(min(pool, key=lambda c: abs(math.log(c / seqs))))
    out = {"batch_seqs": pick, "batch_tokens": pick * seq_len,
           "inside_plateau": bool(inside) if plateau and "batch" in plateau else None}
    h = law.hessian_
    if h is not None and np.all(np.isfinite(h)):
        lr_at = law.lr_at_batch(N, D, pick * seq_len, **shape)
        out["lr"] = float(lr_at)
        out["predicted_excess"] = law.excess(N, D, lr_at, pick * seq_len)
    else:
        out["lr"] = float(lr)
    return out


def recommend(law: HparamLaw, N: float, D: float, seq_len: int = 2048, tol: float = TOL, level: float = 0.9,
              schedule: str | None = None, multiple_of: int | None = None, bcrit_law: PowerLaw | None = None,
              batch_seqs: float | None = None, **shape) -> Recommendation:
    """Recommendation for N parameters (the law's kind, e.g. non-embedding) and D tokens (module doc).

    ``batch_seqs`` (sequences) is required when the law has no batch part (fitted on grids with fewer
    than 3 batch sizes per cell): the LR then comes from the LR law and the batch is yours."""
    if not (N > 0 and D > 0):
        raise ConfigError(f"--params and --tokens must be positive (got N={N}, D={D})")
    if seq_len <= 0:
        raise ConfigError(f"--seq-len must be positive, got {seq_len}")
    shape.setdefault("seq_len", seq_len)
    notes: list[str] = []
    lr, b = (float(v) for v in law.predict(N, D, **shape))
    if not np.isfinite(b):
        if not batch_seqs or batch_seqs <= 0:
            raise ConfigError("the law has no batch-size part (it was fitted on grids with fewer than 3 batch sizes "
                              "per cell); give your batch (--batch-seqs)")
        b = float(batch_seqs) * seq_len
        notes.append("batch given by the user: the law has no batch-size part")
    steps = max(1, int(round(D / b)))
    if law.name and "DeepSeek" in law.name:
        warm = 2000
    else:
        warm = int(round(N / b))
    warm = int(min(max(warm, round(0.01 * steps)), round(0.1 * steps)))
    iv = law.interval(N, D, level, **shape)
    plateau = law.plateau(N, D, tol, **shape)
    rng = getattr(law, "range_", None)
    if rng:
        for key, val, name in (("N", N, "parameters"), ("D", D, "tokens")):
            lo, hi = rng[key]
            if val > 2 * hi or val < lo / 2:
                notes.append(f"extrapolating: {name} {val:.3g} is outside the fitted range {lo:.3g}-{hi:.3g} "
                             "by more than 2x")
    msg = check_schedule(law, schedule)
    if msg:
        notes.append(msg)
    for n in notes:
        warnings.warn(LrplanWarning(n), stacklevel=2)
    if law.schedule_note:
        notes.append(f"law recipe: {law.schedule_note}")
    return Recommendation(
        N=float(N), D=float(D), seq_len=int(seq_len), lr=lr, batch_tokens=b, batch_seqs=b / seq_len, steps=steps,
        warmup_steps=warm, law=law.name or repr(law),
        interval=None if iv is None else {"level": iv.level, "lr": list(iv.lr),
                                          "batch_tokens": None if iv.batch is None else list(iv.batch)},
        plateau=None if plateau is None else {k: (list(v) if isinstance(v, tuple) else v) for k, v in plateau.items()},
        hardware=_hardware_batch(law, N, D, lr, b, seq_len, tol, multiple_of, plateau, shape),
        b_crit_tokens=None if bcrit_law is None else float(bcrit_law(D=D)),
        schedule=law.schedule, notes=notes,
    )
