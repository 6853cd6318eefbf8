"""`lrplan schedule ...` and the CLI's error contract."""

import subprocess
import sys

import numpy as np
import pandas as pd

from lrplan.cli import main
from lrplan.schedules import parse


def test_help_lists_groups(capsys):
    assert main(["--help"]) == 0
    assert "schedule" in capsys.readouterr().out


def test_schedule_show_writes_csv_plot_and_torch(tmp_path, capsys):
    spec = "wsd:peak=3e-4,warmup=100,cooldown=0.2,shape=1-sqrt,floor=3e-5"
    code = main(["schedule", "show", spec, "--steps", "1000", "--csv", str(tmp_path / "lr.csv"),
                 "--plot", str(tmp_path / "lr.png"), "--torch", str(tmp_path / "sched.py")])
    assert code == 0
    out = capsys.readouterr().out
    assert "peak 0.0003" in out
    df = pd.read_csv(tmp_path / "lr.csv")
    np.testing.assert_array_equal(df["lr"].to_numpy(), parse(spec, 1000).array())
    assert (tmp_path / "lr.png").stat().st_size > 1000
    assert "LambdaLR" in (tmp_path / "sched.py").read_text()
    assert (tmp_path / "sched.csv").exists()


def test_spec_typo_is_one_line_exit_2(tmp_path, capsys):
    code = main(["schedule", "show", "wsd:peak=3e-4,cooldwn=0.2", "--steps", "100", "--csv", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "unknown key 'cooldwn'" in err and "did you mean 'cooldown'" in err
    assert not (tmp_path / "x.csv").exists()


def test_console_script_exit_code_and_no_traceback():
    r = subprocess.run([sys.executable, "-m", "lrplan", "schedule", "show", "cosin:peak=1", "-T", "10"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "unknown family 'cosin'" in r.stderr


def test_schedule_list(capsys):
    assert main(["schedule", "list"]) == 0
    out = capsys.readouterr().out
    for fam in ("wsd", "cosine", "rsqrt", "power", "onecycle", "infinite"):
        assert fam in out


def test_usage_errors_are_one_line_exit_2(capsys):
    for argv in (["schedule", "show"], ["schedule", "show", "cosine:peak=1", "--bogus"], ["nonexistent"],
                 ["schedule", "show", "cosine:peak=1", "--steps", "abc"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("error:"), err
