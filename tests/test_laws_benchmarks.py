"""Smoke versions of the law benchmarks (they must run and report sane numbers)."""

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name):
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_mpl_accuracy_smoke():
    md = load("mpl_accuracy").main(["--smoke"])
    assert "| 25M | MPL published params | 0.9988 | 0.00376 | 0.00465 | 0.00110 | 0.00409 |" in md
    assert "| 25M | momentum |" in md


def test_law_speed_smoke():
    md, pred = load("law_speed").main(["--smoke"])
    assert pred["err_every"] < 1e-5 and pred["err_sampled"] < 1e-5
    assert "| 25M | momentum |" in md
