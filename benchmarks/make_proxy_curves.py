"""Generate the bundled proxy curves in ``lrplan/data/proxy/`` from ``lrplan/data/proxy/grid.toml``.

Runs the grid with :mod:`lrplan.train.sweep` (local launcher), then writes compactly:

* ``curves.csv.gz``: canonical rows ``run, split, step, tokens, lr, loss, batch_size`` of every
  run: train loss every ``--train-every`` steps (plus the last step), val every ``eval_every``
  steps; loss rounded to 5 decimals (nats), LR to 8 significant digits.
* ``runs.csv``: the sweep's runs table (N, D, lr, batch_size, schedule, seed, final losses, ...).

    nice -n 10 python benchmarks/make_proxy_curves.py --work /tmp/proxy_sweep
    python benchmarks/make_proxy_curves.py --smoke          # tiny grid into a temp folder (CI)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEST = ROOT / "lrplan" / "data" / "proxy"
KEEP = ["run", "split", "step", "tokens", "lr", "loss", "batch_size"]


def compact(curves, train_every: int):
    """Thin train rows to every ``train_every`` steps (keeping each run's last), keep all val rows."""
    d = curves[KEEP].copy()
    train = d.split == "train"
    last = d[train].groupby("run").step.transform("max")
    keep = ~train | (d.step % train_every == 0)
    keep[train] = keep[train] | (d.step[train] == last)
    d = d[keep].reset_index(drop=True)
    d["loss"] = d["loss"].round(5)  # losses are 1-6 nats: 6 significant digits
    return d


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=Path, default=DEST / "grid.toml")
    ap.add_argument("--work", type=Path, default=None, help="sweep folder (kept; re-running resumes)")
    ap.add_argument("--dest", type=Path, default=DEST)
    ap.add_argument("--train-every", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--exclude", default=None, help="regex: leave out the grid's runs whose name matches (CPU budget)")
    ap.add_argument("--smoke", action="store_true", help="nano, 2 schedules, 20 steps, in-process, into a temp dest")
    args = ap.parse_args(argv)

    from lrplan import _io
    from lrplan.train.launchers import LocalLauncher, SubmititLauncher
    from lrplan.train.sweep import expand_grid, load_sweep, read_grid, run_sweep

    base, grid, lopts = read_grid(args.grid)
    tmp = tempfile.TemporaryDirectory()
    if args.smoke:
        base.update(steps=20, eval_every=10, eval_batches=1, corpus="synthetic", threads=1)
        grid = {"preset": ["nano"], "seed": [0], "schedule": dict(list(grid["schedule"].items())[:2])}
        args.dest = Path(tmp.name) / "proxy"
    configs = expand_grid(base, grid, source=str(args.grid))
    if args.exclude:
        import re

        configs = [c for c in configs if not re.search(args.exclude, c["run"])]
    work = args.work or Path(tmp.name) / "sweep"
    launcher = (SubmititLauncher(Path(tmp.name) / "logs", cluster="debug") if args.smoke
                else LocalLauncher(args.workers or lopts.get("workers"), threads=1))
    t0 = time.perf_counter()
    table = run_sweep(configs, work, launcher)
    wall = time.perf_counter() - t0
    if (table.status != "finished").any():
        raise SystemExit(f"runs not finished: {table[table.status != 'finished'][['run', 'status', 'error']].to_string()}")
    curves, _ = load_sweep(work)
    rows = compact(curves.data, args.train_every)
    args.dest.mkdir(parents=True, exist_ok=True)
    _io.write_csv(args.dest / "curves.csv.gz", rows, float_format="%.8g", compression={"method": "gzip", "mtime": 0})
    cols = ["run", "status", "preset", "N", "N_nonembed", "D", "lr", "batch_size", "batch_tokens", "seq_len", "steps",
            "schedule", "seed", "loss", "val_loss", "min_val_loss", "train_loss"]
    _io.write_csv(args.dest / "runs.csv", table[[c for c in cols if c in table.columns]], float_format="%.8g")
    size = sum(p.stat().st_size for p in args.dest.iterdir())
    res = {"runs": len(table), "rows": len(rows), "bytes": size, "wall_s": wall, "dest": str(args.dest)}
    print(res)
    tmp.cleanup()
    return res


if __name__ == "__main__":
    main()
