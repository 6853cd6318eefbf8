"""lrplan.train.sweep / launchers and the ``lrplan train`` / ``lrplan sweep`` commands."""

import json
import sys

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrplan.cli import main
from lrplan.cli.train_cmds import TORCH_TIP, _parse_set
from lrplan.errors import ConfigError

torch = pytest.importorskip("torch")

from lrplan.train.launchers import LocalLauncher, SubmititLauncher, get_launcher  # noqa: E402
from lrplan.train.sweep import SUMMARY_COLUMNS, expand_grid, load_sweep, read_grid, run_sweep  # noqa: E402

BASE = dict(preset="nano", n_layer=1, steps=30, batch_size=8, corpus="synthetic:vocab=16,branch=2,bytes=20000",
            eval_every=10, eval_batches=2, eval_batch_size=8, checkpoint_every=10, threads=1, keep_checkpoint=False)
GRID_TOML = """
[base]
preset = "nano"
n_layer = 1
steps = 30
batch_size = 8
corpus = "synthetic:vocab=16,branch=2,bytes=20000"
eval_every = 10
eval_batches = 2
eval_batch_size = 8
threads = 1

[grid]
schedule = { const = "constant:peak=3e-3,warmup=3", wsd = "wsd:peak=3e-3,warmup=3,cooldown=0.2" }
peak_lr = [3e-3, 50.0]

[launcher]
name = "submitit"
cluster = "debug"
"""


def test_expand_grid_names_runs_by_the_varied_values():
    cfgs = expand_grid(BASE, {"schedule": ["constant:peak=1e-3", "cosine:peak=1e-3", "cosine:peak=1e-3,floor=0.1x"],
                              "peak_lr": [1e-3, 3e-3], "seed": [0], "preset": ["nano", "micro"]})
    names = [c["run"] for c in cfgs]
    assert len(names) == 12 and len(set(names)) == 12
    assert names[0] == "constant-lr0.001-nano" and "cosine2-lr0.003-micro" in names
    assert all(c["steps"] == 30 and c["seed"] == 0 for c in cfgs)


@pytest.mark.parametrize("grid,message", [
    ({"bacth_size": [8]}, "unknown trainer setting 'bacth_size' \\(did you mean 'batch_size'\\?\\)"),
    ({"batch_size": [8, 0]}, "run bs0: trainer batch_size must be a positive integer, got 0"),
    ({"seed": []}, "grid 'seed' has no values"),
    ({"seed": {"a": 1}}, "grid 'seed' must be a list"),
])
def test_bad_grids(grid, message):
    with pytest.raises(ConfigError, match=message):
        expand_grid(BASE, grid)


def test_read_grid_errors(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text("[grid\nseed = [0]")
    with pytest.raises(ConfigError, match="g.toml: not valid TOML"):
        read_grid(p)
    p.write_text("[grids]\nseed = [0]")
    with pytest.raises(ConfigError, match="unknown table \\[grids\\]"):
        read_grid(p)


def test_sweep_with_a_diverging_run_finishes_the_rest_and_is_idempotent(tmp_path):
    cfgs = expand_grid(BASE, {"schedule": {"const": "constant:peak=3e-3,warmup=3", "wsd": "wsd:peak=3e-3,warmup=3,cooldown=0.2"},
                              "peak_lr": [3e-3, 50.0]})
    table = run_sweep(cfgs, tmp_path, SubmititLauncher(tmp_path / "logs", cluster="debug"))
    status = dict(zip(table.run, table.status))
    assert status == {"const-lr0.003": "finished", "const-lr50": "diverged", "wsd-lr0.003": "finished", "wsd-lr50": "diverged"}
    assert list(table.columns[:len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS)
    ok = table[table.status == "finished"].iloc[0]
    assert ok.N == 70_592 and ok.N_nonembed == 70_592 - (256 + 64) * 64 and ok.D == 30 * 8 * 64 and ok.lr == 3e-3 and ok.batch_size == 8 and ok.loss < 3.5
    assert table[table.status == "diverged"].loss.isna().all()
    curves, runs = load_sweep(tmp_path)
    assert curves.runs == ["const-lr0.003", "wsd-lr0.003"]  # finished runs only
    assert curves.meta["wsd-lr0.003"].peak_lr == 3e-3
    pd.testing.assert_frame_equal(runs, table, check_dtype=False)
    # re-run: nothing is retrained
    stamps = {r: (tmp_path / "runs" / r / "meta.json").stat().st_mtime_ns for r in status}
    run_sweep(cfgs, tmp_path, SubmititLauncher(tmp_path / "logs", cluster="debug"))
    assert stamps == {r: (tmp_path / "runs" / r / "meta.json").stat().st_mtime_ns for r in status}


def test_crashing_run_is_recorded_as_failed_and_others_finish(tmp_path):
    good = dict(BASE, run="good", schedule="constant:peak=3e-3,warmup=3")
    bad = dict(BASE, run="bad", schedule="constant:peak=3e-3,warmup=3", corpus=str(tmp_path / "gone.txt"))
    table = run_sweep([good, bad], tmp_path / "s", SubmititLauncher(tmp_path / "logs", cluster="debug"))
    assert dict(zip(table.run, table.status)) == {"good": "finished", "bad": "failed"}
    assert "gone.txt" in table.set_index("run").loc["bad", "error"]


def test_local_launcher_runs_in_processes_with_threads_per_worker(tmp_path):
    cfgs = [dict(BASE, run=f"s{s}", seed=s, threads=None, schedule="constant:peak=3e-3,warmup=3") for s in (0, 1)]
    launcher = LocalLauncher(workers=2, threads=1)
    table = run_sweep(cfgs, tmp_path, launcher)
    assert table.status.tolist() == ["finished", "finished"]
    assert json.loads((tmp_path / "runs" / "s1" / "meta.json").read_text())["threads"] == 1
    assert table.loss.iloc[0] != table.loss.iloc[1]  # different seeds
    with pytest.raises(ConfigError, match="launcher local: unknown option 'cluster'"):
        get_launcher("local", cluster="debug")
    with pytest.raises(ConfigError, match="unknown launcher 'slurm'"):
        get_launcher("slurm")


def test_submitit_local_executor_runs_subprocess_jobs(tmp_path):
    cfg = dict(BASE, run="one", schedule="constant:peak=3e-3,warmup=3", steps=10)
    table = run_sweep([cfg], tmp_path, SubmititLauncher(tmp_path / "logs", cluster="local", timeout_min=5))
    assert table.status.tolist() == ["finished"]


def test_ray_launcher_on_loopback(tmp_path):
    pytest.importorskip("ray")
    cfg = dict(BASE, run="one", schedule="constant:peak=3e-3,warmup=3", steps=10)
    table = run_sweep([cfg], tmp_path, get_launcher("ray", num_cpus=1))
    assert table.status.tolist() == ["finished"]


# ----------------------------------------------------------------------------- CLI


def test_cli_train_runs_then_says_finished_and_resumes_partial(tmp_path, capsys):
    args = ["train", "--preset", "nano", "--n-layer", "1", "--steps", "20", "--batch-size", "4", "--seed", "1",
            "--corpus", "synthetic", "--eval-every", "10", "--threads", "1", "-q", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    assert "finished: 20 steps" in capsys.readouterr().out
    assert main(args) == 0
    assert "run already finished (20 steps" in capsys.readouterr().err
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["config"]["seed"] == 1 and meta["config"]["batch_size"] == 4


@pytest.mark.parametrize("extra,message", [
    (["--preset", "nan"], "error: unknown preset 'nan'; choose one of: nano, micro, small"),
    (["--batch-size", "0"], "error: trainer batch_size must be a positive integer, got 0"),
    (["--schedule", "cosine:peak=1e-3,warmpu=10"], "unknown key 'warmpu' for cosine (did you mean 'warmup'?)"),
    (["--corpus", "/no/such/corpus"], "error: corpus '/no/such/corpus': not 'stdlib', 'synthetic[:...]' or an existing file/folder"),
])
def test_cli_train_bad_input_is_one_line_exit_2(tmp_path, capsys, extra, message):
    assert main(["train", "--steps", "20", "--out", str(tmp_path / "r"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split()) and len(err.strip().splitlines()) <= 2


def test_cli_train_without_torch_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert main(["train", "--out", str(tmp_path / "r")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "pip install 'lrplan[train]'" in err and "torch==2.13.0" in err
    assert TORCH_TIP.startswith("the trainer needs torch")


def test_cli_sweep_from_toml_with_submitit_debug_and_launcher_override(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID_TOML)
    assert main(["sweep", str(grid), "--out", str(tmp_path / "s"), "--dry-run"]) == 0
    assert capsys.readouterr().out.split() == ["const-lr0.003", "const-lr50", "wsd-lr0.003", "wsd-lr50"]
    assert main(["sweep", str(grid), "--out", str(tmp_path / "s"), "--set", "steps=20"]) == 0
    out = capsys.readouterr().out
    assert "2 finished, 2 diverged" in out
    runs = pd.read_csv(tmp_path / "s" / "runs.csv")
    assert (runs.steps == 20).all()
    assert main(["sweep", str(grid), "--out", str(tmp_path / "s"), "--set", "steps=20", "--launcher", "local"]) == 0
    assert "(4 already done)" in capsys.readouterr().err
    assert main(["sweep", "--out", str(tmp_path / "x")]) == 2
    assert "give a GRID.toml or grid axes" in capsys.readouterr().err


@given(st.lists(st.one_of(st.integers(-10**6, 10**6), st.floats(1e-9, 1e3), st.sampled_from(["nano", "micro"])),
                min_size=1, max_size=5))
def test_parse_set_round_trips_values(values):
    text = ",".join(repr(v) if isinstance(v, float) else str(v) for v in values)
    assert _parse_set([f"key={text}"]) == {"key": values}


def test_parse_set_errors():
    with pytest.raises(ConfigError, match="expected key=value"):
        _parse_set(["seed"])
