"""Smoke versions of benchmarks/trainer_speed.py and benchmarks/annealing_effect.py (CI-sized)."""

import importlib
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture()
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    return lambda name: importlib.import_module(name)


def test_trainer_speed_smoke(bench):
    res = bench("trainer_speed").main(["--smoke"])
    r = res["nano"]
    assert r["lrplan_tokens_s"] > 0 and r["plain_tokens_s"] > 0
    assert r["ratio"] == pytest.approx(r["lrplan_tokens_s"] / r["plain_tokens_s"])
    assert r["lrplan_rss_mb"] > 10


def test_annealing_effect_smoke(bench):
    res = bench("annealing_effect").main(["--smoke"])
    assert set(res["mean"]) == {"constant", "cosine", "wsd"}
    assert all(len(v) == 2 for v in res["loss"].values())
    # WSD and constant share the LR up to the cooldown, so their curves are identical there
    assert res["pre_cooldown_gap"] == [0.0, 0.0]
    assert sys.modules["annealing_effect"].SCHEDULES["wsd"].startswith("wsd:")
