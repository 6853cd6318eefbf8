"""Continual-training runs on the built-in trainer: a data switch from corpus A to corpus B.

:func:`switch_config` turns a base :class:`~lrplan.train.trainer.TrainConfig` into a run that
trains on ``old`` until step ``switch`` and then on ``new`` mixed with a replay fraction ``replay``
of ``old`` (the trainer's data-mixture phases), evaluating both domains at every evaluation as
splits ``val_old`` and ``val_new``. :func:`replay_configs` builds a replay sweep. Read the results
back with :func:`lrplan.forgetting.runs.from_trainer_run` and fit
:class:`lrplan.forgetting.CPTLaw` (old domain: ``val_old``; new domain: ``val_new``).

>>> cfg = switch_config({"steps": 1200, "schedule": "constant:peak=3e-3,warmup=50"},
...                     old="stdlib", new="synthetic", switch=600, replay=0.05)
>>> cfg.mixture
[[0, {'old': 1.0}], [600, {'new': 0.95, 'old': 0.05}]]
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Mapping, Sequence

from lrplan.errors import ConfigError
from lrplan.train.trainer import TrainConfig

OLD_SPLIT, NEW_SPLIT = "val_old", "val_new"


def switch_config(base: TrainConfig | Mapping[str, Any], old: str, new: str, switch: int, replay: float = 0.0,
                  **overrides) -> TrainConfig:
    """A config that switches from corpus ``old`` to ``new`` at step ``switch`` (the first step on
    the new data) with a fraction ``replay`` in [0, 1] of old data in every batch after it."""
    cfg = base if isinstance(base, TrainConfig) else TrainConfig.from_dict(dict(base))
    cfg = replace(cfg, **overrides) if overrides else replace(cfg)
    if not isinstance(switch, int) or isinstance(switch, bool) or not 0 < switch < cfg.steps:
        raise ConfigError(f"switch step {switch!r} is outside the run (must be in 1..{cfg.steps - 1} for {cfg.steps} steps)")
    if not isinstance(replay, (int, float)) or not math.isfinite(replay) or not 0.0 <= replay <= 1.0:
        raise ConfigError(f"replay fraction {replay!r} is outside [0, 1]")
    cfg.corpora = {"old": old, "new": new}
    second = {"new": 1.0 - float(replay), "old": float(replay)} if replay else {"new": 1.0}
    cfg.mixture = [[0, {"old": 1.0}], [int(switch), second]]
    cfg.eval_sets = {OLD_SPLIT: "old", NEW_SPLIT: "new"}
    cfg.validate()
    return cfg


def replay_configs(base: TrainConfig | Mapping[str, Any], old: str, new: str, switch: int,
                   replays: Sequence[float] = (0.0, 0.01, 0.05, 0.25), seeds: Sequence[int] = (0,),
                   prefix: str = "replay") -> list[TrainConfig]:
    """One :func:`switch_config` per replay fraction and seed, named ``{prefix}{r}-s{seed}``."""
    return [switch_config(base, old, new, switch, r, seed=int(s), run=f"{prefix}{r:g}-s{s}")
            for r in replays for s in seeds]
