"""`lrplan demo`: the README's first command, end to end on bundled data (no torch needed)."""

import json

from lrplan.cli import main


def test_demo_writes_report_plots_and_plan(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "Predict unseen schedules" in stdout and "Plan the schedule" in stdout
    for name in ("report.md", "fit.png", "heldout.png", "hparams.png", "fit.json",
                 "plan/plan.json", "plan/lr.csv", "plan/lr_scheduler.py", "plan/plan.png"):
        assert (out / name).exists(), name
    report = (out / "report.md").read_text()
    assert "wsdcon_3" in report and "cosine_72000" in report
    plan = json.loads((out / "plan" / "plan.json").read_text())
    assert plan["steps"] == 24000
    # the plan is predicted to beat both baselines under the law it was planned with
    assert all(g >= 0 for g in plan["gain"].values())
    # rerunning replaces the folder as a whole; no temporary folders are left behind
    assert main(["demo", "--out", str(out), "--no-plan", "--law", "momentum"]) == 0
    assert not (out / "plan").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_demo_bad_law_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--law", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown law 'nope'" in err and len(err.splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []
