"""Shared helpers of the continual pre-training benchmarks (``benchmarks/cpt_*.py``).

Runs go to a cache folder (``$LRPLAN_BENCH_CACHE``, default ``/tmp/lrplan-bench``); the trainer
skips a finished run whose folder holds the same config, so the scripts share runs (e.g. the
0 % replay run of the replay sweep is a run of the CPT benchmark) and can be re-run cheaply.

Corpora: old domain = the Python standard library source (``stdlib``); new domain = English prose,
the passages and paraphrases of the Fictional Knowledge dataset (Chang et al. 2024, Apache-2.0,
read from ``$LRPLAN_FK_DIR``, default ``/work/shared/data/fictional_knowledge``), written once to
a text file in the cache (not shipped). ``--smoke`` uses two synthetic Markov corpora instead.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CACHE = Path(os.environ.get("LRPLAN_BENCH_CACHE", "/tmp/lrplan-bench"))
FK_DIR = Path(os.environ.get("LRPLAN_FK_DIR", "/work/shared/data/fictional_knowledge"))
#: pre-training and continual steps of the full benchmarks (smoke: 10 + 10); kept small because the
#: benchmark machine is 2 cores shared by several engineers.
PT_STEPS, CPT_STEPS = 300, 300
SMOKE_STEPS = 10
SMOKE_OLD, SMOKE_NEW = "synthetic:vocab=32,branch=4,seed=0,bytes=40000", "synthetic:vocab=32,branch=2,seed=7,bytes=40000"


def prose_corpus() -> str:
    """Path of the prose corpus text file (built on first use from the Fictional Knowledge JSON)."""
    from lrplan import _io
    from lrplan.train.facts import load_records

    path = CACHE / "fk_prose.txt"
    if not path.exists():
        recs = load_records(FK_DIR)
        text = "\n\n".join([r["train_context"] for r in recs] + [p for r in recs for p in r.get("paraphrases") or []])
        _io.write_text(path, text)
    return str(path)


def base_config(smoke: bool) -> dict:
    """Trainer settings shared by the CPT benchmarks (``nano``, batch 16 x 64 bytes)."""
    pt, cpt = (SMOKE_STEPS, SMOKE_STEPS) if smoke else (PT_STEPS, CPT_STEPS)
    return dict(preset="nano", batch_size=16, steps=pt + cpt, eval_every=2 if smoke else 15,
                eval_batches=1 if smoke else 2, eval_batch_size=8 if smoke else 32,
                checkpoint_every=10_000, keep_checkpoint=False)


def corpora(smoke: bool) -> tuple[str, str]:
    return (SMOKE_OLD, SMOKE_NEW) if smoke else ("stdlib", prose_corpus())


def _train_one(args):
    cfg, out = args
    import torch

    from lrplan.train import train

    torch.set_num_threads(1)
    res = train(cfg, out)
    return str(res.out), res.status


def run_all(configs, workers: int = 2) -> list[Path]:
    """Train (or reuse) every config into ``CACHE/runs/<run name>``; returns the folders."""
    outs = [CACHE / "runs" / cfg.run for cfg in configs]
    for out in outs:  # a run killed mid-way (no checkpoint in these benchmarks) cannot resume: start over
        meta = out / "meta.json"
        if meta.exists() and '"status": "running"' in meta.read_text():
            import shutil

            shutil.rmtree(out)
    jobs = [(cfg, str(out)) for cfg, out in zip(configs, outs)]
    if workers <= 1:
        results = [_train_one(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers) as ex:
            results = list(ex.map(_train_one, jobs))
    for out, status in results:
        if status != "finished":
            raise RuntimeError(f"{out}: run {status}")
    return outs


def parse_args(doc: str, argv, seeds: int = 1, workers: bool = True, short: bool = False, first_seed: bool = False,
               replay: bool = False, preset: bool = False, switches: dict[str, str] | None = None):
    """The common command line: ``--smoke``, ``--seeds N``, ``--workers K`` (and ``--short``,
    ``--first-seed K``: seeds K .. K + N - 1, ``--replay F``: fraction of old data after the switch,
    ``--preset NAME``: model size, and a script's own on/off ``switches``: ``{"--name": help}``)."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="seconds-long CI version (synthetic corpora, no RESULTS.md)")
    ap.add_argument("--seeds", type=int, default=seeds)
    if workers:
        ap.add_argument("--workers", type=int, default=2)
    if short:
        ap.add_argument("--short", action="store_true", help="the shared 300 + 300-step setting instead of the longer one")
    if first_seed:
        ap.add_argument("--first-seed", type=int, default=0, help="first seed (seeds K .. K + N - 1); non-zero = a replication section")
    if replay:
        ap.add_argument("--replay", type=float, default=0.0, help="fraction of old-domain data in the batches after the switch")
    if preset:
        ap.add_argument("--preset", choices=("nano", "micro", "small"), default="nano", help="model size (default nano)")
    for flag, text in (switches or {}).items():
        ap.add_argument(flag, action="store_true", help=text)
    return ap.parse_args(argv)


def publish(name: str, lines: list[str], script: str | None = None, flags: str = "") -> None:
    """Write section ``name`` of benchmarks/RESULTS.md (made by ``benchmarks/<script or name>.py
    <flags>``) and print it."""
    from _results import write_section

    write_section(name, "\n".join(lines), command=f"nice -n 10 python benchmarks/{script or name}.py{flags}")
    print("\n".join(lines))


def fmt(x: float, nd: int = 4) -> str:
    return f"{x:.{nd}f}"
