"""Shared helper: each benchmark script owns one section of benchmarks/RESULTS.md.

    from _results import write_section
    write_section("mpl_accuracy", markdown_text, command="python benchmarks/mpl_accuracy.py")

A section is delimited by ``<!-- BEGIN name -->`` / ``<!-- END name -->``; re-running a script
replaces only its own section. Writes are atomic and serialised with a lock file, so scripts may
run concurrently.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# lrplan benchmark results\n\nEvery section below is written by the script named in it; rerun that command to refresh it.\n"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def timed(fn, repeats: int):
    """Run ``fn`` ``repeats`` times: (median wall s, all wall s, median CPU s of this process, last result)."""
    times, cpu, out = [], [], None
    for _ in range(max(1, repeats)):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), times, statistics.median(cpu), out


def load_average() -> float:
    """The 1-minute load average (NaN where the platform has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def write_section(name: str, body: str, command: str | None = None) -> Path:
    """Replace (or append) section ``name`` of RESULTS.md with ``body`` (markdown)."""
    command = command or "python " + " ".join(sys.argv)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"<!-- BEGIN {name} -->\n{body.rstrip()}\n\n"
             f"_Produced by `{command}` on {stamp} ({machine()})._\n<!-- END {name} -->")
    lock = RESULTS.with_suffix(".lock")
    with open(lock, "w") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        text = RESULTS.read_text() if RESULTS.exists() else HEADER
        pat = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
        text = pat.sub(lambda m: block, text) if pat.search(text) else text.rstrip() + "\n\n" + block + "\n"
        tmp = RESULTS.with_suffix(".md.tmp")
        tmp.write_text(text)
        os.replace(tmp, RESULTS)
    return RESULTS
