"""lrplan.train.trainer: learning, exact LR, canonical logs, exact resume, divergence, callbacks."""

import json
import math

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from lrplan.curves import Curves  # noqa: E402
from lrplan.errors import ConfigError, LrplanError  # noqa: E402
from lrplan.schedules import lr_array  # noqa: E402
from lrplan.train.results import load_run  # noqa: E402
from lrplan.train.trainer import LOG_COLUMNS, TrainConfig, train  # noqa: E402

WSD = "wsd:peak=3e-3,warmup=5,cooldown=0.2"


def tiny(**kw):
    base = dict(preset="nano", n_layer=1, steps=50, batch_size=8, corpus="synthetic:vocab=16,branch=2,bytes=20000",
                schedule=WSD, eval_every=10, eval_batches=2, eval_batch_size=8, checkpoint_every=20, threads=1,
                run="tiny")
    base.update(kw)
    return TrainConfig(**base)


def rows(out):
    return pd.read_csv(out / "curves.csv").drop(columns="tokens_per_s")


def test_loss_falls_within_50_steps_and_logs_are_canonical(tmp_path):
    res = train(tiny(), tmp_path / "r")
    assert res.status == "finished" and res.steps_done == 50
    d = pd.read_csv(tmp_path / "r" / "curves.csv")
    assert list(d.columns) == LOG_COLUMNS
    tr, va = d[d.split == "train"], d[d.split == "val"]
    assert tr.step.tolist() == list(range(50))
    assert va.step.tolist() == [0, 10, 20, 30, 40, 50]
    assert va.loss.iloc[0] > 5.0  # ~ln 256 at init
    assert va.loss.iloc[-1] < 3.0  # entropy floor of this corpus is ln 2 = 0.69
    assert tr.loss.iloc[-5:].mean() < tr.loss.iloc[:5].mean() - 2.0
    # the LR column is the exact schedule, tokens = step * batch * block
    np.testing.assert_array_equal(tr.lr.to_numpy(), lr_array(WSD, 50))
    assert (tr.tokens == tr.step * 8 * 64).all()
    assert (tr.grad_norm > 0).all() and (tr.tokens_per_s > 0).all()
    c = load_run(tmp_path / "r")
    assert isinstance(c, Curves) and c.runs == ["tiny"] and c.splits == ["train", "val"]
    assert c.meta["tiny"].params == res.params
    # meta holds the exact spec as trained (steps folded in), so laws rebuild the same LR array
    assert c.meta["tiny"].schedule == "wsd:peak=0.003,steps=50,cooldown=10,shape=linear,warmup=5"
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["status"] == "finished" and meta["final_val_loss"] == pytest.approx(va.loss.iloc[-1])
    assert (tmp_path / "r" / "ckpt.pt").exists()


class Kill:
    """Raise at a given step, like a job killed mid-run."""

    def __init__(self, at):
        self.at = at

    def on_step(self, trainer, step, loss):
        if step == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("kill_at", [7, 33])
def test_resume_after_a_kill_equals_the_uninterrupted_run_bitwise(tmp_path, kill_at):
    cfg = tiny(steps=40, checkpoint_every=15)
    train(cfg, tmp_path / "full")
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "cut", callbacks=[Kill(kill_at)])
    res = train(cfg, tmp_path / "cut")
    assert res.resumed_from == (15 * (kill_at // 15) or None)
    full, cut = rows(tmp_path / "full"), rows(tmp_path / "cut")
    assert len(cut) == len(full) == 40 + 5  # no duplicated or lost rows
    pd.testing.assert_frame_equal(cut, full, check_exact=True)


def test_resume_in_a_killed_subprocess(tmp_path):
    import subprocess
    import sys
    import time

    cfg = tiny(steps=150, checkpoint_every=20, eval_every=50)
    code = (f"from lrplan.train.trainer import TrainConfig, train\n"
            f"train(TrainConfig(**{cfg.to_dict()!r}), {str(tmp_path / 'cut')!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 120
    while time.time() < deadline and not (tmp_path / "cut" / "ckpt.pt").exists():
        time.sleep(0.05)
    time.sleep(0.1)
    proc.kill()
    proc.wait()
    meta = json.loads((tmp_path / "cut" / "meta.json").read_text())
    if meta["status"] == "finished":  # pragma: no cover - machine too fast to interrupt
        pytest.skip("the run finished before it could be killed")
    train(cfg, tmp_path / "cut")
    train(cfg, tmp_path / "full")
    pd.testing.assert_frame_equal(rows(tmp_path / "cut"), rows(tmp_path / "full"), check_exact=True)


def test_finished_run_is_not_retrained_and_a_different_run_is_refused(tmp_path):
    train(tiny(steps=20), tmp_path / "r")
    before = (tmp_path / "r" / "curves.csv").read_text()
    res = train(tiny(steps=20, threads=2), tmp_path / "r")  # threads may change
    assert res.status == "finished" and res.resumed_from is None
    assert (tmp_path / "r" / "curves.csv").read_text() == before
    with pytest.raises(ConfigError, match="holds a different run \\(differs in seed\\)"):
        train(tiny(steps=20, seed=1), tmp_path / "r")


def test_huge_lr_diverges_and_is_marked(tmp_path):
    res = train(tiny(peak_lr=50.0, keep_checkpoint=False), tmp_path / "r")
    assert res.status == "diverged"
    d = rows(tmp_path / "r")
    last = d[d.split == "train"].loss.iloc[-1]
    assert not math.isfinite(last) or last > 1.5 * math.log(256)
    assert d[d.split == "train"].step.max() == res.steps_done - 1
    assert not (tmp_path / "r" / "ckpt.pt").exists()


def test_peak_lr_rescales_and_lr_array_replaces_the_schedule(tmp_path):
    cfg = tiny(peak_lr=1e-3)
    np.testing.assert_allclose(cfg.lr_array(), lr_array(WSD, 50) / 3)
    arr = list(np.linspace(1e-3, 1e-4, 20))
    res = train(tiny(steps=20, lr=arr), tmp_path / "r")
    d = rows(tmp_path / "r")
    np.testing.assert_array_equal(d[d.split == "train"].lr.to_numpy(), np.array(arr))
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["schedule"] == "custom"
    assert res.status == "finished"


@pytest.mark.parametrize("change,message", [
    ({"preset": "mega"}, "unknown preset 'mega'"),
    ({"batch_size": 0}, "trainer batch_size must be a positive integer, got 0"),
    ({"batch_size": 8, "grad_accum": 3}, "batch_size \\(8\\) must be divisible by grad_accum \\(3\\)"),
    ({"schedule": "cosin:peak=1e-3"}, "unknown family 'cosin' \\(did you mean 'cosine'\\?\\)"),
    ({"beta2": 1.0}, "trainer beta2 must be in \\[0, 1\\)"),
    ({"lr": [1e-3] * 7}, "the LR array has 7 values but steps=50"),
    ({"device": "tpu"}, "trainer device must be auto, cpu or cuda"),
    ({"run": "a,b"}, "trainer run name 'a,b' must be non-empty without commas"),
])
def test_bad_configs_give_one_line_errors(change, message):
    with pytest.raises(LrplanError, match=message):
        tiny(**change).validate()


def test_run_name_from_an_awkward_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="run name 'a,b' must be non-empty without commas"):
        train(tiny(run=None), tmp_path / "a,b")


def test_unknown_setting_suggests_the_closest():
    with pytest.raises(ConfigError, match="unknown trainer setting 'batchsize' \\(did you mean 'batch_size'\\?\\)"):
        TrainConfig.from_dict({"batchsize": 8})


def test_grad_accum_mixture_eval_sets_and_callbacks(tmp_path):
    seen = []

    class Probe:
        def on_eval(self, trainer, step):
            return {"probe": trainer.evaluate_tokens([(torch.zeros(1, 8, dtype=torch.long),) * 2])}

        def on_step(self, trainer, step, loss):
            seen.append(step)

    cfg = tiny(steps=20, grad_accum=2, corpora={"A": "synthetic:seed=1,bytes=5000", "B": "synthetic:seed=2,bytes=5000"},
               mixture=[[0, {"A": 1}], [10, {"B": 0.9, "A": 0.1}]])
    train(cfg, tmp_path / "r", callbacks=[Probe()])
    d = rows(tmp_path / "r")
    assert sorted(d.split.unique()) == ["probe", "train", "val", "val_A", "val_B"]
    assert d[d.split == "val_B"].step.tolist() == [0, 10, 20]
    assert seen == list(range(20))
    b = d[d.split == "val_B"].loss.to_numpy()
    assert b[2] < b[1]  # B is learnt after the switch
