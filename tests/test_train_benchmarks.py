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
    assert r["lrplan_tokens_cpu_s"] > 0 and r["plain_tokens_cpu_s"] > 0 and r["lrplan_tokens_s"] > 0
    assert r["ratio"] == pytest.approx(r["lrplan_tokens_cpu_s"] / r["plain_tokens_cpu_s"])
    assert r["lrplan_cpu_ms_step"] == pytest.approx(1000 * 4 * 64 / r["lrplan_tokens_cpu_s"])


def test_annealing_effect_smoke(bench):
    res = bench("annealing_effect").main(["--smoke"])
    assert set(res["mean"]) == {"constant", "cosine", "wsd"}
    assert all(len(v) == 2 for v in res["loss"].values())
    # WSD and constant share the LR up to the cooldown, so their curves are identical there
    assert res["pre_cooldown_gap"] == [0.0, 0.0]
    assert sys.modules["annealing_effect"].SCHEDULES["wsd"].startswith("wsd:")


def test_make_proxy_curves_smoke(bench):
    res = bench("make_proxy_curves").main(["--smoke"])
    assert res["runs"] == 2 and res["rows"] == 2 * (20 + 3)  # 20 train rows + val at 0, 10, 20 per run
    assert res["bytes"] < 5_000


def test_compact_thins_train_rows_and_keeps_the_last_and_all_val(bench):
    import pandas as pd

    mod = bench("make_proxy_curves")
    d = pd.DataFrame({"run": "a", "split": ["train"] * 7 + ["val"] * 2, "step": [0, 1, 2, 3, 4, 5, 6, 0, 6],
                      "tokens": 0.0, "lr": 1e-3, "loss": 3.1234567, "batch_size": 16.0})
    out = mod.compact(d, 3)
    assert out[out.split == "train"].step.tolist() == [0, 3, 6]
    assert out[out.split == "val"].step.tolist() == [0, 6]
    assert out.loss.iloc[0] == 3.12346
