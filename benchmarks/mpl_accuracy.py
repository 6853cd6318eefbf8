"""Accuracy on the multi-power-law benchmark (Luo et al. 2025): fit every law on the three TRAIN
curves of each model size, predict the six TEST curves, report R2, MAE, RMSE, PredE, WorstE,
final-loss error and the coverage of the 90 % band; compare ``auto`` with the published MPL.

    python benchmarks/mpl_accuracy.py            # all laws, all sizes; writes RESULTS.md section
    python benchmarks/mpl_accuracy.py --smoke    # one size, two fast laws, no bootstrap; no write
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lrplan.datasets import MPL_PUBLISHED_TEST_METRICS, MPL_TEST, MPL_TRAIN, mpl_curves, mpl_schedule  # noqa: E402
from lrplan.laws import make_law  # noqa: E402
from lrplan.laws.metrics import average, coverage, curve_metrics  # noqa: E402
from lrplan.laws.mpl import published  # noqa: E402

LAWS = ("power", "bound", "momentum", "mpl", "auto")


def evaluate(law, curves, level=0.9):
    per, cov = {}, []
    for run in MPL_TEST:
        c = curves.curve(run)
        lr = mpl_schedule(run).array()
        p, lo, hi = law.predict_band(lr, c["step"].to_numpy(), level=level)
        per[run] = curve_metrics(c["loss"], p)
        cov.append(coverage(c["loss"], lo, hi))
    out = average(per)
    out["Cov90"] = float(np.mean(cov)) if getattr(law, "boot_", None) or law.model_rel_sd() > 0 else float("nan")
    return out, per


def run(sizes, laws, n_boot, smoke=False):
    rows, ratio_rows, detail = [], [], []
    for size in sizes:
        curves = mpl_curves(size)
        pub = MPL_PUBLISHED_TEST_METRICS[size]
        m, _ = evaluate(published(size), curves)
        rows.append((size, "MPL published params", m, float("nan")))
        for name in laws:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                law = make_law(name, n_boot=n_boot, **({} if name == "auto" else {"loo": True})).fit(curves, runs=MPL_TRAIN)
                dt = time.perf_counter() - t0
            m, per = evaluate(law, curves)
            rows.append((size, name, m, dt))
            if name == "auto":
                ratio_rows.append((size, m["PredE"] / pub["PredE"], m["WorstE"], pub["WorstE"], law.weights_))
                detail.append((size, per))
            print(f"{size}M {name:9s} PredE {m['PredE']:.5f} WorstE {m['WorstE']:.5f} cov {m['Cov90']:.2f} ({dt:.1f} s)", flush=True)
    return rows, ratio_rows, detail


def markdown(rows, ratio_rows, detail, n_boot):
    out = ["## MPL benchmark accuracy (fit on 3 TRAIN curves, predict 6 TEST curves)", "",
           "Metrics on raw loss at the logged steps, averaged over the 6 TEST curves (lower is better except R2). "
           f"FinalE = relative error at the last logged step. Cov90 = fraction of TEST points inside the 90 % band "
           f"(bootstrap {n_boot} refits + leave-one-curve-out model error). Fit time includes the bootstrap and "
           "leave-one-curve-out refits (the point fit alone is timed in law_speed).", "",
           "| size | law | R2 | MAE | RMSE | PredE | WorstE | FinalE | Cov90 | fit time (s) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for size, name, m, dt in rows:
        t = "-" if not np.isfinite(dt) else f"{dt:.1f}"
        out.append(f"| {size}M | {name} | {m['R2']:.4f} | {m['MAE']:.5f} | {m['RMSE']:.5f} | {m['PredE']:.5f} | "
                   f"{m['WorstE']:.5f} | {m['FinalE']:.5f} | {'-' if not np.isfinite(m['Cov90']) else format(m['Cov90'], '.2f')} | {t} |")
    out += ["", "### `auto` vs the published multi-power law", "",
            "Goal: PredE ratio <= 0.9 and WorstE <= published at every size.", "",
            "| size | PredE ratio (auto / published) | WorstE auto | WorstE published | goal met | weights |",
            "|---|---|---|---|---|---|"]
    for size, ratio, w, wp, weights in ratio_rows:
        ok = "yes" if ratio <= 0.9 and w <= wp else "no"
        ws = ", ".join(f"{k} {v:.2f}" for k, v in weights.items())
        out.append(f"| {size}M | {ratio:.3f} | {w:.5f} | {wp:.5f} | {ok} | {ws} |")
    for size, per in detail:
        out += ["", f"Per-curve `auto` PredE / WorstE at {size}M: " + "; ".join(
            f"{r} {v['PredE']:.5f} / {v['WorstE']:.5f}" for r, v in per.items())]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="quick run (25M, power + momentum, no bootstrap), no write")
    ap.add_argument("--boot", type=int, default=10)
    ap.add_argument("--sizes", default="25,100,400")
    ap.add_argument("--laws", default=",".join(LAWS))
    a = ap.parse_args(argv)
    if a.smoke:
        rows, ratio_rows, detail = run(["25"], ["power", "momentum"], 0, smoke=True)
        return markdown(rows, ratio_rows, detail, 0)
    rows, ratio_rows, detail = run(a.sizes.split(","), a.laws.split(","), a.boot)
    md = markdown(rows, ratio_rows, detail, a.boot)
    from _results import write_section

    write_section("mpl_accuracy", md, command="python benchmarks/mpl_accuracy.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip())
    print(md)
    return md


if __name__ == "__main__":
    main()
