"""Trainer throughput and peak memory per preset on CPU, against a minimal plain PyTorch loop.

Throughput: one process per preset runs :func:`lrplan.train.train` as users run it (logging, LR
from the schedule array, fused AdamW, ``zero_grad(set_to_none=True)``, one ``.tolist()`` per 16
steps, gradient clipping, canonical CSV rows) and, from an ``on_step`` callback, one step of the
*plain* loop written below after every trainer step: same model class and size, batch, data and
threads; ``torch.optim.AdamW`` with its default implementation, ``loss.item()`` every step,
``clip_grad_norm_``, ``optimizer.zero_grad()``. The two loops thus alternate step by step in one
process, so machine load, memory layout and thread state hit both alike. Each step is timed in CPU
time of the process (``time.process_time``) and wall time; throughput = tokens per step / median
step time after warm-up. Ratio = lrplan / plain.

Peak memory: peak RSS (``VmHWM``) of separate short subprocesses running only one of the loops.

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
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PLAN = {  # preset: (batch size, warm-up steps, measured steps)
    "nano": (16, 10, 80),
    "micro": (16, 8, 48),
    "small": (16, 3, 16),
}
THREADS = 1  # robust on a shared 2-core machine; --threads 2 for both cores
CORPUS = "synthetic"  # the data source does not change the cost of a step


class PlainLoop:
    """The minimal plain PyTorch training loop (the reference), one step per call."""

    def __init__(self, preset: str, batch: int, corpus: str = CORPUS):
        import torch

        from lrplan.train.data import load_corpus
        from lrplan.train.model import GPT, PRESETS

        torch.manual_seed(0)
        self.cfg = PRESETS[preset]
        self.batch = batch
        self.data = torch.from_numpy(load_corpus(corpus).train.copy()).long()
        self.model = GPT(self.cfg)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
        self.g = torch.Generator().manual_seed(1)
        self.torch = torch

    def step(self) -> float:
        torch, T = self.torch, self.cfg.block_size
        ix = torch.randint(len(self.data) - T - 1, (self.batch,), generator=self.g)
        x = torch.stack([self.data[i:i + T] for i in ix])
        y = torch.stack([self.data[i + 1:i + 1 + T] for i in ix])
        _, loss = self.model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        self.opt.zero_grad()
        return loss.item()


def interleaved(preset: str, batch: int, warm: int, steps: int, threads: int) -> dict:
    """Alternate one lrplan trainer step and one plain step; per-step CPU and wall times."""
    import torch

    from lrplan.train.model import PRESETS
    from lrplan.train.trainer import TrainConfig, train

    torch.set_num_threads(threads)
    plain = PlainLoop(preset, batch)
    times = {"lrplan": [], "plain": [], "lrplan_wall": [], "plain_wall": []}
    last = {}

    class Alternate:
        def on_step(self, trainer, step, loss):
            c0, w0 = time.process_time(), time.perf_counter()
            if last:  # the trainer's work since the end of the previous callback = one full trainer step
                times["lrplan"].append(c0 - last["c"])
                times["lrplan_wall"].append(w0 - last["w"])
            plain.step()
            c1, w1 = time.process_time(), time.perf_counter()
            times["plain"].append(c1 - c0)
            times["plain_wall"].append(w1 - w0)
            last.update(c=c1, w=w1)

    total = warm + steps + 1
    cfg = TrainConfig(preset=preset, steps=total, batch_size=batch, schedule="constant:peak=1e-3", threads=threads,
                      corpus=CORPUS, eval_every=total, checkpoint_every=total, eval_batches=1, keep_checkpoint=False)
    with tempfile.TemporaryDirectory() as tmp:
        train(cfg, Path(tmp) / "run", callbacks=[Alternate()])
    med = {k: statistics.median(v[warm:]) for k, v in times.items()}
    tokens = batch * PRESETS[preset].block_size
    return {"tokens_per_step": tokens, **{f"{k}_s": v for k, v in med.items()}}


def rss_worker(kind: str, preset: str, batch: int, threads: int) -> None:
    """Run a few steps of one loop only and print the peak RSS (MB)."""
    import torch

    torch.set_num_threads(threads)
    if kind == "plain":
        loop = PlainLoop(preset, batch)
        for _ in range(4):
            loop.step()
    else:
        from lrplan.train.trainer import TrainConfig, train

        with tempfile.TemporaryDirectory() as tmp:
            train(TrainConfig(preset=preset, steps=4, batch_size=batch, schedule="constant:peak=1e-3", threads=threads,
                              corpus=CORPUS, eval_every=4, eval_batches=1, keep_checkpoint=False), Path(tmp) / "r")
    print(json.dumps({"peak_rss_mb": vm_hwm_mb()}))


def vm_hwm_mb() -> float:
    """Peak RSS of this process image (``VmHWM``). Not ``ru_maxrss``: Linux carries the parent's
    peak over fork and exec into it, so every child would report at least the parent's RSS."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover - not Linux


def peak_rss(kind: str, preset: str, batch: int, threads: int) -> float:
    cmd = [sys.executable, __file__, "--rss", kind, preset, str(batch), str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_rss_mb"]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="nano, few steps, no memory subprocesses; writes nothing")
    ap.add_argument("--threads", type=int, default=THREADS)
    ap.add_argument("--rss", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rss:
        kind, preset, batch, threads = args.rss
        rss_worker(kind, preset, int(batch), int(threads))
        return {}
    plan = {"nano": (4, 2, 6)} if args.smoke else PLAN
    results = {}
    for preset, (batch, warm, steps) in plan.items():
        r = interleaved(preset, batch, warm, steps, args.threads)
        tok = r["tokens_per_step"]
        res = {"batch": batch, "steps": steps,
               "lrplan_tokens_cpu_s": tok / r["lrplan_s"], "plain_tokens_cpu_s": tok / r["plain_s"],
               "ratio": r["plain_s"] / r["lrplan_s"],
               "lrplan_tokens_s": tok / r["lrplan_wall_s"], "plain_tokens_s": tok / r["plain_wall_s"],
               "wall_ratio": r["plain_wall_s"] / r["lrplan_wall_s"], "lrplan_cpu_ms_step": 1000 * r["lrplan_s"]}
        if not args.smoke:
            res["lrplan_rss_mb"] = peak_rss("lrplan", preset, batch, args.threads)
            res["plain_rss_mb"] = peak_rss("plain", preset, batch, args.threads)
        results[preset] = res
        print(preset, res, file=sys.stderr)
    if not args.smoke:
        write(results, args)
    return results


def write(results: dict, args) -> None:
    from _results import write_section

    from lrplan.train.model import GPT, PRESETS

    lines = [
        "## Trainer speed (CPU)", "",
        f"`lrplan train` vs a minimal plain PyTorch loop of the same model, batch, data and {args.threads} "
        "thread(s), alternating step by step in one process (the plain step runs inside the trainer's "
        "`on_step` callback), so machine load hits both alike. Throughput = tokens per step / median step "
        "time after warm-up, in CPU time of the process (`time.process_time`) and in wall time (which "
        "depends on the load of this shared machine). Peak RSS from separate short subprocesses. "
        "Goal: ratio >= 1.0.", "",
        "| preset | params | batch (seq x tokens) | steps timed | lrplan tokens/CPU-s | plain tokens/CPU-s | **ratio (CPU)** | "
        "wall tokens/s lrplan / plain (ratio) | lrplan CPU ms/step | peak RSS lrplan / plain (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for preset, r in results.items():
        n = GPT(PRESETS[preset]).num_params()
        lines.append(f"| {preset} | {n / 1e6:.2f}M | {r['batch']} x {PRESETS[preset].block_size} | {r['steps']} | "
                     f"{r['lrplan_tokens_cpu_s']:,.0f} | {r['plain_tokens_cpu_s']:,.0f} | **{r['ratio']:.2f}** | "
                     f"{r['lrplan_tokens_s']:,.0f} / {r['plain_tokens_s']:,.0f} ({r['wall_ratio']:.2f}) | "
                     f"{r['lrplan_cpu_ms_step']:.1f} | {r['lrplan_rss_mb']:.0f} / {r['plain_rss_mb']:.0f} |")
    lines += ["", "Differences between the two loops (the plain one is what a tutorial writes): the trainer uses "
              "fused AdamW (one kernel over all parameters instead of a per-tensor loop: measured 0.7 vs 2.5 ms "
              "per optimizer step on nano under load, the main gain on the small presets where per-op overhead "
              "matters), `zero_grad(set_to_none=True)`, batch windows gathered with one indexing op instead of a "
              "Python list of slices, and one `.tolist()` of stacked losses per 16 steps instead of a `.item()` "
              "per step (free on CPU, a sync on CUDA). Its extra work (CSV rows, schedule lookup, grad-norm "
              "logging) is small. On the larger presets forward/backward dominates and the ratio tends to 1. "
              "Peak RSS (`VmHWM`) includes the Python/torch runtime (~300 MB); the trainer process also imports "
              "pandas (for its run files), most of its extra ~30 MB."]
    write_section("trainer_speed", "\n".join(lines), command="nice -n 10 python benchmarks/trainer_speed.py")


if __name__ == "__main__":
    main()
