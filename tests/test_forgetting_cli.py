"""`lrplan cpt ...` and `lrplan forgetting ...` through lrplan.cli.main (exit codes, files, messages)."""

import json

import numpy as np
import pandas as pd
import pytest

from lrplan.cli import main
from lrplan.forgetting import CPTLaw, ContinualRun
from lrplan.schedules import parse

PT = "wsd:peak=3e-3,warmup=20,cooldown=0.2,floor=3e-4,steps=600"
CPTS = {"rewarm3": "cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600",
        "rewarm1": "cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600"}
TRUE = dict(L0=1.5, A=0.5, alpha=0.5, C1=0.3, C2=0.3, B=0.3, E=30.0, beta=0.2)


@pytest.fixture
def curves_csv(tmp_path):
    """Two continual runs in the canonical long format: LR on every train step, val every 10."""
    law = CPTLaw("pt")
    law.params_ = TRUE
    frames = []
    for name, spec in CPTS.items():
        lr = parse(f"{PT} + {spec}").array()
        steps = np.arange(10, lr.size, 10)
        run = ContinualRun(lr, 600, steps, name=name)
        frames.append(pd.DataFrame({"run": name, "split": "train", "step": np.arange(lr.size), "loss": 3.0, "lr": lr}))
        frames.append(pd.DataFrame({"run": name, "split": "val", "step": steps, "loss": law.predict(run), "lr": lr[steps]}))
    path = tmp_path / "curves.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_cpt_fit_then_predict_a_proposed_schedule(curves_csv, tmp_path, capsys):
    law_path = tmp_path / "cpt.json"
    assert main(["cpt", "fit", str(curves_csv), "--split", "val", "--switch", "600", "--out", str(law_path),
                 "--plot", str(tmp_path / "fit.png")]) == 0
    d = json.loads(law_path.read_text())
    assert d["law"] == "cpt" and d["params"]["B"] == pytest.approx(0.3, rel=0.02)
    assert (tmp_path / "fit.png").stat().st_size > 1000
    pred_csv = tmp_path / "pred.csv"
    assert main(["cpt", "predict", str(law_path), "--schedule", f"{PT} + wsd:peak=2e-3,floor=2e-4,warmup=20,cooldown=0.3,steps=600",
                 "--switch", "600", "--every", "100", "--out", str(pred_csv)]) == 0
    table = pd.read_csv(pred_csv)
    assert list(table.columns) == ["step", "lr", "loss", "lo", "hi", "shift"]
    assert (table["lo"] <= table["loss"]).all() and (table["loss"] <= table["hi"]).all()
    assert d["uncertainty"]["leave_one_out"] and len(d["uncertainty"]["bootstrap"]) == 10  # CLI defaults
    assert table["step"].tolist() == [100, 200, 300, 400, 500, 599, 600, 700, 800, 900, 1000, 1100, 1199]
    assert (table.loc[table["step"] < 600, "shift"] == 0).all() and table["shift"].iloc[-1] == pytest.approx(0.3 * (1 - (1 + 30 * 0.9) ** -0.2), rel=0.05)
    out = capsys.readouterr().out
    assert "left out rewarm3" in out and "90 % band" in out and "final" in out


@pytest.mark.parametrize("args, msg", [
    (["--switch", "5000"], "switch step 5000 is outside the run"),
    (["--switch", "600", "--replay", "1.5"], r"replay fraction 1.5 is outside \[0, 1\]"),
    ([], "needs --switch"),
    (["--switch", "600", "--domain", "both"], "domain: must be"),
    (["--switch", "600", "--shift-form", "log"], "shift_form: must be 'saturating' or 'boxcox'"),
    (["--switch", "600", "--replay-law", "--no-anneal-cpt"], "anneal_cpt=False leaves out the C2"),
    (["--switch", "600", "--lam", "auto"], "--lam: expected a momentum in \\(0, 1\\) or 'fit', got 'auto'"),
    (["--switch", "600", "--lam", "1.5"], "lam: momentum must be in \\(0, 1\\)"),
    (["--switch", "600", "--boot", "-1"], "n_boot: bootstrap refits must be a whole number >= 0"),
])
def test_cpt_fit_bad_input_is_one_line_and_exit_2(curves_csv, tmp_path, capsys, args, msg):
    code = main(["cpt", "fit", str(curves_csv), "--split", "val", "--out", str(tmp_path / "x.json"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert pytest.importorskip("re").search(msg, " ".join(err.split()))
    assert not (tmp_path / "x.json").exists()


def test_forgetting_fit_compares_families_and_writes_a_law(curves_csv, tmp_path, capsys):
    table = tmp_path / "cmp.csv"
    assert main(["forgetting", "fit", str(curves_csv), "--split", "val", "--switch", "600", "--clock", "lr_area",
                 "--out", str(table), "--plot", str(tmp_path / "f.png")]) == 0
    cmp = pd.read_csv(table)
    assert set(cmp["family"]) == {"log", "power", "shifted_power", "saturating", "exponential", "mixture"}
    law_path = tmp_path / "sat.json"
    assert main(["forgetting", "fit", str(curves_csv), "--split", "val", "--switch", "600",
                 "--family", "saturating", "--out", str(law_path)]) == 0
    assert json.loads(law_path.read_text())["clock"] == "lr_area"
    assert main(["forgetting", "predict", str(law_path), "--schedule", f"{PT} + constant:peak=3e-3,steps=600",
                 "--event", "599", "--out", str(tmp_path / "p.csv")]) == 0
    p = pd.read_csv(tmp_path / "p.csv")
    assert p["tau"].iloc[0] == 0 and p["tau"].iloc[-1] == pytest.approx(600 * 3e-3)
    assert main(["forgetting", "fit", str(curves_csv), "--split", "val", "--switch", "600", "--family", "gamma"]) == 2


def test_forgetting_retention_report_and_dead_probes(tmp_path, capsys):
    steps = np.arange(0, 400)
    rows = []
    for q in range(4):
        lp = np.where(steps < 100, -8.0, -8.0 + 2.0 * np.where(steps <= 100, 1.0, 1.0 - 0.2 * np.log10(np.maximum(steps - 100, 1))))
        rows.append(pd.DataFrame({"probe": f"q{q}", "passage": "p", "step": steps, "logprob": lp, "scenario": "once"}))
    probes, exposures = tmp_path / "probes.csv", tmp_path / "exp.csv"
    pd.concat(rows).to_csv(probes, index=False)
    pd.DataFrame({"passage": ["p"], "step": [100]}).to_csv(exposures, index=False)
    out = tmp_path / "rep.csv"
    assert main(["forgetting", "retention", str(probes), str(exposures), "--window", "1", "--out", str(out)]) == 0
    rep = pd.read_csv(out)
    assert rep["a"].iloc[0] == pytest.approx(0.2) and rep["probes"].iloc[0] == 4
    flat = pd.concat(rows).assign(logprob=-8.0)
    flat.to_csv(probes, index=False)
    assert main(["forgetting", "retention", str(probes), str(exposures)]) == 2
    assert "gained" in capsys.readouterr().err


def test_lrplan_fit_law_cpt_points_to_the_cpt_command(capsys):
    assert main(["fit", "missing.csv", "--law", "cpt", "--out", "x.json"]) == 2
    assert "lrplan cpt fit" in capsys.readouterr().err


def test_cpt_fit_old_domain_options_are_saved(curves_csv, tmp_path):
    law_path = tmp_path / "old.json"
    assert main(["cpt", "fit", str(curves_csv), "--split", "val", "--switch", "600", "--out", str(law_path),
                 "--shift-form", "boxcox", "--no-anneal-cpt"]) == 0
    d = json.loads(law_path.read_text())
    assert (d["shift_form"], d["anneal_cpt"]) == ("boxcox", False) and "C2" not in d["params"]


def test_cpt_fit_lam_and_transient_options_are_saved(curves_csv, tmp_path):
    law_path = tmp_path / "t.json"
    assert main(["cpt", "fit", str(curves_csv), "--split", "val", "--switch", "600", "--out", str(law_path),
                 "--lam", "fit", "--transient"]) == 0
    d = json.loads(law_path.read_text())
    assert d["transient"] is True and {"D", "s0"} <= set(d["params"]) and d["lam"] in (0.95, 0.98, 0.99, 0.995, 0.999)
    assert main(["cpt", "fit", str(curves_csv), "--split", "val", "--switch", "600", "--out", str(law_path),
                 "--lam", "0.99"]) == 0
    d = json.loads(law_path.read_text())
    assert d["transient"] is False and d["lam"] == 0.99 and "D" not in d["params"]


def test_cpt_predict_with_a_bad_band_level_is_one_line_and_exit_2(curves_csv, tmp_path, capsys):
    law_path = tmp_path / "cpt.json"
    assert main(["cpt", "fit", str(curves_csv), "--split", "val", "--switch", "600", "--boot", "0", "--no-loo",
                 "--out", str(law_path)]) == 0
    capsys.readouterr()
    code = main(["cpt", "predict", str(law_path), "--schedule", f"{PT} + {CPTS['rewarm1']}", "--switch", "600",
                 "--level", "1.5", "--out", str(tmp_path / "p.csv")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "band level must be in (0, 1)" in err
    assert not (tmp_path / "p.csv").exists()


def test_cpt_predict_with_a_law_file_from_before_bands_says_it_has_no_band(curves_csv, tmp_path, capsys):
    law_path = tmp_path / "cpt.json"
    assert main(["cpt", "fit", str(curves_csv), "--split", "val", "--switch", "600", "--boot", "0", "--no-loo",
                 "--out", str(law_path)]) == 0
    d = json.loads(law_path.read_text())
    del d["uncertainty"]
    law_path.write_text(json.dumps(d))
    capsys.readouterr()
    assert main(["cpt", "predict", str(law_path), "--schedule", f"{PT} + {CPTS['rewarm1']}", "--switch", "600"]) == 0
    assert "no band: the law file holds no bootstrap refits" in " ".join(capsys.readouterr().out.split())


def test_cpt_fit_on_one_run_says_its_band_has_no_unseen_schedule_error(curves_csv, tmp_path, capsys):
    one = tmp_path / "one.csv"
    frame = pd.read_csv(curves_csv)
    frame[frame["run"] == "rewarm3"].to_csv(one, index=False)
    assert main(["cpt", "fit", str(one), "--split", "val", "--switch", "600", "--boot", "0",
                 "--out", str(tmp_path / "one.json")]) == 0
    assert "leave-one-run-out needs two or more runs" in capsys.readouterr().err
