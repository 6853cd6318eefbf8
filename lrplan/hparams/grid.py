"""Results tables of LR x batch grids: load, normalise units, check, drop diverged runs.

A *grid* is one row per finished run with

===============  ===========================================================================
``N``            parameter count the law uses (state which: non-embedding for Step Law)
``D``            training tokens
``lr``           peak learning rate (absolute)
``batch``        batch size in **tokens** (converted from sequences when needed)
``loss``         final loss in nats/token (Step Law uses the Gaussian-smoothed training loss)
``cell``         label of the (N, D) cell, e.g. ``N=2.1e+08,D=4e+09``
===============  ===========================================================================

plus, when present, ``steps``, ``seq_len`` and model shape (``n_layer``, ``d_model``, ``d_ff``) for
compute accounting (:mod:`lrplan.hparams.compute`). Column aliases are accepted (see
:data:`ALIASES`), including the Step Law release (``h, ffnh, numl, bs, ti, smooth loss``) and
the summary table of ``lrplan sweep`` (``runs.csv``: its ``N_nonembed`` column is preferred over
``N``, as in Step Law; rows whose ``status`` is ``diverged`` count as diverged, ``failed`` and
``running`` rows are dropped with a warning).

Units are where grids go wrong: ``batch_size`` may be sequences or tokens. :func:`load_grid`
takes ``batch_unit`` = ``tokens`` | ``sequences`` | ``auto``. With ``auto`` it uses the
``steps`` column when there is one (the unit for which batch x steps ~ D wins), else sequences
when a sequence length is known, else tokens -- and it warns or fails when the numbers disagree
with the unit (a batch of fewer tokens than one sequence, fewer than 10 optimizer steps).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lrplan.errors import FitError, LoadError, LrplanWarning

#: accepted spellings -> canonical column (first match wins; lower-cased comparison)
ALIASES: dict[str, tuple[str, ...]] = {
    "N": ("n_nonembed", "non_embedding_params", "n", "params", "n_params", "num_params", "parameters"),
    "D": ("d", "tokens", "train_tokens", "total_tokens", "n_tokens"),
    "lr": ("lr", "peak_lr", "learning_rate", "max_lr"),
    "batch_tokens": ("batch_tokens", "tokens_per_step", "batch_size_tokens"),
    "batch_size": ("batch_size", "bs", "batch", "batch_seqs", "batch_sequences"),
    "loss": ("smooth loss", "smooth_loss", "loss", "final_loss", "val_loss", "final_val_loss", "train_loss"),
    "steps": ("steps", "ti", "total_steps", "iterations", "max_steps"),
    "seq_len": ("seq_len", "sequence_length", "block_size", "context_length"),
    "n_layer": ("n_layer", "numl", "layers", "num_layers", "n_layers"),
    "d_model": ("d_model", "h", "hidden", "hidden_size", "n_embd"),
    "d_ff": ("d_ff", "ffnh", "ffn_hidden", "intermediate_size"),
}

#: relative excess over the cell minimum above which a run counts as diverged (50 %)
DIVERGED = 0.5


def _pick(frame: pd.DataFrame, canonical: str) -> str | None:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    for alias in ALIASES[canonical]:
        if alias in lower:
            return lower[alias]
    return None


def _pick_status(frame: pd.DataFrame) -> str | None:
    for c in frame.columns:
        if str(c).strip().lower() == "status":
            return c
    return None


def cell_label(n: float, d: float) -> str:
    return f"N={n:.4g},D={d:.4g}"


def _resolve_unit(batch, steps, D, seq_len, unit, source) -> str:
    if unit in ("tokens", "sequences"):
        return unit
    if unit != "auto":
        raise LoadError(f"{source}: batch unit must be tokens, sequences or auto, got {unit!r}")
    if steps is not None and seq_len is not None:
        ok = np.isfinite(steps) & np.isfinite(batch) & (steps > 0)
        if ok.any():
            err_tok = np.nanmedian(np.abs(np.log(batch[ok] * steps[ok] / D[ok])))
            err_seq = np.nanmedian(np.abs(np.log(batch[ok] * seq_len[ok] * steps[ok] / D[ok])))
            return "sequences" if err_seq < err_tok else "tokens"
    return "sequences" if seq_len is not None else "tokens"


def load_grid(
    table: pd.DataFrame | str | Path,
    batch_unit: str = "auto",
    seq_len: int | None = None,
    diverged: float = DIVERGED,
    source: str | None = None,
) -> pd.DataFrame:
    """Read a results table (CSV path or DataFrame) into the canonical grid (see module doc).

    ``seq_len`` (tokens per sequence) converts a batch in sequences into tokens when the table has
    no ``seq_len`` column. NaN/inf losses are treated as diverged. Runs whose loss exceeds their
    cell's minimum by more than ``diverged`` (relative; default 50 %) are dropped as diverged. Both
    drops are reported in one :class:`LrplanWarning` each. Raises :class:`LoadError` naming
    ``source`` and the column on missing columns, non-positive values and unit contradictions.
    """
    if isinstance(table, (str, Path)):
        source = source or str(table)
        try:
            frame = pd.read_csv(table)
        except FileNotFoundError:
            raise LoadError(f"{table}: no such file") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise LoadError(f"{table}: not a readable CSV ({str(e).splitlines()[0]})") from None
    else:
        frame = table
        source = source or "<table>"
    status_col = _pick_status(frame)
    if status_col is not None:
        status = frame[status_col].astype(str).str.strip().str.lower()
        unfinished = ~status.isin(["finished", "diverged", "nan", ""])
        if unfinished.any():
            warnings.warn(LrplanWarning(f"{source}: dropped {int(unfinished.sum())} run(s) that did not finish "
                                        f"(status {', '.join(sorted(set(status[unfinished])))})"), stacklevel=2)
        frame = frame[~unfinished].copy()
        frame.loc[status[~unfinished] == "diverged", _pick(frame, "loss") or status_col] = np.nan
    cols = {c: _pick(frame, c) for c in ALIASES}
    missing = [c for c in ("N", "D", "lr", "loss") if cols[c] is None]
    if cols["batch_tokens"] is None and cols["batch_size"] is None:
        missing.append("batch_size")
    if missing:
        raise LoadError(f"{source}: missing column(s) {', '.join(missing)}; "
                        f"found {', '.join(map(str, frame.columns)) or 'none'}")

    def num(canonical):
        col = cols[canonical]
        if col is None:
            return None
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(values) & frame[col].notna().to_numpy()
        if bad.any() and canonical != "loss":
            raise LoadError(f"{source}: column {col!r} has non-numeric value {frame[col][bad].iloc[0]!r}")
        return values

    out = pd.DataFrame({k: num(k) for k in ("N", "D", "lr")})
    for k in ("N", "D", "lr"):
        v = out[k].to_numpy()
        if not np.all(np.isfinite(v) & (v > 0)):
            raise LoadError(f"{source}: column {cols[k]!r} must be positive and finite (found {v[~(np.isfinite(v) & (v > 0))][0]!r})")
    steps = num("steps")
    seq = num("seq_len")
    if seq is None and seq_len is not None:
        if seq_len <= 0:
            raise LoadError(f"{source}: seq_len must be positive, got {seq_len}")
        seq = np.full(len(out), float(seq_len))
    if cols["batch_tokens"] is not None:
        batch = num("batch_tokens")
    else:
        raw = num("batch_size")
        unit = _resolve_unit(raw, steps, out["D"].to_numpy(), seq, batch_unit, source)
        if unit == "sequences":
            if seq is None:
                raise LoadError(f"{source}: column {cols['batch_size']!r} is in sequences but no sequence length "
                                "is known; pass seq_len (--seq-len) or add a seq_len column")
            batch = raw * seq
        else:
            batch = raw
            if seq is not None and np.nanmedian(batch) < np.nanmedian(seq):
                raise LoadError(f"{source}: column {cols['batch_size']!r} read as tokens gives batches smaller than one "
                                f"sequence ({np.nanmedian(batch):g} < {np.nanmedian(seq):g} tokens); it is in sequences: "
                                "use batch unit 'sequences'")
            if seq is None and np.nanmedian(batch) < 4096:
                warnings.warn(LrplanWarning(
                    f"{source}: column {cols['batch_size']!r} read as tokens but its median is {np.nanmedian(batch):g}; "
                    "if it counts sequences pass the batch unit 'sequences' and the sequence length"), stacklevel=2)
    if not np.all(np.isfinite(batch) & (batch > 0)):
        raise LoadError(f"{source}: batch size must be positive and finite")
    out["batch"] = batch
    if np.any(out["D"].to_numpy() / batch < 10):
        raise LoadError(f"{source}: some runs would take fewer than 10 optimizer steps (D / batch < 10): "
                        "batch and D are in different units (batch must be tokens, or sequences with seq_len)")
    if steps is not None:
        ratio = batch * steps / out["D"].to_numpy()
        off = np.isfinite(ratio) & ((ratio < 0.8) | (ratio > 1.25))
        if off.any():
            warnings.warn(LrplanWarning(
                f"{source}: for {int(off.sum())} run(s) batch x steps differs from D by more than 25 % "
                f"(median ratio {np.nanmedian(ratio[off]):.3g}): check the batch unit and seq_len"), stacklevel=2)
    out["loss"] = num("loss")
    if steps is not None:
        out["steps"] = steps
    if seq is not None:
        out["seq_len"] = seq
    for k in ("n_layer", "d_model", "d_ff"):
        v = num(k)
        if v is not None:
            out[k] = v
    out["cell"] = [cell_label(n, d) for n, d in zip(out["N"], out["D"])]
    return drop_diverged(out, diverged, source)


def drop_diverged(grid: pd.DataFrame, diverged: float = DIVERGED, source: str = "<table>") -> pd.DataFrame:
    """Drop NaN/inf losses and runs more than ``diverged`` (relative) above their cell minimum."""
    loss = grid["loss"].to_numpy()
    nonfinite = ~np.isfinite(loss)
    if np.any(loss[~nonfinite] <= 0):
        raise LoadError(f"{source}: loss must be positive (nats/token)")
    if nonfinite.any():
        warnings.warn(LrplanWarning(f"{source}: dropped {int(nonfinite.sum())} run(s) with NaN/inf loss (diverged)"),
                      stacklevel=3)
    g = grid[~nonfinite]
    if len(g) == 0:
        raise LoadError(f"{source}: every loss is NaN/inf")
    best = g.groupby("cell")["loss"].transform("min")
    high = g["loss"] > best * (1 + diverged)
    if high.any():
        warnings.warn(LrplanWarning(
            f"{source}: dropped {int(high.sum())} diverged run(s) (loss more than {diverged:.0%} above the cell "
            "minimum)"), stacklevel=3)
    return g[~high].reset_index(drop=True)


def check_cells(grid: pd.DataFrame, min_lrs: int = 3) -> None:
    """Raise :class:`FitError` when a cell cannot locate an LR optimum (fewer than ``min_lrs`` LRs)."""
    for cell, g in grid.groupby("cell", sort=False):
        n_lr = len(np.unique(np.round(np.log2(g["lr"].to_numpy()), 3)))
        if n_lr < min_lrs:
            lrs = ", ".join(f"{x:.3g}" for x in sorted(g["lr"].unique()))
            raise FitError(f"cell {cell}: only {n_lr} distinct LR value(s) ({lrs}); need at least {min_lrs} "
                           "to locate the LR optimum")
