"""Proxy validation report: fit on two schedules, predict four others, per law.

Two data sets, the same protocol:

* the multi-power-law curves (Luo et al. 2025; 25M/100M/400M): fit on ``constant_24000`` and
  ``cosine_24000``, predict ``cosine_72000``, ``constant_72000``, ``wsd_20000_24000`` and
  ``wsdld_20000_24000`` (3x horizon extrapolation and unseen cooldown shapes);
* the bundled proxy runs of lrplan's own trainer (``lrplan/data/proxy``, validation loss): per model
  size and seed, fit on the ``constant`` and ``cosine`` runs, predict the four other schedules
  (WSD linear, WSD 1-sqrt, linear to zero, step). The spread of the final loss between the two seeds
  of the same schedule is reported as the noise floor the errors should be judged against.

Metrics per held-out curve on raw loss (nats) at the logged steps, averaged: R2, PredE (mean
relative error), WorstE (max relative error), FinalE (relative error of the last point), Cov90
(fraction of points inside the 90 % band).

    python benchmarks/proxy_validation.py            # every law; writes the RESULTS.md section
    python benchmarks/proxy_validation.py --smoke    # one size, one law, no bootstrap; no write
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lrplan.datasets import mpl_curves  # noqa: E402
from lrplan.laws import make_law  # noqa: E402
from lrplan.laws.data import resolve  # noqa: E402
from lrplan.laws.metrics import coverage, curve_metrics  # noqa: E402
from lrplan._markdown import markdown_table  # noqa: E402

MPL_FIT = ["constant_24000", "cosine_24000"]
MPL_PREDICT = ["cosine_72000", "constant_72000", "wsd_20000_24000", "wsdld_20000_24000"]
LAWS = ("power", "bound", "momentum", "mpl", "auto")
METRICS = ("R2", "PredE", "WorstE", "FinalE", "Cov90")


def score(law, held) -> dict:
    rows = []
    for d in held:
        p, lo, hi = law.predict_band(d.lr, d.steps, level=0.9)
        m = curve_metrics(d.loss, p)
        m["Cov90"] = coverage(d.loss, lo, hi)
        rows.append(m)
    return {k: float(np.mean([r[k] for r in rows])) for k in METRICS}


def fit(name, curves, schedules, runs, n_boot):
    opts = {"n_boot": n_boot} if name == "auto" else {"n_boot": n_boot, "loo": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        law = make_law(name, **opts).fit(curves, schedules=schedules, runs=runs)
    return law, time.perf_counter() - t0


def mpl_rows(sizes, laws, n_boot):
    out = []
    for size in sizes:
        curves = mpl_curves(size)
        held = resolve(curves, runs=MPL_PREDICT)
        for name in laws:
            law, dt = fit(name, curves, None, MPL_FIT, n_boot)
            m = score(law, held)
            out.append({"data": f"MPL {size}M", "law": name, **m, "fit_s": dt})
            print(f"MPL {size}M {name:9s} PredE {m['PredE']:.5f} FinalE {m['FinalE']:.5f} Cov90 {m['Cov90']:.2f}", flush=True)
    return out


def proxy_rows(laws, n_boot, presets=None, seeds=None):
    from lrplan.schedules import parse
    from lrplan.train.results import load_proxy

    curves, runs = load_proxy()
    curves = curves.select(split="val").after_warmup()
    out, noise = [], []
    for preset in presets or sorted(runs["preset"].unique()):
        for seed in seeds or sorted(runs["seed"].unique()):
            sub = runs[(runs["preset"] == preset) & (runs["seed"] == seed)]
            name_of = {r.run: _sched_name(r.run) for r in sub.itertuples()}
            fit_runs = [r for r in sub["run"] if name_of[r] in ("constant", "cosine")]
            pred_runs = [r for r in sub["run"] if r not in fit_runs]
            # exact T-step schedules (the final evaluation at step T holds the last LR)
            schedules = {r.run: parse(r.schedule, int(r.steps)) for r in sub.itertuples()}
            held = resolve(curves, schedules, runs=pred_runs)
            for name in laws:
                law, dt = fit(name, curves, schedules, fit_runs, n_boot)
                m = score(law, held)
                out.append({"data": f"proxy {preset} seed {seed}", "law": name, **m, "fit_s": dt})
                print(f"proxy {preset} s{seed} {name:9s} PredE {m['PredE']:.5f} FinalE {m['FinalE']:.5f}", flush=True)
        # seed noise: relative spread of the final val loss between seeds of the same schedule
        fin = runs[runs["preset"] == preset].assign(name=lambda f: f["run"].map(_sched_name))
        col = "val_loss" if "val_loss" in fin.columns else "loss"
        for sched, g in fin.groupby("name"):
            if len(g) > 1:
                noise.append({"preset": preset, "schedule": sched,
                              "seed spread %": 100 * (g[col].max() - g[col].min()) / g[col].mean()})
    return out, pd.DataFrame(noise)


def _sched_name(run: str) -> str:
    for key in ("wsdsqrt", "constant", "cosine", "linear", "step", "wsd"):
        if key in run:
            return key
    return run


def _pct(x) -> str:
    return f"{100 * x:.3f}"


def table(rows) -> str:
    df = pd.DataFrame(rows)
    return markdown_table(pd.DataFrame({
        "data": df["data"], "law": df["law"], "R2": df["R2"].map("{:.4f}".format), "PredE %": df["PredE"].map(_pct),
        "WorstE %": df["WorstE"].map(_pct), "FinalE %": df["FinalE"].map(_pct), "Cov90": df["Cov90"].map("{:.2f}".format),
        "fit s": df["fit_s"].map("{:.1f}".format)}))


def summary(rows) -> str:
    df = pd.DataFrame(rows)
    df["set"] = df["data"].str.split(" ").str[0]
    g = df.groupby(["set", "law"])[["PredE", "FinalE", "Cov90"]].mean().reset_index()
    return markdown_table(pd.DataFrame({
        "data set": g["set"], "law": g["law"], "mean PredE %": g["PredE"].map(_pct),
        "mean FinalE %": g["FinalE"].map(_pct), "mean Cov90": g["Cov90"].map("{:.2f}".format)}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny run for CI; does not write RESULTS.md")
    ap.add_argument("--laws", default=",".join(LAWS))
    ap.add_argument("--boot", type=int, default=8, help="bootstrap refits per law (bands)")
    ap.add_argument("--sizes", default="25,100,400")
    args = ap.parse_args(argv)
    if args.smoke:
        rows = mpl_rows(["25"], ["momentum"], 0)
        prows, noise = proxy_rows(["momentum"], 0, presets=["nano"], seeds=[0])
        return rows + prows, noise
    laws = args.laws.split(",")
    rows = mpl_rows(args.sizes.split(","), laws, args.boot)
    prows, noise = proxy_rows(laws, args.boot)
    rows += prows
    body = ["## Proxy validation: fit on two schedules, predict four others", "",
            "Multi-power-law data: fit on constant_24000 + cosine_24000, predict cosine_72000, constant_72000, "
            "wsd_20000_24000, wsdld_20000_24000. Bundled proxy runs (lrplan's trainer, val loss, 300 steps): "
            "per preset and seed, fit on constant + cosine, predict WSD (linear), WSD (1-sqrt), linear-to-zero "
            f"and step. Errors relative to the measured loss; bands from {args.boot} bootstrap refits plus "
            "leave-one-curve-out model error (90 %).", "",
            "### Summary (mean over sizes / seeds)", "", summary(rows), "",
            "### Per size and seed", "", table(rows), "",
            "### Seed noise of the proxy runs (final val loss, spread between 2 seeds)", "",
            markdown_table(noise.round(3))]
    from _results import write_section

    write_section("proxy_validation", "\n".join(body), command="python benchmarks/proxy_validation.py " +
                  " ".join(a for a in (argv or sys.argv[1:])))
    return rows, noise


if __name__ == "__main__":
    main()
