"""Forgetting clocks, forgetting-curve families and the continual pre-training law."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrplan.errors import ConfigError, FitError, LoadError, LrplanWarning
from lrplan.forgetting import CPTLaw, ContinualRun, ForgettingLaw, annealing_areas, compare, elapsed, forgetting_curve
from lrplan.schedules import parse

# --- clocks -----------------------------------------------------------------------------------


def test_clocks_count_from_the_event_step():
    lr = np.array([1e-3, 2e-3, 3e-3, 4e-3, 5e-3])
    np.testing.assert_array_equal(elapsed([1, 2, 4], 1, "steps"), [0, 1, 3])
    # LR area since step 1: the updates of steps 2..t
    np.testing.assert_allclose(elapsed([1, 2, 4], 1, "lr_area", lr=lr), [0, 3e-3, 12e-3])
    tokens = np.arange(5) * 1024.0
    np.testing.assert_array_equal(elapsed([3], 1, "tokens", tokens=tokens), [2048.0])
    wd = elapsed([3], 1, "wd", lr=lr, weight_decay=0.1)
    assert wd[0] == pytest.approx(-np.log1p(-3e-4) - np.log1p(-4e-4))


@pytest.mark.parametrize("kwargs, msg", [
    (dict(steps=[0], t0=1, clock="steps"), "before the event"),
    (dict(steps=[3], t0=1, clock="lr_area"), "needs a per-step LR"),
    (dict(steps=[3], t0=1, clock="hours"), "unknown clock"),
    (dict(steps=[9], t0=1, clock="lr_area", lr=np.ones(5)), "past it"),
])
def test_clock_errors(kwargs, msg):
    with pytest.raises(ConfigError, match=msg):
        elapsed(**kwargs)


# --- families ---------------------------------------------------------------------------------

TAU = np.linspace(0.0, 4.0, 300)  # LR area since the switch (raw LR units)
SAT = dict(B=0.366, E=28.0, beta=0.189)  # Wang et al. 2025, Fig. 3, PT set


def test_saturating_family_recovers_the_published_shift_term():
    y = forgetting_curve("saturating", TAU, SAT)
    law = ForgettingLaw("saturating", clock="lr_area").fit(TAU, y)
    assert law.params_ == pytest.approx(SAT, rel=1e-4)
    assert law.r2_ == pytest.approx(1.0)
    # the reference's illustration: 0.110 / 0.172 / 0.196 / 0.216 nats at S1cpt = 0.2, 1, 2, 4
    np.testing.assert_allclose(law.predict([0.2, 1, 2, 4]), [0.110, 0.172, 0.196, 0.216], atol=6e-4)
    assert law.half_life() == pytest.approx((2 ** (1 / 0.189) - 1) / 28.0, rel=1e-3)


@pytest.mark.parametrize("family, params, origin", [
    ("log", dict(a=-0.2, b=0.9), 1.0),
    ("power", dict(b=0.8, c=-0.3), 1.0),
    ("shifted_power", dict(m=1.0, h=5.0, f=0.4), 1.0),
    ("exponential", dict(B=-0.7, k=1.3), 1.0),
])
def test_each_family_recovers_its_own_parameters(family, params, origin):
    tau = np.linspace(0.05, 10, 200)
    law = ForgettingLaw(family, origin=origin).fit(tau, forgetting_curve(family, tau, params, origin))
    assert law.params_ == pytest.approx(params, rel=1e-3)


def test_compare_prefers_the_power_shift_over_the_exponential_on_held_out_tau():
    rng = np.random.default_rng(0)
    y = forgetting_curve("saturating", TAU, SAT) + rng.normal(0, 0.002, TAU.size)
    table = compare(TAU, y, holdout=0.3, clock="lr_area")
    rows = table.set_index("family")
    assert rows.loc["saturating", "rmse_heldout"] < 0.004
    assert rows.loc["exponential", "rmse_heldout"] > 3 * rows.loc["saturating", "rmse_heldout"]
    assert rows.loc["saturating", "bic"] < rows.loc["exponential", "bic"]
    assert list(table.columns[:3]) == ["family", "n_params", "r2_fit"]


def test_mixture_of_exponentials_spreads_over_decades_only_for_a_power_law():
    power = ForgettingLaw("mixture").fit(TAU, forgetting_curve("saturating", TAU, SAT))
    single = ForgettingLaw("mixture").fit(TAU, forgetting_curve("exponential", TAU, dict(B=0.3, k=2.0)))
    assert power.rate_span_decades_ > 2.0
    assert single.rate_span_decades_ < 1.0
    assert power.r2_ > 0.9999 and single.r2_ > 0.9999


def test_forgetting_law_json_round_trip(tmp_path):
    law = ForgettingLaw("saturating", clock="lr_area").fit(TAU, forgetting_curve("saturating", TAU, SAT))
    law.save(tmp_path / "f.json")
    back = ForgettingLaw.load(tmp_path / "f.json")
    np.testing.assert_allclose(back.predict(TAU), law.predict(TAU))
    assert back.clock == "lr_area" and json.loads((tmp_path / "f.json").read_text())["law"] == "forgetting"


def test_family_errors():
    with pytest.raises(FitError, match="unknown forgetting family"):
        ForgettingLaw("hyperbolic")
    with pytest.raises(FitError, match="not fitted"):
        ForgettingLaw("log").predict([1.0])
    with pytest.raises(FitError, match="usable point"):
        ForgettingLaw("saturating").fit([0, 1], [0, 0.1])
    with pytest.raises(FitError, match="negative clock"):
        ForgettingLaw("exponential").fit([-1, 0, 1, 2, 3], [0, 0, 0.1, 0.2, 0.3])


# --- CPT law ----------------------------------------------------------------------------------

PT = "wsd:peak=3e-3,warmup=20,cooldown=0.2,floor=3e-4,steps=600"
TRUE = dict(L0=1.5, A=0.5, alpha=0.5, C1=0.3, C2=0.3, B=0.3, E=30.0, beta=0.2)


def _run(cpt_spec, name, params=TRUE, domain="pt", noise=1e-3, replay=0.0, seed=0):
    lr = parse(f"{PT} + {cpt_spec}").array()
    run = ContinualRun(lr, switch=600, steps=np.arange(10, lr.size, 10), name=name, replay=replay)
    law = CPTLaw(domain, replay="a1" in params)
    law.params_ = dict(params)
    run.loss = law.predict(run) * (1 + np.random.default_rng(seed).normal(0, noise, run.steps.size))
    return run


def test_cpt_law_without_shift_is_the_momentum_law_of_the_joined_schedule():
    lr = parse(f"{PT} + cosine:peak=2e-3,floor=2e-4,warmup=30,steps=400").array()
    run = ContinualRun(lr, switch=600, steps=np.arange(1, 1000))
    law = CPTLaw("pt")
    law.params_ = dict(TRUE, C2=TRUE["C1"], B=0.0)
    m, s2, s1 = 0.0, [], np.cumsum(lr)
    acc = 0.0
    for t in range(lr.size):  # literal recursion of Tissue et al.
        m = 0.999 * m + (lr[t - 1] - lr[t] if t else 0.0)
        acc += m
        s2.append(acc)
    expect = 1.5 + 0.5 * s1[1:] ** -0.5 - 0.3 * np.array(s2[1:])
    np.testing.assert_allclose(law.predict(run), expect, rtol=1e-12)


def test_cpt_law_fitted_on_two_schedules_predicts_a_third():
    fit_runs = [_run("cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", "rewarm-full"),
                _run("cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600", "rewarm-third", seed=1)]
    held = _run("wsd:peak=2e-3,floor=2e-4,warmup=20,cooldown=0.3,steps=600", "wsd-2e-3", noise=0.0)
    law = CPTLaw("pt").fit(fit_runs)
    assert law.params_["B"] == pytest.approx(0.3, rel=0.2)
    pred = law.predict(held)
    assert np.max(np.abs(pred / held.loss - 1)) < 3e-3
    assert abs(pred[-1] / held.loss[-1] - 1) < 1e-3
    assert law.r2_ > 0.99 and law.n_runs_ == 2
    # the shift term alone is the forgetting: 0 before the switch, rising after it
    sh = law.shift(held, steps=[599, 610, 700, 1199])
    assert sh[0] == 0 and 0 < sh[1] < sh[2] < sh[3]


def test_cpt_domain_adaptation_has_negative_shift_and_sign_check_warns():
    params = dict(TRUE, B=-0.4, E=300.0, beta=0.15)
    runs = [_run("cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", "a", params, "cpt"),
            _run("cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600", "b", params, "cpt", seed=1)]
    law = CPTLaw("cpt").fit(runs)
    assert law.params_["B"] == pytest.approx(-0.4, rel=0.15)
    with pytest.warns(LrplanWarning, match="unexpected sign"):
        CPTLaw("pt").fit(runs)


def test_replay_extension_follows_the_replay_fraction():
    params = dict(TRUE, a1=0.2, a2=3.0)
    runs = [_run("cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", f"r{r}", params, replay=r, seed=i)
            for i, r in enumerate([0.0, 0.05, 0.25])]
    law = CPTLaw("pt", replay=True).fit(runs)
    held = _run("cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", "r0.5", params, replay=0.5, noise=0.0)
    assert abs(law.predict(held)[-1] / held.loss[-1] - 1) < 2e-3
    forgetting = [law.shift(_run("constant:peak=3e-3,steps=600", "x", params, replay=r), steps=[1199])[0]
                  for r in (0.0, 0.05, 0.25, 1.0)]
    assert forgetting[0] > forgetting[1] > forgetting[2] > forgetting[3] == 0.0


def test_size_extension_needs_two_sizes_and_params():
    run = _run("constant:peak=3e-3,steps=600", "a")
    with pytest.raises(FitError, match="two model sizes"):
        CPTLaw("pt", size=True).fit([run])
    with pytest.raises(FitError, match="two different replay"):
        CPTLaw("pt", replay=True).fit([run])


@pytest.mark.parametrize("kwargs, msg", [
    (dict(switch=0), "switch step 0 is outside the run"),
    (dict(switch=1200), "switch step 1200 is outside the run"),
    (dict(switch=600, replay=1.5), r"replay fraction 1.5 is outside \[0, 1\]"),
    (dict(switch=600, replay=-0.1), "outside"),
    (dict(switch=600, steps=[5, 2000], loss=[3.0, 2.0]), "evaluation steps"),
])
def test_continual_run_rejects_bad_input(kwargs, msg):
    lr = parse(f"{PT} + constant:peak=3e-3,steps=600").array()
    with pytest.raises(ConfigError, match=msg):
        ContinualRun(lr, name="run-a", **kwargs)


def test_cpt_law_json_round_trip(tmp_path):
    law = CPTLaw("pt")
    law.params_, law.r2_, law.huber_, law.n_points_, law.n_runs_ = dict(TRUE), 0.99, 1e-7, 100, 2
    law.save(tmp_path / "cpt.json")
    back = CPTLaw.load(tmp_path / "cpt.json")
    run = _run("constant:peak=3e-3,steps=600", "a", noise=0.0)
    np.testing.assert_array_equal(back.predict(run), law.predict(run))
    d = json.loads((tmp_path / "cpt.json").read_text())
    del d["params"]["beta"]
    with pytest.raises(LoadError, match="missing beta"):
        CPTLaw.from_dict(d)


# --- run loaders ------------------------------------------------------------------------------

def test_mixture_switch_reads_switch_step_and_replay_fraction():
    from lrplan.forgetting.runs import mixture_switch

    cfg = {"mixture": [[0, {"old": 1.0}], [300, {"new": 0.95, "old": 0.05}]]}
    assert mixture_switch(cfg) == (300, pytest.approx(0.05))
    with pytest.raises(LoadError, match="no data switch"):
        mixture_switch({"mixture": [[0, {"old": 1.0}]]}, "runs/a/meta.json")


def test_from_curves_rebuilds_the_lr_from_the_schedule_spec_and_measures_forgetting():
    import pandas as pd

    from lrplan.curves import Curves, RunMeta
    from lrplan.forgetting.runs import forgetting_curve_points, from_curves

    spec = "constant:peak=2e-3,steps=100 + constant:peak=2e-3,steps=100"
    frame = pd.DataFrame({"run": "a", "split": "val_old", "step": [50, 99, 120, 199], "loss": [2.0, 1.9, 2.2, 2.4]})
    curves = Curves.from_frame(frame, meta={"a": RunMeta("a", schedule=spec)})
    run = from_curves(curves, "a", "val_old", switch=100, replay=0.1)
    assert run.lr.size == 200 and run.replay == 0.1
    tau, dl = forgetting_curve_points(run, "lr_area")
    np.testing.assert_allclose(tau, [0, 21 * 2e-3, 100 * 2e-3])
    np.testing.assert_allclose(dl, [0, 0.3, 0.5])
    with pytest.raises(LoadError, match="no LR at every step and has no schedule spec"):
        from_curves(Curves.from_frame(frame), "a", "val_old", switch=100)
    # a trainer's log: the last evaluation is after all 200 updates (step 200), the spec has its own length
    logged = pd.concat([frame, pd.DataFrame({"run": ["a"], "split": ["val_old"], "step": [200], "loss": [2.5]})])
    run = from_curves(Curves.from_frame(logged, meta={"a": RunMeta("a", schedule=spec)}), "a", "val_old", switch=100)
    assert run.lr.size == 200 and run.steps.tolist() == [50, 99, 120, 199]
    unsized = "constant:peak=2e-3"                                   # sized by the logged steps
    run = from_curves(Curves.from_frame(frame, meta={"a": RunMeta("a", schedule=unsized)}), "a", "val_old", switch=100)
    assert run.lr.size == 200


def test_bundled_cpt_runs_are_the_trainer_runs_of_the_cpt_benchmark():
    from lrplan.datasets import CPT_CONTINUAL, cpt_runs
    from lrplan.errors import LrplanError

    for split in ("val_old", "val_new"):
        runs = cpt_runs(split, seed=2)
        assert tuple(runs) == CPT_CONTINUAL
        for name, run in runs.items():
            assert (run.name, run.switch, run.replay, run.params, run.lr.size) == (name, 600, 0.05, 120576.0, 1200)
            assert run.steps.tolist() == list(range(0, 1200, 10)) and np.all((run.loss > 1.5) & (run.loss < 6.0))
        np.testing.assert_array_equal(runs["wsd2"].lr, parse(
            "wsd:peak=3e-3,warmup=20,cooldown=0.2,floor=3e-4,steps=600 + wsd:peak=2e-3,warmup=20,cooldown=0.3,floor=2e-4,steps=600").array())
        np.testing.assert_array_equal(runs["rewarm1"].loss[:60], runs["rewarm3"].loss[:60])  # one pre-training run
    old, new = cpt_runs("val_old", 0)["rewarm3"], cpt_runs("val_new", 0)["rewarm3"]
    assert old.loss[-1] > old.loss[59] and new.loss[-1] < new.loss[59]  # forgetting and adaptation
    with pytest.raises(LrplanError, match="split must be"):
        cpt_runs("val", 0)
    with pytest.raises(LrplanError, match="seed must be one of"):
        cpt_runs("val_old", 5)


def test_cpt_law_with_the_steps_clock_for_the_shift_term(tmp_path):
    params = dict(TRUE, E=0.05, beta=0.3)  # E per step
    lr = parse(f"{PT} + cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600").array()
    run = ContinualRun(lr, switch=600, steps=np.arange(10, 1200, 10))
    law = CPTLaw("pt", shift_clock="steps")
    law.params_ = params
    sh = law.shift(run, steps=[599, 600, 699])
    np.testing.assert_allclose(sh, [0.0, 0.3 * (1 - 1.05 ** -0.3), 0.3 * (1 - 6.0 ** -0.3)])
    law.r2_, law.huber_, law.n_points_, law.n_runs_ = 1.0, 0.0, 1, 1
    law.save(tmp_path / "s.json")
    assert CPTLaw.load(tmp_path / "s.json").shift_clock == "steps"
    with pytest.raises(ConfigError, match="shift_clock"):
        CPTLaw("pt", shift_clock="tokens")


def test_hyperbolic_replay_factor_is_steep_near_zero_and_round_trips(tmp_path):
    params = dict(TRUE, a1=0.0, a2=200.0)
    runs = [_run("cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", f"r{r}", params, replay=r, seed=i)
            for i, r in enumerate([0.0, 0.01, 0.05, 0.25])]
    law = CPTLaw("pt", replay="hyperbolic")
    law.params_ = params
    for run in runs:  # regenerate with the hyperbolic factor
        run.loss = law.predict(run)
    f = [law.shift(run, steps=[1199])[0] for run in runs]
    assert f[1] / f[0] == pytest.approx(0.99 / 3.0)  # (1 - r)/(1 + a2 r) at r = 1 %
    fitted = CPTLaw("pt", replay="hyperbolic").fit(runs)
    assert fitted.params_["a2"] == pytest.approx(200.0, rel=0.05)
    fitted.save(tmp_path / "h.json")
    assert CPTLaw.load(tmp_path / "h.json").replay_form == "hyperbolic"
    with pytest.raises(ConfigError, match="replay: must be"):
        CPTLaw("pt", replay="linear")


def test_warmup_excluded_from_s2_keeps_s1_and_the_rewarm():
    lr = parse(f"{PT} + cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600").array()
    run = ContinualRun(lr, switch=600, steps=np.arange(10, 1200, 10))
    inc, exc = run.areas(lam=0.999), run.areas(lam=0.999, warmup="exclude")
    np.testing.assert_array_equal(exc["S1pt"], inc["S1pt"])
    np.testing.assert_array_equal(exc["S1cpt"], inc["S1cpt"])
    # constant phase of the WSD (steps 20..479): no LR drop yet, so S2 is 0 without the warmup,
    # negative (the warmup's rise) with it
    const = (run.steps >= 20) & (run.steps < 480)
    assert np.all(exc["S2pt"][const] == 0) and np.all(inc["S2pt"][const] < 0)
    # the re-warm after the switch counts in both: S2cpt differs only by the warmup's decayed
    # momentum, the same for any continual schedule
    other = ContinualRun(parse(f"{PT} + wsd:peak=2e-3,floor=2e-4,warmup=20,steps=600").array(), switch=600,
                         steps=run.steps)
    after = run.steps >= 600
    np.testing.assert_allclose((exc["S2cpt"] - inc["S2cpt"])[after],
                               (other.areas(warmup="exclude")["S2cpt"] - other.areas()["S2cpt"])[after], atol=1e-12)
    assert np.all((exc["S2cpt"] - inc["S2cpt"])[after] > 0)
    _, s2 = annealing_areas(lr, 0.999, "exclude")
    flat = lr.copy()
    flat[:20] = lr[20]  # warmup=20: the LR rises over steps 0..20
    np.testing.assert_allclose(s2, annealing_areas(flat, 0.999)[1], rtol=0, atol=0)
    with pytest.raises(ConfigError, match="warmup"):
        CPTLaw("pt", warmup="skip")


def test_lam_fit_picks_the_generating_momentum_and_round_trips(tmp_path):
    specs = ["cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", "cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600"]
    gen = CPTLaw("pt", lam=0.99)
    gen.params_ = dict(TRUE)
    runs = []
    for i, spec in enumerate(specs):
        lr = parse(f"{PT} + {spec}").array()
        run = ContinualRun(lr, switch=600, steps=np.arange(10, lr.size, 30), name=f"r{i}")
        run.loss = gen.predict(run) * (1 + np.random.default_rng(i).normal(0, 1e-4, run.steps.size))
        runs.append(run)
    law = CPTLaw("pt", lam=(0.99, 0.999)).fit(runs)  # lam="fit" tries LAM_GRID
    assert law.lam_ == 0.99 and law.lam == (0.99, 0.999)
    assert law.r2_ > 0.999
    law.save(tmp_path / "l.json")
    back = CPTLaw.load(tmp_path / "l.json")
    assert back.lam == 0.99
    np.testing.assert_allclose(back.predict(runs[0]), law.predict(runs[0]), rtol=1e-12)
    for bad in (1.0, "auto", (0.99, 1.5)):
        with pytest.raises(ConfigError, match="lam: momentum"):
            CPTLaw("pt", lam=bad)


def test_boxcox_shift_spans_saturating_log_and_growing_forms(tmp_path):
    lr = parse(f"{PT} + cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600").array()
    run = ContinualRun(lr, switch=600, steps=np.arange(10, 1200, 10))
    tau = run.areas(steps=[599, 700, 1199])["S1cpt"]
    law = CPTLaw("pt", shift_form="boxcox")
    for beta, expect in ((0.2, (1 - (1 + 30 * tau) ** -0.2) / 0.2),  # the paper's column / beta
                         (0.0, np.log1p(30 * tau)),                     # the log limit, finite
                         (-0.5, ((1 + 30 * tau) ** 0.5 - 1) / 0.5)):   # a growing power
        law.params_ = dict(TRUE, B=0.3, E=30.0, beta=beta)
        np.testing.assert_allclose(law.shift(run, steps=[599, 700, 1199]), 0.3 * expect, rtol=1e-12)
    # a log-shaped forgetting (beyond the saturating family's reach) is recovered, beta ~ 0
    law.params_ = dict(TRUE, B=0.12, E=30.0, beta=0.0)
    runs = []
    for spec in ("cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", "cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600"):
        r = ContinualRun(parse(f"{PT} + {spec}").array(), switch=600, steps=np.arange(10, 1200, 10), name=spec)
        r.loss = law.predict(r)
        runs.append(r)
    fitted = CPTLaw("pt", shift_form="boxcox").fit(runs)
    assert abs(fitted.params_["beta"]) < 0.05 and fitted.params_["B"] == pytest.approx(0.12, rel=0.1)
    fitted.save(tmp_path / "b.json")
    back = CPTLaw.load(tmp_path / "b.json")
    assert back.shift_form == "boxcox"
    np.testing.assert_allclose(back.predict(runs[0]), fitted.predict(runs[0]), rtol=1e-12)
    with pytest.raises(ConfigError, match="shift_form"):
        CPTLaw("pt", shift_form="log")


def test_without_continual_annealing_the_old_domain_ignores_the_re_decay(tmp_path):
    cosine = parse(f"{PT} + cosine:peak=2e-3,floor=2e-4,warmup=20,steps=600").array()
    const = cosine.copy()
    const[600:] = np.cumsum(cosine[600:])[-1] / 600  # same LR area over the continual phase, no re-decay
    steps = np.array([300, 599, 1199])
    law = CPTLaw("pt", anneal_cpt=False)
    law.params_ = {k: v for k, v in TRUE.items() if k != "C2"}
    a, b = (law.predict(ContinualRun(lr, switch=600), steps) for lr in (cosine, const))
    np.testing.assert_allclose(a, b, rtol=1e-12)  # only S1pt, S2pt and S1cpt enter
    paper = CPTLaw("pt")
    paper.params_ = dict(TRUE, C2=0.0)
    np.testing.assert_allclose(a, paper.predict(ContinualRun(cosine, switch=600), steps), rtol=1e-12)
    gen = {k: v for k, v in TRUE.items() if k != "C2"}
    runs = [_run("cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", "a", dict(gen, C2=0.0), noise=1e-4),
            _run("cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600", "b", dict(gen, C2=0.0), noise=1e-4, seed=1)]
    fitted = CPTLaw("pt", anneal_cpt=False).fit(runs)
    assert "C2" not in fitted.params_ and fitted.params_["B"] == pytest.approx(0.3, rel=0.1)
    fitted.save(tmp_path / "n.json")
    assert CPTLaw.load(tmp_path / "n.json").anneal_cpt is False
    with pytest.raises(ConfigError, match="anneal_cpt=False leaves out"):
        CPTLaw("pt", replay=True, anneal_cpt=False)
    with pytest.raises(ConfigError, match="size extension's g2"):
        CPTLaw("pt", size=True, anneal_cpt=False)


def test_transient_term_follows_the_first_rapid_drop_and_vanishes_later(tmp_path):
    """D*exp(-S1/s0): a fast initial drop the power law alone cannot follow (lrplan option)."""
    gen = CPTLaw("pt", transient=True)
    gen.params_ = dict(TRUE, D=-0.8, s0=0.05)

    def run(spec, name, seed, noise=1e-4):
        lr = parse(f"{PT} + {spec}").array()
        r = ContinualRun(lr, switch=600, steps=np.arange(10, lr.size, 10), name=name)
        r.loss = gen.predict(r) * (1 + np.random.default_rng(seed).normal(0, noise, r.steps.size))
        return r

    runs = [run("cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", "a", 0),
            run("cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600", "b", 1)]
    held = run("wsd:peak=2e-3,floor=2e-4,warmup=20,cooldown=0.3,steps=600", "held", 2, noise=0.0)
    # the term is D at S1 = 0 and e^-10 of it by S1 = 10 s0 (step ~180 at 3e-3): nothing after the switch
    plain = CPTLaw("pt")
    plain.params_ = dict(TRUE)
    gap = gen.predict(held, steps=[20, 180, 700]) - plain.predict(held, steps=[20, 180, 700])
    s1 = np.cumsum(held.lr)[[20, 180, 700]]
    np.testing.assert_allclose(gap, -0.8 * np.exp(-s1 / 0.05), rtol=1e-12, atol=1e-15)
    assert abs(gap[1]) < 1e-4 * 0.8 and abs(gap[2]) < 1e-15
    # fitted on two schedules, it recovers the parameters and predicts the third; without the term
    # the first steps are missed
    law = CPTLaw("pt", transient=True).fit(runs)
    for k, v in dict(D=-0.8, s0=0.05, alpha=0.5, B=0.3).items():
        assert law.params_[k] == pytest.approx(v, rel=0.15), k
    err = law.predict(held) / held.loss - 1
    assert np.max(np.abs(err)) < 3e-3 and abs(err[-1]) < 1e-3
    early = held.steps < 60
    assert np.max(np.abs(CPTLaw("pt").fit(runs).predict(held)[early] / held.loss[early] - 1)) > 0.01
    law.save(tmp_path / "t.json")
    back = CPTLaw.load(tmp_path / "t.json")
    assert back.transient is True and {"D", "s0"} <= set(back.params_)
    np.testing.assert_allclose(back.predict(held), law.predict(held), rtol=1e-12)
    with pytest.raises(ConfigError, match="transient"):
        CPTLaw("pt", transient="yes")


def test_new_domain_l0_may_lie_below_the_measured_loss_because_adaptation_takes_it_lower():
    """B < 0 brings the new-domain loss below L0 (the paper's Knowledge-Pile fit: L0 3.024, B -0.666):
    L0 must not be capped at min(loss) there."""
    params = dict(TRUE, L0=2.0, B=-1.0, E=300.0, beta=0.5)
    runs = [_run("cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600", "a", params, "cpt", noise=1e-4),
            _run("cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600", "b", params, "cpt", noise=1e-4, seed=1)]
    assert min(r.loss.min() for r in runs) < 2.0  # the generating L0 lies above every measured loss
    law = CPTLaw("cpt").fit(runs)
    assert law.params_["L0"] == pytest.approx(2.0, rel=0.05) and law.params_["B"] == pytest.approx(-1.0, rel=0.1)


# --- CPT prediction bands ---------------------------------------------------------------------

FIT_SPECS = {"rewarm-full": "cosine:peak=3e-3,floor=3e-4,warmup=20,steps=600",
             "rewarm-third": "cosine:peak=1e-3,floor=1e-4,warmup=20,steps=600"}
HELD_SPEC = "wsd:peak=2e-3,floor=2e-4,warmup=20,cooldown=0.3,steps=600"


def test_band_without_refits_is_the_in_sample_scatter_after_the_switch_only():
    runs = [_run(spec, name, noise=5e-3, seed=i) for i, (name, spec) in enumerate(FIT_SPECS.items())]
    law = CPTLaw("pt").fit(runs)
    after = np.concatenate([r.steps >= 600 for r in runs])
    fitted = np.concatenate([law.predict(r) for r in runs])
    loss = np.concatenate([r.loss for r in runs])
    sd = np.sqrt(np.mean(((loss - fitted) / loss)[after] ** 2))
    assert law.res_rel_sd_ == pytest.approx(sd, rel=1e-9) and sd == pytest.approx(5e-3, rel=0.3)
    held = _run(HELD_SPEC, "held", noise=0.0)
    pred, lo, hi = law.predict_band(held, level=0.9)
    before = held.steps < 600
    np.testing.assert_array_equal(lo[before], pred[before])
    np.testing.assert_allclose(hi[~before], pred[~before] * (1 + 1.6448536 * sd), rtol=1e-6)
    np.testing.assert_allclose(lo[~before], pred[~before] * (1 - 1.6448536 * sd), rtol=1e-6)


def test_bootstrap_and_leave_one_run_out_widen_the_band_and_it_covers_the_held_out_schedule():
    runs = [_run(spec, name, noise=5e-3, seed=i) for i, (name, spec) in enumerate(FIT_SPECS.items())]
    held = _run(HELD_SPEC, "held", noise=0.0)
    plain = CPTLaw("pt").fit(runs)
    law = CPTLaw("pt", n_boot=8, loo=True, seed=3).fit(runs)
    assert law.params_ == plain.params_                       # the refits leave the point fit alone
    assert len(law.boot_) == 8 and [d["held_out"] for d in law.loo_] == ["rewarm-full", "rewarm-third"]
    loo = np.sqrt(np.mean([d["rel_rms"] ** 2 for d in law.loo_]))
    assert law.model_rel_sd() == max(law.res_rel_sd_, loo)
    pred, lo, hi = law.predict_band(held)
    _, plo, phi = plain.predict_band(held)
    assert np.all(hi - lo >= phi - plo - 1e-12) and np.all(hi[held.steps < 600] > pred[held.steps < 600])
    after = held.steps >= 600                                 # the true curve of the unseen schedule
    assert np.all((lo[after] <= held.loss[after]) & (held.loss[after] <= hi[after]))
    again = CPTLaw("pt", n_boot=8, loo=True, seed=3).fit(runs)
    assert again.boot_ == law.boot_                            # seeded


def test_leave_one_run_out_with_one_run_warns_and_band_options_are_checked():
    run = _run(FIT_SPECS["rewarm-full"], "only")
    with pytest.warns(LrplanWarning, match="leave-one-run-out needs two or more runs"):
        law = CPTLaw("pt", loo=True).fit([run])
    assert law.loo_ == [] and law.model_rel_sd() == law.res_rel_sd_
    for bad in (-1, 2.5, True, "10"):
        with pytest.raises(ConfigError, match="n_boot"):
            CPTLaw("pt", n_boot=bad)
    with pytest.raises(ConfigError, match="seed: must be a whole number"):
        CPTLaw("pt", seed="x")
    with pytest.raises(ConfigError, match="band level must be in"):
        law.predict_band(run, level=1.5)


def test_band_round_trips_through_json_and_a_malformed_uncertainty_is_refused(tmp_path):
    runs = [_run(spec, name, noise=5e-3, seed=i) for i, (name, spec) in enumerate(FIT_SPECS.items())]
    law = CPTLaw("pt", n_boot=4, loo=True).fit(runs)
    law.save(tmp_path / "cpt.json")
    back = CPTLaw.load(tmp_path / "cpt.json")
    held = _run(HELD_SPEC, "held", noise=0.0)
    for a, b in zip(back.predict_band(held), law.predict_band(held)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    d = json.loads((tmp_path / "cpt.json").read_text())
    for bad in ({"bootstrap": [{"L0": 1.0}]}, {"leave_one_out": [{"held_out": "a"}]}, {"residual_rel_sd": -1}):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps({**d, "uncertainty": {**d["uncertainty"], **bad}}))
        with pytest.raises(LoadError, match="cpt law JSON"):
            CPTLaw.load(path)
    del d["uncertainty"]                                       # a law file written before bands
    (tmp_path / "old.json").write_text(json.dumps(d))
    old = CPTLaw.load(tmp_path / "old.json")
    pred, lo, hi = old.predict_band(held)
    np.testing.assert_array_equal(lo, pred)


@given(st.lists(st.integers(1, 80), min_size=1, max_size=6), st.integers(0, 2**32 - 1), st.booleans())
def test_bootstrap_weights_cover_the_drawn_curves(sizes, seed, curves):
    from lrplan.fitting import bootstrap_weights

    use, w = bootstrap_weights(sizes, np.random.default_rng(seed), curves=curves)
    assert use == sorted(set(use)) and set(use) <= set(range(len(sizes))) and use
    assert w.size == sum(sizes[i] for i in use) and np.all(w > 0)
    if not curves:
        assert use == list(range(len(sizes)))
