"""Trainer throughput and peak memory per preset on CPU, against a minimal plain PyTorch loop.

For each preset, two measurements run in fresh subprocesses (so peak RSS is per measurement and
thread settings do not leak), alternating order over repeats so machine load hits both alike:

* ``lrplan``: :func:`lrplan.train.train` as users run it (logging, LR from the schedule array,
  fused AdamW, ``zero_grad(set_to_none=True)``, one ``.tolist()`` per 16 steps instead of a
  ``.item()`` per step, gradient clipping, canonical CSV rows).
* ``plain``: the textbook loop written below: same model class, batch, data and threads;
  ``torch.optim.AdamW`` with its default implementation, ``loss.item()`` every step,
  ``clip_grad_norm_``, ``optimizer.zero_grad()``.

Throughput = tokens per optimizer step / median CPU time per step (``time.process_time``; wall
time is reported too), so other processes on a shared machine do not distort it. Ratio =
lrplan / plain, median over repeats.

    nice -n 10 python benchmarks/trainer_speed.py            # full run, writes RESULTS.md
    python benchmarks/trainer_speed.py --smoke               # CI-sized, writes nothing
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PLAN = {  # preset: (batch size, warm-up steps, measured steps)
    "nano": (16, 10, 60),
    "micro": (16, 8, 40),
    "small": (16, 3, 12),
}
THREADS = 1  # robust on a shared 2-core machine; --threads 2 for both cores


def measure_plain(preset: str, batch: int, warm: int, steps: int, threads: int, corpus: str = "synthetic") -> dict:
    """The minimal plain PyTorch loop (the reference)."""
    import torch

    from lrplan.train.data import load_corpus
    from lrplan.train.model import GPT, PRESETS

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = PRESETS[preset]
    data = torch.from_numpy(load_corpus(corpus).train.copy()).long()
    model = GPT(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    g = torch.Generator().manual_seed(1)
    times, cpu = [], []
    for _ in range(warm + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        ix = torch.randint(len(data) - cfg.block_size - 1, (batch,), generator=g)
        x = torch.stack([data[i:i + cfg.block_size] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + cfg.block_size] for i in ix])
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        loss.item()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"step_s": statistics.median(times[warm:]), "cpu_s": statistics.median(cpu[warm:]),
            "tokens_per_step": batch * cfg.block_size}


def measure_lrplan(preset: str, batch: int, warm: int, steps: int, threads: int, corpus: str = "synthetic") -> dict:
    """The lrplan trainer end to end; step times from an ``on_step`` callback."""
    import tempfile

    from lrplan.train.trainer import TrainConfig, train

    stamps, cpu = [], []

    class Clock:
        def on_step(self, trainer, step, loss):
            stamps.append(time.perf_counter())
            cpu.append(time.process_time())

    total = warm + steps + 1
    cfg = TrainConfig(preset=preset, steps=total, batch_size=batch, schedule="constant:peak=1e-3", threads=threads, corpus=corpus,
                      eval_every=total, checkpoint_every=total, eval_batches=1, keep_checkpoint=False)
    with tempfile.TemporaryDirectory() as tmp:
        train(cfg, Path(tmp) / "run", callbacks=[Clock()])
    diffs = [b - a for a, b in zip(stamps[warm:], stamps[warm + 1:])]
    cdiffs = [b - a for a, b in zip(cpu[warm:], cpu[warm + 1:])]
    from lrplan.train.model import PRESETS

    return {"step_s": statistics.median(diffs), "cpu_s": statistics.median(cdiffs),
            "tokens_per_step": batch * PRESETS[preset].block_size}


def worker(kind: str, preset: str, batch: int, warm: int, steps: int, threads: int) -> None:
    fn = measure_plain if kind == "plain" else measure_lrplan
    res = fn(preset, batch, warm, steps, threads)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(res))


def run_worker(kind, preset, batch, warm, steps, threads) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, preset, str(batch), str(warm), str(steps), str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="nano only, few steps, one repeat; writes nothing")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=THREADS)
    ap.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        kind, preset, *nums = args.worker
        worker(kind, preset, *map(int, nums))
        return {}
    plan = {"nano": (4, 2, 4)} if args.smoke else PLAN
    repeats = 1 if args.smoke else args.repeats
    results = {}
    for preset, (batch, warm, steps) in plan.items():
        runs = {"plain": [], "lrplan": []}
        for rep in range(repeats):
            order = ("plain", "lrplan") if rep % 2 == 0 else ("lrplan", "plain")
            for kind in order:
                if args.smoke:  # in this process: fast enough for CI
                    fn = measure_plain if kind == "plain" else measure_lrplan
                    res = fn(preset, batch, warm, steps, args.threads)
                    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                else:
                    res = run_worker(kind, preset, batch, warm, steps, args.threads)
                runs[kind].append(res)
                print(f"{preset} {kind} rep {rep}: {runs[kind][-1]}", file=sys.stderr)
        tps = {k: [r["tokens_per_step"] / r["step_s"] for r in v] for k, v in runs.items()}
        cps = {k: [r["tokens_per_step"] / r["cpu_s"] for r in v] for k, v in runs.items()}
        ratios = [a / b for a, b in zip(cps["lrplan"], cps["plain"])]
        results[preset] = {
            "batch": batch, "lrplan_tokens_cpu_s": statistics.median(cps["lrplan"]),
            "plain_tokens_cpu_s": statistics.median(cps["plain"]), "ratio": statistics.median(ratios), "ratios": ratios,
            "lrplan_tokens_s": statistics.median(tps["lrplan"]), "plain_tokens_s": statistics.median(tps["plain"]),
            "wall_ratio": statistics.median(a / b for a, b in zip(tps["lrplan"], tps["plain"])),
            "lrplan_cpu_ms_step": 1000 * statistics.median(r["cpu_s"] for r in runs["lrplan"]),
            "lrplan_rss_mb": max(r["peak_rss_mb"] for r in runs["lrplan"]),
            "plain_rss_mb": max(r["peak_rss_mb"] for r in runs["plain"]),
        }
    if not args.smoke:
        write(results, args)
    return results


def write(results: dict, args) -> None:
    from _results import write_section

    from lrplan.train.model import GPT, PRESETS

    lines = [
        "## Trainer speed (CPU)", "",
        f"`lrplan train` vs a minimal plain PyTorch loop of the same model, batch, data and {args.threads} "
        "thread(s); a fresh subprocess per measurement, median per-step time after warm-up, median of "
        f"{args.repeats} alternating repeats. Throughput is tokens per CPU-second of the process "
        "(`time.process_time`), which stays meaningful when other jobs load the machine; wall-clock "
        "tokens/s (load-dependent) is shown too. Goal: ratio >= 1.0.", "",
        "| preset | params | batch (sequences) | lrplan tokens/CPU-s | plain tokens/CPU-s | ratio (per repeat) | "
        "lrplan CPU ms/step | wall tokens/s lrplan / plain (ratio) | peak RSS lrplan / plain (MB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for preset, r in results.items():
        n = GPT(PRESETS[preset]).num_params()
        lines.append(f"| {preset} | {n / 1e6:.2f}M | {r['batch']} x {PRESETS[preset].block_size} | "
                     f"{r['lrplan_tokens_cpu_s']:,.0f} | {r['plain_tokens_cpu_s']:,.0f} | "
                     f"**{r['ratio']:.2f}** ({', '.join(f'{x:.2f}' for x in r['ratios'])}) | {r['lrplan_cpu_ms_step']:.1f} | "
                     f"{r['lrplan_tokens_s']:,.0f} / {r['plain_tokens_s']:,.0f} ({r['wall_ratio']:.2f}) | "
                     f"{r['lrplan_rss_mb']:.0f} / {r['plain_rss_mb']:.0f} |")
    lines += ["", "Differences between the two loops (the plain one is what a tutorial writes): the trainer uses "
              "fused AdamW (one kernel over all parameters instead of a per-tensor Python loop; this is most of "
              "the gap on the small presets, where per-op overhead dominates), `zero_grad(set_to_none=True)`, "
              "batch windows gathered with one indexing op instead of a Python list of slices, and one "
              "`.tolist()` of stacked losses per 16 steps instead of a `.item()` per step (free on CPU, a sync on "
              "CUDA). Its extra work (CSV rows, schedule lookup, progress, grad-norm logging) is small. Peak RSS "
              "includes the Python/torch runtime (~400 MB). Data: the synthetic corpus (the data source does not change the step cost)."]
    write_section("trainer_speed", "\n".join(lines), command="nice -n 10 python benchmarks/trainer_speed.py")


if __name__ == "__main__":
    main()
