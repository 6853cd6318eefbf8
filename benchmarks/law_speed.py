"""Speed of the loss laws on this machine (medians of several runs).

1. Fit time of each law on the three TRAIN curves of the multi-power-law data (point fit: no
   bootstrap; ``auto`` includes its leave-one-curve-out member refits). Goal: <= 2 s each.
2. Multi-power-law prediction of a 1,000,000-step cosine schedule (peak 3e-4, warmup 10,000,
   floor 3e-5; published 100M parameters): at 1,000 evenly spaced steps (goal <= 0.1 s) and at
   every step (goal <= 2 s), and the largest deviation of both from the exact double sum at
   1,000 evenly spaced steps (goal <= 1e-5 nats). The exact sum's cost is measured on a subset
   and extrapolated.

    python benchmarks/law_speed.py           # writes the law_speed section of RESULTS.md
    python benchmarks/law_speed.py --smoke   # 100,000-step schedule, one repeat, no write
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lrplan.datasets import MPL_PUBLISHED_PARAMS, MPL_TRAIN, mpl_curves  # noqa: E402
from lrplan.laws import kernels as K  # noqa: E402
from lrplan.laws import make_law  # noqa: E402
from lrplan.laws.mpl import published  # noqa: E402
from lrplan.schedules import parse  # noqa: E402
import _results  # noqa: E402

LAWS = ("power", "bound", "momentum", "mpl", "auto")


def fit_times(sizes, laws, repeats):
    rows = []
    for size in sizes:
        curves = mpl_curves(size)
        for name in laws:
            def go():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return make_law(name).fit(curves, runs=MPL_TRAIN)
            t, _, cpu, _ = _results.timed(go, repeats)
            rows.append((size, name, t, cpu))
            print(f"fit {size}M {name}: {t:.2f} s", flush=True)
    return rows


def prediction(T, repeats, n_check=1000):
    lr = parse("cosine:peak=3e-4,warmup=10000,floor=3e-5", T).array()
    law = published("100")
    B, C, beta, gamma = MPL_PUBLISHED_PARAMS["100"][3:]
    sampled = np.linspace(0, T - 1, 1000).astype(np.int64)
    t_sampled, _, cpu_sampled, p_sampled = _results.timed(lambda: law.predict(lr, sampled), repeats)
    t_every, _, cpu_every, p_every = _results.timed(lambda: law.predict(lr), repeats)
    check = np.linspace(0, T - 1, n_check).astype(np.int64)
    t0 = time.perf_counter()
    sub = check[:: max(1, n_check // 50)]
    K.mpl_drop_exact(lr, sub, C, beta, gamma)
    t_sub = time.perf_counter() - t0
    exact_ld = K.mpl_drop_exact(lr, check, C, beta, gamma)
    S1 = np.maximum(np.cumsum(lr / 3e-4)[check], K.MIN_AREA)
    th = law.theta_
    exact = th[0] + th[1] * S1 ** (-th[2]) - B * exact_ld
    err_sampled = float(np.max(np.abs(law.predict(lr, check) - exact)))
    err_every = float(np.max(np.abs(p_every[check] - exact)))
    naive_every = t_sub * (T * T / 2) / float(np.sum(sub + 1))  # extrapolated to all T steps
    return {"T": T, "t_sampled": t_sampled, "t_every": t_every, "cpu_sampled": cpu_sampled,
            "cpu_every": cpu_every, "err_sampled": err_sampled,
            "err_every": err_every, "naive_every_s": naive_every}


def markdown(fit_rows, pred, repeats):
    load = _results.load_average()
    out = ["## Law speed", "", f"Medians of {repeats} runs on this machine (2 cores shared with other jobs; load average "
           f"{load:.1f} at the end of the run). Wall = elapsed time; CPU = CPU time of this process (closer to an idle "
           "machine's wall time when the cores are oversubscribed). Goals are judged on wall time.", "",
           "### Fit time on the 3 TRAIN curves (point fit, no bootstrap; goal <= 2 s)", "",
           "| size | law | wall (s) | CPU (s) | goal met |", "|---|---|---|---|---|"]
    for size, name, t, cpu in fit_rows:
        out.append(f"| {size}M | {name} | {t:.2f} | {cpu:.2f} | {'yes' if t <= 2 else 'no'} |")
    p = pred
    out += ["", f"### Multi-power-law prediction of a {p['T']:,}-step cosine schedule", "",
            "| what | wall (s) | CPU (s) | goal | max abs error vs exact double sum at 1,000 steps (nats) |", "|---|---|---|---|---|",
            f"| 1,000 evenly spaced steps | {p['t_sampled']:.3f} | {p['cpu_sampled']:.3f} | <= 0.1 s | {p['err_sampled']:.2e} |",
            f"| every step | {p['t_every']:.3f} | {p['cpu_every']:.3f} | <= 2 s | {p['err_every']:.2e} |",
            f"| naive double sum, every step (extrapolated) | {p['naive_every_s']:.0f} | - | - | 0 |"]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="100k steps, one repeat, momentum+power fits, no write")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", default="25,100,400")
    a = ap.parse_args(argv)
    if a.smoke:
        rows = fit_times(["25"], ["power", "momentum"], 1)
        pred = prediction(100_000, 1, n_check=50)
        return markdown(rows, pred, 1), pred
    rows = fit_times(a.sizes.split(","), LAWS, a.repeats)
    pred = prediction(1_000_000, a.repeats)
    md = markdown(rows, pred, a.repeats)
    _results.write_section("law_speed", md, command="python benchmarks/law_speed.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip())
    print(md)
    return md, pred


if __name__ == "__main__":
    main()
