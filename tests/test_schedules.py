"""Schedules: exact closed forms, the multi-power-law schedules, specs, joins and exports."""

import math

import numpy as np
import pandas as pd
import pytest

from lrplan.datasets import MPL_RUNS, mpl_curves, mpl_schedule
from lrplan.errors import LoadError, SpecError
from lrplan.schedules import (
    constant, cosine, custom, cyclic, from_csv, infinite, inverse_sqrt, join, linear, multistep, onecycle,
    parse, power, rex, to_csv, wsd,
)

P, F = 3e-4, 3e-5


def test_constant_with_linear_warmup_follows_hf_convention():
    lr = constant(peak=P, steps=10, warmup=4).array()
    np.testing.assert_array_equal(lr, [0, P / 4, P / 2, 3 * P / 4, P, P, P, P, P, P])
    assert lr.dtype == np.float64


def test_inclusive_warmup_reaches_peak_one_step_earlier():
    lr = constant(peak=P, steps=6, warmup=3, warmup_style="inclusive").array()
    np.testing.assert_array_equal(lr, [0, P / 2, P, P, P, P])


def test_warmup_from_a_fraction_of_peak():
    lr = cosine(peak=1.0, steps=100, warmup=10, warmup_start=0.01).array()
    assert lr[0] == pytest.approx(0.01)
    assert lr[10] == 1.0


def test_cosine_closed_form():
    T, W = 1000, 100
    lr = cosine(peak=P, steps=T, floor=F, warmup=W).array()
    s = np.arange(W, T)
    expect = F + 0.5 * (P - F) * (1 + np.cos(np.pi * (s - W) / (T - W)))
    np.testing.assert_allclose(lr[W:], expect, rtol=1e-15, atol=0)


def test_floor_relative_to_peak():
    a = cosine(peak=6e-4, steps=500, floor="0.1x").array()
    b = cosine(peak=6e-4, steps=500, floor=6e-5).array()
    np.testing.assert_allclose(a, b, rtol=1e-15)


def test_linear_to_zero_matches_hf_get_linear_schedule():
    T, W = 50, 5
    lr = linear(peak=1.0, steps=T, warmup=W).array()
    hf = [s / W if s < W else max(0.0, (T - s) / (T - W)) for s in range(T)]
    np.testing.assert_allclose(lr, hf, rtol=0, atol=1e-15)


@pytest.mark.parametrize("shape,formula", [
    ("linear", lambda p: P * (1 - p) + F * p),
    ("cosine", lambda p: F + 0.5 * (P - F) * (1 + np.cos(np.pi * p))),
    ("exp", lambda p: P ** (1 - p) * F ** p),
    ("1-sqrt", lambda p: F + (P - F) * (1 - np.sqrt(p))),
    ("square", lambda p: F + (P - F) * (1 - p ** 2)),
    ("mirror-cosine", lambda p: F + (P - F) * (2 * (1 - p) - 0.5 * (1 + np.cos(np.pi * p)))),
])
def test_wsd_cooldown_shapes(shape, formula):
    T, W, C = 1000, 50, 200
    lr = wsd(peak=P, steps=T, warmup=W, cooldown=C, shape=shape, floor=F).array()
    np.testing.assert_array_equal(lr[W:T - C], P)
    p = (np.arange(T - C, T) - (T - C)) / C
    np.testing.assert_allclose(lr[T - C:], formula(p), rtol=1e-14)


def test_wsd_cooldown_fraction_equals_steps():
    a = parse("wsd:peak=1,cooldown=0.2", steps=1000).array()
    b = parse("wsd:peak=1,cooldown=200", steps=1000).array()
    c = parse("wsd:peak=1,cooldown=20%", steps=1000).array()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_deepseek_8_1_1_multistep():
    lr = multistep(peak=1.0, steps=100, milestones=[0.8, 0.9], factor=0.316).array()
    np.testing.assert_array_equal(lr[:80], 1.0)
    np.testing.assert_array_equal(lr[80:90], 0.316)
    np.testing.assert_allclose(lr[90:], 0.316 ** 2)


def test_step_every():
    lr = parse("step:peak=1,every=10,factor=0.5", steps=35).array()
    np.testing.assert_array_equal(lr[[0, 9, 10, 19, 20, 30, 34]], [1, 1, .5, .5, .25, .125, .125])


def test_exponential_rate_and_floor():
    lr = parse("exp:peak=1,rate=0.9", steps=5).array()
    np.testing.assert_allclose(lr, 0.9 ** np.arange(5), rtol=1e-15)
    g = parse("exp:peak=1,floor=0.01", steps=101).array()
    np.testing.assert_allclose(g[[0, 50]], [1, 0.01 ** (50 / 101)], rtol=1e-14)


def test_inverse_sqrt_matches_fairseq_and_cools_down():
    W = 100
    lr = inverse_sqrt(peak=1.0, steps=1000, warmup=W).array()
    s = np.arange(W, 1000)
    np.testing.assert_allclose(lr[W:], np.sqrt(W / s), rtol=1e-14)
    cd = inverse_sqrt(peak=1.0, steps=1000, warmup=W, cooldown=0.1).array()
    np.testing.assert_array_equal(cd[:900], lr[:900])
    assert cd[900] == pytest.approx(math.sqrt(W / 900))
    assert cd[-1] == pytest.approx(cd[900] / 100)  # linear to zero: one step before the end


def test_rex():
    lr = rex(peak=1.0, steps=10).array()
    p = np.arange(10) / 10
    np.testing.assert_allclose(lr, (1 - p) / (1 - p / 2), rtol=1e-15)


def test_power_scheduler_is_capped_power_law_then_cooldown():
    lr = power(peak=0.02, steps=1000, a=4, b=0.51, batch=1, tokens_per_step=1e6, cooldown=0.1, shape="linear", floor=0).array()
    n = (np.arange(900) + 1) * 1e6
    np.testing.assert_allclose(lr[:900], np.minimum(0.02, 4 * n ** -0.51), rtol=1e-14)
    assert lr[-1] < lr[899] / 50


def test_cyclic_triangular_and_cosine_restarts():
    tri = cyclic(peak=1.0, steps=20, period=10, floor=0.0).array()
    np.testing.assert_allclose(tri[:10], 1 - np.abs(2 * np.arange(10) / 10 - 1))
    np.testing.assert_array_equal(tri[10:], tri[:10])
    sgdr = cyclic(peak=1.0, steps=20, period=10, shape="cosine", cycle_decay=0.5).array()
    assert sgdr[0] == 1.0 and sgdr[10] == 0.5


def test_infinite_schedule_phases():
    lr = infinite(peak=1.0, steps=1000, warmup=100, const=0.5, decay=200, anneal=100, floor=0.0).array()
    assert lr[100] == 1.0
    np.testing.assert_array_equal(lr[300:900], 0.5)
    assert lr[899] == 0.5 and lr[950] == pytest.approx(0.25)


def test_onecycle_matches_torch():
    torch = pytest.importorskip("torch")
    T = 97
    lr = onecycle(peak=0.1, steps=T, pct=0.3).array()
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=T, pct_start=0.3)
    ref = []
    for _ in range(T):
        ref.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    np.testing.assert_allclose(lr, ref, rtol=1e-12)


def test_join_rewarms_each_piece():
    s = parse("cosine:peak=3e-4,steps=100,warmup=10 + cosine:peak=1e-4,warmup=5", steps=150)
    lr = s.array()
    assert s.steps == 150
    np.testing.assert_array_equal(lr[:100], cosine(peak=3e-4, steps=100, warmup=10).array())
    np.testing.assert_array_equal(lr[100:], cosine(peak=1e-4, steps=50, warmup=5).array())
    assert lr[100] == 0.0
    j = join([constant(peak=1, steps=3), constant(peak=2, steps=2)])
    np.testing.assert_array_equal(j.array(), [1, 1, 1, 2, 2])


@pytest.mark.parametrize("run", MPL_RUNS)
def test_reproduces_multi_power_law_schedules(run):
    """The rebuilt arrays equal the logged lr column at every logged step (README of the data)."""
    for size in ("25", "100", "400"):
        c = mpl_curves(size, runs=[run]).curve(run)
        lr = mpl_schedule(run).array()
        np.testing.assert_allclose(lr[c["step"].to_numpy()], c["lr"].to_numpy(), rtol=1e-13, atol=0)


def test_mpl_schedule_details():
    lr = mpl_schedule("cosine_24000").array()
    assert lr[0] == 0 and lr[2159] == P and lr[2160] == P
    assert lr[:2160].sum() == pytest.approx(P * 2160 / 2)
    assert lr[-1] > F and lr.size == 24000
    con = mpl_schedule("wsdcon_9").array()
    assert con.size == 16000 and con[7999] == P and con[8000] == 9e-5


def test_spec_round_trip():
    for spec in ["wsd:peak=3e-4,warmup=216,cooldown=0.2,shape=1-sqrt,floor=3e-5",
                 "cosine:peak=6e-4,warmup=715,floor=0.1x", "step:peak=1e-3,milestones=0.8/0.9,factor=0.316",
                 "rsqrt:peak=1e-3,warmup=100,cooldown=0.1", "infinite:peak=1e-3,warmup=10,const=0.3x",
                 "onecycle:peak=0.1,pct=0.25", "cyclic:peak=1,period=50,shape=cosine",
                 "power:peak=0.02,a=4,b=0.51,tokens_per_step=1e5"]:
        s = parse(spec, steps=1000)
        np.testing.assert_array_equal(parse(s.spec).array(), s.array())


@pytest.mark.parametrize("spec,fragment", [
    ("wsd:peak=3e-4,cooldwn=0.2", "unknown key 'cooldwn' for wsd (did you mean 'cooldown'?)"),
    ("cosin:peak=1", "unknown family 'cosin' (did you mean 'cosine'?)"),
    ("wsd:peak=3e-4,shape=zigzag", "shape='zigzag' is not a cooldown shape"),
    ("cosine:peak=abc", "key 'peak' expects a number"),
    ("cosine:peak=1e-4,floor=1e-3", "floor 0.001 is above peak"),
    ("wsd:peak=1,cooldown=2000", "cooldown (2000 steps) is longer than the run"),
    ("constant:peak=1,warmup=1000", "warmup (1000 steps) must be shorter"),
    ("cosine:peak=1,peak=2", "given twice"),
    ("cosine:peak", "is not key=value"),
    ("", "spec is empty"),
    ("cosine:peak=1 + cosine:peak=1", "needs steps="),
    ("wsd:peak=1,shape=exp", "needs floor > 0"),
])
def test_spec_errors_name_the_key(spec, fragment):
    with pytest.raises(SpecError) as e:
        parse(spec, steps=1000)
    assert fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_steps_is_explained():
    with pytest.raises(SpecError, match="number of steps is missing"):
        parse("cosine:peak=1")


def test_csv_round_trip_and_custom(tmp_path):
    s = parse("wsd:peak=3e-4,warmup=10,cooldown=0.3,shape=cosine,floor=1e-5", steps=200)
    path = to_csv(s, tmp_path / "lr.csv")
    back = from_csv(path)
    np.testing.assert_array_equal(back.array(), s.array())
    np.testing.assert_array_equal(parse(f"file:{path}").array(), s.array())
    np.testing.assert_array_equal(custom([1, 2, 3]).array(), [1.0, 2.0, 3.0])


def test_sparse_csv_holds_values_between_steps(tmp_path):
    p = tmp_path / "lr.csv"
    pd.DataFrame({"step": [0, 3, 5], "lr": [1.0, 0.5, 0.1]}).to_csv(p, index=False)
    np.testing.assert_array_equal(from_csv(p).array(), [1, 1, 1, 0.5, 0.5, 0.1])


def test_bad_csv_is_a_load_error(tmp_path):
    p = tmp_path / "lr.csv"
    p.write_text("step,learning\n0,1\n")
    with pytest.raises(LoadError, match="needs columns 'step' and 'lr'"):
        from_csv(p)
    with pytest.raises(LoadError, match="file not found"):
        from_csv(tmp_path / "missing.csv")


def test_lambda_lr_applies_schedule_exactly():
    torch = pytest.importorskip("torch")
    from lrplan.schedules import lambda_lr

    s = parse("wsd:peak=1e-3,warmup=5,cooldown=0.3,floor=1e-5", steps=40)
    opt = torch.optim.AdamW([torch.zeros(2, requires_grad=True)], lr=123.0)
    sch = lambda_lr(s, opt)
    seen = []
    for _ in range(45):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    np.testing.assert_allclose(seen[:40], s.array(), rtol=1e-15)
    assert seen[44] == pytest.approx(s.array()[-1])


def test_schedule_call_and_past_end():
    s = cosine(peak=1.0, steps=10)
    assert s(0) == 1.0
    assert s(25) == s(9)
    np.testing.assert_array_equal(s(np.array([0, 9])), s.array()[[0, 9]])


def test_canonical_spec_folds_in_steps_and_rescaled_peak():
    from lrplan.schedules import canonical_spec

    spec = canonical_spec("cosine:peak=3e-3,warmup=0.1,floor=0.1x", 300)
    assert "steps=300" in spec
    np.testing.assert_allclose(parse(spec).array(), parse("cosine:peak=3e-3,warmup=30,floor=3e-4", 300).array(), rtol=1e-15)
    scaled = canonical_spec("wsd:peak=2e-3,warmup=10,cooldown=0.2,floor=2e-4,steps=100 + constant:peak=1e-4", 200, peak=1e-3)
    np.testing.assert_allclose(parse(scaled).array(),
                               parse("wsd:peak=2e-3,warmup=10,cooldown=0.2,floor=2e-4,steps=100 + constant:peak=1e-4",
                                     200).array() / 2, rtol=1e-12)
    assert canonical_spec("power:peak=0.02,a=4,b=0.51,tokens_per_step=1e5", 100, peak=0.01) == "custom"
