"""The bundled proxy curves (lrplan/data/proxy): complete, exact schedules, annealing visible."""

from importlib import resources

import numpy as np
import pytest

from lrplan.schedules import parse
from lrplan.train.results import load_proxy


def test_bundled_proxy_curves_are_complete_and_compact():
    curves, runs = load_proxy()
    assert len(runs) == 24 and (runs.status == "finished").all()
    assert sorted(runs.preset.unique()) == ["micro", "nano"]
    assert sorted(runs.seed.unique()) == [0, 1]
    assert curves.splits == ["train", "val"]
    for run in curves.runs:
        tr, va = curves.curve(run, "train"), curves.curve(run, "val")
        assert tr.step.tolist() == list(range(300))
        assert va.step.tolist() == list(range(0, 301, 25))
    root = resources.files("lrplan") / "data" / "proxy"
    assert sum(p.stat().st_size for p in map(lambda n: root / n, ("curves.csv.gz", "runs.csv"))) < 2_000_000


def test_proxy_lr_column_is_the_exact_schedule():
    curves, runs = load_proxy()
    for r in runs.itertuples():
        tr = curves.curve(r.run, "train")
        np.testing.assert_allclose(tr.lr.to_numpy(), parse(r.schedule, 300).array(), rtol=1e-7, atol=1e-12)
        assert curves.meta[r.run].params == r.N and curves.meta[r.run].peak_lr == pytest.approx(2e-3)


def test_proxy_curves_show_the_annealing_effect_and_size_ordering():
    curves, runs = load_proxy()
    final = runs.assign(family=runs.run.str.split("-").str[-1]).set_index(["preset", "seed", "family"]).loss.sort_index()
    for preset in ("nano", "micro"):
        mean = final[preset].groupby("family").mean()
        assert mean["wsd"] < mean["constant"] - 0.01 and mean["wsdsqrt"] < mean["constant"]
        for seed in (0, 1):
            f = final[preset, seed]
            # a WSD cooldown beats constant; in these short runs early-decaying cosine/linear lose LR area
            assert f["wsd"] < f["constant"] and f["wsd"] < f["cosine"] and f["wsd"] < f["linear"]
    for seed in (0, 1):
        for fam in ("constant", "cosine", "wsd", "wsdsqrt", "linear", "step"):
            assert final["micro", seed, fam] < final["nano", seed, fam] - 0.05  # the larger model is better
    # WSD follows constant exactly until its cooldown (same seed, same LR so far)
    a, b = curves.curve("micro-s0-wsd", "train"), curves.curve("micro-s0-constant", "train")
    assert (a.loss.to_numpy()[:240] == b.loss.to_numpy()[:240]).all()
