"""``lrplan plan``: writes every output, nothing on error, one-line errors with exit code 2."""

import json

import numpy as np
import pandas as pd
import pytest

from lrplan.cli import main
from lrplan.datasets import MPL_PUBLISHED_PARAMS
from lrplan.plan.output import FILES
from lrplan.schedules import from_csv

BASE = ["plan", "--fit", "mpl-100", "--steps", "2000", "--warmup", "100", "--resolution", "128"]


def test_plan_writes_every_output(tmp_path, capsys):
    out = tmp_path / "plan"
    assert main(BASE + ["--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    plan = json.loads((out / "plan.json").read_text())
    assert plan["steps"] == 2000 and plan["peak_lr"] == 3e-4 and plan["method"] == "freeform"
    assert plan["constraints"]["warmup"] == 100 and plan["constraints"]["checkpoints"] == [1999]
    assert set(plan["gain"]) == {"cosine to 10%", "wsd 20% linear"}
    assert plan["gain"]["cosine to 10%"] > 0.01 and plan["gain"]["wsd 20% linear"] > 0
    assert plan["predicted"]["plan"]["final"] < plan["predicted"]["best family"]["final"]
    sched = from_csv(out / "lr.csv")
    lr = sched.array()
    assert sched.steps == 2000 and lr.max() == 3e-4
    assert np.all(np.diff(lr[100:]) <= 0) and np.all(np.diff(lr[:101]) > 0)
    snippet = (out / "lr_scheduler.py").read_text()
    compile(snippet, "lr_scheduler.py", "exec")
    assert "TOTAL_STEPS = 2000" in snippet and "PEAK_LR = 0.0003" in snippet
    pred = pd.read_csv(out / "predicted.csv")
    assert set(pred["schedule"]) == {"plan", "cosine to 10%", "wsd 20% linear"}
    assert pred["step"].min() == 100 and pred["step"].max() == 1999
    assert (out / "plan.png").stat().st_size > 10_000
    table = capsys.readouterr().out
    assert "plan gain" in table and "wsd 20% linear" in table


def test_exported_scheduler_reproduces_the_plan_in_torch(tmp_path):
    torch = pytest.importorskip("torch")
    out = tmp_path / "plan"
    assert main(BASE[:-1] + ["32", "--no-plot", "--out", str(out)]) == 0
    ns = {"__file__": str(out / "lr_scheduler.py")}
    exec((out / "lr_scheduler.py").read_text(), ns)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = ns["make_scheduler"](opt)
    got = []
    for _ in range(2000):
        got.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(got, from_csv(out / "lr.csv").array(), rtol=1e-12)


@pytest.mark.parametrize("extra, message", [
    (["--floor", "1e-3"], "planner: floor 0.001 is above the peak LR 0.0003"),
    (["--max-cooldown", "5000"], "max_cooldown (5000 steps) is longer than the run after warmup (1900 steps)"),
    (["--checkpoint", "50"], "checkpoint step 50.0 is outside the trainable part of the run (100..1999)"),
    (["--robust", "upper"], "needs a fit with bootstrap refits"),
    (["--robust", "median"], "--robust='median'; allowed: none, mean, upper"),
    (["--peak-min", "1e-4"], "give both --peak-min and --peak-max"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "plan"
    assert main(BASE + extra + ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert err.strip().startswith("error:")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_warmup_longer_than_the_run_is_an_error(tmp_path, capsys):
    assert main(["plan", "--fit", "mpl-100", "--steps", "500", "--warmup", "600", "--out", str(tmp_path / "p")]) == 2
    assert "warmup (600 steps) is not shorter than the run (500 steps)" in capsys.readouterr().err


def test_an_error_leaves_an_existing_plan_folder_untouched(tmp_path):
    out = tmp_path / "plan"
    assert main(BASE[:-1] + ["32", "--no-plot", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(BASE + ["--floor", "1", "--out", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


def test_fit_json_with_bootstrap_gives_bands_and_a_robust_plan(tmp_path, capsys):
    params = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    rng = np.random.default_rng(1)
    boot = [{"B": params["B"] * f, "C": params["C"] * g} for f, g in rng.normal(1, 0.05, (5, 2))]
    fit = tmp_path / "fit.json"
    fit.write_text(json.dumps({"law": "mpl", "params": params, "bootstrap": boot, "peak_lr": 3e-4}))
    out = tmp_path / "plan"
    assert main(["plan", "--fit", str(fit), "--steps", "2000", "--warmup", "100", "--resolution", "32",
                 "--robust", "upper", "--out", str(out)]) == 0
    plan = json.loads((out / "plan.json").read_text())
    assert plan["law"]["robust"] == "upper" and plan["law"]["bootstrap_fits"] == 5
    for name in ("plan", "cosine to 10%", "wsd 20% linear"):
        lo, hi = plan["predicted"][name]["band"]
        assert lo <= plan["predicted"][name]["final"] + 0.01 and lo < hi
    lo, hi = plan["gain_band"]["cosine to 10%"]
    assert 0 < lo < hi
    pred = pd.read_csv(out / "predicted.csv")
    assert (pred["lo"] <= pred["hi"]).all()


def test_unreadable_fit_files_are_load_errors(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["plan", "--fit", str(bad), "--steps", "100", "--out", str(tmp_path / "p")]) == 2
    assert f"{bad}: not a JSON fit" in " ".join(capsys.readouterr().err.split())
    assert main(["plan", "--fit", str(tmp_path / "missing.json"), "--steps", "100", "--out", str(tmp_path / "p")]) == 2
    assert "missing.json: fit file not found" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "p").exists()


def test_cli_resolution_default_is_the_planner_default():
    import inspect

    from lrplan.cli.plan_cmds import plan_cmd
    from lrplan.plan import DEFAULT_RESOLUTION

    assert inspect.signature(plan_cmd).parameters["resolution"].default == DEFAULT_RESOLUTION == 32
