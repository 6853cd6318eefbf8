"""The curve table: validation rules and views."""

import warnings

import numpy as np
import pandas as pd
import pytest

from lrplan.curves import COLUMNS, Curves, RunMeta, validate
from lrplan.errors import LoadError, LrplanWarning


def frame(**cols):
    return pd.DataFrame(cols)


def test_validate_normalises_columns_and_sorts():
    df = frame(run=["b", "a", "a"], step=[5, 0, 10], loss=[3.0, 4.0, 2.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = validate(df, "x.csv")
    assert list(out.columns) == COLUMNS
    assert out[["run", "step"]].values.tolist() == [["a", 0], ["a", 10], ["b", 5]]
    assert (out["split"] == "train").all()
    assert out["lr"].isna().all()
    assert out["step"].dtype == np.int64


def test_nan_and_inf_rows_are_dropped_with_a_count():
    df = frame(run="r", step=[0, 1, 2, 3], loss=[4.0, np.nan, np.inf, 3.0])
    with pytest.warns(LrplanWarning, match=r"x.csv: dropped 2 row\(s\)"):
        out = validate(df, "x.csv")
    assert out["step"].tolist() == [0, 3]


def test_non_positive_loss_is_rejected_with_file_run_and_step():
    df = frame(run="r1", step=[0, 1, 2], loss=[4.0, 0.0, -1.0])
    with pytest.raises(LoadError, match=r"x.csv: run 'r1': 2 non-positive loss value\(s\) \(first 0 at step 1\)"):
        validate(df, "x.csv")


def test_duplicate_and_backwards_steps_keep_last_value():
    # a run resumed from step 10 after logging up to 20
    df = frame(run="r", step=[0, 10, 20, 10, 20, 30], loss=[5.0, 4.0, 3.9, 4.1, 3.8, 3.5])
    with pytest.warns(LrplanWarning, match="2 duplicate and 1 backwards step"):
        out = validate(df, "log")
    assert out["step"].tolist() == [0, 10, 20, 30]
    assert out["loss"].tolist() == [5.0, 4.1, 3.8, 3.5]


def test_steps_unique_per_split_not_across_splits():
    df = frame(run="r", split=["train", "val", "train"], step=[100, 100, 200], loss=[3.0, 3.2, 2.9])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = validate(df)
    assert len(out) == 3


@pytest.mark.parametrize("df,msg", [
    (frame(run=["a"], loss=[1.0]), "missing column(s) step"),
    (frame(run=["a"], step=["ten"], loss=[1.0]), "non-numeric step value 'ten'"),
    (frame(run=["a"], step=[-1], loss=[1.0]), "negative step"),
    (frame(run=["a"], step=[1.5], loss=[1.0]), "non-integer step"),
    (frame(run=pd.Series([], dtype=str), step=[], loss=[]), "no rows"),
    (frame(run=["a"], step=[1], loss=[np.nan]), "no usable rows"),
    (frame(run=["a"], step=[1], loss=[1.0], lr=[-1e-3]), "negative learning rate"),
])
def test_bad_tables_name_the_source(df, msg):
    with pytest.raises(LoadError) as e:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validate(df, "runs.csv")
    assert str(e.value).startswith("runs.csv: ")
    assert msg in str(e.value)


def test_curves_views_and_round_trip(tmp_path):
    df = frame(run=["a"] * 3 + ["b"] * 2, split=["train", "train", "val", "train", "train"],
               step=[0, 10, 10, 0, 10], loss=[4.0, 3.0, 3.1, 4.2, 3.3], lr=[1e-3, 1e-3, np.nan, 2e-3, 2e-3])
    c = Curves.from_frame(df, "t.csv", meta={"a": RunMeta(run="a", schedule="constant:peak=1e-3")})
    assert c.runs == ["a", "b"] and c.splits == ["train", "val"]
    assert c.curve("a")["loss"].tolist() == [4.0, 3.0]
    assert c.curve("a", "val")["loss"].tolist() == [3.1]
    assert c.select(["b"]).runs == ["b"]
    s = c.summary()
    assert s.loc[(s.run == "a") & (s.split == "train"), "schedule"].item() == "constant:peak=1e-3"
    assert s.loc[(s.run == "a") & (s.split == "val"), "lr"].item() == "no"
    path = c.to_csv(tmp_path / "c.csv")
    back = Curves.from_frame(pd.read_csv(path), "c.csv")
    pd.testing.assert_frame_equal(back.data, c.data)
    with pytest.raises(LoadError, match="no run named 'zz'"):
        c.curve("zz")


def test_concat_refuses_clashing_run_names():
    a = Curves.from_frame(frame(run="r", step=[0], loss=[1.0]), "a.csv")
    b = Curves.from_frame(frame(run="r", step=[0], loss=[2.0]), "b.csv")
    with pytest.raises(LoadError, match="run name 'r' appears in both a.csv and b.csv"):
        Curves.concat([a, b])


def test_atomic_writes_use_the_umask_mode(tmp_path):
    import os

    from lrplan import _io

    p = _io.write_text(tmp_path / "x.txt", "hello")
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask
    assert p.read_text() == "hello"


def test_after_warmup_drops_the_warmup_rows_of_each_run():
    df = frame(run=["a"] * 4 + ["b"] * 2 + ["c"] * 2, step=[0, 5, 10, 20, 0, 30, 0, 1], loss=[5, 4, 3, 2, 5, 3, 5, 4.0])
    meta = {"a": RunMeta(run="a", schedule="cosine:peak=1,warmup=10,steps=100"),
            "b": RunMeta(run="b", schedule="constant:peak=1,warmup=20,steps=50 + constant:peak=0.5,steps=50")}
    c = Curves.from_frame(df, meta=meta).after_warmup()
    assert c.curve("a")["step"].tolist() == [10, 20]
    assert c.curve("b")["step"].tolist() == [30]
    assert c.curve("c")["step"].tolist() == [0, 1]  # no schedule known: kept
