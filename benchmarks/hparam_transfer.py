"""LR transfer on the built-in trainer: fit an LR law on two small model sizes, predict the best LR
of a third, larger size, and check it against a sweep at that size (goal: within a factor 1.5).

Proxy grid: the nano preset (2 layers, 4 heads) at widths 64 and 96 x 3 peak LRs x 2 batch sizes
(sequences), every run on the same
token budget D (steps = D / (batch x seq_len)), cosine schedule with warmup, seq_len 64 for every size.
Law: ``HparamLaw(method="surrogate")`` -- per cell a convex bowl in ln LR at the best batch (2 batch
sizes cannot fix a batch curvature), then LR* = a N^alpha over the two sizes (D is constant, so its
term is dropped). N = non-embedding parameters. Target: width 128 swept over 5 LRs spaced 2x at the
better batch of the wider proxy; its "measured" best LR is the parabola in ln LR through the sweep's
argmin and its two neighbours (the grid argmin is shown too).

    nice -n 10 python benchmarks/hparam_transfer.py            # full (CPU: tens of minutes)
    python benchmarks/hparam_transfer.py --smoke --out DIR      # tiny, seconds; used by the tests
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

# sizes: the nano preset (2 layers, 4 heads, context 64) at widths 64 and 96, target width 128
FULL = {"tokens": 16 * 64 * 200, "proxy_lrs": [1.5e-3, 4.5e-3, 1.35e-2], "batches": [8, 16], "proxies": [64, 96],
        "target": 128, "target_lrs": [1.1e-3, 2.2e-3, 4.5e-3, 9e-3, 1.8e-2]}
SMOKE = {"tokens": 8 * 64 * 12, "proxy_lrs": [1e-3, 3e-3, 1e-2], "batches": [4, 8], "proxies": [32, 64],
         "target": 96, "target_lrs": [1e-3, 3e-3, 1e-2]}


class InProcess:
    """Run configs one after another in this process (smoke runs: no worker start-up)."""

    def map(self, fn, configs):
        return [fn(dict(c, threads=1)) for c in configs]


def configs(spec: dict, widths, lrs, batches, smoke: bool) -> list[dict]:
    out = []
    for w in widths:
        for b in batches:
            steps = spec["tokens"] // (b * 64)
            for lr in lrs:
                out.append({"preset": "nano", "n_embd": w, "block_size": 64, "peak_lr": lr, "batch_size": b, "steps": steps,
                            "schedule": f"cosine:peak=1,warmup={max(1, steps // 10)},floor=0.1x", "corpus": "stdlib",
                            "seed": 0, "eval_every": steps, "eval_batches": 1 if smoke else 4,
                            "checkpoint_every": 10 ** 6, "keep_checkpoint": False, "device": "cpu",
                            "run": f"d{w}-lr{lr:g}-bs{b}"})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default="/tmp/lrplan_hparam_transfer")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    from lrplan.hparams import HparamLaw, load_grid
    from lrplan.hparams.optimum import fit_bowl
    from lrplan.train.launchers import LocalLauncher
    from lrplan.train.sweep import run_sweep

    spec = SMOKE if args.smoke else FULL
    launcher = InProcess() if args.smoke else LocalLauncher(workers=args.workers, threads=1)
    t0 = time.time()
    proxy = run_sweep(configs(spec, spec["proxies"], spec["proxy_lrs"], spec["batches"], args.smoke),
                      Path(args.out) / "proxy", launcher)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grid = load_grid(proxy, source="proxy runs.csv")
        law = HparamLaw(method="surrogate", batch_terms=()).fit(grid)
    opt = law.optima_
    # the target sweep at the better proxy batch of the largest proxy
    best_b = int(round(opt.sort_values("N").iloc[-1]["batch_grid"] / 64))
    target = run_sweep(configs(spec, [spec["target"]], spec["target_lrs"], [best_b], args.smoke),
                       Path(args.out) / "target", launcher)
    tg = load_grid(target, source="target runs.csv")
    N_t = float(tg["N"].iloc[0])
    pred = float(law.predict(N_t, float(tg["D"].iloc[0]))[0])
    # measured optimum: the parabola in ln LR through the grid argmin and its two neighbours (the same
    # 3-point sub-grid estimate the proxy cells get); the landscape is too asymmetric for one bowl over 5 LRs
    tg = tg.sort_values("lr").reset_index(drop=True)
    i = int(np.clip(np.argmin(tg["loss"]), 1, len(tg) - 2))
    local = tg.iloc[i - 1:i + 2]
    bowl = fit_bowl(local["lr"], local["batch"], local["loss"], focus=None)
    measured = float(np.exp(np.clip(bowl.center[0], np.log(local["lr"].min()), np.log(local["lr"].max()))))
    argmin = float(tg["lr"].iloc[int(np.argmin(tg["loss"]))])
    ratio = max(pred / measured, measured / pred)
    ratio_grid = max(pred / argmin, argmin / pred)
    lines = [
        "## LR transfer on the built-in trainer (`benchmarks/hparam_transfer.py`)", "",
        f"Proxies: nano preset (2 layers) at widths {spec['proxies']} x LRs {spec['proxy_lrs']} x batches {spec['batches']} sequences of 64 "
        f"tokens, {spec['tokens']:,} tokens per run, cosine (warmup 10 %, floor 0.1x), stdlib corpus, CPU; target "
        f"width {spec['target']} swept over LRs {spec['target_lrs']} at batch {best_b}. N = non-embedding parameters.", "",
        "| cell | N | best grid LR | bowl LR* | edge |", "|---|---|---|---|---|",
    ]
    for _, r in opt.iterrows():
        lines.append(f"| {r['cell']} | {r['N']:.3g} | {r['lr_grid']:.3g} | {r['lr_opt']:.3g} | {r['edge'] or '-'} |")
    lines += ["", f"Fitted law: {law.lr_law_.formula('LR*')}.", "",
              f"Target N = {N_t:.3g}: predicted LR* = **{pred:.3g}**; measured best LR (parabola in ln LR through the "
              f"target sweep's argmin and its neighbours) **{measured:.3g}**: ratio **{ratio:.2f}x** -> goal (<= 1.5x) "
              f"**{'met' if ratio <= 1.5 else 'not met'}**. Against the plain grid argmin {argmin:.3g} the ratio is "
              f"{ratio_grid:.2f}x ({'within' if ratio_grid <= 1.5 else 'outside'} 1.5x). One seed per run: the "
              "measured optimum itself is noisy. Caveats: a proxy cell whose optimum sits at the LR edge (flag above) "
              "makes the law less reliable; the 3-point measurement rule was adopted after a 5-point bowl over the "
              "whole target sweep gave an implausible 4e-4 (the loss rises steeply above the optimum).", "",
              "Target sweep losses: " + ", ".join(f"lr {a:.3g}: {b:.4f}" for a, b in zip(tg['lr'], tg['loss'])) + ".",
              f"Warnings during the fit: {'; '.join(str(w.message) for w in caught) or 'none'}.",
              f"Wall time {time.time() - t0:.0f} s."]
    text = "\n".join(lines)
    print(text)
    if not args.smoke:
        from _results import write_section

        write_section("hparam_transfer", text, command="nice -n 10 python benchmarks/hparam_transfer.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
