"""The built-in proxy trainer (``pip install 'lrplan[train]'``): a small byte-level GPT, corpora
that need no download, exact checkpoint/resume, canonical curve logs, and sweeps over grids
through a local process pool, submitit (SLURM) or Ray.

Modules: :mod:`~lrplan.train.model` (GPT and presets ``nano``/``micro``/``small``),
:mod:`~lrplan.train.data` (corpora, mixtures, batch sampler), :mod:`~lrplan.train.trainer`
(``TrainConfig``, ``Trainer``, ``train``), :mod:`~lrplan.train.sweep` (grids, ``run_sweep``),
:mod:`~lrplan.train.launchers` (``local``, ``submitit``, ``ray``), :mod:`~lrplan.train.results`
(read run folders without torch). User guide: ``docs/trainer.md``.

Importing this package does not import torch; the names below load their module on first use.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "GPT": "model", "GPTConfig": "model", "PRESETS": "model", "model_config": "model",
    "Corpus": "data", "Mixture": "data", "BatchSampler": "data", "load_corpus": "data",
    "TrainConfig": "trainer", "Trainer": "trainer", "TrainResult": "trainer", "train": "trainer",
    "load_run": "results", "load_proxy": "results", "load_sweep": "sweep", "run_sweep": "sweep", "expand_grid": "sweep",
    "read_grid": "sweep", "get_launcher": "launchers",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"lrplan.train.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'lrplan.train' has no attribute {name!r}")
