"""The curve table: one long pandas table for training curves from any source.

Columns (one row per run, split and step):

==============  =====================================================================
``run``         run name (str)
``split``       ``train``, ``val`` or another evaluation set name (str)
``step``        optimizer step, 0-based (int64)
``loss``        loss in nats/token (float64, > 0)
``lr``          absolute LR in effect at that step (float64, NaN when not logged)
``tokens``      tokens seen at that step (float64, optional, NaN when unknown)
``batch_size``  batch size in sequences (float64, optional, NaN when unknown)
==============  =====================================================================

Per-run metadata (schedule spec, peak LR, batch size, sequence length, parameter count, source)
lives in :attr:`Curves.meta`. Validation (:func:`validate`): steps sorted and unique per run and
split (duplicates from resumed runs keep the last value, with a warning), NaN/inf losses dropped
with a warning that counts them, non-positive loss rejected.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from lrplan import _io
from lrplan.errors import LoadError, LrplanWarning

COLUMNS = ["run", "split", "step", "loss", "lr", "tokens", "batch_size"]
REQUIRED = ["run", "step", "loss"]


@dataclass
class RunMeta:
    """What is known about one run besides its curve. Units: LR absolute, batch in sequences,
    sequence length in tokens, params = parameter count."""

    run: str
    schedule: str | None = None
    peak_lr: float | None = None
    batch_size: float | None = None
    seq_len: int | None = None
    params: float | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, [])}


def validate(frame: pd.DataFrame, source: str = "<table>") -> pd.DataFrame:
    """Check and normalise a long curve frame; returns a new frame with :data:`COLUMNS`.

    Raises :class:`LoadError` naming ``source`` on missing columns, non-numeric or negative steps,
    non-positive loss or an empty result; warns (:class:`LrplanWarning`) on dropped NaN/inf rows and
    on duplicate or backwards steps (kept: the last value logged for a step).
    """
    if not isinstance(frame, pd.DataFrame):
        raise LoadError(f"{source}: expected a table, got {type(frame).__name__}")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise LoadError(f"{source}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns)) or 'none'}")
    df = pd.DataFrame({"run": frame["run"].astype(str)})
    df["split"] = frame["split"].astype(str) if "split" in frame.columns else "train"
    for col in ("step", "loss", "lr", "tokens", "batch_size"):
        if col in frame.columns:
            df[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
        else:
            df[col] = np.nan
    if "step" in frame.columns:
        bad_step = df["step"].isna() & frame["step"].notna()
        if bad_step.any():
            first = frame["step"][bad_step].iloc[0]
            raise LoadError(f"{source}: non-numeric step value {first!r}")
    if len(df) == 0:
        raise LoadError(f"{source}: no rows")
    bad = ~np.isfinite(df["loss"].to_numpy()) | ~np.isfinite(df["step"].to_numpy())
    if bad.any():
        n = int(bad.sum())
        warnings.warn(LrplanWarning(f"{source}: dropped {n} row(s) with NaN/inf/missing loss or step"), stacklevel=2)
        df = df[~bad]
    if len(df) == 0:
        raise LoadError(f"{source}: no usable rows (every loss or step is NaN/inf/missing)")
    steps = df["step"].to_numpy()
    if np.any(steps < 0):
        raise LoadError(f"{source}: negative step {steps[steps < 0][0]:g}")
    if np.any(steps != np.round(steps)):
        raise LoadError(f"{source}: non-integer step {steps[steps != np.round(steps)][0]:g}")
    if np.any(steps > 2**53):
        raise LoadError(f"{source}: step {steps[steps > 2**53][0]:g} is too large (not a step count)")
    nonpos = df["loss"].to_numpy() <= 0
    if nonpos.any():
        row = df[nonpos].iloc[0]
        raise LoadError(f"{source}: run {row['run']!r}: {int(nonpos.sum())} non-positive loss value(s) "
                        f"(first {row['loss']:g} at step {int(row['step'])}); loss must be > 0 nats")
    lr = df["lr"].to_numpy()
    if np.any(lr[np.isfinite(lr)] < 0):
        raise LoadError(f"{source}: negative learning rate values")
    df = df.copy()
    df["lr"] = df["lr"].where(np.isfinite(df["lr"]), np.nan)
    df["step"] = df["step"].astype(np.int64)
    df["_order"] = np.arange(len(df))
    # backwards steps in logging order (resumed runs)
    backwards = 0
    for _, g in df.groupby(["run", "split"], sort=False):
        backwards += int(np.sum(np.diff(g["step"].to_numpy()) < 0))
    dup = df.duplicated(["run", "split", "step"], keep="last")
    if dup.any() or backwards:
        warnings.warn(LrplanWarning(
            f"{source}: {int(dup.sum())} duplicate and {backwards} backwards step(s) (resumed run?); "
            "kept the last value logged for each step"), stacklevel=2)
        df = df[~dup]
    df = df.sort_values(["run", "split", "step", "_order"], kind="stable").drop(columns="_order")
    return df[COLUMNS].reset_index(drop=True)


class Curves:
    """A validated curve table plus per-run metadata.

    >>> c = Curves.from_frame(pd.DataFrame({"run": "a", "step": [0, 10], "loss": [4.0, 3.5]}))
    >>> c.runs
    ['a']
    """

    def __init__(self, data: pd.DataFrame, meta: dict[str, RunMeta] | None = None, source: str = "<table>",
                 _validated: bool = False):
        self.source = source
        self.data = data if _validated else validate(data, source)
        meta = dict(meta or {})
        for run in self.data["run"].unique():
            meta.setdefault(run, RunMeta(run=run, source=source))
        self.meta = {r: m for r, m in meta.items() if r in set(self.data["run"].unique())}

    # -- construction -------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str = "<table>", meta: dict[str, RunMeta] | None = None) -> "Curves":
        return cls(frame, meta, source)

    @classmethod
    def concat(cls, items: Iterable["Curves"]) -> "Curves":
        """Join curve tables; run names must not clash (prefix them first if they do)."""
        items = list(items)
        if not items:
            raise LoadError("no curves given")
        seen: dict[str, str] = {}
        for c in items:
            for r in c.runs:
                if r in seen:
                    raise LoadError(f"run name {r!r} appears in both {seen[r]} and {c.source}; rename one")
                seen[r] = c.source
        data = pd.concat([c.data for c in items], ignore_index=True)
        meta = {k: v for c in items for k, v in c.meta.items()}
        return cls(data, meta, source=", ".join(c.source for c in items), _validated=True)

    # -- views ---------------------------------------------------------------
    @property
    def runs(self) -> list[str]:
        return list(dict.fromkeys(self.data["run"]))

    @property
    def splits(self) -> list[str]:
        return sorted(self.data["split"].unique())

    def curve(self, run: str, split: str | None = None) -> pd.DataFrame:
        """Rows of one run (and split; default: :meth:`default_split`) sorted by step."""
        if run not in self.meta:
            raise LoadError(f"{self.source}: no run named {run!r}; runs: {', '.join(self.runs[:10])}")
        d = self.data[self.data["run"] == run]
        split = split or self.default_split(run)
        d = d[d["split"] == split]
        return d.reset_index(drop=True)

    def default_split(self, run: str | None = None) -> str:
        """``train`` if present, else ``val``, else the first split present."""
        d = self.data if run is None else self.data[self.data["run"] == run]
        present = set(d["split"].unique())
        for s in ("train", "val"):
            if s in present:
                return s
        return sorted(present)[0]

    def select(self, runs: Iterable[str] | None = None, split: str | None = None) -> "Curves":
        d = self.data
        if runs is not None:
            runs = list(runs)
            unknown = [r for r in runs if r not in self.meta]
            if unknown:
                raise LoadError(f"{self.source}: no run named {unknown[0]!r}; runs: {', '.join(self.runs[:10])}")
            d = d[d["run"].isin(runs)]
        if split is not None:
            if split not in set(d["split"]):
                raise LoadError(f"{self.source}: no rows in split {split!r}; splits: {', '.join(self.splits)}")
            d = d[d["split"] == split]
        return Curves(d.reset_index(drop=True), {r: self.meta[r] for r in d["run"].unique()}, self.source, _validated=True)

    def after_warmup(self) -> "Curves":
        """Rows from the end of each run's warmup on (warmup read from ``meta.schedule``; runs
        without a schedule keep every row). Loss laws do not model the warmup phase itself."""
        from lrplan.schedules import parse

        keep = np.ones(len(self.data), dtype=bool)
        for run, m in self.meta.items():
            if not m.schedule or m.schedule == "custom":
                continue
            w = parse(m.schedule).warmup
            keep &= ~((self.data["run"] == run).to_numpy() & (self.data["step"] < w).to_numpy())
        d = self.data[keep].reset_index(drop=True)
        return Curves(d, {r: self.meta[r] for r in d["run"].unique()}, self.source, _validated=True)

    def summary(self) -> pd.DataFrame:
        """One row per run and split: points, step range, loss range, whether LR is logged."""
        rows = []
        for (run, split), g in self.data.groupby(["run", "split"], sort=False):
            rows.append({
                "run": run, "split": split, "points": len(g),
                "first_step": int(g["step"].iloc[0]), "last_step": int(g["step"].iloc[-1]),
                "loss_min": float(g["loss"].min()), "loss_last": float(g["loss"].iloc[-1]),
                "lr": "yes" if g["lr"].notna().all() else ("partial" if g["lr"].notna().any() else "no"),
                "schedule": self.meta[run].schedule or "",
            })
        return pd.DataFrame(rows)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"Curves({len(self.runs)} runs, {len(self.data)} rows, splits={self.splits}, source={self.source!r})"

    # -- output --------------------------------------------------------------
    def to_csv(self, path: str | Path) -> Path:
        """Write the canonical long CSV (``run,split,step,loss,lr,tokens,batch_size``) atomically."""
        d = self.data.copy()
        for col in ("tokens", "batch_size"):
            if d[col].isna().all():
                d = d.drop(columns=col)
        return _io.write_csv(path, d, float_format="%.10g")
