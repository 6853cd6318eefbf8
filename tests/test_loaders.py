"""Loaders: every fixture in tests/fixtures/logs reads into the same canonical curve table."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lrplan.curves import COLUMNS, Curves
from lrplan.errors import LoadError, LrplanWarning
from lrplan.loaders import FORMATS, classify, detect, load, load_many
from lrplan.loaders._wire import crc32c, masked_crc32c

LOGS = Path(__file__).parent / "fixtures" / "logs"


def counts(c: Curves) -> dict[tuple[str, str], int]:
    return {k: len(g) for k, g in c.data.groupby(["run", "split"])}


def rows(c: Curves, run: str, split: str) -> pd.DataFrame:
    return c.data[(c.data["run"] == run) & (c.data["split"] == split)].reset_index(drop=True)


def quiet_load(path, **kw) -> Curves:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LrplanWarning)
        return load(path, **kw)


# -- detection ----------------------------------------------------------------------------------
@pytest.mark.parametrize("rel, fmt", [
    ("table/canonical.csv", "table"), ("table/simple.csv", "table"), ("table/metrics.jsonl", "table"),
    ("wandb/export.csv", "wandb-export"), ("wandb/history_nanogpt.csv", "wandb-history"),
    ("wandb/history_hf.json", "wandb-history"), ("tensorboard", "tensorboard"),
    ("tensorboard/gpt-small-cosine/events.out.tfevents.1700000000.node01.4242.0", "tensorboard"),
    ("hf/gpt2-finetune", "hf"), ("hf/gpt2-finetune/checkpoint-50/trainer_state.json", "hf"),
    ("lightning/lightning_logs", "lightning"), ("lightning/lightning_logs/version_0/metrics.csv", "lightning"),
    ("mlflow/mlruns", "mlflow"), ("mlflow/mlruns/1/a1b2c3d4e5f60718293a4b5c6d7e8f90/metrics/loss", "mlflow"),
    ("mlflow/mlflow.db", "mlflow-sqlite"), ("text/nanogpt_shakespeare.log", "nanogpt"),
    ("text/build-nanogpt/log/log.txt", "build-nanogpt"), ("text/build-nanogpt/stdout.txt", "build-nanogpt"),
    ("text/modded_nanogpt.txt", "modded-nanogpt"), ("text/megatron_gpt345m.log", "megatron"),
    ("text/torchtitan_llama3_debug.log", "torchtitan"), ("lrplan_runs/sweep", "lrplan-run"),
    ("lrplan_runs/sweep/nano-wsd-3e-3", "lrplan-run"), ("lrplan_runs/sweep/nano-wsd-3e-3/curves.csv", "table"),
])
def test_detect_picks_the_right_loader(rel, fmt):
    assert detect(LOGS / rel) == fmt


def test_event_file_detected_by_content_when_renamed(tmp_path):
    src = LOGS / "tensorboard/gpt-small-cosine/events.out.tfevents.1700000000.node01.4242.0"
    dst = tmp_path / "run.bin"
    shutil.copy(src, dst)
    assert detect(dst) == "tensorboard"
    assert len(load(dst)) == 26


def test_column_roles():
    assert classify("train/global_step") == ("step", None, 4)
    assert classify("_step")[0] == "step" and classify("_step")[2] > classify("iter")[2]
    assert classify("lm loss")[:2] == ("loss", "train")
    assert classify("eval/loss")[:2] == ("loss", "val")
    assert classify("eval_wikitext_loss")[:2] == ("loss", "wikitext")
    assert classify("test_loss")[:2] == ("loss", "test")
    assert classify("Loss/train")[:2] == ("loss", "train")
    assert classify("train_loss_step")[:2] == ("loss", "train")
    assert classify("train_loss_epoch") is None
    assert classify("val_loss_epoch")[:2] == ("loss", "val")
    assert classify("val_loss_step") is None
    assert classify("lr-AdamW")[0] == "lr" and classify("learning_rate")[0] == "lr"
    assert classify("grad_norm") is None and classify("mfu") is None


def test_crc32c_known_values():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert crc32c(b"") == 0
    assert masked_crc32c(b"") == 0xA282EAD8


# -- generic tables -------------------------------------------------------------------------------
def test_canonical_csv_round_trips_byte_for_byte(tmp_path):
    src = LOGS / "table/canonical.csv"
    c = load(src)
    assert counts(c) == {("cosine-3e-4", "train"): 9, ("cosine-3e-4", "val"): 3,
                         ("wsd-3e-4", "train"): 9, ("wsd-3e-4", "val"): 3}
    val = rows(c, "cosine-3e-4", "val")
    assert val["step"].tolist() == [0, 200, 400]
    assert val["tokens"].tolist() == [0.0, 200 * 65536.0, 400 * 65536.0]
    out = c.to_csv(tmp_path / "again.csv")
    assert out.read_bytes() == src.read_bytes()
    pd.testing.assert_frame_equal(load(out).data, c.data)


def test_simple_csv_with_missing_lr():
    c = load(LOGS / "table/simple.csv")
    expected = pd.DataFrame({
        "run": ["baseline"] * 5 + ["no-lr"] * 4, "split": "train",
        "step": np.array([0, 100, 200, 300, 400, 0, 100, 200, 300], dtype=np.int64),
        "loss": [11.0, 7.1196, 6.118, 5.6126, 5.2959, 11.0084, 7.1259, 6.1214, 5.6127],
        "lr": [0.0, 0.000286631, 0.00019504, 8.08289e-05, 3e-05] + [np.nan] * 4,
        "tokens": np.nan, "batch_size": np.nan})
    pd.testing.assert_frame_equal(c.data, expected[COLUMNS])
    assert c.meta["no-lr"].extra["agg"] == {"train": "step"}


def test_short_canonical_form_round_trips(tmp_path):
    c = load(LOGS / "table/simple.csv")
    out = c.to_csv(tmp_path / "short.csv")
    assert out.read_text().splitlines()[0] == "run,split,step,loss,lr"
    pd.testing.assert_frame_equal(load(out).data, c.data)


def test_jsonl_train_and_eval_lines_at_different_steps():
    c = load(LOGS / "table/metrics.jsonl")
    assert c.runs == ["table"]  # "metrics" is too generic a name: the directory names the run
    assert counts(c) == {("table", "train"): 11, ("table", "val"): 2}
    val = rows(c, "table", "val")
    assert val["step"].tolist() == [50, 100]
    assert val["loss"].tolist() == [8.2416, 7.1696]
    # eval lines hold no lr/tokens: taken from the train line of the same step
    assert val["lr"].tolist() == [0.00042406, 3e-05]
    assert val["tokens"].tolist() == [50 * 524288.0, 100 * 524288.0]


def test_column_mapping(tmp_path):
    p = tmp_path / "custom.tsv"
    p.write_text("it\tsmooth\tppl_val\tmy_lr\n0\t4.1\t\t0.001\n10\t3.9\t4.0\t0.001\n20\t3.8\t\t0.0005\n")
    c = load(p, columns={"it": "step", "smooth": "loss", "ppl_val": "loss:val", "my_lr": "lr"})
    assert counts(c) == {("custom", "train"): 3, ("custom", "val"): 1}
    assert rows(c, "custom", "val").iloc[0][["step", "loss", "lr"]].tolist() == [10, 4.0, 0.001]
    with pytest.raises(LoadError, match=r"custom\.tsv: no loss column .* found: it, smooth, ppl_val, my_lr"):
        load(p)
    with pytest.raises(LoadError, match=r"custom\.tsv: no step column"):
        load(p, columns={"smooth": "loss"})
    with pytest.raises(LoadError, match=r"column 'nope' from the mapping is not in the file"):
        load(p, columns={"nope": "step"})
    with pytest.raises(LoadError, match=r"unknown target 'steps'"):
        load(p, columns={"it": "steps"})


def test_metric_value_long_table(tmp_path):
    p = tmp_path / "long.csv"
    p.write_text("run_id,step,split,metric,value,agg\nr1,0,train,loss,4.0,step\nr1,0,train,lr,0.0,step\n"
                 "r1,10,train,loss,3.5,step\nr1,10,train,lr,0.001,step\nr1,10,eval,loss,3.6,eval_mean\n")
    c = load(p)
    assert counts(c) == {("r1", "train"): 2, ("r1", "val"): 1}
    assert rows(c, "r1", "train")["lr"].tolist() == [0.0, 0.001]


def test_nan_losses_are_dropped_with_a_count(tmp_path):
    p = tmp_path / "nan.csv"
    p.write_text("step,loss\n0,4.0\n1,nan\n2,inf\n3,3.0\n")
    with pytest.warns(LrplanWarning, match="dropped 2 row"):
        c = load(p)
    assert c.data["step"].tolist() == [0, 3]


# -- W&B ----------------------------------------------------------------------------------------
def test_wandb_export_several_runs_band_columns_dropped():
    with warnings.catch_warnings():
        warnings.simplefilter("error", LrplanWarning)  # evenly spaced, 21 rows: no sampling warning
        c = load(LOGS / "wandb/export.csv")
    assert counts(c) == {("brisk-pond-1", "train"): 21, ("calm-sun-2", "train"): 16}
    calm = rows(c, "calm-sun-2", "train")
    assert calm["step"].iloc[-1] == 300 and calm["loss"].iloc[0] == 11.0084
    assert c.data["lr"].isna().all()
    assert c.meta["brisk-pond-1"].extra["format"] == "wandb-export"


def test_wandb_export_sampling_and_time_axis_warnings(tmp_path):
    steps = [0, 7, 20, 33, 40, 61, 80]
    p = tmp_path / "sampled.csv"
    p.write_text('"Step","r - val/loss"\n' + "".join(f'"{s}","{5 - s / 100:.3f}"\n' for s in steps))
    with pytest.warns(LrplanWarning, match="unevenly spaced steps for run"):
        c = load(p)
    assert counts(c) == {("r", "val"): 7}
    p500 = tmp_path / "five_hundred.csv"
    p500.write_text('"Step","g - loss"\n' + "".join(f'"{2 * s}","{5 - s / 1000:.4f}"\n' for s in range(500)))
    with pytest.warns(LrplanWarning, match="exactly 500 rows"):
        load(p500)
    t = tmp_path / "time.csv"
    t.write_text('"Wall Time","r - train/loss"\n"1700000000","4.0"\n')
    with pytest.raises(LoadError, match="x axis is 'Wall Time', not steps"):
        load(t)


def test_wandb_history_prefers_iter_over_step():
    c = load(LOGS / "wandb/history_nanogpt.csv")
    train = rows(c, "history_nanogpt", "train")
    assert train["step"].tolist() == list(range(0, 2001, 250))
    assert train["lr"].iloc[1] == 0.000986
    assert c.meta["history_nanogpt"].extra["agg"]["train"] == "eval_mean"
    hf = load(LOGS / "wandb/history_hf.json")
    assert counts(hf) == {("history_hf", "train"): 10, ("history_hf", "val"): 2}
    assert rows(hf, "history_hf", "val")["step"].tolist() == [50, 100]  # train/global_step, not _step
    assert rows(hf, "history_hf", "val")["loss"].tolist() == [8.2616, 7.1896]


def test_json_orients_and_per_run_dump(tmp_path):
    frame = pd.DataFrame({"_step": [0, 1], "iter": [0, 100], "train/loss": [4.0, 3.0]})
    for orient in ("columns", "split", "records"):
        p = tmp_path / f"{orient}.json"
        p.write_text(frame.to_json(orient=orient))
        c = load(p)
        assert c.data["step"].tolist() == [0, 100] and c.data["loss"].tolist() == [4.0, 3.0], orient
    p = tmp_path / "runs.json"
    p.write_text(json.dumps({"a": [{"step": 0, "loss": 4.0}], "b": [{"step": 0, "loss": 5.0}]}))
    assert load(p).runs == ["a", "b"]


# -- TensorBoard --------------------------------------------------------------------------------
def test_tensorboard_runs_old_and_new_style_scalars_and_restart():
    with pytest.warns(LrplanWarning, match="5 duplicate and 1 backwards step"):
        c = load(LOGS / "tensorboard")
    assert counts(c) == {("gpt-small-const", "train"): 6, ("gpt-small-const", "val"): 2,
                         ("gpt-small-cosine", "train"): 21, ("gpt-small-cosine", "val"): 5,
                         ("gpt-small-wsd", "train"): 21, ("gpt-small-wsd", "val"): 5}
    cos = rows(c, "gpt-small-cosine", "train")
    assert cos["loss"].iloc[0] == np.float32(11.0) and cos["lr"].iloc[-1] == np.float32(3e-5)
    # new-style tensors; steps 120..150 were logged twice: the resumed values win
    wsd = rows(c, "gpt-small-wsd", "train").set_index("step")
    assert wsd.loc[130, "loss"] == pytest.approx(3.2 + 7.8 / (1 + 130 / 40) ** 0.55 + 0.01 * np.sin(1.7 * 130 + 1) - 0.001, abs=1e-6)
    assert wsd.loc[200, "lr"] == 0.0 and wsd.loc[100, "lr"] == 3e-4  # double_val is exact
    val = rows(c, "gpt-small-wsd", "val")
    assert val["loss"].dtype == np.float64 and val["step"].tolist() == [0, 50, 100, 150, 200]
    # add_scalars("loss", {"train", "val"}) sub-directories fold into their parent run
    const = rows(c, "gpt-small-const", "val")
    assert const["step"].tolist() == [0, 100] and const["lr"].tolist() == [np.float32(1e-3)] * 2


def test_tensorboard_truncated_tail_keeps_prefix_and_crc_error(tmp_path):
    src = (LOGS / "tensorboard/gpt-small-cosine/events.out.tfevents.1700000000.node01.4242.0").read_bytes()
    cut = tmp_path / "events.out.tfevents.1.cut"
    cut.write_bytes(src[:-7])
    with pytest.warns(LrplanWarning, match="truncated record"):
        c = load(cut)
    assert counts(c) == {(tmp_path.name, "train"): 21, (tmp_path.name, "val"): 4}  # the last eval was cut
    bad = bytearray(src)
    bad[200] ^= 0xFF
    p = tmp_path / "events.out.tfevents.2.bad"
    p.write_bytes(bytes(bad))
    with pytest.raises(LoadError, match=r"events\.out\.tfevents\.2\.bad: corrupt event file \(data CRC mismatch at byte"):
        load(p)


# -- HF, Lightning, MLflow -------------------------------------------------------------------------
def test_hf_trainer_state_newest_and_summary_skipped():
    c = load(LOGS / "hf/gpt2-finetune")
    assert c.runs == ["gpt2-finetune"]
    assert counts(c) == {("gpt2-finetune", "train"): 10, ("gpt2-finetune", "val"): 2}
    train = rows(c, "gpt2-finetune", "train")
    assert train["step"].tolist() == list(range(10, 101, 10))
    assert train["loss"].iloc[0] == 8.5186 and train["lr"].iloc[0] == pytest.approx(4.55e-05, rel=1e-12)
    val = rows(c, "gpt2-finetune", "val")
    assert val["loss"].tolist() == [6.177967, 5.355949]
    extra = c.meta["gpt2-finetune"].extra
    assert extra["agg"] == {"train": "window_mean", "val": "eval_mean"} and extra["agg_window"] == 10
    assert extra["file"].endswith("gpt2-finetune/trainer_state.json")
    old = load(LOGS / "hf/gpt2-finetune/checkpoint-50/trainer_state.json")
    assert old.runs == ["gpt2-finetune"] and counts(old)[("gpt2-finetune", "train")] == 5


def test_lightning_sparse_rows_and_versions():
    c = load(LOGS / "lightning/lightning_logs")
    assert counts(c) == {("version_0", "train"): 6, ("version_0", "val"): 2,
                         ("version_1", "train"): 6, ("version_1", "val"): 2}
    v0 = rows(c, "version_0", "train")
    assert v0["step"].tolist() == [49, 99, 149, 199, 249, 299]
    assert v0["lr"].iloc[0] == 0.000294  # from the LearningRateMonitor row of the same step
    assert rows(c, "version_0", "val")["loss"].tolist() == [6.6095, 5.6818]
    assert rows(c, "version_1", "train")["lr"].isna().all()
    assert c.meta["version_0"].extra["columns"]["loss"] == ["train_loss_step", "val_loss"]


def test_mlflow_file_store_nested_keys():
    c = load(LOGS / "mlflow/mlruns")
    assert sorted(c.runs) == ["sweep-lr-1e-3", "sweep-lr-3e-3"]
    assert counts(c) == {("sweep-lr-1e-3", "train"): 11, ("sweep-lr-1e-3", "val"): 3,
                         ("sweep-lr-3e-3", "train"): 11, ("sweep-lr-3e-3", "val"): 3}
    t = rows(c, "sweep-lr-1e-3", "train")
    assert t["loss"].iloc[1] == 10.089512325600815 and t["lr"].iloc[-1] == 3e-05
    assert c.meta["sweep-lr-3e-3"].extra["columns"]["loss"] == ["eval/loss", "train/loss"]
    one = load(LOGS / "mlflow/mlruns/1/a1b2c3d4e5f60718293a4b5c6d7e8f90")
    assert one.runs == ["sweep-lr-1e-3"] and len(one) == 14


def test_mlflow_old_two_field_lines(tmp_path):
    m = tmp_path / "mlruns" / "0" / "abc" / "metrics"
    m.mkdir(parents=True)
    (m / "loss").write_text("1721450907301 4.2\n1721450908301 4.0\n1721450909301 3.9\n")
    (m.parent / "meta.yaml").write_text("run_id: abc\nexperiment_id: '0'\n")
    with pytest.warns(LrplanWarning, match="used the line number as step"):
        c = load(tmp_path / "mlruns")
    assert c.data["step"].tolist() == [0, 1, 2] and c.runs == ["abc"]


def test_mlflow_sqlite_names_nan_and_deleted_runs():
    with pytest.warns(LrplanWarning, match="dropped 1 row"):
        c = load(LOGS / "mlflow/mlflow.db")
    assert c.runs == ["sweep-lr-1e-3", "sweep-lr-3e-3"]  # the deleted run 'crashed' is skipped
    assert counts(c) == {("sweep-lr-1e-3", "train"): 11, ("sweep-lr-1e-3", "val"): 3,
                         ("sweep-lr-3e-3", "train"): 10, ("sweep-lr-3e-3", "val"): 3}
    assert 60 not in rows(c, "sweep-lr-3e-3", "train")["step"].tolist()  # is_nan=1
    assert c.meta["sweep-lr-3e-3"].extra["experiment"] == "lr-sweep"
    # both MLflow stores of the same sweep read into the same table
    files = quiet_load(LOGS / "mlflow/mlruns")
    a = rows(c, "sweep-lr-1e-3", "train")[COLUMNS]
    b = rows(files, "sweep-lr-1e-3", "train")[COLUMNS]
    pd.testing.assert_frame_equal(a, b)


# -- console logs -------------------------------------------------------------------------------
def test_nanogpt_log():
    c = load(LOGS / "text/nanogpt_shakespeare.log")
    assert counts(c) == {("nanogpt_shakespeare", "train"): 51, ("nanogpt_shakespeare", "train_eval"): 3,
                         ("nanogpt_shakespeare", "val"): 3}
    train = rows(c, "nanogpt_shakespeare", "train")
    assert train["loss"].iloc[-1] == 5.0539 and train["tokens"].iloc[-1] == 500 * 16384.0
    assert rows(c, "nanogpt_shakespeare", "val")["loss"].tolist() == [11.0914, 5.9204, 5.1439]
    assert c.meta["nanogpt_shakespeare"].params == 10.65e6
    assert c.data["lr"].isna().all()


def test_build_nanogpt_log_txt_and_stdout_agree():
    log = load(LOGS / "text/build-nanogpt/log/log.txt")
    out = load(LOGS / "text/build-nanogpt/stdout.txt")
    assert log.runs == out.runs == ["build-nanogpt"]
    assert counts(log) == counts(out) == {("build-nanogpt", "train"): 21, ("build-nanogpt", "val"): 3}
    pd.testing.assert_frame_equal(log.data[["run", "split", "step", "loss"]], out.data[["run", "split", "step", "loss"]])
    assert rows(out, "build-nanogpt", "train")["lr"].iloc[0] == 6e-05
    assert rows(out, "build-nanogpt", "val")["tokens"].tolist() == [0.0, 10 * 524288.0, 20 * 524288.0]


def test_modded_nanogpt_log():
    c = load(LOGS / "text/modded_nanogpt.txt")
    assert counts(c) == {("modded_nanogpt", "train"): 100, ("modded_nanogpt", "val"): 5}
    assert rows(c, "modded_nanogpt", "val")["step"].tolist() == [0, 25, 50, 75, 100]
    assert c.meta["modded_nanogpt"].extra["total_steps"] == 100


def test_megatron_log_resumed_run_ranks_and_tokens():
    with pytest.warns(LrplanWarning, match="2 duplicate and 0 backwards"):
        c = load(LOGS / "text/megatron_gpt345m.log")
    run = "megatron_gpt345m"
    assert counts(c) == {(run, "test"): 1, (run, "train"): 10, (run, "val"): 2}
    train = rows(c, run, "train").set_index("step")
    assert train.loc[50, "loss"] == 6.112585  # the resumed run's value wins
    assert train.loc[50, "lr"] == 1.067878e-04 and train.loc[50, "tokens"] == 50 * 32 * 1024.0
    assert train.loc[50, "batch_size"] == 32.0
    assert rows(c, run, "val")["loss"].tolist() == [6.165585, 5.345125]
    assert rows(c, run, "test")[["step", "loss"]].values.tolist() == [[100, 5.355125]]
    meta = c.meta[run]
    assert (meta.seq_len, meta.peak_lr, meta.batch_size) == (1024, 0.00015, 32.0)
    assert meta.extra["agg"]["train"] == "window_mean" and meta.extra["agg_window"] == 10


def test_torchtitan_log_with_ansi_codes():
    c = load(LOGS / "text/torchtitan_llama3_debug.log")
    run = "torchtitan_llama3_debug"
    assert counts(c) == {(run, "train"): 40, (run, "val"): 2}
    assert rows(c, run, "train")["loss"].iloc[0] == 10.09007
    assert rows(c, run, "val")[["step", "loss"]].values.tolist() == [[20, 6.1714], [40, 5.3445]]


def test_rank_prefixed_duplicate_lines_keep_one_rank(tmp_path):
    p = tmp_path / "two_ranks.log"
    p.write_text("".join(f"[default{r}]:step: {s}  loss: {5 - s / 10 + r / 100:.4f}  grad_norm: 1.0\n"
                         for s in range(1, 4) for r in (0, 1)))
    c = load(p)
    assert c.data["loss"].tolist() == [4.9, 4.8, 4.7] and c.meta["two_ranks"].extra["rank"] == 0


def test_lrplan_trainer_run_folders():
    c = load(LOGS / "lrplan_runs/sweep")
    assert c.runs == ["nano-cosine-3e-3", "nano-wsd-3e-3"]
    assert counts(c) == {(r, s): n for r in c.runs for s, n in (("stdlib", 2), ("train", 40), ("val", 3))}
    m = c.meta["nano-wsd-3e-3"]
    assert (m.schedule, m.peak_lr, m.batch_size, m.seq_len, m.params) == (
        "wsd:peak=0.003,warmup=8,cooldown=0.2,steps=40", 0.003, 16, 64, 120448)
    assert m.extra["status"] == "finished"
    assert m.extra["agg"] == {"stdlib": "eval_mean", "train": "step", "val": "eval_mean"}
    train = rows(c, "nano-wsd-3e-3", "train")
    from lrplan.schedules import parse

    np.testing.assert_array_equal(train["lr"].to_numpy(), parse(m.schedule).array())
    assert train["tokens"].iloc[-1] == 39 * 16 * 64
    assert np.isnan(rows(c, "nano-wsd-3e-3", "val")["lr"].iloc[-1])  # no update follows the last eval


def test_lrplan_run_trained_on_an_lr_array_has_no_spec(tmp_path):
    src = LOGS / "lrplan_runs/sweep/nano-wsd-3e-3"
    dst = tmp_path / "custom-run"
    shutil.copytree(src, dst)
    meta = json.loads((dst / "meta.json").read_text())
    (dst / "meta.json").write_text(json.dumps({**meta, "schedule": "custom"}))
    c = load(dst)
    assert c.meta["nano-wsd-3e-3"].schedule is None and c.meta["nano-wsd-3e-3"].peak_lr == 0.003


# -- several files, selection ---------------------------------------------------------------------
def test_load_many_prefixes_clashing_run_names(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(LOGS / "table/simple.csv", a / "sweep1.csv")
    shutil.copy(LOGS / "table/simple.csv", b / "sweep2.csv")
    with pytest.warns(LrplanWarning, match="prefixed them with the file name"):
        c = load_many([a / "sweep1.csv", b / "sweep2.csv"])
    assert c.runs == ["sweep1/baseline", "sweep1/no-lr", "sweep2/baseline", "sweep2/no-lr"]
    assert c.meta["sweep2/no-lr"].run == "sweep2/no-lr"
    mixed = quiet_load(LOGS / "hf/gpt2-finetune")
    both = load_many([LOGS / "hf/gpt2-finetune", LOGS / "text/torchtitan_llama3_debug.log"])
    assert both.runs == ["gpt2-finetune", "torchtitan_llama3_debug"] and len(both) == len(mixed) + 42


def test_run_and_split_selection():
    c = load(LOGS / "lightning/lightning_logs", run="version_1", split="val")
    assert counts(c) == {("version_1", "val"): 2}
    renamed = load(LOGS / "text/torchtitan_llama3_debug.log", run="titan-debug")
    assert renamed.runs == ["titan-debug"] and list(renamed.meta) == ["titan-debug"]
    with pytest.raises(LoadError, match="no run named 'nope'; runs: version_0, version_1"):
        load(LOGS / "lightning/lightning_logs", run="nope")
    with pytest.raises(LoadError, match="unknown format 'parquet'; allowed: table"):
        load(LOGS / "table/simple.csv", format="parquet")


def test_every_format_has_a_fixture():
    covered = {detect(LOGS / rel) for rel in (
        "table/simple.csv", "wandb/export.csv", "wandb/history_nanogpt.csv", "tensorboard", "hf/gpt2-finetune",
        "lightning/lightning_logs", "mlflow/mlruns", "mlflow/mlflow.db", "text/nanogpt_shakespeare.log",
        "text/build-nanogpt/log/log.txt", "text/modded_nanogpt.txt", "text/megatron_gpt345m.log",
        "text/torchtitan_llama3_debug.log", "lrplan_runs/sweep")}
    assert covered == set(FORMATS)


def test_benchmark_smoke(capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_loaders", Path(__file__).parents[1] / "benchmarks" / "loaders.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = bench.main(["--smoke"])
    # 300 train steps + evals at 0, 100, 200 in every format
    assert {k: v["points"] for k, v in results.items() if k != "crc_speedup"} == {
        "table (canonical CSV)": 303, "table (JSONL)": 303, "tensorboard": 303, "megatron": 303}
    assert "| tensorboard |" in capsys.readouterr().out


# -- LR from a schedule ------------------------------------------------------------------------------
def test_with_schedule_rebuilds_missing_lr():
    from lrplan.loaders import with_schedule
    from lrplan.schedules import parse

    c = load(LOGS / "text/torchtitan_llama3_debug.log")
    spec = "cosine:peak=3e-4,warmup=10,floor=0.1x"
    d = with_schedule(c, spec)
    lr = parse(spec, 41).array()  # steps 1..40 logged: length = last step + 1
    np.testing.assert_array_equal(d.data["lr"].to_numpy(), lr[d.data["step"].to_numpy()])
    m = d.meta["torchtitan_llama3_debug"]
    assert m.peak_lr == 3e-4 and m.extra["lr_source"] == "schedule" and m.schedule.startswith("cosine:")
    assert c.data["lr"].isna().all()  # the input is not modified


def test_with_schedule_fills_gaps_and_checks_logged_lr(tmp_path):
    from lrplan.loaders import with_schedule
    from lrplan.schedules import parse

    c = load(LOGS / "table/simple.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LrplanWarning)  # the logged LR of 'baseline' matches this schedule
        d = with_schedule(c, "cosine:peak=3e-4,warmup=50,floor=3e-5,steps=401")
    pd.testing.assert_series_equal(rows(d, "baseline", "train")["lr"], rows(c, "baseline", "train")["lr"])
    expected = parse("cosine:peak=3e-4,warmup=50,floor=3e-5,steps=401").array()[[0, 100, 200, 300]]
    np.testing.assert_array_equal(rows(d, "no-lr", "train")["lr"].to_numpy(), expected)
    assert d.meta["baseline"].extra["lr_source"] == "logged+schedule"
    with pytest.warns(LrplanWarning, match="logged LR differs from schedule"):
        with_schedule(c, "constant:peak=1e-3", runs=["baseline"])
    with pytest.raises(LoadError, match="no run named 'x'"):
        with_schedule(c, "constant:peak=1e-3", runs=["x"])
    out = tmp_path / "filled.csv"
    from lrplan.cli import main

    assert main(["curves", "convert", str(LOGS / "text/torchtitan_llama3_debug.log"), "--schedule",
                 "wsd:peak=1e-3,warmup=5,cooldown=0.2", "--out", str(out)]) == 0
    assert load(out).data["lr"].notna().all()
    assert main(["curves", "convert", str(LOGS / "wandb/export.csv"), "--schedule", "calm-sun-2=constant:peak=1e-3",
                 "--out", str(out)]) == 0
    back = load(out)
    assert (back.data[back.data["run"] == "calm-sun-2"]["lr"] == 1e-3).all()
    assert back.data[back.data["run"] == "brisk-pond-1"]["lr"].isna().all()
    assert main(["curves", "inspect", str(LOGS / "text/torchtitan_llama3_debug.log"), "--schedule", "wsd:peak"]) == 2


def test_wandb_grouped_runs_and_lr_column(tmp_path):
    p = tmp_path / "grouped.csv"
    p.write_text('"train/global_step","Group: wsd-sweep - train/loss","Group: wsd-sweep - train/loss__MIN",'
                 '"Group: wsd-sweep - train/loss__MAX","Group: wsd-sweep - train/learning_rate"\n'
                 '"10","4.5","4.4","4.6","0.0003"\n"20","4.1","4.0","4.2","0.0003"\n"30","3.9","3.8","4.0",""\n')
    c = load(p)
    assert c.runs == ["wsd-sweep"] and c.meta["wsd-sweep"].extra["group"] is True
    assert c.data["lr"].tolist()[:2] == [0.0003, 0.0003] and np.isnan(c.data["lr"].iloc[2])


def test_hf_several_eval_sets(tmp_path):
    state = {"global_step": 20, "logging_steps": 10, "log_history": [
        {"loss": 3.1, "learning_rate": 1e-4, "step": 10}, {"loss": 2.9, "learning_rate": 5e-5, "step": 20},
        {"eval_wikitext_loss": 3.3, "eval_wikitext_runtime": 1.0, "step": 20},
        {"eval_c4_loss": 3.5, "eval_c4_runtime": 1.2, "step": 20},
        {"train_loss": 3.0, "train_runtime": 9.0, "step": 20, "total_flos": 1.0}]}
    d = tmp_path / "out" / "checkpoint-20"
    d.mkdir(parents=True)
    (d / "trainer_state.json").write_text(json.dumps(state))
    c = load(tmp_path / "out")
    assert c.runs == ["out"]
    assert counts(c) == {("out", "c4"): 1, ("out", "train"): 2, ("out", "wikitext"): 1}
    assert rows(c, "out", "c4")[["step", "loss", "lr"]].values.tolist() == [[20, 3.5, 5e-5]]


@pytest.mark.parametrize("rel", [
    "table/canonical.csv", "table/metrics.jsonl", "wandb/export.csv", "wandb/history_hf.json", "tensorboard",
    "hf/gpt2-finetune", "lightning/lightning_logs", "mlflow/mlruns", "mlflow/mlflow.db",
    "text/nanogpt_shakespeare.log", "text/build-nanogpt/stdout.txt", "text/modded_nanogpt.txt",
    "text/megatron_gpt345m.log", "text/torchtitan_llama3_debug.log", "lrplan_runs/sweep"])
def test_every_loader_emits_the_same_table(rel):
    c = quiet_load(LOGS / rel)
    assert list(c.data.columns) == COLUMNS
    assert [str(t) for t in c.data.dtypes[["step", "loss", "lr", "tokens", "batch_size"]]] == \
        ["int64", "float64", "float64", "float64", "float64"]
    for (run, split), g in c.data.groupby(["run", "split"]):
        assert g["step"].is_monotonic_increasing and g["step"].is_unique
        extra = c.meta[run].extra
        assert extra["format"] == detect(LOGS / rel)  # the name to pass as format= to read it again
        assert extra["agg"][split] in ("step", "window_mean", "eval_mean")
        assert extra["file"]


def test_gzipped_logs_read_like_the_originals(tmp_path):
    import gzip

    for rel in ("text/megatron_gpt345m.log", "table/metrics.jsonl", "wandb/export.csv",
                "tensorboard/gpt-small-cosine/events.out.tfevents.1700000000.node01.4242.0"):
        src = LOGS / rel
        dst = tmp_path / src.parent.name / (src.name + ".gz")
        dst.parent.mkdir(exist_ok=True)
        dst.write_bytes(gzip.compress(src.read_bytes()))
        assert detect(dst) == detect(src), rel
        a, b = quiet_load(src), quiet_load(dst)
        pd.testing.assert_frame_equal(a.data.drop(columns="run"), b.data.drop(columns="run"))
        assert a.runs == b.runs, rel  # same run names: ".gz" is dropped
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(gzip.compress((LOGS / "text/nanogpt_shakespeare.log").read_bytes())[:-20])
    with pytest.raises(LoadError, match=r"cut\.log\.gz: corrupt or truncated gzip file"):
        load(cut)


def test_detection_looks_past_a_long_preamble(tmp_path):
    """modded-nanogpt logs begin with the whole training script (often > 64 KB)."""
    code = "".join(f"    x{i} = torch.zeros({i}, device='cuda')  # step:{i} is not a log line\n" for i in range(2000))
    p = tmp_path / "record.txt"
    p.write_text(code + (LOGS / "text/modded_nanogpt.txt").read_text())
    assert len(code) > 100_000 and detect(p) == "modded-nanogpt"
    assert counts(load(p)) == {("record", "train"): 100, ("record", "val"): 5}
