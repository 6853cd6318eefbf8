"""CLI contract of ``lrplan fit`` / ``predict`` / ``plot`` (through ``lrplan.cli.main``)."""

import json

import numpy as np
import pandas as pd
import pytest

from lrplan.cli import main
from lrplan.schedules import parse

SPECS = {
    "cos": "cosine:peak=3e-4,warmup=200,floor=3e-5,steps=4000",
    "const": "constant:peak=3e-4,warmup=200,steps=4000",
    "step": "constant:peak=3e-4,warmup=200,steps=2000 + constant:peak=9e-5,steps=2000",
}


def truth(lr, steps):
    from lrplan.laws import kernels as K

    return 2.7 + 0.55 * np.cumsum(lr)[steps] ** -0.52 - 0.48 * K.momentum_s2(lr, 0.995)[steps]


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(1)
    rows, lrs = [], []
    for run, spec in SPECS.items():
        lr = parse(spec).array()
        steps = np.arange(250, 4000, 25)
        rows.append(pd.DataFrame({"run": run, "step": steps, "loss": truth(lr, steps) * np.exp(1e-4 * rng.standard_normal(steps.size))}))
        lrs.append(pd.DataFrame({"run": run, "step": np.arange(lr.size), "lr": lr}))
    curves = tmp_path / "curves.csv"
    pd.concat(rows).to_csv(curves, index=False)
    lr_file = tmp_path / "lr.csv"
    pd.concat(lrs).to_csv(lr_file, index=False)
    return curves, lr_file


def test_fit_then_predict_with_schedule(files, tmp_path):
    curves, lr_file = files
    fit = tmp_path / "fit.json"
    assert main(["fit", str(curves), "--lr-file", str(lr_file), "--law", "momentum", "--boot", "4", "--out", str(fit)]) == 0
    art = json.loads(fit.read_text())
    assert art["law"] == "momentum" and art["peak_lr"] == 3e-4
    assert [d["run"] for d in art["data"]] == ["const", "cos", "step"]
    assert len(art["uncertainty"]["bootstrap"]) == 4 and len(art["uncertainty"]["leave_one_out"]) == 3
    pred = tmp_path / "pred.csv"
    spec = "wsd:peak=3e-4,warmup=200,cooldown=0.25,floor=3e-5"
    assert main(["predict", str(fit), "--schedule", spec, "--steps", "5000", "--every", "100", "--out", str(pred)]) == 0
    df = pd.read_csv(pred)
    assert list(df.columns) == ["step", "loss", "loss_lo", "loss_hi"]
    assert df["step"].tolist() == list(range(0, 5000, 100))
    assert (df["loss_lo"] <= df["loss"]).all() and (df["loss"] <= df["loss_hi"]).all()
    lr = parse(spec, 5000).array()
    assert np.max(np.abs(df["loss"].to_numpy()[3:] - truth(lr, df["step"].to_numpy()[3:]))) < 2e-3


def test_fit_with_schedule_options_and_predict_lr_file_with_runs(files, tmp_path):
    curves, _ = files
    fit = tmp_path / "fit.json"
    args = ["fit", str(curves), "--law", "mpl", "--boot", "0", "--no-loo", "--out", str(fit)]
    for run, spec in SPECS.items():
        args += ["--schedule", f"{run}={spec}"]
    assert main(args) == 0
    lr_in = tmp_path / "in.csv"
    frames = [pd.DataFrame({"run": name, "step": np.arange(3000), "lr": parse(spec, 3000).array()})
              for name, spec in (("a", "cosine:peak=3e-4,warmup=200"), ("b", "wsd:peak=3e-4,warmup=200,cooldown=0.2"))]
    pd.concat(frames).to_csv(lr_in, index=False)
    out = tmp_path / "pred.csv"
    assert main(["predict", str(fit), "--lr-file", str(lr_in), "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["run", "step", "loss", "loss_lo", "loss_hi"]
    assert df.groupby("run").size().to_dict() == {"a": 3000, "b": 3000}


def test_plot_writes_png(files, tmp_path):
    curves, lr_file = files
    fit = tmp_path / "fit.json"
    assert main(["fit", str(curves), "--lr-file", str(lr_file), "--law", "momentum", "--boot", "2", "--out", str(fit)]) == 0
    png = tmp_path / "p.png"
    assert main(["plot", str(fit), str(curves), "--lr-file", str(lr_file), "--predict", "cosine:peak=3e-4,warmup=200",
                 "--steps", "6000", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_shipped_fit_by_name(tmp_path):
    from lrplan.laws import shipped_fits

    names = shipped_fits()
    if not names:
        pytest.skip("no shipped fits")
    out = tmp_path / "p.csv"
    name = "mpl-100m-mpl" if "mpl-100m-mpl" in names else sorted(names)[0]
    assert json.loads(names[name].read_text())["command"] == "python fits/make_fits.py"
    assert main(["predict", name, "--schedule", "cosine:peak=3e-4,warmup=2160,floor=3e-5", "--steps", "24000",
                 "--every", "4000", "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 6


def test_missing_lr_says_what_to_add(files, tmp_path, capsys):
    curves, _ = files
    assert main(["fit", str(curves), "--law", "momentum", "--out", str(tmp_path / "f.json")]) == 2
    err = capsys.readouterr().err
    assert "add --lr-file LR.csv" in err and "--schedule" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "f.json").exists()


def test_lr_file_not_covering_steps(files, tmp_path, capsys):
    curves, lr_file = files
    df = pd.read_csv(lr_file)
    short = tmp_path / "short.csv"
    df[df["step"] < 3000].to_csv(short, index=False)
    assert main(["fit", str(curves), "--lr-file", str(short), "--law", "momentum", "--out", str(tmp_path / "f.json")]) == 2
    assert "covers steps 0..2999 but the curve is logged up to step 3975" in capsys.readouterr().err


def test_lr_file_with_gap_is_rejected(files, tmp_path, capsys):
    curves, lr_file = files
    df = pd.read_csv(lr_file)
    gap = tmp_path / "gap.csv"
    df[~((df["run"] == "cos") & (df["step"] == 17))].to_csv(gap, index=False)
    assert main(["fit", str(curves), "--lr-file", str(gap), "--out", str(tmp_path / "f.json")]) == 2
    assert "run 'cos' needs the LR at every step 0..3999; step 17 is missing" in capsys.readouterr().err


def test_too_few_points(tmp_path, capsys):
    p = tmp_path / "c.csv"
    pd.DataFrame({"run": "r", "step": [100, 200, 300], "loss": [4.0, 3.6, 3.4]}).to_csv(p, index=False)
    assert main(["fit", str(p), "--schedule", "r=constant:peak=1e-3,warmup=10,steps=400", "--out", str(tmp_path / "f.json")]) == 2
    assert "too few points" in capsys.readouterr().err


def test_spike_warns_but_fit_succeeds(files, tmp_path, capsys):
    curves, lr_file = files
    df = pd.read_csv(curves)
    df.loc[(df["run"] == "cos") & (df["step"] == 2000), "loss"] *= 1.4
    spiky = tmp_path / "spiky.csv"
    df.to_csv(spiky, index=False)
    assert main(["fit", str(spiky), "--lr-file", str(lr_file), "--law", "momentum", "--boot", "0", "--out", str(tmp_path / "f.json")]) == 0
    assert "run 'cos': 1 loss spike(s) at step(s) 2000" in capsys.readouterr().err


def test_non_convergence_is_one_line_exit_2(files, tmp_path, capsys, monkeypatch):
    from lrplan import fitting

    def boom(*a, **k):
        raise ValueError("x")

    monkeypatch.setattr("scipy.optimize.least_squares", boom)
    curves, lr_file = files
    assert main(["fit", str(curves), "--lr-file", str(lr_file), "--law", "power", "--out", str(tmp_path / "f.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "did not converge" in err and len(err.splitlines()) == 1


def test_predict_needs_exactly_one_lr_source(tmp_path, capsys):
    assert main(["predict", "nonexistent-fit", "--out", str(tmp_path / "p.csv")]) == 2
    assert "nonexistent-fit" in capsys.readouterr().err


def test_fit_with_window_refits_stores_them_and_plan_bands_contain_them(files, tmp_path, capsys):
    curves, lr_file = files
    fit = tmp_path / "fit.json"
    assert main(["fit", str(curves), "--lr-file", str(lr_file), "--law", "momentum", "--boot", "3",
                 "--window-refits", "0.1, 0.3", "--out", str(fit)]) == 0
    art = json.loads(fit.read_text())
    assert [w["drop"] for w in art["uncertainty"]["window"]] == [0.1, 0.3]
    assert art["options"]["window_refits"] == [0.1, 0.3]
    from lrplan.plan import Constraints, load_objective, plan_schedule

    point, _, band, info = load_objective(str(fit))
    assert len(band.window) == 2 and info["window_refits"] == [0.1, 0.3]
    p = plan_schedule(point, Constraints.build(12000, 3e-4, warmup=200), band_model=band, freeform=False)
    for name in p.baselines:
        gains = [w.loss(p.baselines[name].array(), [11999])[0] - w.loss(p.schedule.array(), [11999])[0] for w in band.window]
        lo, hi = p.gain_band[name]
        assert lo <= min(gains) and hi >= max(gains)


@pytest.mark.parametrize("value, message", [("0.1,x", "expected comma-separated fractions"), ("0.1,1.2", "must be in \\(0, 0.9\\)")])
def test_fit_rejects_bad_window_refits_in_one_line(files, tmp_path, capsys, value, message):
    import re

    curves, lr_file = files
    out = tmp_path / "f.json"
    assert main(["fit", str(curves), "--lr-file", str(lr_file), "--law", "momentum", "--window-refits", value, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(message, err) and not out.exists()


def test_fit_with_shape_refits_stores_the_published_shape_refit(files, tmp_path, capsys):
    curves, lr_file = files
    fit = tmp_path / "fit.json"
    assert main(["fit", str(curves), "--lr-file", str(lr_file), "--law", "mpl", "--boot", "0", "--no-loo",
                 "--mpl-shape", "free", "--shape-refits", "--out", str(fit)]) == 0
    out = " ".join(capsys.readouterr().out.split())   # rich wraps long lines
    assert "shape refit 'published' (mpl: beta 0.591382, gamma 0.643795): in-sample objective x" in out
    art = json.loads(fit.read_text())
    assert art["options"]["shape_refits"] is True
    (refit,) = art["uncertainty"]["shape"]
    assert refit["params"]["beta"] == pytest.approx(0.59138235) and refit["params"]["gamma"] == pytest.approx(0.64379453)


def test_shape_refits_for_a_law_without_a_reference_shape_is_one_line_exit_2(files, tmp_path, capsys):
    curves, lr_file = files
    out = tmp_path / "f.json"
    assert main(["fit", str(curves), "--lr-file", str(lr_file), "--law", "momentum", "--shape-refits", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "no published reference shape" in err and not out.exists()


def test_fit_mpl_shape_published_holds_the_shape_and_other_laws_refuse_it(files, tmp_path, capsys):
    curves, lr_file = files
    fit = tmp_path / "fit.json"
    assert main(["fit", str(curves), "--lr-file", str(lr_file), "--law", "mpl", "--boot", "0", "--no-loo",
                 "--mpl-shape", "published", "--out", str(fit)]) == 0
    art = json.loads(fit.read_text())
    assert art["options"]["shape"] == "published"
    assert (art["params"]["beta"], art["params"]["gamma"]) == (pytest.approx(0.59138235), pytest.approx(0.64379453))
    capsys.readouterr()
    for args, message in ((["--law", "momentum", "--mpl-shape", "free"], "only for --law mpl"),
                          (["--law", "mpl", "--mpl-shape", "fixed"], "shape must be one of free, published, auto")):
        out = tmp_path / "bad.json"
        assert main(["fit", str(curves), "--lr-file", str(lr_file), *args, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.splitlines() == [err] and message in err and not out.exists()
