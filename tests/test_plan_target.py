"""Target plans: peak LR, batch and steps from the hyper-parameter law, schedule shape from the curve law."""

import json

import numpy as np
import pytest

from lrplan.cli import main
from lrplan.errors import ConfigError
from lrplan.plan import load_objective
from lrplan.plan.target import batch_ramp, plan_for_target

hparams = pytest.importorskip("lrplan.hparams")


def test_target_plan_takes_lr_batch_and_steps_from_the_step_law():
    law = hparams.published("steplaw")
    N, D = 1e7, 1e8
    lr_star, b_star = (float(v) for v in law.predict(N, D, seq_len=2048))
    point = load_objective("mpl-100")[0]
    tp = plan_for_target(point, law, N, D, fit_peak=3e-4, seq_len=2048, resolution=64)
    rec = tp.recommendation
    assert rec["lr"] == pytest.approx(lr_star) and rec["batch_tokens"] == pytest.approx(b_star)
    assert tp.plan.constraints.steps == rec["steps"] == round(D / b_star)
    assert tp.plan.constraints.warmup == rec["warmup_steps"]
    lr = tp.plan.schedule.array()
    assert lr.max() == pytest.approx(lr_star, rel=1e-12)
    assert tp.lr_scale == pytest.approx(lr_star / 3e-4)
    tp.plan.constraints.check(lr / tp.lr_scale)
    assert tp.batch_seqs is None and tp.to_dict()["ramp"] is None


def test_batch_ramp_consumes_the_tokens_and_scales_the_lr_by_sqrt_batch():
    lr = np.concatenate([np.linspace(0, 1e-3, 100), np.full(800, 1e-3), np.linspace(1e-3, 0, 100)])
    b, lr_r = batch_ramp(lr, batch_seqs=64, seq_len=1024, tokens=1000 * 64 * 1024, ramp=0.2, ramp_start=0.25)
    tokens = np.cumsum(b) * 1024
    assert tokens[-1] >= 1000 * 64 * 1024 > tokens[-2]
    assert b[0] == 16 and b[-1] == 64 and np.all(np.diff(b) >= 0)
    assert len(b) > 1000                                   # smaller batches early: more steps
    full = np.flatnonzero(b == 64)[0]
    assert tokens[full - 1] >= 0.19 * tokens[-1]           # the ramp lasts ~20 % of the tokens
    mid = np.flatnonzero((tokens > 0.3 * tokens[-1]) & (tokens < 0.7 * tokens[-1]))
    np.testing.assert_allclose(lr_r[mid], 1e-3)
    early = np.flatnonzero((b < 64) & (np.cumsum(b) * 1024 > 0.1 * tokens[-1]))
    np.testing.assert_allclose(lr_r[early], 1e-3 * np.sqrt(b[early] / 64))
    with pytest.raises(ConfigError, match="batch ramp must be a fraction of the tokens"):
        batch_ramp(lr, 64, 1024, 1e6, ramp=1.5, ramp_start=0.25)


def test_target_plan_cli_writes_the_ramp(tmp_path):
    out = tmp_path / "plan"
    assert main(["plan", "--fit", "mpl-100", "--params", "1e7", "--tokens", "1e8", "--batch-ramp", "0.1",
                 "--resolution", "32", "--no-plot", "--out", str(out)]) == 0
    plan = json.loads((out / "plan.json").read_text())
    assert plan["target"]["ramp"]["fraction_of_tokens"] == 0.1
    assert plan["steps"] == plan["target"]["recommendation"]["steps"]
    import pandas as pd

    ramp = pd.read_csv(out / "ramp.csv")
    assert list(ramp.columns) == ["step", "batch_seqs", "lr"]
    assert len(ramp) == plan["target"]["ramp_steps"] > plan["steps"]


@pytest.mark.parametrize("args, message", [
    (["--params", "1e7"], "give both --params and --tokens"),
    (["--params", "1e7", "--tokens", "1e8", "--steps", "100"], "drop --steps"),
    (["--steps", "100", "--batch-ramp", "0.1"], "--batch-ramp needs a target plan"),
    ([], "give --steps (or --params and --tokens"),
])
def test_target_plan_cli_errors(tmp_path, capsys, args, message):
    assert main(["plan", "--fit", "mpl-100", *args, "--out", str(tmp_path / "p")]) == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "p").exists()
