"""Trainer support for forgetting: data-switch configs, fact windows and probes, benchmark smoke runs."""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from lrplan.errors import ConfigError  # noqa: E402
from lrplan.train.continual import replay_configs, switch_config  # noqa: E402
from lrplan.train.facts import Fact, ProbeLogger, build_facts, exposure_plan, load_records  # noqa: E402

FK = Path("/work/shared/data/fictional_knowledge")
BASE = {"steps": 1200, "schedule": "constant:peak=3e-3,warmup=50"}


def test_switch_config_mixes_replay_after_the_switch_and_evaluates_both_domains():
    cfg = switch_config(BASE, old="stdlib", new="synthetic", switch=600, replay=0.25, seed=3)
    assert cfg.corpora == {"old": "stdlib", "new": "synthetic"}
    assert cfg.mixture == [[0, {"old": 1.0}], [600, {"new": 0.75, "old": 0.25}]]
    assert cfg.eval_sets == {"val_old": "old", "val_new": "new"}
    assert cfg.seed == 3
    names = [c.run for c in replay_configs(BASE, "stdlib", "synthetic", 600, replays=(0, 0.05), seeds=(0, 1))]
    assert names == ["replay0-s0", "replay0-s1", "replay0.05-s0", "replay0.05-s1"]


@pytest.mark.parametrize("switch, replay, msg", [
    (1200, 0.0, "switch step 1200 is outside the run"),
    (0, 0.0, "switch step 0 is outside the run"),
    (600, 1.01, r"replay fraction 1.01 is outside \[0, 1\]"),
    (600, float("nan"), "replay fraction nan is outside"),
])
def test_switch_config_rejects_bad_switch_and_replay(switch, replay, msg):
    with pytest.raises(ConfigError, match=msg):
        switch_config(BASE, "stdlib", "synthetic", switch, replay)


@pytest.fixture(scope="module")
def records():
    if not (FK / "fictional_knowledge.json").exists():
        pytest.skip("Fictional Knowledge dataset not available")
    return load_records(FK)


def test_fact_windows_end_with_the_target_and_fit_the_context(records):
    facts = build_facts(records, 64, {"paraphrased": [1], "duplicated": [40], "once": [80]})
    assert [f.scenario for f in facts] == ["paraphrased", "duplicated", "once"]
    f = facts[0]
    assert f.target == b"2030" and f.context.endswith(b"municipalities introduced in Sweden in ")
    assert len(f.context) + len(f.target) == 65
    assert len(f.versions) == 10 and all(v.endswith(b"2030") and len(v) <= 65 for v in f.versions)
    assert len(facts[1].versions) == 1


def test_exposure_plan_spreads_facts_over_slots_and_counts_exposures(records):
    facts = build_facts(records, 64, {"paraphrased": range(0, 8), "duplicated": range(40, 48), "once": range(80, 88)})
    inj, exp = exposure_plan(facts, first=100, every=100, times=3, per_step=8)
    assert sorted(inj)[:3] == [100, 133, 166]
    assert max(len(v) for v in inj.values()) == 8
    counts = exp.groupby("passage").size()
    assert counts["r0"] == 3 and counts["r40"] == 3 and counts["r80"] == 1
    with pytest.raises(ConfigError, match="need 24 steps, more than every=10"):
        exposure_plan(facts, every=10, per_step=1)
    controls = build_facts(records, 64, {"once": [80], "control": [100, 101]})
    inj, exp = exposure_plan(controls)
    assert list(inj) == [100] and exp["passage"].tolist() == ["r80"]


def test_probe_logger_scores_the_summed_target_log_probability():
    from lrplan.train.model import GPT, model_config

    torch.manual_seed(0)
    model = GPT(model_config("nano"))
    facts = [Fact("a", "p", "once", b"The capital is ", b"Zorg", []), Fact("b", "p", "once", b"x = ", b"42", [])]
    got = ProbeLogger(facts).score(model, torch.device("cpu"))
    for f, value in zip(facts, got):
        seq = torch.tensor(list(f.context + f.target))
        logits, _ = model(seq[None, :-1])
        logp = torch.log_softmax(logits[0].double(), -1)
        n = len(f.target)
        expect = sum(float(logp[len(seq) - 2 - k, seq[len(seq) - 1 - k]]) for k in range(n))
        assert value == pytest.approx(expect, abs=1e-4)


# --- benchmark smoke runs (the CI versions of benchmarks/cpt_*.py) ------------------------------

@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = Path(__file__).resolve().parents[1] / "benchmarks"
    sys.path.insert(0, str(root))
    cpt = importlib.import_module("_cpt")
    old = cpt.CACHE
    cpt.CACHE = tmp_path_factory.mktemp("bench")
    yield lambda name: importlib.import_module(name)
    cpt.CACHE = old


def test_cpt_predict_smoke(bench):
    res = bench("cpt_predict").main(["--smoke"])
    assert {(r["variant"], r["seed"], r["domain"]) for r in res["rows"]} == {
        (v, 0, d) for v in ("paper", "no C2 + boxcox", "transient") for d in ("pt", "cpt")}
    assert all(np.isfinite(r["final_err"]) and np.isfinite(r["trunc_final"]) for r in res["rows"])
    assert {d: res["selected"][d]["variant"] in ("paper", "no C2 + boxcox", "transient") for d in ("pt", "cpt")} == {"pt": True, "cpt": True}
    assert {d: res["selected_round2"][d]["variant"] in ("paper", "no C2 + boxcox") for d in ("pt", "cpt")} == {"pt": True, "cpt": True}
    assert set(res["seed_mean_err"]) <= {(d, v) for d in ("pt", "cpt") for v in ("paper", "no C2 + boxcox", "transient")}
    assert ("pt", "paper") in res["seed_mean_err"]
    assert set(res["noise"]) == {"pt", "cpt"}


def test_cpt_replay_smoke(bench):
    res = bench("cpt_replay").main(["--smoke"])
    assert sorted(res["table"]) == [("exp", 0.0), ("exp", 0.01), ("exp", 0.05), ("exp", 0.25)]
    assert res["table"]["exp", 0.0].shape == (1, 3)


def test_cpt_clock_smoke(bench):
    res = bench("cpt_clock").main(["--smoke"])
    assert set(res["spread"]) == {"steps", "lr_area"} and all(v >= 0 for v in res["spread"].values())


def test_cpt_facts_smoke(bench, records, monkeypatch):
    mod = bench("cpt_facts")
    monkeypatch.setattr(mod, "CACHE", importlib.import_module("_cpt").CACHE)
    res = mod.main(["--smoke"])
    assert set(res["report"]["scenario"]) <= {"once", "duplicated", "paraphrased"}


def test_cpt_replay_new_smoke_scores_predictions_made_before_training(bench):
    mod = bench("cpt_replay_new")
    pre = mod.main(["--smoke", "--predict"])
    assert set(pre["predicted_forgetting"]["exp"]["0"]) == {"0.025", "0.1"}
    assert not any((mod._cpt.CACHE / "runs").glob("*-r0.025-*"))      # predicted before any such run exists
    res = mod.main(["--smoke"])
    assert set(res["measured"]) == {0.025, 0.1} and res["measured"][0.025].shape == (1,)
    assert set(res["verdict"]) == {"exp"} and len(res["verdict"]["exp"]) == 2


def test_cpt_predict_replication_trains_and_scores_the_new_seeds(bench):
    res = bench("cpt_predict").main(["--smoke", "--first-seed", "3"])
    assert {r["seed"] for r in res["rows"]} == {3}


def test_cpt_predict_on_another_model_size_trains_that_preset(bench):
    mod = bench("cpt_predict")
    res = mod.main(["--smoke", "--preset", "micro", "--replay", "0.05"])
    assert {r["domain"] for r in res["rows"]} == {"pt", "cpt"} and res["replay"] == [0.05]
    cache = importlib.import_module("_cpt").CACHE / "runs"
    runs = sorted(p.name for p in cache.glob("cptmicro-smoke-*"))
    assert runs == [f"cptmicro-smoke-{n}-r0.05-s0" for n in ("rewarm1", "rewarm3", "wsd2")]
    assert json.loads((cache / runs[0] / "meta.json").read_text())["model"]["n_embd"] == 128


def test_cpt_predict_with_replay_trains_replay_runs_and_refuses_a_bad_fraction(bench):
    mod = bench("cpt_predict")
    res = mod.main(["--smoke", "--replay", "0.05"])
    assert res["replay"] == [0.05]
    assert {r["domain"] for r in res["rows"]} == {"pt", "cpt"}
    with pytest.raises(SystemExit, match="replay fraction must be in"):
        mod.main(["--smoke", "--replay", "1.5"])


def test_eval_noise_measures_scatter_about_a_smooth_trend(bench):
    from lrplan.forgetting import ContinualRun

    mod = bench("cpt_predict")
    steps = np.arange(0, 1200, 10)
    trend = 3.0 - 1e-3 * (steps - 600).clip(0) + 4e-7 * (steps - 600).clip(0) ** 2
    wiggle = 1 + 0.005 * np.where(np.arange(steps.size) % 2, 1, -1)  # +-0.5 % alternating
    run = ContinualRun(np.full(1200, 1e-3), switch=600, steps=steps, loss=trend * wiggle)
    dev = mod.eval_noise([run])
    assert dev.size == np.sum(steps >= 1050)
    assert dev.std() == pytest.approx(0.005, rel=0.05)
    assert np.all(np.abs(mod.eval_noise([ContinualRun(np.full(1200, 1e-3), switch=600, steps=steps, loss=trend)])) < 1e-12)


def test_copy_baseline_copies_the_fit_run_nearest_in_continual_lr_area(bench):
    from lrplan.forgetting import ContinualRun

    mod = bench("cpt_predict")
    steps = np.arange(0, 200, 10)

    def run(peak, final):
        lr = np.r_[np.full(100, 1e-3), np.full(100, peak)]
        return ContinualRun(lr, switch=100, steps=steps, loss=np.r_[np.full(19, 3.0), final])

    held = run(2e-3, 2.50)                                  # S1cpt 0.20 at the end
    fits = {"high": run(2.5e-3, 2.45), "low": run(1e-3, 2.20)}  # 0.25 and 0.10
    name, err = mod.copy_baseline(held, fits)
    assert name == "high" and err == pytest.approx(0.02)


def test_model_text_reads_the_size_of_a_trained_run(bench, tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps({"params": 120_576, "model": {"n_layer": 2, "n_embd": 64}}))
    assert bench("cpt_predict").model_text(tmp_path) == "0.12M params, 2 layers, width 64"


def test_cpt_bands_smoke_scores_both_bands_on_the_held_out_run(bench):
    res = bench("cpt_bands").main(["--smoke"])
    rows = res["smoke"]
    assert [(r["seed"], r["domain"]) for r in rows] == [(0, "pt"), (0, "cpt")]
    for r in rows:
        assert r["full"]["half"] >= r["scatter"]["half"] > 0 and 0 <= r["full"]["phase"] <= 1
        assert np.isfinite(r["final_err"]) and r["loo"] > 0


def test_make_cpt_curves_smoke_writes_both_domains_and_the_runs_table(bench):
    dest = bench("make_cpt_curves").main(["--smoke"])
    runs = pd.read_csv(dest / "runs.csv")
    curves = pd.read_csv(dest / "curves.csv.gz")
    assert sorted(runs["continual"]) == ["rewarm1", "rewarm3", "wsd2"] and set(runs["replay"]) == {0.05}
    assert set(curves["split"]) == {"val_old", "val_new"} and set(curves["run"]) == set(runs["run"])
    assert list(curves.columns) == ["run", "split", "step", "loss"]
