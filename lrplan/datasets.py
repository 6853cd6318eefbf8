"""Data that ships with lrplan.

* The multi-power-law curves (Luo et al. 2025, arXiv:2503.12811; MIT, see
  ``lrplan/data/mpl/LICENSE``): 9 schedules x 3 model sizes (25M, 100M, 400M), the official
  TRAIN/TEST split, the exact schedules, the published parameters and metrics.
* Continual pre-training curves made by lrplan's trainer (``lrplan/data/cpt/README.md``): a data
  switch from Python source to English prose with 5 % replay under three re-warmed schedules,
  both domains' validation loss, 3 seeds (:func:`cpt_runs`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from lrplan.curves import Curves, RunMeta
from lrplan.errors import LrplanError
from lrplan.schedules import Schedule, parse

MPL_SIZES = ("25", "100", "400")
MPL_TRAIN = ("cosine_24000", "constant_24000", "wsdcon_9")
MPL_TEST = ("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3", "wsdcon_18")
MPL_RUNS = MPL_TRAIN + MPL_TEST

_MPL_WARM = "peak=3e-4,warmup=2160,warmup_style=inclusive"
#: Exact schedule specs of the multi-power-law runs (see lrplan/data/mpl/README.md).
MPL_SPECS = {
    "constant_24000": f"constant:{_MPL_WARM},steps=24000",
    "constant_72000": f"constant:{_MPL_WARM},steps=72000",
    "cosine_24000": f"cosine:{_MPL_WARM},floor=3e-5,steps=24000",
    "cosine_72000": f"cosine:{_MPL_WARM},floor=3e-5,steps=72000",
    "wsd_20000_24000": f"wsd:{_MPL_WARM},floor=3e-5,cooldown=4000,shape=exp,steps=24000",
    "wsdld_20000_24000": f"wsd:{_MPL_WARM},floor=3e-5,cooldown=4000,shape=linear,steps=24000",
    "wsdcon_3": f"constant:{_MPL_WARM},steps=8000 + constant:peak=3e-5,steps=8000",
    "wsdcon_9": f"constant:{_MPL_WARM},steps=8000 + constant:peak=9e-5,steps=8000",
    "wsdcon_18": f"constant:{_MPL_WARM},steps=8000 + constant:peak=1.8e-4,steps=8000",
}

#: Published MPL parameters (L0, A, alpha, B, C, beta, gamma), full precision from the repository.
MPL_PUBLISHED_PARAMS = {
    "25": (3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257),
    "100": (2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644),
    "400": (2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735, 0.59350493, 0.63472457),
}

#: Published TEST-set averages: R2, MAE, RMSE, PredE, WorstE.
MPL_PUBLISHED_TEST_METRICS = {
    "25": {"R2": 0.9988, "MAE": 0.00376, "RMSE": 0.00465, "PredE": 0.00110, "WorstE": 0.00409},
    "100": {"R2": 0.9983, "MAE": 0.00435, "RMSE": 0.00592, "PredE": 0.00142, "WorstE": 0.00583},
    "400": {"R2": 0.9978, "MAE": 0.00484, "RMSE": 0.00730, "PredE": 0.00168, "WorstE": 0.00995},
}


def data_dir() -> Path:
    """Folder of the bundled data (inside the installed package)."""
    return Path(str(resources.files("lrplan") / "data"))


def _check_size(size) -> str:
    s = str(size).upper().rstrip("M")
    if s not in MPL_SIZES:
        raise LrplanError(f"multi-power-law data: unknown model size {size!r}; allowed: 25, 100, 400")
    return s


def mpl_schedule(run: str) -> Schedule:
    """The exact per-step schedule of a multi-power-law run (e.g. ``cosine_24000``)."""
    if run not in MPL_SPECS:
        raise LrplanError(f"multi-power-law data: unknown run {run!r}; runs: {', '.join(MPL_RUNS)}")
    return parse(MPL_SPECS[run])


def mpl_curves(size="100", runs=None) -> Curves:
    """The multi-power-law loss curves of one model size as a :class:`Curves` table.

    Rows at steps >= the schedule length are dropped (the repository's loader rule). Each run's
    ``meta.schedule`` holds its exact spec; the loss is in nats/token, LR absolute (peak 3e-4).
    """
    s = _check_size(size)
    folder = data_dir() / "mpl" / f"csv_{s}"
    frames, meta = [], {}
    for run in runs or MPL_RUNS:
        sched = mpl_schedule(run)
        df = pd.read_csv(folder / f"{run}.csv")
        df = df[df["step"] < sched.steps]
        frames.append(pd.DataFrame({"run": run, "split": "train", "step": df["step"], "loss": df["loss"], "lr": df["lr"]}))
        meta[run] = RunMeta(run=run, schedule=sched.spec, peak_lr=3e-4, params=float(s) * 1e6,
                            source=f"lrplan/data/mpl/csv_{s}/{run}.csv")
    return Curves(pd.concat(frames, ignore_index=True), meta, source=f"mpl-{s}M")


def mpl_optimized_schedule(size="100") -> np.ndarray:
    """The repository's optimised LR for steps 2160..23999 of the 24,000-step budget (shape (21840,))."""
    s = _check_size(size)
    return np.load(data_dir() / "mpl" / "optimized_schedules" / f"{s}.npy")


CPT_CONTINUAL = ("rewarm3", "rewarm1", "wsd2")
CPT_SEEDS = (0, 1, 2)


def cpt_runs(split: str = "val_old", seed: int = 0) -> dict:
    """The bundled continual pre-training runs of one seed as
    :class:`~lrplan.forgetting.ContinualRun` objects keyed by the continual schedule (``rewarm3``,
    ``rewarm1``, ``wsd2``): the exact LR of every step (absolute), the switch step (600), the
    replay fraction (0.05), the parameter count, and the validation loss (nats/byte) of ``split``
    (``val_old`` = the old domain, Python source; ``val_new`` = the new one, English prose) every
    10 steps."""
    from lrplan.forgetting.runs import from_curves

    if split not in ("val_old", "val_new"):
        raise LrplanError(f"continual pre-training data: split must be 'val_old' or 'val_new', got {split!r}")
    if seed not in CPT_SEEDS:
        raise LrplanError(f"continual pre-training data: seed must be one of {CPT_SEEDS}, got {seed!r}")
    folder = data_dir() / "cpt"
    runs = pd.read_csv(folder / "runs.csv")
    runs = runs[runs["seed"] == seed]
    rows = pd.read_csv(folder / "curves.csv.gz")
    meta = {r.run: RunMeta(run=r.run, schedule=r.schedule, params=float(r.params), source="lrplan/data/cpt")
            for r in runs.itertuples()}
    curves = Curves(rows[rows["run"].isin(meta)], meta, source="lrplan/data/cpt/curves.csv.gz")
    # the trainer-folder rule of lrplan.forgetting.runs.from_trainer_run, so fits match the benchmarks'
    out = {r.continual: from_curves(curves, r.run, split, int(r.switch), float(r.replay), name=r.continual)
           for r in runs.itertuples()}
    return {k: out[k] for k in CPT_CONTINUAL}
