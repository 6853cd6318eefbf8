"""`lrplan fit` reads any log the loaders read: --map, --format and --split pass through."""

import json

import pandas as pd

from lrplan.cli import main
from lrplan.datasets import mpl_curves

W = "peak=3e-4,warmup=2160,warmup_style=inclusive"
SCHEDULES = ["--schedule", f"constant_24000=constant:{W},steps=24000",
             "--schedule", f"cosine_24000=cosine:{W},floor=3e-5,steps=24000"]


def write_log(path):
    c = mpl_curves("25", runs=["cosine_24000", "constant_24000"])
    d = c.data.rename(columns={"loss": "my loss", "step": "iteration"})[["run", "split", "iteration", "my loss"]]
    d.loc[d.index[::10], "split"] = "val"  # some rows are an evaluation split
    d.to_csv(path, index=False)


def test_fit_with_column_map_and_split(tmp_path, capsys):
    log = tmp_path / "log.csv"
    write_log(log)
    out = tmp_path / "fit.json"
    code = main(["fit", str(log), "--map", "my loss=loss", "--split", "train", "--law", "momentum", "--boot", "0",
                 *SCHEDULES, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    fit = json.loads(out.read_text())
    train_points = sum(d["points"] for d in fit["data"])
    total = len(pd.read_csv(log))
    assert train_points == total - len(pd.read_csv(log).query("split == 'val'"))


def test_fit_without_the_map_names_the_missing_column(tmp_path, capsys):
    log = tmp_path / "log.csv"
    write_log(log)
    code = main(["fit", str(log), "--law", "momentum", *SCHEDULES, "--out", str(tmp_path / "fit.json")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no loss column" in err and "--map NAME=loss" in err
    assert not (tmp_path / "fit.json").exists()
