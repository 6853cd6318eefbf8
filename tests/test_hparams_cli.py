"""CLI of the hyper-parameter laws and the smoke runs of their benchmarks."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lrplan import _io
from lrplan.cli import main
from lrplan.hparams.synthetic import synthetic_grid

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def grid_csv(tmp_path_factory):
    g = synthetic_grid(Ns=(1e8, 3e8), Ds=(2e9, 8e9), lr_levels=7, batch_levels=5)
    g = g.assign(batch_size=g["batch"] / 2048, schedule="cosine:peak=1,floor=1e-5").drop(columns=["batch", "cell"])
    return _io.write_csv(tmp_path_factory.mktemp("grid") / "runs.csv", g)


def test_fit_hparams_then_recommend(grid_csv, tmp_path, capsys):
    law = tmp_path / "law.json"
    assert main(["fit-hparams", str(grid_csv), "--out", str(law), "--method", "surrogate", "--boot", "5",
                 "--plot", str(tmp_path / "law.png")]) == 0
    d = json.loads(law.read_text())
    assert d["format"] == "lrplan.hparams/1" and d["schedule"] == "cosine" and d["method"] == "surrogate"
    assert (tmp_path / "law.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["recommend", "--params", "2e8", "--tokens", "4e9", "--fit", str(law), "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "peak LR" in out and "plateau LR" in out and "hardware batch" in out
    rec = json.loads((tmp_path / "r.json").read_text())
    assert rec["lr"] == pytest.approx(1.79 * 2e8 ** -0.713 * 4e9 ** 0.307, rel=0.1)
    assert rec["batch_seqs"] == pytest.approx(rec["batch_tokens"] / 2048)


def test_fit_hparams_fits_the_bowl_skew_by_default_and_refuses_it_for_other_methods(grid_csv, tmp_path, capsys):
    law = tmp_path / "law.json"
    assert main(["fit-hparams", str(grid_csv), "--out", str(law), "--boot", "0"]) == 0  # joint: skew on by default
    d = json.loads(law.read_text())
    assert d["method"] == "joint" and d["bowl"]["skew"] != 0.0 and abs(d["bowl"]["skew"]) < 0.1  # a symmetric grid
    assert main(["fit-hparams", str(grid_csv), "--out", str(law), "--no-skew", "--boot", "0"]) == 0
    assert json.loads(law.read_text())["bowl"]["skew"] == 0.0
    capsys.readouterr()
    assert main(["fit-hparams", str(grid_csv), "--out", str(tmp_path / "x.json"), "--skew", "--method", "near"]) == 2
    err = capsys.readouterr().err
    assert "skew is an option of the joint model" in err and "Traceback" not in err
    assert not (tmp_path / "x.json").exists()


def test_recommend_with_presets(capsys):
    assert main(["recommend", "-N", "4.29e8", "-D", "4e10", "--preset", "steplaw"]) == 0
    out = capsys.readouterr().out
    assert f"{1.79 * 4.29e8 ** -0.713 * 4e10 ** 0.307:.4g}" in out
    assert main(["recommend", "-N", "6.9e9", "-D", "2e12", "--preset", "deepseek", "--layers", "30",
                 "--d-model", "4096", "--seq-len", "4096"]) == 0


@pytest.mark.parametrize("argv,msg", [
    (["recommend", "-N", "1e9", "-D", "1e11"], "exactly one of --fit"),
    (["recommend", "-N", "1e9", "-D", "1e11", "--preset", "deepseek"], "needs n_layer, d_model"),
    (["recommend", "-N", "1e9", "-D", "1e11", "--fit", "nope.json"], "no such law file"),
    (["recommend", "-N", "-1", "-D", "1e11", "--preset", "steplaw"], "must be positive"),
])
def test_recommend_errors_are_one_line(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.strip().splitlines()) <= 2


def test_fit_hparams_single_lr_grid_fails_cleanly(tmp_path, capsys):
    t = pd.DataFrame({"N": [1e8] * 3 + [2e8] * 3, "D": [4e9] * 3 + [8e9] * 3, "lr": 1e-3,
                      "batch_size": [64, 128, 256] * 2, "loss": [3.0, 2.9, 3.1] * 2})
    _io.write_csv(tmp_path / "g.csv", t)
    assert main(["fit-hparams", str(tmp_path / "g.csv"), "--out", str(tmp_path / "l.json"), "--seq-len", "2048"]) == 2
    assert "only 1 distinct LR value" in capsys.readouterr().err
    assert not (tmp_path / "l.json").exists()


def test_critical_batch_command(tmp_path, capsys):
    rows = []
    for b in (16, 64, 256):
        for L in np.linspace(4.0, 2.6, 40):
            rows.append({"run": f"bs{b}", "step": int(round(1e4 * ((L - 2) ** -1.5 - 4 ** -1.5 * 0) * (1 + 200 / b))),
                         "loss": L, "batch_size": b})
    _io.write_csv(tmp_path / "curves.csv", pd.DataFrame(rows).drop_duplicates(["run", "step"]))
    assert main(["critical-batch", str(tmp_path / "curves.csv"), "--target", "3.0", "--target", "2.8",
                 "--out", str(tmp_path / "bc.json")]) == 0
    d = json.loads((tmp_path / "bc.json").read_text())
    assert d["format"] == "lrplan.bcrit/1" and d["table"]["b_crit"] == pytest.approx([200, 200], rel=0.03)


def test_steplaw_regret_smoke(capsys):
    sys.path.insert(0, str(BENCH))
    import steplaw_regret

    assert steplaw_regret.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert "| Step Law, published | LOO | all |" in out
    assert "| lrplan joint, nested-CV knobs | LOO | 30% |" in out and "| lrplan near+joint (log-mean) | LOO | 30% |" in out
    assert "| lrplan joint | LOO | all | 0.016 | - |" in out  # one fit on all runs: no standard error
    assert "judged on the clean nested-CV row: met**" in out  # noiseless-ish synthetic bowls
    # the 5 % window knobs come after the original ones: a separate, post-hoc row beside the original
    assert "| lrplan joint, nested-CV knobs incl. 5 % window (added after the first nested result) | LOO | 30% |" in out
    assert "Post-hoc row (not the verdict)" in out
    assert "| symmetric | 3% | 0.4% | 8 | 8 | 0 |" in out  # the default knobs win every (cell, subset) on the synthetic grid, in both rows
    assert "| symmetric | 5% | 0.4% | 0 | 0 | 0 |" in out  # ties go to the default, which comes first
    # the skewed bowl: its own rows, its own nested-CV row and verdict, its knobs chosen only by that row
    assert "| lrplan joint skew | LOO | 30% |" in out
    assert "| lrplan joint skew, nested-CV knobs (pre-registered) | LOO | 30% |" in out
    assert "**Pre-registered skewed-bowl row (the same protocol, a second method, committed before scoring): met**" in out
    skew_rows = [line for line in out.splitlines() if line.startswith("| skewed |")]
    assert len(skew_rows) == 6 and sum(int(r.split("|")[6]) for r in skew_rows) == 8


@pytest.mark.slow
def test_steplaw_regret_replication_draws_new_subsets(capsys):
    sys.path.insert(0, str(BENCH))
    import steplaw_regret

    assert steplaw_regret.main(["--smoke", "--first-subset", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Step Law grid: regret of LR / batch recommendations (`benchmarks/steplaw_regret.py`), "
                          "replication on subsets 5-6")
    assert "(r = 5 .. 6); the cells are the same 4" in out


def test_hparam_transfer_smoke(tmp_path, capsys):
    pytest.importorskip("torch")
    sys.path.insert(0, str(BENCH))
    import hparam_transfer

    assert hparam_transfer.main(["--smoke", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "predicted LR* =" in out and "Fitted law (seed-averaged): LR* =" in out
    assert "| 0 | LR* = " in out and "| 1 | LR* = " in out  # one law per seed


def test_transfer_measured_optimum_is_the_three_point_parabola_vertex():
    sys.path.insert(0, str(BENCH))
    from hparam_transfer import measured_optimum

    lrs = [1e-3 * 2 ** (k / 2) for k in range(-1, 5)]
    loss = [2.0 + 0.1 * (np.log(lr) - np.log(1.7e-3)) ** 2 for lr in lrs]
    loss[-1] = 9.0  # a blown-up high LR outside the 3-point bracket does not move the vertex
    vertex, argmin, edge = measured_optimum(lrs[::-1], loss[::-1])  # order of the sweep does not matter
    assert vertex == pytest.approx(1.7e-3, rel=1e-9) and argmin == pytest.approx(2e-3) and not edge
    assert measured_optimum([1e-3, 2e-3, 4e-3], [2.0, 2.1, 2.2]) == (pytest.approx(1e-3), pytest.approx(1e-3), True)


def test_lr_only_law_needs_the_users_batch(tmp_path, capsys):
    g = synthetic_grid(Ns=(1e8, 3e8), Ds=(4e9,), lr_levels=5, batch_levels=2)  # 2 batch sizes: no batch law
    g = g.assign(batch_size=g["batch"] / 2048).drop(columns=["batch", "cell"])
    _io.write_csv(tmp_path / "g.csv", g)
    assert main(["fit-hparams", str(tmp_path / "g.csv"), "--out", str(tmp_path / "l.json"), "--method", "surrogate",
                 "--boot", "0"]) == 0
    assert json.loads((tmp_path / "l.json").read_text())["batch"] is None
    capsys.readouterr()
    assert main(["recommend", "-N", "2e8", "-D", "4e9", "--fit", str(tmp_path / "l.json")]) == 2
    assert "--batch-seqs" in capsys.readouterr().err
    assert main(["recommend", "-N", "2e8", "-D", "4e9", "--fit", str(tmp_path / "l.json"), "--batch-seqs", "256",
                 "--json", str(tmp_path / "r.json")]) == 0
    rec = json.loads((tmp_path / "r.json").read_text())
    assert rec["batch_seqs"] == 256 and rec["steps"] == round(4e9 / (256 * 2048))
