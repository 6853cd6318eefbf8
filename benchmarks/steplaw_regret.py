"""Regret of LR / batch recommendations on the dense Step Law grid (held-out cells).

Data: ../shared/data/steplaw/dense_lr_bs_loss.csv (Li et al. 2025, "Predictable Scale: Part I",
arXiv:2503.04715; github.com/step-law/steplaw, data/dense_lr_bs_loss.csv; no license: read in place,
never copied). Loss = the smoothed final training loss; batch = bs x 2048 tokens; runs more than
50 % above their cell minimum are dropped as diverged before fitting (the held-out cell is scored on
all its runs, diverged ones included, which can only raise regret).

Regret of a recommendation in a cell = smoothed loss of the run nearest to it in (log2 lr, log2 B),
relative to the cell's best run (:func:`lrplan.hparams.evaluate.regret`).

Protocols, all measured in the same run:
* leave-one-cell-out (LOO): fit on 16 cells, score the 17th; with all runs, and with a random 30 %
  of each cell's runs (``--repeats`` subsets, subset r drawn with ``numpy.random.default_rng(r)``,
  r = 0 .. repeats-1; every method sees the same subsets; the held-out cell is always scored on its
  complete grid). Means over repeats with their standard error (sd over repeats / sqrt(repeats));
* ``joint, nested-CV knobs``: the joint fit's two knobs (fitting window x focus weighting) chosen
  for each held-out cell from a grid fixed in advance (window 2, 3 % x weights exp(-excess / s),
  s = 0.2, 0.4, 1 %) by leave-one-cell-out regret over the 16 other cells only (inner regret scored
  on the runs the training set has, i.e. the 30 % subset), ties to the default (3 %, 0.4 %). A fit
  without cells {i, j} serves both inner scores, so each knob and subset costs 17 + 136 fits, and
  per-cell bowls are fitted once per subset and knob. 30 % subsets only (on all runs the inner
  loop costs ~10x more: not run). A 5 % window was planned and dropped for cost (see ``KNOBS``);
* ``joint, nested-CV knobs incl. 5 % window (added after the first nested result)``: the same
  selection over ``KNOBS`` + ``KNOBS_5`` (window 5 % x the same three weightings, appended after the
  original knobs, so ties still go to the default). Added after the nested row above (0.111 %) had
  been read, once the 5 % fits were made cheap (their slowness was threaded OpenBLAS, lrplan._blas):
  a post-hoc extension, reported beside the original row, never instead of it;
* ``joint skew`` and ``joint skew, nested-CV knobs (pre-registered)``: the joint fit with a skewed
  bowl (``HparamLaw(skew=True)``, the library default since), fixed-default knobs and knobs chosen
  exactly as in ``joint, nested-CV knobs``; both rows and the verdict rule were committed before any
  regret of a skewed fit was computed. ``--first-subset 10`` replicates everything on subsets 10-19;
* ``near+joint (log-mean)``: the geometric mean of the ``near`` and ``joint`` recommendations
  (LR and batch), an a-priori combination of the two best earlier methods;
* extrapolation: the largest-N cells from the smaller-N cells only; each N's largest-D cell from
  the cells with smaller D only;
* baselines: the published Step Law and DeepSeek formulas (DeepSeek with its own M and with the
  Step Law repository's M), the single best fixed (lr, B) grid setting chosen on the training cells
  (the one with the lowest mean regret over them), and the fixed mid-grid setting lr = 2e-3,
  B = 256 x 2048 of the reference notes.

    nice -n 10 python benchmarks/steplaw_regret.py            # full (several minutes on 2 cores)
    nice -n 10 python benchmarks/steplaw_regret.py --first-subset 10 --workers 2   # replication, subsets 10-19
    python benchmarks/steplaw_regret.py --smoke               # synthetic grid, seconds (tests)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lrplan._markdown import markdown_table  # noqa: E402

DATA = Path("/work/shared/data/steplaw/dense_lr_bs_loss.csv")
METHODS = ("near", "surrogate", "joint", "joint skew")
# (window, focus) of the joint fit; focus f weights runs by exp(-excess / (2 f)); the default first.
# A 5 % window was planned too and dropped for cost before any nested result was read: its fits took
# ~10x longer (0.5-0.7 s instead of 0.04-0.07 s at 30 % of the runs) and made the nested loop ~80 min.
# (That cost was threaded OpenBLAS in least_squares' SVD, not the fit: fixed in lrplan._blas.)
KNOBS = [(0.03, 0.002)] + [(w, f) for w in (0.02, 0.03) for f in (0.001, 0.002, 0.005) if (w, f) != (0.03, 0.002)]
# The 5 % window put back AFTER the first nested-CV result (0.111 %) was seen, once its fits were cheap
# (0.02-0.04 s with one BLAS thread; the ~10x slowness was threaded OpenBLAS, not the fit): a separate row.
KNOBS_5 = [(0.05, f) for f in (0.001, 0.002, 0.005)]
NESTED = "lrplan joint, nested-CV knobs"
NESTED_5 = "lrplan joint, nested-CV knobs incl. 5 % window (added after the first nested result)"
# The skewed bowl (fit_joint(skew=True)), pre-registered: this row and its verdict rule were committed
# before any regret of a skewed fit was computed; same knob grid, ties to the default, as NESTED.
NESTED_SKEW = "lrplan joint skew, nested-CV knobs (pre-registered)"
# row -> (the knobs its nested CV chooses from, skewed bowl)
SELECTIONS = {NESTED: (KNOBS, False), NESTED_5: (KNOBS + KNOBS_5, False), NESTED_SKEW: (KNOBS, True)}


def fixed_best(train: pd.DataFrame) -> tuple[float, float]:
    """The (lr, batch) grid setting with the lowest mean regret over the training cells."""
    from lrplan.hparams.evaluate import regret

    lrs = np.unique(2.0 ** (np.round(np.log2(train["lr"]) * 2) / 2))
    bs = np.unique(train["batch"])
    cells = [g for _, g in train.groupby("cell")]
    best, arg = np.inf, None
    for lr in lrs:
        for b in bs:
            m = np.mean([regret(g, lr, b) for g in cells])
            if m < best:
                best, arg = m, (lr, b)
    return arg


_GRIDS: dict = {}  # set before the worker pool forks (fork start method shares it)
_OPTIMA: dict = {}  # (data key, window, focus) -> {cell: CellOptimum}, per process


def cell_fits(key, window: float, focus: float) -> dict:
    """Per-cell bowls of data set ``key`` ("all" or a subset index), fitted once per process."""
    from lrplan.hparams import cell_optima

    if (key, window, focus) not in _OPTIMA:
        _OPTIMA[key, window, focus] = {o.cell: o for o in cell_optima(_GRIDS["data"][key], window=window, focus=focus)}
    return _OPTIMA[key, window, focus]


def law_recommender(method: str, key="all", window: float = 0.03, focus: float = 0.002):
    """``method``: an HparamLaw method, or "joint skew" (the joint model with a skewed bowl)."""
    from lrplan.hparams import HparamLaw

    skew = method == "joint skew"

    def rec(train, N, D):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            law = HparamLaw(method="joint" if skew else method, window=window, focus=focus, skew=skew)
            lr, b = law.fit(train, optima=cell_fits(key, window, focus)).predict(N, D)
        return float(lr), float(b)

    return rec


def summarise(frames: list[pd.DataFrame]) -> tuple[float, float, float]:
    """(mean regret, worst regret, standard error of the mean over repeats), in percent."""
    reg = np.array([f["regret"].to_numpy() for f in frames]) * 100
    means = reg.mean(axis=1)
    se = float(means.std(ddof=1) / np.sqrt(len(means))) if len(means) > 1 else float("nan")
    return float(means.mean()), float(reg.max(axis=1).mean()), se


def _protocols(grid: pd.DataFrame):
    def smaller_n(train, N, D):
        return train[train["N"] < N]

    def smaller_d(train, N, D):
        return train[train["D"] < D]

    largest_n = list(grid[grid["N"] == grid["N"].max()]["cell"].unique())
    largest_d = list(grid.loc[grid.groupby("N")["D"].idxmax(), "cell"])
    return {"LOO": (None, None), "extrapolate: largest N": (largest_n, smaller_n),
            "extrapolate: largest D": (largest_d, smaller_d)}


def _baseline(name: str):
    from lrplan.hparams.compute import training_compute
    from lrplan.hparams.published import published

    grid = _GRIDS["grid"]
    if name == "Step Law, published":
        law = published("steplaw")
        return lambda t, N, D: tuple(map(float, law.predict(N, D)))
    if name.startswith("DeepSeek"):
        law = published("deepseek")
        accounting = "deepseek" if "own M" in name else "steplaw"
        shape = grid.groupby("cell")[["n_layer", "d_model", "d_ff"]].first()

        def rec(train, N, D):
            c = grid[(grid["N"] == N) & (grid["D"] == D)]["cell"].iloc[0]
            C = training_compute(D, accounting, N=N, seq_len=2048, **shape.loc[c].to_dict())
            return float(law.lr_law_(C=C)), float(law.batch_law_(C=C))
        return rec
    if name.startswith("fixed lr=2e-3"):
        return lambda t, N, D: (2e-3, 256 * 2048.0)
    return lambda t, N, D: fixed_best(t)


BASELINES = ("Step Law, published", "DeepSeek, published (own M)", "DeepSeek, published (Step Law M)",
             "fixed lr=2e-3, B=256x2048", "best fixed setting (train cells)")


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """Regret of each row's recommendation on the held-out cell's complete grid (diverged runs too)."""
    from lrplan.hparams.evaluate import regret

    held = _GRIDS["held"]
    return frame.assign(regret=[regret(held[c], lr, b) for c, lr, b in zip(frame["cell"], frame["lr"], frame["batch"])])


def run_task(task: tuple) -> tuple:
    """One leave-out evaluation: (protocol, name, method or None, data key) -> (task, frame)."""
    from lrplan.hparams.evaluate import leave_one_cell_out

    protocol, name, method, key = task
    data = _GRIDS["data"][key]
    cells, filt = _protocols(data)[protocol]
    rec = law_recommender(method, key) if method else _baseline(name)
    return task, score(leave_one_cell_out(data, rec, cells=cells, train_filter=filt))


def run_nested(task: tuple) -> tuple:
    """Joint fit with knobs ``(window, focus)`` on data set ``key``: per held-out cell its LOO
    recommendation (scored on the complete cell) and its inner leave-one-cell-out regret over the
    other cells (fits without the held-out cell and the inner one, scored on the runs of ``key``).
    The fit without cells {i, j} serves both inner scores, so 17 + 136 fits instead of 17 x 16."""
    from itertools import combinations

    from lrplan.hparams.evaluate import regret

    key, (window, focus), *skew = task  # (key, knob) or (key, knob, "skew")
    data = _GRIDS["data"][key]
    rec = law_recommender("joint skew" if skew else "joint", key, window, focus)
    by_cell = {c: g for c, g in data.sort_values(["N", "D"]).groupby("cell", sort=False)}

    def predict(left_out, cell):
        g = by_cell[cell]
        return rec(data[~data["cell"].isin(left_out)], float(g["N"].iloc[0]), float(g["D"].iloc[0]))

    inner: dict = {c: [] for c in by_cell}
    for i, j in combinations(by_cell, 2):
        inner[i].append(regret(by_cell[j], *predict([i, j], j)))
        inner[j].append(regret(by_cell[i], *predict([i, j], i)))
    rows = [{"cell": c, **dict(zip(("lr", "batch"), predict([c], c))), "inner": float(np.mean(inner[c])),
             "window": window, "focus": focus, "skew": bool(skew)} for c in by_cell]
    return task, score(pd.DataFrame(rows))


def _cache_path(fn, task) -> Path | None:
    import hashlib

    folder = _GRIDS.get("cache")
    if folder is None:
        return None
    return Path(folder) / (hashlib.sha1(repr((fn.__name__, _GRIDS["tag"], task)).encode()).hexdigest() + ".pkl")


def _cached(fn, task):
    """``fn(task)``, stored under ``_GRIDS["cache"]`` (one pickle per task) when a cache folder is set."""
    import pickle

    path = _cache_path(fn, task)
    if path is None:
        return fn(task)
    if path.exists():
        return pickle.loads(path.read_bytes())
    out = fn(task)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(pickle.dumps(out))
    os.replace(tmp, path)
    return out


def _run_task(task):
    return _cached(run_task, task)


def _run_nested(task):
    return _cached(run_nested, task)


def _pool_map(fn, tasks, workers: int):
    if workers <= 1:
        return [fn(t) for t in tasks]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as ex:
        return list(ex.map(fn, tasks))


def _row(name: str, protocol: str, runs: str, frames: list[pd.DataFrame], log) -> dict:
    m, w, se = summarise(frames)
    log(f"{protocol:>22s} {name:34s} {runs:>5s}: mean {m:.3f} % (s.e. {se:.3f})  worst {w:.3f} %")
    return {"recommendation": name, "protocol": protocol, "runs per training cell": runs, "mean regret %": m,
            "s.e. over repeats %": se, "worst regret %": w, "repeats": len(frames), "cells": len(frames[0])}


def log_mean(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Geometric mean of two recommendation frames (same held-out cells), re-scored."""
    assert list(a["cell"]) == list(b["cell"])
    lr, batch = np.sqrt(a["lr"].to_numpy() * b["lr"].to_numpy()), np.sqrt(a["batch"].to_numpy() * b["batch"].to_numpy())
    return score(pd.DataFrame({"cell": a["cell"], "lr": lr, "batch": batch}))


def evaluate(grid: pd.DataFrame, full: pd.DataFrame, repeats: int, fraction: float, methods, log,
             only=None, workers: int = 1, nested: bool = True, cache: str | None = None,
             nested_repeats: int | None = None, first_subset: int = 0) -> tuple[list[dict], pd.DataFrame]:
    """All rows of the results table, and the nested-CV knob table (one row per subset, cell, knob).

    ``cache``: folder keeping each finished task's result (a rerun with the same data and fraction
    only reads them; tasks run subset by subset, so an interrupted run keeps whole subsets).
    ``nested_repeats`` < ``repeats`` scores the nested-CV row on the first subsets only and adds the
    fixed-default joint row on those same subsets for a paired comparison. ``first_subset`` = K draws
    subsets K .. K + repeats - 1 (a replication on new random subsets)."""
    from lrplan.hparams.evaluate import subsample

    subsets = list(range(first_subset, first_subset + repeats))
    data = {"all": grid} | {r: subsample(grid, fraction, np.random.default_rng(r)) for r in subsets}
    if cache:
        Path(cache).mkdir(parents=True, exist_ok=True)
    tag = (len(grid), float(grid["loss"].sum()), len(full), fraction)
    _GRIDS.update(grid=grid, data=data, held={c: g for c, g in full.groupby("cell")}, cache=cache, tag=tag)
    runs_label = {"all": "all"} | {r: f"{fraction:.0%}" for r in subsets}
    tasks = []
    for protocol in _protocols(grid):
        if only is not None and protocol not in only:
            continue
        tasks += [(protocol, name, None, "all") for name in BASELINES]
        tasks += [(protocol, f"lrplan {m}", m, key) for m in methods for key in data]
    n_nested = repeats if nested_repeats is None else min(nested_repeats, repeats)
    nested_tasks = [(r, k) for r in subsets[:n_nested] for k in KNOBS + KNOBS_5] if nested and "joint" in methods else []
    nested_tasks += [(r, k, "skew") for r in subsets[:n_nested] for k in KNOBS] if nested and "joint skew" in methods else []
    every = [(run_task, x) for x in tasks] + [(run_nested, x) for x in nested_tasks]
    _GRIDS["cached"] = (sum(bool(p and p.exists()) for p in (_cache_path(f, x) for f, x in every)), len(every))
    done = _pool_map(_run_task, tasks, workers)
    done_nested = _pool_map(_run_nested, nested_tasks, workers)
    frames = {task: frame for task, frame in done}
    groups: dict = {}
    for (protocol, name, method, key), frame in frames.items():
        groups.setdefault((protocol, name, runs_label[key]), []).append(frame)
        if method == "joint" and "near" in methods:
            combo = log_mean(frames[protocol, "lrplan near", "near", key], frame)
            groups.setdefault((protocol, "lrplan near+joint (log-mean)", runs_label[key]), []).append(combo)
    same = f"lrplan joint, first {n_nested} subsets"
    if nested_tasks and n_nested < repeats:
        groups["LOO", same, runs_label[subsets[0]]] = [frames["LOO", "lrplan joint", "joint", r] for r in subsets[:n_nested]]
    knobs = (pd.concat([f.assign(subset=t[0], skew=len(t) > 2) for t, f in done_nested], ignore_index=True)
             if done_nested else pd.DataFrame())
    for row, (grid_knobs, skew) in SELECTIONS.items() if len(knobs) else ():
        rank = {k: i for i, k in enumerate(grid_knobs)}  # ties go to the earlier knob (the default first)
        order = pd.Series([rank.get((w, f), -1) if s == skew else -1
                           for w, f, s in zip(knobs["window"], knobs["focus"], knobs["skew"])], index=knobs.index)
        pool = knobs[order >= 0].assign(order=order[order >= 0])
        chosen = pool.sort_values(["subset", "cell", "inner", "order"]).groupby(["subset", "cell"], sort=False).head(1)
        for r, f in chosen.groupby("subset"):
            groups.setdefault(("LOO", row, runs_label[r]), []).append(f)
        knobs[f"chosen: {row}"] = knobs.index.isin(chosen.index)
    names = [*BASELINES, *(f"lrplan {m}" for m in methods), "lrplan near+joint (log-mean)", same, *SELECTIONS]
    protocols = list(_protocols(grid))
    keys = sorted(groups, key=lambda k: (protocols.index(k[0]), names.index(k[1]), k[2] != "all"))
    rows = [_row(name, protocol, runs, groups[protocol, name, runs], log) for protocol, name, runs in keys]
    return rows, knobs


def knob_table(knobs: pd.DataFrame) -> pd.DataFrame:
    """Per knob: how often each nested-CV row chose it and its (hindsight, not held-out) mean LOO regret."""
    rows = []
    label = {NESTED: "chosen", NESTED_5: "chosen (incl. 5 %)", NESTED_SKEW: "chosen (skew row)"}
    for (skew, w, f), g in knobs.groupby(["skew", "window", "focus"], sort=False):
        per_subset = g.groupby("subset")["regret"].mean() * 100
        chosen = {f"{label[row]} (cells x subsets)": int(g[f"chosen: {row}"].sum()) for row in SELECTIONS
                  if f"chosen: {row}" in g}
        rows.append({"bowl": "skewed" if skew else "symmetric", "window": f"{w:.0%}",
                     "weights exp(-excess / s), s": f"{2 * f:.1%}", **chosen,
                     "mean inner LOO regret %": g["inner"].mean() * 100,
                     "mean LOO regret % (hindsight)": per_subset.mean()})
    return pd.DataFrame(rows)


def threshold_sensitivity(grid: pd.DataFrame) -> pd.DataFrame:
    from lrplan.hparams import HparamLaw

    rows = []
    for tol in (0.0, 0.001, 0.0025, 0.005, 0.01):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            law = HparamLaw(method="near", tol=tol).fit(grid)
        rows.append({"near-optimal tolerance": f"{tol:.2%}", "LR exponent of N": law.lr_law_.exponents["N"],
                     "LR exponent of D": law.lr_law_.exponents["D"], "B exponent of D": law.batch_law_.exponents["D"]})
    for method, skew, label in (("surrogate", None, "surrogate"), ("joint", False, "joint, symmetric bowl"),
                                ("joint", True, "joint skew")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            law = HparamLaw(method=method, skew=skew).fit(grid)
        rows.append({"near-optimal tolerance": f"({label}, no threshold)", "LR exponent of N": law.lr_law_.exponents["N"],
                     "LR exponent of D": law.lr_law_.exponents["D"], "B exponent of D": law.batch_law_.exponents["D"]})
    return pd.DataFrame(rows)


def md_table(frame: pd.DataFrame, floatfmt: str = "{:.3f}") -> str:
    return markdown_table(frame, lambda v: floatfmt.format(v) if isinstance(v, float) else str(v))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true", help="synthetic grid, 2 repeats, no RESULTS.md")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--first-subset", type=int, default=0,
                    help="draw subsets K .. K + repeats - 1 (non-zero: a replication section on new random subsets)")
    ap.add_argument("--fraction", type=float, default=0.3)
    ap.add_argument("--workers", type=int, default=1, help="parallel leave-out evaluations (fork)")
    ap.add_argument("--nested-repeats", type=int, default=None,
                    help="score the nested-CV row on the first K subsets only (its cost is ~10x a plain LOO)")
    ap.add_argument("--cache", default="/tmp/lrplan-bench/steplaw_regret", help="per-task result cache ('' = none)")
    args = ap.parse_args(argv)
    from lrplan.hparams import load_grid

    t0 = time.time()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if args.smoke:
        from lrplan.hparams.synthetic import synthetic_grid

        full = synthetic_grid(Ns=(1e8, 4e8), Ds=(2e9, 8e9), lr_levels=7, batch_levels=5)
        full["n_layer"], full["d_model"], full["d_ff"] = 12.0, 1024.0, 4096.0
        grid, repeats, methods, protocols = full, 2, ("near", "joint", "joint skew"), ("LOO",)
    else:
        if not DATA.exists():
            print(f"{DATA} not found: the Step Law grid is needed for the full benchmark", file=sys.stderr)
            return 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = load_grid(DATA, seq_len=2048, diverged=np.inf)
            grid = load_grid(DATA, seq_len=2048)
        repeats, methods, protocols = args.repeats, METHODS, None
    rows, knobs = evaluate(grid, full, repeats, args.fraction, methods, log, protocols, workers=args.workers,
                           cache=None if args.smoke else args.cache or None, nested_repeats=args.nested_repeats,
                           first_subset=args.first_subset)
    replication = args.first_subset != 0
    table = pd.DataFrame(rows)
    sens = threshold_sensitivity(grid)
    frac = f"{args.fraction:.0%}"
    loo = table[(table["protocol"] == "LOO") & (table["runs per training cell"] == frac)].set_index("recommendation")
    honest, post_hoc = loo.loc[NESTED], loo.loc[NESTED_5] if NESTED_5 in loo.index else None
    skewed = loo.loc[NESTED_SKEW] if NESTED_SKEW in loo.index else None
    goal = honest["mean regret %"] <= 0.10
    goal_skew = skewed is not None and skewed["mean regret %"] <= 0.10
    best = loo.sort_values("mean regret %").iloc[0]
    last = args.first_subset + repeats - 1
    text = "\n".join([
        "## Step Law grid: regret of LR / batch recommendations (`benchmarks/steplaw_regret.py`)"
        + (f", replication on subsets {args.first_subset}-{last}" if replication else ""), "",
        *([f"Replication announced (committed) before it ran: the same methods, knob grids, verdict rules and "
           f"code as the section above, on {repeats} new random {args.fraction:.0%} subsets (r = {args.first_subset} .. "
           f"{last}); the cells are the same {grid['cell'].nunique()}, so it tests the draw of runs, not new cells.", ""]
          if replication else []),
        "Data: dense grid of Li et al. 2025 (arXiv:2503.04715, github.com/step-law/steplaw, "
        "`data/dense_lr_bs_loss.csv`, read in place): 1,911 runs, 17 (N, D) cells; smoothed final training "
        "loss; batch = bs x 2048 tokens; N = non-embedding parameters. Runs > 50 % above their cell minimum "
        f"({len(full) - len(grid)} runs) are dropped from fitting; held-out cells are scored on all their runs.", "",
        "Regret = loss of the run nearest the recommendation in (log2 lr, log2 B) / cell minimum - 1. "
        f"{frac} = a random {frac} of each cell's runs (at least 6), {repeats} subsets (subset r drawn with "
        "numpy default_rng(r)), the same for every method; mean = mean over held-out cells, averaged over subsets, "
        "with its standard error over subsets; worst = the worst cell, averaged over subsets. lrplan methods: "
        "`near` = Step Law's recipe (OLS on runs within 0.25 % of their cell minimum), `surrogate` = per-cell convex "
        "bowl centres then OLS, `joint` = one robust fit of all runs to L*(cell) (1 + bowl around LR*(N, D), B*(D)) "
        "with a symmetric bowl (`HparamLaw(skew=False)`); "
        "surrogate and joint use the runs within 3 % of their cell minimum, weighted exp(-excess / 0.4 %) (defaults, "
        "chosen earlier on this same grid, so their rows are not clean held-out numbers). `joint, nested-CV knobs` = "
        "the joint fit with window {2, 3 %} x weighting {0.2, 0.4, 1 %} chosen for each held-out cell by "
        "leave-one-cell-out regret over the 16 other cells only (scored on their subsampled runs; ties to the "
        "default): a clean held-out number; not run on all runs (10x the cost); a 5 % window was planned too and "
        "dropped for cost (its fits were then ~10x slower) before any nested result was read; `joint, nested-CV knobs incl. 5 % window` adds it back after that result was read (post hoc, a separate row). `near+joint (log-mean)` = geometric mean of the near and joint recommendations, "
        "fixed before it was scored. `joint skew` = the joint fit with a skewed bowl (`HparamLaw(skew=True)`: the bowl "
        "is multiplied by e^(k ln(lr / LR*)), k fitted, so it can rise faster above the optimal LR than below); "
        "`joint skew, nested-CV knobs (pre-registered)` = its knobs chosen exactly as in the original nested row. The "
        "skew was motivated by fits to all runs (the symmetric bowl's LR* moved by 0.93 octaves across the knob grid "
        "and windows up to 10 %, the skewed one's by 0.34), not by any regret; its two rows and the verdict rule "
        "below were committed before any regret of a skewed fit was computed. After this result the skewed bowl became "
        "the default of `HparamLaw(method='joint')` and `lrplan fit-hparams`.", "",
        md_table(table.astype({"s.e. over repeats %": object}).fillna({"s.e. over repeats %": "-"})), "",
        *([f"The nested-CV row covers the first {honest['repeats']} of the {repeats} subsets (it costs ~10x a plain "
           "leave-one-cell-out; the count is what finished within the session's time budget, set by the clock, not "
           f"by the results); `lrplan joint, first {honest['repeats']} subsets` is the fixed-default joint fit on the "
           "same subsets, for a paired comparison.", ""] if honest["repeats"] < repeats else []),
        f"**Goal (mean LOO regret <= 0.10 % with <= 30 % of each cell's runs), judged on the clean nested-CV row: "
        f"{'met' if goal else 'not met'}** -- lrplan joint, nested-CV knobs {honest['mean regret %']:.3f} % "
        f"+- {honest['s.e. over repeats %']:.3f} (s.e.) (worst cell {honest['worst regret %']:.3f} %). "
        + (f"**Pre-registered skewed-bowl row (the same protocol, a second method, committed before scoring): "
           f"{'met' if goal_skew else 'not met'}** -- {NESTED_SKEW} {skewed['mean regret %']:.3f} % "
           f"+- {skewed['s.e. over repeats %']:.3f} (s.e.) (worst cell {skewed['worst regret %']:.3f} %). "
           if skewed is not None else "") +
        f"Lowest {frac} LOO mean of any row: {best.name} {best['mean regret %']:.3f} % "
        f"+- {best['s.e. over repeats %']:.3f}.", "",
        *([f"Post-hoc row (not the verdict): {NESTED_5} {post_hoc['mean regret %']:.4f} % "
           f"+- {post_hoc['s.e. over repeats %']:.4f} (worst cell {post_hoc['worst regret %']:.3f} %) vs the original "
           f"nested row {honest['mean regret %']:.4f} % +- {honest['s.e. over repeats %']:.4f}. The 5 % window was "
           "put back into the knob grid after the original nested row had been read (its fits had been dropped for "
           "cost; the cost was threaded OpenBLAS, fixed in lrplan._blas), so this row is a second look, not a "
           "pre-registered test.", ""] if post_hoc is not None else []),
        f"Nested-CV knob choices ({frac} subsets; the hindsight column averages each knob's LOO regret over all cells "
        "and subsets -- picking its minimum would be selection on the test cells, shown only for context):", "",
        md_table(knob_table(knobs)) if len(knobs) else "(not run)", "",
        "Exponent sensitivity on all cells (the near-optimal threshold moves Step Law's refit; the "
        "surrogate and joint fits have no threshold):", "",
        md_table(sens), "",
        f"Wall time of this invocation {time.time() - t0:.0f} s with {args.workers} worker(s); "
        f"{_GRIDS.get('cached', (0, 0))[0]} of {_GRIDS.get('cached', (0, 0))[1]} leave-out tasks read from the cache "
        f"({_GRIDS.get('cache') or 'none'}).",
    ])
    print(text)
    if not args.smoke:
        from _results import write_section

        write_section("steplaw_regret" + (f"_subsets{args.first_subset}-{last}" if replication else ""), text,
                      command="nice -n 10 python benchmarks/steplaw_regret.py"
                      + (f" --first-subset {args.first_subset}" if replication else "")
                      + (f" --workers {args.workers}" if args.workers > 1 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
