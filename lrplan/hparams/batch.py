"""Batch size in time: critical batch size, LR-batch coupling, and moving a loss curve to another batch.

Critical batch (McCandlish et al. 2018, "An Empirical Model of Large-Batch Training"; Kaplan et al.
2020): the steps S and examples (tokens) E = S B needed to reach a target loss trade off as

    (S / S_min - 1) (E / E_min - 1) = 1     <=>     S(B) = S_min (1 + B_crit / B),   B_crit = E_min / S_min

so S is linear in 1/B: a least-squares line S = a + b / B over several batch sizes gives S_min = a and
B_crit = b / a (Zhang et al. 2025, arXiv:2410.21676, fit S(B) = a + b/B the same way). Repeating it at
several target losses gives B_crit as a function of loss, B_crit(L) = B* / L^(1/alpha_B) (Kaplan), or
of data, B_crit = k E_min^gamma (Zhang et al.: it scales with data, not model size).

LR-batch coupling when the batch changes from B0 to B1 (:func:`scale_lr`):

* ``sqrt``: LR x sqrt(B1/B0) (Adam, SDE view, Malladi et al. 2022);
* ``linear``: LR x B1/B0 (SGD, Goyal et al. 2017);
* ``surge``: LR_opt(B) = LR_max / (0.5 (sqrt(B_noise/B) + sqrt(B/B_noise))) (Li et al. 2024,
  arXiv:2405.14578): rises like sqrt(B) below B_noise and falls above it; needs ``b_noise``;
* ``none``: keep the LR.

Curve transfer (:func:`transfer_curve`): a step at batch B1 does the work of
k = (1 + B_crit/B0) / (1 + B_crit/B1) steps at B0, so the loss at B1 after s steps is the loss a law
fitted at B0 predicts after k s steps, for the schedule stretched by k and its LR mapped back with the
coupling rule. An approximation: B_crit grows as the loss falls; use B_crit at the loss range of interest.
Batch units are whatever the inputs use (tokens or sequences), consistently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrplan.errors import ConfigError, FitError
from lrplan.hparams.powerlaw import PowerLaw, fit_power_law

RULES = ("sqrt", "linear", "surge", "none")


@dataclass
class CriticalBatch:
    """S(B) = s_min (1 + b_crit / B) steps to the target loss; e_min = s_min b_crit examples."""

    s_min: float
    b_crit: float
    target: float | None = None

    @property
    def e_min(self) -> float:
        return self.s_min * self.b_crit

    def steps(self, batch) -> np.ndarray:
        return self.s_min * (1 + self.b_crit / np.asarray(batch, dtype=float))

    def examples(self, batch) -> np.ndarray:
        return self.steps(batch) * np.asarray(batch, dtype=float)


def fit_critical_batch(batch, steps, target: float | None = None) -> CriticalBatch:
    """Least-squares fit of S = S_min (1 + B_crit / B) to steps-to-target at several batch sizes."""
    batch, steps = np.asarray(batch, dtype=float), np.asarray(steps, dtype=float)
    ok = np.isfinite(batch) & np.isfinite(steps) & (batch > 0) & (steps > 0)
    batch, steps = batch[ok], steps[ok]
    if len(np.unique(batch)) < 2:
        raise FitError(f"critical batch{'' if target is None else f' at loss {target:g}'}: needs runs at 2 or more "
                       f"batch sizes that reach the target (got {len(np.unique(batch))})")
    A = np.column_stack([np.ones_like(batch), 1 / batch])
    a, b = np.linalg.lstsq(A, steps, rcond=None)[0]
    if a <= 0 or b <= 0:
        raise FitError(f"critical batch{'' if target is None else f' at loss {target:g}'}: steps do not follow "
                       f"S_min (1 + B_crit/B) (fit S = {a:.4g} + {b:.4g}/B); larger batches must need fewer but "
                       "not proportionally fewer steps")
    return CriticalBatch(s_min=float(a), b_crit=float(b / a), target=target)


def steps_to_target(curves, target: float, split: str | None = None, seq_len: int | None = None) -> pd.DataFrame:
    """First (linearly interpolated) step at which each run's loss reaches ``target`` (nats).

    Batch per run: the ``batch_size`` column (sequences) or the run metadata; times ``seq_len`` (or
    the run's ``seq_len``) when given, so the result is in tokens. Runs that never reach the target
    get NaN steps."""
    rows = []
    for run in curves.runs:
        c = curves.curve(run, split)
        bs = c["batch_size"].dropna()
        meta = curves.meta[run]
        b = float(bs.iloc[-1]) if len(bs) else (meta.batch_size or np.nan)
        sl = seq_len or meta.seq_len
        if sl:
            b = b * sl
        loss, step = c["loss"].to_numpy(), c["step"].to_numpy(dtype=float)
        hit = np.nonzero(loss <= target)[0]
        if len(hit) == 0:
            s = np.nan
        elif hit[0] == 0:
            s = step[0]
        else:
            i = hit[0]
            f = (loss[i - 1] - target) / (loss[i - 1] - loss[i])
            s = step[i - 1] + f * (step[i] - step[i - 1])
        rows.append({"run": run, "batch": b, "steps": s})
    out = pd.DataFrame(rows)
    if out["batch"].isna().any():
        missing = out["run"][out["batch"].isna()].iloc[0]
        raise FitError(f"run {missing!r}: no batch size (batch_size column or metadata) for the critical batch")
    return out


def critical_batch_table(curves, targets, split: str | None = None, seq_len: int | None = None) -> pd.DataFrame:
    """B_crit, S_min, E_min at each target loss (one row per target that at least 2 batches reach)."""
    rows = []
    for t in targets:
        s = steps_to_target(curves, float(t), split, seq_len)
        try:
            cb = fit_critical_batch(s["batch"], s["steps"], float(t))
        except FitError:
            continue
        rows.append({"loss": float(t), "b_crit": cb.b_crit, "s_min": cb.s_min, "e_min": cb.e_min,
                     "runs": int(s["steps"].notna().sum())})
    if not rows:
        raise FitError("critical batch: no target loss is reached by runs at 2 or more batch sizes")
    return pd.DataFrame(rows)


def fit_bcrit_law(table: pd.DataFrame, against: str = "loss") -> PowerLaw:
    """B_crit as a power law of the target loss (``against="loss"``: B_crit = B* L^-p, variable L) or of
    the data needed at the critical batch (``"data"``: B_crit = k E_min^gamma, variable D)."""
    if against == "loss":
        return fit_power_law(table["b_crit"], {"L": table["loss"]}, ["L"], what="B_crit(L)")
    if against == "data":
        return fit_power_law(table["b_crit"], {"D": table["e_min"]}, ["D"], what="B_crit(D)")
    raise ConfigError(f"B_crit law against {against!r}: choose 'loss' or 'data'")


def scale_lr(lr, batch_from, batch_to, rule: str = "sqrt", b_noise: float | None = None):
    """LR for ``batch_to`` given a good LR at ``batch_from`` under the coupling ``rule`` (module doc)."""
    r = np.asarray(batch_to, dtype=float) / float(batch_from)
    if rule == "sqrt":
        return lr * np.sqrt(r)
    if rule == "linear":
        return lr * r
    if rule == "none":
        return lr * np.ones_like(r)
    if rule == "surge":
        if not b_noise or b_noise <= 0:
            raise ConfigError("coupling rule 'surge' needs b_noise (the batch at which the optimal LR peaks)")

        def shape(b):
            return 1.0 / (0.5 * (np.sqrt(b_noise / b) + np.sqrt(b / b_noise)))

        return lr * shape(np.asarray(batch_to, dtype=float)) / shape(float(batch_from))
    raise ConfigError(f"coupling rule {rule!r} unknown; choose one of {', '.join(RULES)}")


def step_ratio(batch_from: float, batch_to: float, b_crit: float) -> float:
    """k = S(batch_from) / S(batch_to): steps at ``batch_from`` worth one step at ``batch_to``."""
    return (1 + b_crit / batch_from) / (1 + b_crit / batch_to)


def transfer_curve(law, lr, batch_from: float, batch_to: float, b_crit: float, steps=None,
                   rule: str = "sqrt", b_noise: float | None = None) -> np.ndarray:
    """Loss at ``steps`` of a run at ``batch_to`` with per-step LR ``lr``, from a curve law fitted at
    ``batch_from`` (any object with ``predict(lr_array, steps) -> loss``, e.g. an ``lrplan.laws`` law).

    The B0-equivalent run is ``k = step_ratio(...)`` times longer, its per-step LR is ``lr`` stretched
    by k and mapped back to ``batch_from`` with the coupling ``rule``."""
    lr = np.asarray(lr, dtype=float)
    steps = np.arange(len(lr)) if steps is None else np.asarray(steps)
    k = step_ratio(batch_from, batch_to, b_crit)
    n0 = max(1, int(np.ceil(k * len(lr))))
    src = np.minimum((np.arange(n0) / k).astype(int), len(lr) - 1)
    lr0 = scale_lr(lr[src], batch_to, batch_from, rule, b_noise)
    s0 = np.minimum(np.round(k * steps).astype(int), n0 - 1)
    return np.asarray(law.predict(lr0, s0), dtype=float)
