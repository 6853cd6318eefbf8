"""Planner: objectives and gradients, constraints, family search, free-form optimum."""

import warnings

import numpy as np
import pytest

from lrplan.datasets import MPL_PUBLISHED_PARAMS, mpl_schedule
from lrplan.errors import ConfigError, LoadError
from lrplan.plan.freeform import default_init
from lrplan.plan import MPL, Constraints, Ensemble, Momentum, load_objective, optimize_freeform, plan_schedule, search_families
from lrplan.schedules import cosine, wsd

LAW = MPL(*MPL_PUBLISHED_PARAMS["100"])
T, W, PEAK = 3000, 200, 3e-4


def literal_mpl(lr, s, L0, A, alpha, B, C, beta, gamma):
    """The MPL formula as printed in the paper, as a literal double loop."""
    S1 = sum(lr[: s + 1])
    ld = 0.0
    for k in range(1, s + 1):
        Sk = sum(lr[k: s + 1])
        ld += (lr[k - 1] - lr[k]) * (1 - (1 + C * lr[k] ** (-gamma) * Sk) ** (-beta))
    return L0 + A * S1 ** (-alpha) - ld * B


def test_mpl_objective_matches_the_literal_formula_on_a_wsd_schedule():
    lr = wsd(peak=PEAK, steps=300, warmup=30, cooldown=100, shape="cosine", floor=3e-6).array()
    lr[0] = 1e-6  # the literal formula evaluates eta_k^-gamma for k >= 1 only; keep it finite anyway
    for s in (50, 199, 250, 299):
        assert LAW.loss(lr, [s])[0] == pytest.approx(literal_mpl(lr, s, *MPL_PUBLISHED_PARAMS["100"]), rel=1e-12)


def test_mpl_objective_reproduces_the_published_data_final_loss():
    # constant_24000 at 100M: measured final loss 3.0354 (MPL README); the published fit is within 0.3 %
    pred = LAW.loss(mpl_schedule("constant_24000").array(), [23999])[0]
    assert pred == pytest.approx(3.0331, abs=5e-4)


def _fd(obj, eta, steps, weights, idx, h):
    out = []
    for j in idx:
        e1, e2 = eta.copy(), eta.copy()
        e1[j] += h
        e2[j] -= h
        out.append((obj.value_grad(e1, steps, weights)[0] - obj.value_grad(e2, steps, weights)[0]) / (2 * h))
    return np.array(out)


@pytest.mark.parametrize("obj", [
    LAW,
    Momentum(2.69, 0.55, 0.525, 0.475, lam=0.999),
    Ensemble([LAW, MPL(*MPL_PUBLISHED_PARAMS["25"]), MPL(*MPL_PUBLISHED_PARAMS["400"])], mode="mean"),
    Ensemble([LAW, MPL(*MPL_PUBLISHED_PARAMS["25"]), MPL(*MPL_PUBLISHED_PARAMS["400"])], mode="upper"),
], ids=["mpl", "momentum", "ensemble-mean", "ensemble-upper"])
def test_analytic_gradient_matches_finite_differences(obj):
    rng = np.random.default_rng(0)
    eta = np.sort(rng.uniform(1e-5, PEAK, 400))[::-1].copy()
    eta[:40] = np.linspace(0, PEAK, 40)  # warmup ramp from 0: increases enter as negative drops
    steps, weights = [150, 399], [0.3, 0.7]
    idx = [0, 1, 39, 40, 41, 150, 151, 200, 399]
    _, g = obj.value_grad(eta, steps, weights)
    np.testing.assert_allclose(g[idx], _fd(obj, eta, steps, weights, idx, 1e-9), rtol=2e-6)
    assert np.all(g[151:] != 0)  # the last checkpoint depends on every step


@pytest.mark.parametrize("kwargs, message", [
    ({"floor": 4e-4}, "floor 0.0004 is above the peak LR 0.0003"),
    ({"floor": "1.5x"}, "is above the peak"),
    ({"max_cooldown": 2900}, "max_cooldown (2900 steps) is longer than the run after warmup (2800 steps)"),
    ({"warmup": 3000}, "warmup (3000 steps) is not shorter than the run (3000 steps)"),
    ({"checkpoints": [100]}, "checkpoint step 100 is outside the trainable part of the run (200..2999)"),
    ({"checkpoints": [3000]}, "outside the trainable part"),
    ({"checkpoints": [1000, 2999], "weights": [1.0]}, "1 weights for 2 checkpoints"),
    ({"peak_bounds": (4e-4, 1e-4)}, "peak bounds must satisfy 0 < low <= high"),
    ({"floor": 2e-4, "peak_bounds": (1e-4, 1e-3)}, "floor 0.0002 is above the peak LR 0.0001"),
])
def test_infeasible_constraints_are_clear_config_errors(kwargs, message):
    base = {"warmup": W}
    with pytest.raises(ConfigError) as e:
        Constraints.build(T, PEAK, **{**base, **kwargs})
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_steps_must_be_a_whole_number():
    with pytest.raises(ConfigError, match="steps must be a whole number >= 2"):
        Constraints.build(1, PEAK)
    with pytest.raises(ConfigError, match="steps must be a whole number"):
        Constraints.build(100.5, PEAK)


def test_fraction_lengths_resolve_to_steps():
    c = Constraints.build(T, PEAK, warmup=0.1, max_cooldown=0.25, floor="0.01x", checkpoints=[0.5, 2999])
    assert (c.warmup, c.max_cooldown, c.decay_start) == (300, 750, 2250)
    assert c.floor_lr() == pytest.approx(3e-6)
    assert c.checkpoints == [1500, 2999] and c.weights == [0.5, 0.5]


def test_family_search_finds_a_wsd_and_beats_the_baselines():
    c = Constraints.build(T, PEAK, warmup=W)
    cands = search_families(LAW, c)
    assert [x.objective for x in cands] == sorted(x.objective for x in cands)
    best = cands[0]
    assert best.schedule.params["family"] == "wsd"
    assert 0.03 * T < best.schedule.params["cooldown"] < 0.5 * T
    cos = LAW.loss(cosine(peak=PEAK, steps=T, warmup=W, floor="0.1x").array(), [T - 1])[0]
    assert best.objective < cos - 0.01


def test_freeform_optimum_beats_or_equals_the_best_family_and_respects_constraints():
    c = Constraints.build(T, PEAK, warmup=W, floor=3e-6)
    p = plan_schedule(LAW, c, resolution=512)
    assert p.method == "freeform"
    assert p.objective <= p.families[0].objective + 1e-12
    assert p.objective < p.families[0].objective - 1e-5  # strictly better than any family here
    lr = p.schedule.array()
    c.check(lr)
    assert np.all(np.diff(lr[W:]) <= 0)
    assert lr[W:].min() >= 3e-6 * (1 - 1e-12)
    np.testing.assert_allclose(lr[:W], c.warmup_lr(PEAK))
    assert lr[W] == PEAK
    gains = p.gains()
    assert gains["cosine to 10%"] > 0.01 and gains["wsd 20% linear"] > 0


def test_max_cooldown_keeps_the_peak_until_the_cooldown_may_start():
    c = Constraints.build(T, PEAK, warmup=W, max_cooldown=150)
    p = plan_schedule(LAW, c, resolution=32, maxiter=60)
    lr = p.schedule.array()
    c.check(lr)
    assert np.all(lr[W:T - 150] == PEAK)
    assert lr[-1] < 0.2 * PEAK
    # every family candidate obeys it too (cosine/linear/rex are not candidates)
    assert {x.schedule.params["family"] for x in p.families} <= {"wsd", "constant"}
    assert all(x.schedule.params.get("cooldown", 0) <= 150 for x in p.families)


def test_checkpoints_give_an_anytime_schedule():
    final_only = plan_schedule(LAW, Constraints.build(T, PEAK, warmup=W), resolution=256)
    anytime = plan_schedule(LAW, Constraints.build(T, PEAK, warmup=W, checkpoints=[2400, T - 1], weights=[1, 1]),
                            resolution=256)
    mid = lambda p: LAW.loss(p.schedule.array(), [2400])[0]  # noqa: E731
    end = lambda p: LAW.loss(p.schedule.array(), [T - 1])[0]  # noqa: E731
    assert mid(anytime) < mid(final_only) - 0.02   # good at step 2400 ...
    assert end(final_only) < end(anytime)          # ... at some cost at the end
    assert mid(anytime) + end(anytime) < mid(final_only) + end(final_only)
    assert anytime.predicted["plan"]["checkpoints"].keys() == {2400, T - 1}


def test_peak_bounds_let_the_planner_choose_the_peak():
    c = Constraints.build(T, 2e-4, warmup=W, peak_bounds=(1e-4, 4e-4))
    p = plan_schedule(LAW, c, resolution=32, maxiter=100, families=False)
    c.check(p.schedule.array())
    # MPL has no instability term: a larger LR area always helps, so the peak goes to its bound
    assert p.schedule.peak == pytest.approx(4e-4, rel=1e-9)


def test_robust_upper_band_plan_is_best_for_the_upper_band():
    members = [MPL(*MPL_PUBLISHED_PARAMS[s]) for s in ("25", "100", "400")]
    upper = Ensemble(members, mode="upper")
    c = Constraints.build(T, PEAK, warmup=W)
    robust = plan_schedule(upper, c, resolution=64, maxiter=100)
    point = plan_schedule(members[1], c, resolution=64, maxiter=100)
    u = lambda p: upper.loss(p.schedule.array(), [T - 1])[0]  # noqa: E731
    assert u(robust) <= u(point) + 1e-12


def test_load_objective_from_published_name_and_dict_with_bootstrap():
    point, opt, band, info = load_objective("mpl-100")
    assert opt is point and band is None and info["peak_lr"] == 3e-4
    d = {"law": "mpl", "params": dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"])),
         "bootstrap": [{"L0": 2.64}, {"L0": 2.66}, {"B": 400.0}]}
    point, opt, band, info = load_objective(d, robust="mean")
    assert isinstance(opt, Ensemble) and len(band.members) == 3 and info["bootstrap_fits"] == 3
    assert band.members[0].L0 == 2.64 and band.members[0].A == point.A
    with pytest.raises(ConfigError, match="needs a fit with bootstrap refits"):
        load_objective("mpl-100", robust="upper")
    with pytest.raises(LoadError, match="parameter 'gamma' of the mpl law is missing"):
        load_objective({"law": "mpl", "params": {"L0": 1, "A": 1, "alpha": 1, "B": 1, "C": 1, "beta": 1}})
    with pytest.raises(LoadError, match="cannot optimise law 'chinchilla'"):
        load_objective({"law": "chinchilla", "params": {}})


def test_freeform_starts_from_several_schedules_and_keeps_the_best():
    c = Constraints.build(T, PEAK, warmup=W)
    default = optimize_freeform(LAW, c, resolution=256)
    from_cosine = optimize_freeform(LAW, c, init=cosine(peak=PEAK, steps=T, warmup=W).array(), resolution=256)
    both = optimize_freeform(LAW, c, init=[cosine(peak=PEAK, steps=T, warmup=W).array(), default_init(c)], resolution=256)
    assert both.objective <= min(default.objective, from_cosine.objective) + 1e-9
    # finer levels start from the coarser optimum, which they represent exactly: never worse
    objs = [lv["objective"] for lv in default.levels]
    assert [lv["blocks"] for lv in default.levels] == [32, 128]
    assert objs == sorted(objs, reverse=True)


def test_per_step_resolution_is_a_true_free_form_schedule():
    c = Constraints.build(600, PEAK, warmup=50)
    blocks = optimize_freeform(LAW, c, resolution=32)
    per_step = optimize_freeform(LAW, c, resolution=600)
    assert per_step.levels[-1]["blocks"] == 550
    assert per_step.objective <= blocks.objective
    c.check(per_step.lr)


def test_lrplan_laws_fits_plug_into_the_planner_with_identical_predictions():
    laws = pytest.importorskip("lrplan.laws")
    from lrplan.laws.base import FORMAT_VERSION

    params = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["400"]))
    boot = [{**params, "B": params["B"] * 1.05}, {**params, "B": params["B"] * 0.95}]
    art = {"format": "lrplan-fit", "format_version": FORMAT_VERSION, "law": "mpl", "options": {}, "peak_lr": 3e-4,
           "params": params, "uncertainty": {"bootstrap": boot, "leave_one_out": [], "model_rel_sd": 0.0}}
    law = laws.Law.from_dict(art)
    point, _, band, info = load_objective(law)
    lr = mpl_schedule("wsd_20000_24000").array()
    steps = [3000, 20000, 23999]
    np.testing.assert_allclose(point.loss(lr, steps), law.predict(lr, steps), rtol=1e-10)
    assert len(band.members) == 2 and band.members[0].B == pytest.approx(params["B"] * 1.05)
    assert info["peak_lr"] == 3e-4
    mom = laws.Law.from_dict({**art, "law": "momentum", "options": {"lam": 0.999},
                              "params": {"L0": 2.42, "A": 0.6 * 3e-4 ** 0.5, "alpha": 0.5, "C": 0.56 / 3e-4, "lam": 0.999},
                              "uncertainty": {}})
    np.testing.assert_allclose(load_objective(mom)[0].loss(lr, steps), mom.predict(lr, steps), rtol=1e-10)
    with pytest.raises(LoadError, match="original momentum law only"):
        load_objective({**mom.to_dict(), "options": {"warmup": "peak"}})


def test_auto_fit_gets_bands_from_its_members_bootstrap_refits():
    from lrplan.plan.objectives import Weighted

    mpl = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    mom = {"L0": 2.42, "A": 0.6 * 3e-4 ** 0.5, "alpha": 0.5, "C": 0.56 / 3e-4, "lam": 0.999}
    members = [{"law": "mpl", "params": mpl, "uncertainty": {"bootstrap": [{**mpl, "B": mpl["B"] * f} for f in (0.9, 1.1, 1.2)]}},
               {"law": "momentum", "params": mom, "uncertainty": {"bootstrap": [{**mom, "C": mom["C"] * f} for f in (0.8, 1.25)]}},
               {"law": "bound", "params": {}}]
    d = {"law": "auto", "peak_lr": 3e-4, "weights": {"mpl": 0.25, "momentum": 0.75, "bound": 0.0}, "members": members}
    point, _, band, info = load_objective(d)
    assert info["bootstrap_fits"] == 2 and len(band.members) == 2   # as many as the member with fewest refits
    lr = mpl_schedule("wsd_20000_24000").array()
    steps = [5000, 23999]
    first = Weighted([(0.25, MPL(*(mpl[k] * (0.9 if k == "B" else 1) for k in ("L0", "A", "alpha", "B", "C", "beta", "gamma")))),
                      (0.75, Momentum(mom["L0"], mom["A"], mom["alpha"], mom["C"] * 0.8, lam=0.999))])
    np.testing.assert_allclose(band.members[0].loss(lr, steps), first.loss(lr, steps), rtol=1e-12)
    # a plan under the auto fit now has bands on its predictions and gains
    c = Constraints.build(steps=2000, peak=3e-4, warmup=100)
    p = plan_schedule(point, c, band_model=band, resolution=32, freeform=False)
    assert set(p.gain_band) == {"cosine to 10%", "wsd 20% linear"}
    lo, hi = p.predicted["plan"]["band"]
    assert lo < hi
    # without refits in one member there is no band
    no_boot = {**d, "members": [members[0], {"law": "momentum", "params": mom}]}
    assert load_objective(no_boot)[2] is None


def test_fit_window_refits_alone_give_a_band_that_contains_them():
    mpl = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    d = {"law": "mpl", "params": mpl, "peak_lr": 3e-4,
         "uncertainty": {"window": [{"drop": 0.1, "params": {**mpl, "A": mpl["A"] * 1.02}},
                                    {"drop": 0.2, "params": {**mpl, "B": mpl["B"] * 0.9}}]}}
    point, opt, band, info = load_objective(d)
    assert opt is point and len(band.members) == 1 and len(band.window) == 2 and info["window_refits"] == [0.1, 0.2]
    with pytest.raises(ConfigError, match="needs a fit with bootstrap refits"):
        load_objective(d, robust="mean")   # window refits are for bands, not for optimising over
    c = Constraints.build(steps=24000, peak=3e-4, warmup=2160)
    p = plan_schedule(point, c, band_model=band, freeform=False)
    lr = p.baselines["cosine to 10%"].array()
    finals = [m.loss(lr, [23999])[0] for m in [point, *band.window]]
    assert p.predicted["cosine to 10%"]["band"] == [pytest.approx(min(finals)), pytest.approx(max(finals))]


def test_planning_far_past_the_fitted_steps_without_window_refits_warns():
    from lrplan.errors import LrplanWarning

    mpl = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    d = {"law": "mpl", "params": mpl, "peak_lr": 3e-4, "data": [{"run": "a", "last_step": 7999}, {"run": "b", "last_step": 5999}]}
    point, _, band, info = load_objective(d)
    assert info["fitted_steps"] == 8000
    c = Constraints.build(steps=24000, peak=3e-4, warmup=2160)
    with pytest.warns(LrplanWarning, match="plan for 24000 steps from curves fitted up to step 8000"):
        plan_schedule(point, c, band_model=band, freeform=False, law_info=info)
    windowed = {**d, "uncertainty": {"window": [{"drop": 0.1, "params": mpl}]}}
    point, _, band, info = load_objective(windowed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LrplanWarning)
        plan_schedule(point, c, band_model=band, freeform=False, law_info=info)               # refits: no warning
        plan_schedule(point, Constraints.build(steps=12000, peak=3e-4, warmup=2160), freeform=False,
                      law_info=load_objective(d)[3])                                           # 1.5x: no warning


def test_auto_fit_window_refits_are_paired_by_fraction():
    from lrplan.plan.objectives import Weighted

    mpl = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    mom = {"L0": 2.42, "A": 0.6 * 3e-4 ** 0.5, "alpha": 0.5, "C": 0.56 / 3e-4, "lam": 0.999}
    # the mpl member's 0.2 refit failed: only 0.1 and 0.3 are common, and they pair by fraction
    members = [{"law": "mpl", "params": mpl, "uncertainty": {"window": [
                    {"drop": 0.1, "params": {**mpl, "B": mpl["B"] * 0.9}}, {"drop": 0.3, "params": {**mpl, "B": mpl["B"] * 1.1}}]}},
               {"law": "momentum", "params": mom, "uncertainty": {"window": [
                    {"drop": f, "params": {**mom, "C": mom["C"] * k}} for f, k in ((0.1, 0.8), (0.2, 1.0), (0.3, 1.25))]}}]
    d = {"law": "auto", "peak_lr": 3e-4, "weights": {"mpl": 0.5, "momentum": 0.5}, "members": members}
    point, _, band, info = load_objective(d)
    assert info["window_refits"] == [0.1, 0.3] and len(band.window) == 2
    lr = mpl_schedule("wsd_20000_24000").array()
    at_03 = Weighted([(0.5, MPL(*(mpl[k] * (1.1 if k == "B" else 1) for k in ("L0", "A", "alpha", "B", "C", "beta", "gamma")))),
                      (0.5, Momentum(mom["L0"], mom["A"], mom["alpha"], mom["C"] * 1.25, lam=0.999))])
    np.testing.assert_allclose(band.window[1].loss(lr, [23999]), at_03.loss(lr, [23999]), rtol=1e-12)


def test_shape_refits_join_the_band_and_auto_pairs_them_with_the_other_members_point_fits():
    from lrplan.plan.objectives import Weighted

    mpl = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    shaped = {**mpl, "beta": 1.5, "gamma": 0.9, "C": mpl["C"] * 0.5}
    d = {"law": "mpl", "params": mpl, "peak_lr": 3e-4,
         "uncertainty": {"window": [{"drop": 0.1, "params": {**mpl, "A": mpl["A"] * 1.02}}],
                         "shape": [{"shape": "published", "params": shaped}]}}
    point, _, band, info = load_objective(d)
    assert info["window_refits"] == [0.1] and info["shape_refits"] == ["published"] and len(band.window) == 2
    lr = mpl_schedule("wsd_20000_24000").array()
    np.testing.assert_allclose(band.window[1].loss(lr, [23999]), MPL(*shaped.values()).loss(lr, [23999]), rtol=1e-12)
    mom = {"L0": 2.42, "A": 0.6 * 3e-4 ** 0.5, "alpha": 0.5, "C": 0.56 / 3e-4, "lam": 0.999}
    auto = {"law": "auto", "peak_lr": 3e-4, "weights": {"mpl": 0.25, "momentum": 0.75},
            "members": [{"law": "mpl", "params": mpl, "uncertainty": {"shape": [{"shape": "published", "params": shaped}]}},
                        {"law": "momentum", "params": mom}]}
    point, _, band, info = load_objective(auto)
    assert info["shape_refits"] == ["published"] and "window_refits" not in info and len(band.window) == 1
    expect = Weighted([(0.25, MPL(*shaped.values())), (0.75, Momentum(mom["L0"], mom["A"], mom["alpha"], mom["C"], lam=0.999))])
    np.testing.assert_allclose(band.window[0].loss(lr, [23999]), expect.loss(lr, [23999]), rtol=1e-12)


def test_planning_with_a_shape_on_its_bound_and_no_shape_refit_warns():
    from lrplan.errors import LrplanWarning

    mpl = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    d = {"law": "mpl", "params": {**mpl, "beta": 1.5}, "peak_lr": 3e-4,
         "fit": {"warnings": ["mpl law: parameter(s) at a bound: L0, beta"]}}
    point, _, band, info = load_objective(d)
    c = Constraints.build(steps=24000, peak=3e-4, warmup=2160)
    with pytest.warns(LrplanWarning, match="annealing shape \\(beta/gamma\\) sits on a bound"):
        plan_schedule(point, c, freeform=False, law_info=info)
    shaped = {**d, "uncertainty": {"shape": [{"shape": "published", "params": mpl}]}}
    point, _, band, info = load_objective(shaped)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LrplanWarning)
        plan_schedule(point, c, band_model=band, freeform=False, law_info=info)            # shape refit: no warning
        no_shape_bound = {**d, "fit": {"warnings": ["mpl law: parameter(s) at a bound: L0"]}}
        plan_schedule(point, c, freeform=False, law_info=load_objective(no_shape_bound)[3])  # L0 only: no warning


def test_parameters_on_a_bound_are_read_from_the_report_list_or_an_older_reports_warning():
    mpl = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    d = {"law": "mpl", "params": mpl, "peak_lr": 3e-4}
    assert load_objective({**d, "fit": {"at_bound": ["gamma"], "warnings": []}})[3]["at_bound"] == ["mpl.gamma"]
    legacy = {"warnings": ["mpl law: parameter(s) at a bound: L0, beta", "mpl law: 2 of 8 starts failed"]}
    assert load_objective({**d, "fit": legacy})[3]["at_bound"] == ["mpl.L0", "mpl.beta"]
    assert "at_bound" not in load_objective({**d, "fit": {"at_bound": [], "warnings": []}})[3]


def test_a_fit_report_records_the_parameters_on_a_bound():
    from lrplan.fitting import Param, fit

    x = np.linspace(0.0, 1.0, 30)
    y = 2.0 + 0.5 * x
    res = fit(lambda th: th[0] + th[1] * x, [Param("a", 1.0, 0.0, 1.5), Param("b", 0.1, 0.0, 2.0)], y, [[1.0, 0.1]])
    assert res.to_dict()["at_bound"] == ["a"]  # the data want a = 2, above the bound 1.5


def test_a_hand_written_fit_whose_fit_entry_is_not_a_report_still_loads():
    # only lrplan artifacts carry a fit report under "fit"; anything else there is not read
    mpl = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    for fit in ("adamw", ["beta at a bound"], 3):
        point, _, band, info = load_objective({"law": "mpl", "params": mpl, "peak_lr": 3e-4, "fit": fit})
        assert band is None and "at_bound" not in info


def test_planning_with_an_auto_fit_whose_mpl_member_has_its_shape_on_a_bound_warns():
    from lrplan.errors import LrplanWarning

    mpl = dict(zip(("L0", "A", "alpha", "B", "C", "beta", "gamma"), MPL_PUBLISHED_PARAMS["100"]))
    mom = {"L0": 2.42, "A": 0.6 * 3e-4 ** 0.5, "alpha": 0.5, "C": 0.56 / 3e-4, "lam": 0.999}
    member = {"law": "mpl", "params": {**mpl, "beta": 1.5}, "fit": {"warnings": ["mpl law: parameter(s) at a bound: beta"]}}
    auto = {"law": "auto", "peak_lr": 3e-4, "weights": {"mpl": 0.5, "momentum": 0.5},
            "members": [member, {"law": "momentum", "params": mom}]}
    point, _, band, info = load_objective(auto)
    assert info["at_bound"] == ["mpl.beta"]
    c = Constraints.build(steps=24000, peak=3e-4, warmup=2160)
    with pytest.warns(LrplanWarning, match="annealing shape \\(beta/gamma\\) sits on a bound"):
        plan_schedule(point, c, freeform=False, law_info=info)
    member["uncertainty"] = {"shape": [{"shape": "published", "params": mpl}]}
    point, _, band, info = load_objective(auto)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LrplanWarning)
        plan_schedule(point, c, band_model=band, freeform=False, law_info=info)   # the member's shape refit: no warning
        del member["uncertainty"]
        point, _, band, info = load_objective({**auto, "weights": {"mpl": 0.0, "momentum": 1.0}})
        assert "at_bound" not in info                                               # an mpl member of weight 0 is not read
        plan_schedule(point, c, freeform=False, law_info=info)


def test_auto_shape_refits_follow_the_paired_window_refits_and_use_the_point_fits_of_the_others():
    from lrplan.plan.objectives import Weighted

    names = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
    mpl = dict(zip(names, MPL_PUBLISHED_PARAMS["100"]))
    shaped = {**mpl, "beta": 1.5, "gamma": 0.9, "C": mpl["C"] * 0.5}
    mom = {"L0": 2.42, "A": 0.6 * 3e-4 ** 0.5, "alpha": 0.5, "C": 0.56 / 3e-4, "lam": 0.999}
    auto = {"law": "auto", "peak_lr": 3e-4, "weights": {"mpl": 0.4, "momentum": 0.6},
            "members": [{"law": "mpl", "params": mpl,
                         "uncertainty": {"window": [{"drop": 0.1, "params": {**mpl, "A": mpl["A"] * 1.05}}],
                                         "shape": [{"shape": "published", "params": shaped}]}},
                        {"law": "momentum", "params": mom,
                         "uncertainty": {"window": [{"drop": 0.1, "params": {**mom, "C": mom["C"] * 1.1}}]}}]}
    _, _, band, info = load_objective(auto)
    assert info["window_refits"] == [0.1] and info["shape_refits"] == ["published"] and len(band.window) == 2
    lr = mpl_schedule("wsd_20000_24000").array()
    at_01 = Weighted([(0.4, MPL(*(mpl[k] * (1.05 if k == "A" else 1) for k in names))),
                      (0.6, Momentum(mom["L0"], mom["A"], mom["alpha"], mom["C"] * 1.1, lam=0.999))])
    shape = Weighted([(0.4, MPL(*shaped.values())), (0.6, Momentum(mom["L0"], mom["A"], mom["alpha"], mom["C"], lam=0.999))])
    np.testing.assert_allclose(band.window[0].loss(lr, [23999]), at_01.loss(lr, [23999]), rtol=1e-12)
    np.testing.assert_allclose(band.window[1].loss(lr, [23999]), shape.loss(lr, [23999]), rtol=1e-12)
