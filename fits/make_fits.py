"""Make the shipped fits of the bundled multi-power-law curves (Luo et al. 2025, MIT data).

For each model size (25M, 100M, 400M) and law (mpl, momentum, auto), fit on the three official
TRAIN curves (cosine_24000, constant_24000, wsdcon_9) with 10 bootstrap refits and
leave-one-curve-out refits, and write ``fits/mpl-<size>m-<law>.json``; also an ``auto`` fit on
all nine curves of each size, ``fits/mpl-<size>m-all-auto.json`` (best for planning; not for the
benchmark, whose TEST curves it has seen).

Also fits of the bundled proxy curves of lrplan's own trainer (``lrplan/data/proxy``): an ``auto``
fit per preset on the validation loss (after warmup) of all its runs (6 schedules x 2 seeds),
``fits/proxy-<preset>-auto.json``.

    python fits/make_fits.py            # everything
    python fits/make_fits.py 100        # one MPL size
    python fits/make_fits.py proxy      # the proxy fits only
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from lrplan import _io
from lrplan.datasets import MPL_RUNS, MPL_SIZES, MPL_TRAIN, mpl_curves
from lrplan.laws import make_law

HERE = Path(__file__).resolve().parent
COMMAND = "python fits/make_fits.py"


def make(size: str, law: str, runs, stem: str, n_boot: int = 10, curves=None, source: str | None = None) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opts = {"n_boot": n_boot} | ({} if law == "auto" else {"loo": True})
        fitted = make_law(law, **opts).fit(curves if curves is not None else mpl_curves(size), runs=runs)
    d = fitted.to_dict()
    d["command"] = COMMAND
    d["source"] = source or f"lrplan/data/mpl/csv_{size} (Luo et al. 2025, arXiv:2503.12811, MIT), runs: {', '.join(runs)}"
    path = HERE / f"{stem}.json"
    _io.write_json(path, d)
    print(f"wrote {path}", flush=True)
    return path


def make_proxy(n_boot: int = 5) -> list[Path]:
    from lrplan.train.results import load_proxy

    curves, runs = load_proxy()
    val = curves.select(split="val").after_warmup()
    out = []
    for preset in sorted(runs["preset"].unique()):
        names = list(runs.loc[runs["preset"] == preset, "run"])
        out.append(make(preset, "auto", names, f"proxy-{preset}-auto", n_boot=n_boot, curves=val,
                        source=f"lrplan/data/proxy (lrplan's CPU trainer, val loss after warmup), runs: {', '.join(names)}"))
    return out


def main(argv=None):
    args = list(argv if argv is not None else sys.argv[1:])
    if not args or "proxy" in args:
        make_proxy()
    sizes = [a for a in args if a != "proxy"] or ([] if args else MPL_SIZES)
    for size in sizes:
        for law in ("mpl", "momentum", "auto"):
            make(size, law, MPL_TRAIN, f"mpl-{size}m-{law}")
        make(size, "auto", MPL_RUNS, f"mpl-{size}m-all-auto", n_boot=5)


if __name__ == "__main__":
    main()
