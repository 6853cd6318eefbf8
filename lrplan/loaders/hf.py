"""Hugging Face ``Trainer`` state: ``trainer_state.json``.

``log_history`` holds one entry per logging call::

    {"epoch": 0.08, "grad_norm": 0.7386, "learning_rate": 0.000491, "loss": 1.6789, "step": 10}
    {"epoch": 0.4, "eval_loss": 1.52, "eval_runtime": 3.1, "step": 50}
    {"epoch": 1.0, "step": 100, "total_flos": ..., "train_loss": 1.41, "train_runtime": 61.2}   # summary

* train ``loss`` is the mean over the logging window (``tr_loss / (global_step - last_logged)``,
  window = ``logging_steps``): ``agg = window_mean``; ``eval_loss`` -> split ``val`` (``eval_mean``);
  ``eval_<name>_loss`` (several eval datasets) -> split ``<name>``;
* ``learning_rate`` is the LR at that step; eval rows take it from the train entry of the same
  step when there is one; ``num_input_tokens_seen`` -> tokens;
* the final summary entry (``train_runtime``/``train_loss``/``total_flos``) is skipped;
* given a directory, the newest state is used: the largest ``global_step`` among
  ``trainer_state.json`` and ``checkpoint-*/trainer_state.json``. The run is named after the
  output directory (the parent of ``checkpoint-N``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Mapping

import pandas as pd

from lrplan.curves import Curves
from lrplan.errors import LoadError
from lrplan.loaders._common import parse_json, read_text, wide_to_curves

STATE = "trainer_state.json"
_SUMMARY_KEYS = ("train_runtime", "total_flos", "train_samples_per_second")


def find_state(path: Path) -> Path:
    """The trainer_state.json to read for ``path`` (a file or an output directory)."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise LoadError(f"{path}: no such file or directory")
    candidates = [p for p in [path / STATE, *path.glob(f"checkpoint-*/{STATE}")] if p.is_file()]
    if not candidates:
        raise LoadError(f"{path}: no {STATE} here or in checkpoint-*/")

    def newest(p: Path):
        m = re.fullmatch(r"checkpoint-(\d+)", p.parent.name)
        try:
            gs = int(json.loads(p.read_text(encoding="utf-8")).get("global_step", -1))
        except (OSError, ValueError, AttributeError, TypeError):
            gs = int(m.group(1)) if m else -1
        return gs, m is None  # on a tie prefer the top-level (final) state
    return max(candidates, key=newest)


def load_trainer_state(path: Path, columns: Mapping[str, str] | None = None) -> Curves:
    """Load a ``trainer_state.json`` (or the newest one under an output directory)."""
    state_path = find_state(path)
    text = read_text(state_path)
    state = parse_json(text, state_path)
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise LoadError(f"{state_path}: no 'log_history' list; not a Trainer state file")
    entries = [e for e in state["log_history"] if isinstance(e, dict) and not any(k in e for k in _SUMMARY_KEYS)]
    if not entries:
        raise LoadError(f"{state_path}: log_history holds no training or eval entries")
    run_dir = state_path.resolve().parent
    if re.fullmatch(r"checkpoint-\d+", run_dir.name):
        run_dir = run_dir.parent
    extra = {"file": str(state_path)}
    for key in ("logging_steps", "eval_steps", "global_step", "max_steps", "train_batch_size"):
        if isinstance(state.get(key), (int, float)):
            extra[key] = state[key]
    if "logging_steps" in extra:
        extra["agg_window"] = extra["logging_steps"]
    frame = pd.DataFrame(entries)
    return wide_to_curves(frame, source=str(state_path), fmt="hf", run=run_dir.name,
                          columns=columns, agg={"train": "window_mean", "val": "eval_mean"}, extra=extra)
