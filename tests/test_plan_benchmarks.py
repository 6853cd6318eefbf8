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
    out = capsys.readouterr().out
    assert "Goal 1" in out and "Within the bootstrap-only band" in out
    for (pname, base), g in r["summary"]["gains"].items():   # the window refits only ever widen the band
        assert g["band"][0] <= g["bootstrap_band"][0] and g["band"][1] >= g["bootstrap_band"][1]
    assert sorted(p.name for p in (tmp_path / "smoke").iterdir()) == sorted(
        ["fit-constant-16", "fit-cosine-16", "plan-48-s0", "plan32-48-s0", "plan32mean-48-s0", "cosine10-48-s0",
         "wsd20lin-48-s0"])


def test_plan_vs_training_predict_only_trains_no_long_run(tmp_path, monkeypatch, capsys):
    import json

    import pytest

    pytest.importorskip("torch")
    mod = load("plan_vs_training")
    monkeypatch.setattr(mod, "CACHE", tmp_path)
    monkeypatch.setattr(mod, "PREREGISTERED", tmp_path / "prereg")
    mod.main(["--smoke", "--predict-only"])
    rec = json.loads(capsys.readouterr().out)
    assert rec["t2"] == 48 and rec["window_refits"] == [0.1, 0.2, 0.3]
    g = rec["gain"]["plan vs wsd 20% linear"]
    assert g["band"][0] <= g["bootstrap_band"][0] <= g["bootstrap_band"][1] <= g["band"][1]
    assert sorted(p.name for p in (tmp_path / "smoke").iterdir()) == ["fit-constant-16", "fit-cosine-16"]
    assert not (tmp_path / "prereg").exists()   # smoke runs never write the committed record
