"""Loader throughput: how fast each log format reads into the canonical curve table.

    python benchmarks/loaders.py            # full run (writes the 'loaders' section of RESULTS.md)
    python benchmarks/loaders.py --smoke    # tiny sizes, no RESULTS.md (run by the test suite)

Synthetic logs of a long run (``--steps`` logged train steps, an eval every 100 steps, LR logged
with every train step) are written in each format to a temporary directory, then read with
``lrplan.loaders.load``; each timing is the median of ``--repeats`` reads. For TensorBoard the
vectorised CRC-32C check (``crc32c_many``) is compared with the byte-at-a-time loop on the same
file in the same run.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the event-file writer of the test helpers
sys.path.insert(0, str(HERE))

import _results  # noqa: E402

import pandas as pd  # noqa: E402

from lrplan.errors import LrplanWarning  # noqa: E402
from lrplan.loaders import load  # noqa: E402
from lrplan.loaders import _wire  # noqa: E402


def loss(t: int) -> float:
    return 3.2 + 7.8 / (1 + t / 400) ** 0.55


def write_logs(root: Path, steps: int) -> dict[str, Path]:
    from loader_helpers import event, simple_value, write_events

    evals = range(0, steps, 100)
    paths = {}
    rows = [{"run": "r", "split": "train", "step": t, "loss": round(loss(t), 6), "lr": 3e-4} for t in range(steps)]
    rows += [{"run": "r", "split": "val", "step": t, "loss": round(loss(t) + 0.05, 6), "lr": 3e-4} for t in evals]
    paths["table (canonical CSV)"] = root / "curves.csv"
    pd.DataFrame(rows).to_csv(paths["table (canonical CSV)"], index=False)
    paths["table (JSONL)"] = root / "metrics.jsonl"
    paths["table (JSONL)"].write_text("".join(
        f'{{"step": {t}, "lr": 0.0003, "train/loss": {loss(t):.6f}}}\n'
        + (f'{{"step": {t}, "val/loss": {loss(t) + 0.05:.6f}}}\n' if t % 100 == 0 else "") for t in range(steps)))
    evs = [event(0, 1.7e9, file_version="brain.Event:2")]
    for t in range(steps):
        evs.append(event(t, 1.7e9 + t, [simple_value("train/loss", loss(t)), simple_value("train/lr", 3e-4)]))
        if t % 100 == 0:
            evs.append(event(t, 1.7e9 + t, [simple_value("val/loss", loss(t) + 0.05)]))
    paths["tensorboard"] = write_events(root / "tb" / "run" / "events.out.tfevents.1700000000.host.1.0", evs)
    paths["megatron"] = root / "megatron.log"
    paths["megatron"].write_text("".join(
        f" [2024-05-01 12:00:00] iteration {t:8d}/{steps:8d} | consumed samples: {t * 32:12d} | "
        f"elapsed time per iteration (ms): 512.3 | learning rate: 3.000000E-04 | global batch size:    32 | "
        f"lm loss: {loss(t):.6E} | loss scale: 1.0 | grad norm: 1.234 |\n"
        + (f" validation loss at iteration {t} | lm loss value: {loss(t) + 0.05:.6E} | lm loss PPL: "
           f"{math.exp(loss(t)):.6E} |\n" if t % 100 == 0 else "") for t in range(1, steps + 1)))
    return paths


def cpu_time(fn, repeats: int) -> float:
    """Median CPU time over ``repeats`` calls (the machine is shared, wall time is not a property
    of the code)."""
    return _results.timed(fn, repeats)[2]


def run(steps: int, repeats: int) -> tuple[str, dict]:
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", LrplanWarning)
        paths = write_logs(Path(tmp), steps)
        lines = ["| format | file size | points | median CPU time | points/CPU-s | median wall time |",
                 "|---|---:|---:|---:|---:|---:|"]
        results = {}
        for name, path in paths.items():
            n = len(load(path))
            wall, _, t, _ = _results.timed(lambda: load(path), repeats)
            size = path.stat().st_size
            results[name] = {"points": n, "seconds": t}
            lines.append(f"| {name} | {size / 1e6:.2f} MB | {n:,} | {t:.3f} s | {n / t:,.0f} | {wall:.3f} s |")
        data = paths["tensorboard"].read_bytes()
        payloads = [p for _, p in _wire.records(data)]
        t_vec = cpu_time(lambda: _wire.crc32c_many(payloads), repeats)
        t_loop = cpu_time(lambda: [_wire.crc32c(p) for p in payloads], repeats)
    results["crc_speedup"] = t_loop / t_vec
    lines += ["", f"TensorBoard CRC-32C check of {len(payloads):,} records ({len(data) / 1e6:.2f} MB): "
              f"vectorised {t_vec:.3f} s vs byte loop {t_loop:.3f} s CPU (**{t_loop / t_vec:.1f}x**, same run, "
              f"median of {repeats})."]
    load1 = _results.load_average()
    header = (f"Reading a run of {steps:,} logged train steps (+ an eval every 100 steps) with `lrplan.loaders.load`; "
              f"median of {repeats} reads; CPU time of this process (1-minute load average at the end: {load1:.1f} on a "
              f"shared machine, so wall times are inflated).\n\n")
    return header + "\n".join(lines), results


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes; do not write RESULTS.md")
    args = ap.parse_args(argv)
    steps, repeats = (300, 1) if args.smoke else (args.steps, args.repeats)
    body, results = run(steps, repeats)
    print(body)
    if not args.smoke:
        _results.write_section("loaders", body, command="python benchmarks/loaders.py" +
                      (f" --steps {steps}" if steps != 100_000 else "") + (f" --repeats {repeats}" if repeats != 3 else ""))
    return results


if __name__ == "__main__":
    main()
