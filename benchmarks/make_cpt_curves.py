"""Write the bundled continual pre-training curves in ``lrplan/data/cpt/`` from ``cpt_predict`` runs.

The runs are those of ``benchmarks/cpt_predict.py --replay 0.05`` (nano, 600 steps of the Python
stdlib, then 600 steps of English prose with 5 % stdlib replay; three continual schedules; seeds
0-2), trained into the benchmark cache if missing. Written compactly:

* ``curves.csv.gz``: rows ``run, split, step, loss`` of both validation domains (``val_old`` =
  stdlib, ``val_new`` = prose), every 10 steps; loss rounded to 5 decimals (nats/byte).
* ``runs.csv``: ``run, continual, seed, schedule, switch, replay, params`` (the exact lrplan spec of
  the whole schedule; the LR of every step is ``lrplan.schedules.parse(schedule).array()``).

    nice -n 10 python benchmarks/make_cpt_curves.py
    python benchmarks/make_cpt_curves.py --smoke       # synthetic corpora, into a temp folder (CI)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

from _cpt import parse_args, run_all
from cpt_predict import CPT, LONG, configs

DEST = Path(__file__).resolve().parents[1] / "lrplan" / "data" / "cpt"
REPLAY, SEEDS = 0.05, (0, 1, 2)


def main(argv=None) -> Path:
    from lrplan import _io

    args = parse_args(__doc__, argv)
    seeds = SEEDS[:1] if args.smoke else SEEDS
    cfgs = [c for n in CPT for c in configs(args.smoke, seeds, replay=REPLAY, names=(n,), long=None if args.smoke else LONG)]
    folders = run_all(cfgs, 1 if args.smoke else args.workers)
    dest = Path(tempfile.mkdtemp()) if args.smoke else DEST
    curves, runs = [], []
    for cfg, folder in zip(cfgs, folders):
        meta = json.loads((folder / "meta.json").read_text())
        rows = pd.read_csv(folder / "curves.csv")
        rows = rows[rows["split"].isin(["val_old", "val_new"])][["run", "split", "step", "loss"]]
        curves.append(rows.assign(loss=rows["loss"].round(5)))
        runs.append({"run": meta["run"], "continual": meta["run"].split("-")[-3], "seed": cfg.seed,
                     "schedule": meta["schedule"], "switch": cfg.mixture[1][0], "replay": REPLAY, "params": meta["params"]})
    dest.mkdir(parents=True, exist_ok=True)
    _io.write_csv(dest / "curves.csv.gz", pd.concat(curves, ignore_index=True), compression={"method": "gzip", "mtime": 0})
    _io.write_csv(dest / "runs.csv", pd.DataFrame(runs))
    print(f"wrote {dest}/curves.csv.gz and runs.csv ({len(runs)} runs)")
    return dest


if __name__ == "__main__":
    main(sys.argv[1:])
