"""Smoke runs of the planner benchmarks (the full runs write benchmarks/RESULTS.md)."""

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name):
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_plan_mpl_smoke(capsys):
    rows = load("plan_mpl").main(["--smoke"])
    (r,) = rows
    assert r["plan"] <= r["best_family"] < r["wsd"] < r["cosine"]
    assert "| 100M | published |" in capsys.readouterr().out


def test_plan_speed_smoke(capsys):
    r = load("plan_speed").main(["--smoke"])
    assert r["steps"] == 2000 and r["method"] == "freeform"
    assert r["gains"]["wsd 20% linear"] > 0 and r["gains"]["cosine to 10%"] > r["gains"]["wsd 20% linear"]
    assert "n/a (smoke run)" in capsys.readouterr().out


def test_plan_vs_training_smoke(tmp_path, monkeypatch, capsys):
    import pytest

    pytest.importorskip("torch")
    mod = load("plan_vs_training")
    monkeypatch.setattr(mod, "CACHE", tmp_path)
    r = mod.main(["--smoke"])
    assert r["t2"] == 3 * r["t1"] == 48
    assert set(r["measured"]) == {"plan", "plan (per step)", "plan (bootstrap mean)", "cosine to 10%", "wsd 20% linear"}
    assert all(len(v) == 1 and 0 < v[0] < 6 for v in r["measured"].values())
    for p in r["plans"].values():
        p.constraints.check(p.schedule.array())
    assert "Goal 1" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "smoke").iterdir()) == sorted(
        ["fit-constant-16", "fit-cosine-16", "plan-48-s0", "plan32-48-s0", "plan32mean-48-s0", "cosine10-48-s0",
         "wsd20lin-48-s0"])
