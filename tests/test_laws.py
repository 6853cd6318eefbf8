"""Loss laws: recovery of known parameters, the estimator interface, JSON round trips, bands."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from lrplan.curves import Curves, RunMeta
from lrplan.errors import FitError, LrplanError
from lrplan.laws import AutoLaw, BoundLaw, Law, MomentumLaw, MultiPowerLaw, PowerLaw, load_fit, make_law, save_fit
from lrplan.laws import kernels as K
from lrplan.laws.mpl import published
from lrplan.schedules import parse

SPECS = {
    "cos": "cosine:peak=3e-4,warmup=500,floor=3e-5,steps=12000",
    "const": "constant:peak=3e-4,warmup=500,steps=12000",
    "step": "constant:peak=3e-4,warmup=500,steps=5000 + constant:peak=9e-5,steps=5000",
}
TRUE_MPL = {"L0": 2.6, "A": 0.6, "alpha": 0.45, "B": 440.0, "C": 2.1, "beta": 0.6, "gamma": 0.65}
TRUE_MOM = {"L0": 2.7, "A": 0.55, "alpha": 0.52, "C": 0.48, "lam": 0.999}


def synthetic(law_fn, noise=0.0, seed=0, every=100, specs=None):
    rng = np.random.default_rng(seed)
    frames, meta = [], {}
    for run, spec in (specs or SPECS).items():
        lr = parse(spec).array()
        steps = np.arange(600, lr.size, every)
        loss = law_fn(lr, steps) * np.exp(noise * rng.standard_normal(steps.size))
        frames.append(pd.DataFrame({"run": run, "step": steps, "loss": loss}))
        meta[run] = RunMeta(run=run, schedule=spec)
    return Curves.from_frame(pd.concat(frames), meta=meta)


def mpl_truth(lr, steps, method="exact"):
    return K.mpl_loss(lr, steps, *TRUE_MPL.values(), method=method)


def mom_truth(lr, steps):
    p = TRUE_MOM
    return p["L0"] + p["A"] * np.cumsum(lr)[steps] ** -p["alpha"] - p["C"] * K.momentum_s2(lr, p["lam"])[steps]


def test_momentum_law_recovers_known_parameters():
    law = MomentumLaw(lam=0.999).fit(synthetic(mom_truth))
    for k, v in TRUE_MOM.items():
        assert law.params_[k] == pytest.approx(v, rel=1e-4), k
    assert law.peak_ == 3e-4


def test_momentum_grid_picks_the_true_lambda_and_fit_mode_finds_it():
    curves = synthetic(mom_truth, noise=2e-4)
    assert MomentumLaw(lam="grid").fit(curves).params_["lam"] == 0.999
    assert MomentumLaw(lam="fit").fit(curves).params_["lam"] == pytest.approx(0.999, abs=2e-4)


def test_mpl_recovers_known_parameters_and_predicts_an_unseen_schedule():
    law = MultiPowerLaw().fit(synthetic(mpl_truth))
    for k in ("L0", "A", "alpha", "B"):
        assert law.params_[k] == pytest.approx(TRUE_MPL[k], rel=0.02), k
    lr = parse("wsd:peak=3e-4,warmup=500,cooldown=0.2,floor=3e-5,steps=15000").array()
    steps = np.arange(600, 15000, 50)
    assert np.max(np.abs(law.predict(lr, steps) - mpl_truth(lr, steps))) < 2e-3


def test_power_law_ignores_the_schedule():
    law = PowerLaw().fit(synthetic(mom_truth))
    a = law.predict(parse(SPECS["cos"]).array())
    b = law.predict(parse(SPECS["const"]).array())
    assert np.array_equal(a, b) and a.shape == (12000,)


def test_bound_law_is_linear_in_its_parameters_and_fits_itself():
    lr = parse(SPECS["cos"]).array()
    truth = BoundLaw()
    truth.peak_, truth.params_ = 3e-4, {"L0": 2.5, "a": 3e-3, "b": 300.0}
    truth.theta_ = truth._to_norm(truth.params_, 3e-4)
    curves = synthetic(lambda lr, s: BoundLaw.predict(truth, lr, s))
    law = BoundLaw().fit(curves)
    for k, v in truth.params_.items():
        assert law.params_[k] == pytest.approx(v, rel=1e-4), k


@pytest.mark.parametrize("name", ["momentum", "mpl", "bound", "power", "auto"])
def test_json_round_trip_gives_identical_predictions(name, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opts = {"members": ("momentum", "power")} if name == "auto" else {}
        law = make_law(name, n_boot=2, **opts).fit(synthetic(mpl_truth, noise=1e-3))
    path = save_fit(law, tmp_path / "fit.json")
    d = json.loads(path.read_text())
    assert d["format"] == "lrplan-fit" and d["law"] == name and d["peak_lr"] == 3e-4
    back = load_fit(path)
    lr = parse("wsd:peak=2e-4,warmup=300,cooldown=0.3,floor=0,steps=9000").array()
    assert np.allclose(back.predict(lr), law.predict(lr), rtol=1e-12)
    p, lo, hi = back.predict_band(lr, level=0.9)
    p0, lo0, hi0 = law.predict_band(lr, level=0.9)
    assert np.allclose(lo, lo0) and np.allclose(hi, hi0)
    assert np.all(lo <= p) and np.all(p <= hi)


def test_band_widens_with_level_and_covers_the_held_out_truth():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = MomentumLaw(n_boot=8, loo=True).fit(synthetic(mom_truth, noise=3e-3))
    lr = parse("wsd:peak=3e-4,warmup=500,cooldown=0.2,floor=3e-5,steps=12000").array()
    steps = np.arange(600, 12000, 10)
    p, lo, hi = law.predict_band(lr, steps, level=0.9)
    _, lo2, hi2 = law.predict_band(lr, steps, level=0.5)
    assert np.all(hi - lo > hi2 - lo2)
    truth = mom_truth(lr, steps)
    assert np.mean((truth >= lo) & (truth <= hi)) > 0.9
    assert law.model_rel_sd() > 0


def test_auto_weights_the_true_law_highest():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = AutoLaw(members=("power", "mpl")).fit(synthetic(mpl_truth, noise=5e-4))
    assert law.weights_["mpl"] > 0.9
    assert sum(law.weights_.values()) == pytest.approx(1.0)


def test_published_mpl_law_matches_kernel():
    law = published("100")
    lr = parse("cosine:peak=3e-4,warmup=2160,floor=3e-5,steps=24000").array()
    from lrplan.datasets import MPL_PUBLISHED_PARAMS

    steps = np.arange(2160, 24000, 128)
    ref = K.mpl_loss(lr, steps, *MPL_PUBLISHED_PARAMS["100"], method="exact")
    assert np.max(np.abs(law.predict(lr, steps) - ref)) < 1e-6


def test_missing_lr_says_what_to_add():
    c = Curves.from_frame(pd.DataFrame({"run": "r1", "step": np.arange(100, 1000, 100), "loss": np.linspace(4, 3, 9)}))
    with pytest.raises(LrplanError, match=r"--lr-file LR.csv .*--schedule r1=SPEC"):
        MomentumLaw().fit(c)


def test_lr_not_covering_the_logged_steps_is_an_error():
    c = Curves.from_frame(pd.DataFrame({"run": "r1", "step": np.arange(100, 1000, 100), "loss": np.linspace(4, 3, 9)}))
    with pytest.raises(LrplanError, match=r"run 'r1': the LR .* covers steps 0..499 .* up to step 900"):
        MomentumLaw().fit(c, schedules={"r1": "cosine:peak=1e-3,warmup=10,steps=500"})


def test_too_few_points_is_a_fit_error():
    c = Curves.from_frame(pd.DataFrame({"run": "r1", "step": [100, 200, 300], "loss": [4.0, 3.5, 3.3]}))
    with pytest.raises(FitError, match="too few points"):
        MomentumLaw().fit(c, schedules={"r1": "constant:peak=1e-3,warmup=10,steps=400"})


def test_loss_spikes_warn_and_do_not_move_the_fit():
    clean = synthetic(mom_truth)
    d = clean.data.copy()
    spike = (d["run"] == "cos") & (d["step"] == 6000)
    d.loc[spike, "loss"] *= 1.5
    spiky = Curves(d, clean.meta)
    with pytest.warns(Warning, match=r"run 'cos': 1 loss spike\(s\) at step\(s\) 6000"):
        law = MomentumLaw(lam=0.999).fit(spiky)
    for k, v in TRUE_MOM.items():
        assert law.params_[k] == pytest.approx(v, rel=2e-3), k


def test_unknown_law_and_bad_artifacts(tmp_path):
    with pytest.raises(LrplanError, match="unknown law 'foo'"):
        make_law("foo")
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "lrplan-fit", "law": "nope", "params": {}}')
    with pytest.raises(LrplanError, match="unknown law 'nope'"):
        load_fit(bad)
    with pytest.raises(LrplanError, match="no such fit file or shipped fit name"):
        load_fit(tmp_path / "missing.json")


def test_mpl_fits_densely_logged_curves_and_predicts_long_schedules():
    frames, meta = [], {}
    for run, spec in SPECS.items():
        spec = spec.replace("12000", "3000").replace("5000", "1500")
        lr = parse(spec).array()
        steps = np.arange(600, lr.size, 2)  # densely logged
        frames.append(pd.DataFrame({"run": run, "step": steps, "loss": mpl_truth(lr, steps, "fast")}))
        meta[run] = RunMeta(run=run, schedule=spec)
    law = MultiPowerLaw().fit(Curves.from_frame(pd.concat(frames), meta=meta))
    lr = parse("cosine:peak=3e-4,warmup=500,floor=3e-5,steps=12000").array()
    steps = np.arange(1000, 12000, 2)  # > 5,000 steps: the every-step scheme
    assert np.max(np.abs(law.predict(lr, steps) - mpl_truth(lr, steps, "fast"))) < 1e-2


def test_no_spike_warnings_on_the_bundled_curves():
    from lrplan.datasets import MPL_SIZES, mpl_curves
    from lrplan.laws.data import find_spikes, resolve

    for size in MPL_SIZES:
        assert find_spikes(resolve(mpl_curves(size))) == []


def early_transient(lr, steps):
    """MPL truth plus an early transient no schedule law models (decays over ~3,000 steps)."""
    return mpl_truth(lr, steps) + 0.5 * np.exp(-steps / 3000.0)


def test_window_refits_drop_the_start_of_every_curve_and_agree_when_the_law_is_right():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = MultiPowerLaw(window_refits=(0.1, 0.3)).fit(synthetic(mpl_truth))
    assert [w["drop"] for w in law.window_] == [0.1, 0.3]
    lr = parse("wsd:peak=3e-4,warmup=500,cooldown=0.2,floor=3e-5,steps=36000").array()
    steps = np.array([12000, 24000, 35999])
    p = law.predict(lr, steps)
    for w in law.window_:
        refit = MultiPowerLaw.from_dict({**law.to_dict(), "params": w["params"]})
        np.testing.assert_allclose(refit.predict(lr, steps), p, rtol=2e-3)
    # the refits really fitted later windows: the curves start at step 600 and end at 11900
    from lrplan.laws.base import window_tail
    from lrplan.laws.data import resolve

    d = resolve(synthetic(mpl_truth), None, None)[0]
    assert window_tail(d, 0.3).steps[0] == 3600 and window_tail(d, 0.3).steps[-1] == d.steps[-1]


def test_window_refits_widen_the_band_when_the_fit_depends_on_the_window():
    curves = synthetic(early_transient, noise=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = MultiPowerLaw(n_boot=6).fit(curves)
        windowed = MultiPowerLaw(n_boot=6, window_refits=(0.1, 0.2, 0.3)).fit(curves)
    lr = parse("cosine:peak=3e-4,warmup=500,floor=3e-5,steps=36000").array()
    steps = np.array([35999])
    p0, lo0, hi0 = plain.predict_band(lr, steps)
    p, lo, hi = windowed.predict_band(lr, steps)
    assert p == pytest.approx(p0) and lo <= lo0 and hi >= hi0
    np.testing.assert_allclose(windowed.predict_band(lr, steps, window=False), (p0, lo0, hi0), rtol=1e-12)
    preds = [MultiPowerLaw.from_dict({**windowed.to_dict(), "params": w["params"]}).predict(lr, steps)[0] for w in windowed.window_]
    assert lo[0] <= min(preds) and hi[0] >= max(preds)
    # the transient biases the fit; the bootstrap band misses the truth 3x past the fitting horizon,
    # the refits on later windows move towards it and the band follows them
    truth = mpl_truth(lr, steps)[0]
    assert hi0[0] < truth and hi[0] > hi0[0] + 0.005
    # round trip keeps the refits and the band
    back = Law.from_dict(json.loads(json.dumps(windowed.to_dict())))
    assert back.window_refits == (0.1, 0.2, 0.3)
    np.testing.assert_allclose(back.predict_band(lr, steps), windowed.predict_band(lr, steps), rtol=1e-12)


@pytest.mark.parametrize("bad, message", [((0.0,), "must be in \\(0, 0.9\\), got 0"), ((0.95,), "got 0.95"),
                                          (("a",), "expected fractions")])
def test_window_refit_fractions_are_checked(bad, message):
    with pytest.raises(LrplanError, match=message):
        MultiPowerLaw(window_refits=bad)


def test_auto_members_carry_their_window_refits():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = AutoLaw(members=("momentum", "mpl"), window_refits=(0.2,)).fit(synthetic(mpl_truth, noise=5e-4))
    assert all(len(m.window_) == 1 for m in law.members_)
    assert all(len(m["uncertainty"]["window"]) == 1 for m in law.to_dict()["members"])
    back = Law.from_dict(json.loads(json.dumps(law.to_dict())))   # a loaded auto law saves again
    assert all(len(m["uncertainty"]["window"]) == 1 for m in back.to_dict()["members"])


def test_laws_built_without_fitting_save_with_empty_refit_records():
    assert published("100").to_dict()["uncertainty"]["window"] == []
    assert load_fit("mpl-100m-auto").to_dict()["uncertainty"]["window"] == []


def test_window_refits_leave_out_runs_too_short_for_the_window_and_say_so():
    frames, meta = [], {}
    for run, spec, steps in (("sparse", "constant:peak=3e-4,warmup=10,steps=1000", np.array([20, 30, 40, 50, 999])),
                             ("dense", "cosine:peak=3e-4,warmup=10,steps=1000", np.arange(20, 1000, 20))):
        frames.append(pd.DataFrame({"run": run, "step": steps, "loss": 3 + 2 * (steps + 1.0) ** -0.3}))
        meta[run] = RunMeta(run=run, schedule=spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = MomentumLaw(lam=0.999, window_refits=(0.5,)).fit(Curves.from_frame(pd.concat(frames), meta=meta))
    assert [w["drop"] for w in law.window_] == [0.5]
    assert any("leaves out run(s) sparse (fewer than 5 points left)" in w for w in law.report_["warnings"])


def test_a_window_that_leaves_no_run_is_skipped_with_a_warning():
    steps = np.array([20, 30, 40, 50, 60, 999])
    frames = [pd.DataFrame({"run": run, "step": steps, "loss": 3 + 2 * (steps + 1.0) ** -0.3}) for run in ("a", "b")]
    meta = {run: RunMeta(run=run, schedule="constant:peak=3e-4,warmup=10,steps=1000") for run in ("a", "b")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = MomentumLaw(lam=0.999, window_refits=(0.5,)).fit(Curves.from_frame(pd.concat(frames), meta=meta))
    assert law.window_ == []
    assert any("skipped: too few points left" in w for w in law.report_["warnings"])


def test_mpl_reference_shape_is_the_mean_of_the_published_fits():
    from lrplan.datasets import MPL_PUBLISHED_PARAMS
    from lrplan.laws.mpl import PUBLISHED_SHAPE

    assert MultiPowerLaw.reference_shapes == {"published": PUBLISHED_SHAPE}
    assert PUBLISHED_SHAPE["beta"] == pytest.approx(np.mean([p[5] for p in MPL_PUBLISHED_PARAMS.values()]), abs=1e-8)
    assert PUBLISHED_SHAPE["gamma"] == pytest.approx(np.mean([p[6] for p in MPL_PUBLISHED_PARAMS.values()]), abs=1e-8)
    assert MomentumLaw.reference_shapes == {} and BoundLaw.reference_shapes == {}


def test_shape_refit_holds_the_shape_and_agrees_when_the_truth_has_that_shape():
    from lrplan.laws.mpl import PUBLISHED_SHAPE

    truth = {**TRUE_MPL, **PUBLISHED_SHAPE}
    curves = synthetic(lambda lr, steps: K.mpl_loss(lr, steps, *truth.values(), method="exact"), noise=2e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = MultiPowerLaw(shape="free", shape_refits=True).fit(curves)
    (refit,) = law.shape_
    assert refit["shape"] == "published" and refit["fixed"] == PUBLISHED_SHAPE
    assert refit["params"]["beta"] == PUBLISHED_SHAPE["beta"] and refit["params"]["gamma"] == PUBLISHED_SHAPE["gamma"]
    assert 1.0 - 1e-6 <= refit["cost_ratio"] < 1.05          # held at the truth: barely worse than the free fit
    lr = parse("wsd:peak=3e-4,warmup=500,cooldown=0.2,floor=3e-5,steps=36000").array()
    steps = np.array([12000, 35999])
    other = MultiPowerLaw.from_dict({**law.to_dict(), "params": refit["params"]})
    np.testing.assert_allclose(other.predict(lr, steps), law.predict(lr, steps), rtol=2e-3)


def test_shape_refits_widen_the_band_when_the_schedules_leave_the_shape_open():
    # only a constant and a cosine run: they leave the shape open (the truth's is neither the free
    # fit's nor the published one), and the refit fits almost as well but predicts a short cooldown differently
    truth = {**TRUE_MPL, "beta": 1.2, "gamma": 0.4}
    curves = synthetic(lambda lr, steps: K.mpl_loss(lr, steps, *truth.values(), method="exact"), noise=1e-3,
                       specs={k: SPECS[k] for k in ("cos", "const")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = MultiPowerLaw(shape="free", n_boot=4).fit(curves)
        shaped = MultiPowerLaw(shape="free", n_boot=4, shape_refits=True).fit(curves)
    lr = parse("wsd:peak=3e-4,warmup=500,cooldown=0.1,floor=3e-5,steps=36000").array()
    steps = np.array([35999])
    p0, lo0, hi0 = plain.predict_band(lr, steps)
    p, lo, hi = shaped.predict_band(lr, steps)
    refit = MultiPowerLaw.from_dict({**shaped.to_dict(), "params": shaped.shape_[0]["params"]}).predict(lr, steps)
    assert p == pytest.approx(p0) and lo[0] <= min(lo0[0], refit[0]) and hi[0] >= max(hi0[0], refit[0])
    assert shaped.shape_[0]["cost_ratio"] < 1.01 and abs(refit[0] - p[0]) > 1e-3
    np.testing.assert_allclose(shaped.predict_band(lr, steps, window=False), (p0, lo0, hi0), rtol=1e-12)
    np.testing.assert_allclose(shaped.predict_band(lr, steps, shape=False), (p0, lo0, hi0), rtol=1e-12)
    back = Law.from_dict(json.loads(json.dumps(shaped.to_dict())))
    assert back.shape_refits and back.shape_ == shaped.shape_
    np.testing.assert_allclose(back.predict_band(lr, steps), (p, lo, hi), rtol=1e-12)


def test_shape_refits_of_a_law_without_reference_shapes_say_so():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = MomentumLaw(lam=0.999, shape_refits=True).fit(synthetic(mom_truth))
    assert law.shape_ == [] and any("no reference shape" in w for w in law.report_["warnings"])


def test_auto_gives_shape_refits_to_its_mpl_member_only():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = AutoLaw(members=("momentum", "mpl"), shape_refits=True).fit(synthetic(mpl_truth, noise=5e-4))
    shapes = {m.name: len(m.shape_) for m in law.members_}
    assert shapes == {"momentum": 0, "mpl": 1}
    assert law.reference_shapes == MultiPowerLaw.reference_shapes          # what `lrplan fit --shape-refits` checks
    assert AutoLaw(members=("momentum", "bound")).reference_shapes == {}
    assert not any("no reference shape" in w for m in law.members_ for w in m.report_["warnings"])


def test_fixing_parameters_refits_the_rest_and_reports_every_parameter():
    from lrplan.laws.data import resolve

    law = MultiPowerLaw()
    data = resolve(synthetic(mpl_truth, noise=5e-4), None, None)
    peak = max(float(d.lr.max()) for d in data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = law._fit_theta(data, peak, fixed={"beta": 0.7, "gamma": 0.5})
    assert list(r.params) == list(r.rel_se) == ["L0", "A", "alpha", "B", "C", "beta", "gamma"]
    assert r.params["beta"] == r.theta[5] == 0.7 and r.params["gamma"] == r.theta[6] == 0.5
    assert np.isnan(r.rel_se["beta"]) and np.isnan(r.rel_se["gamma"])
    with pytest.raises(LrplanError, match="unknown parameter\\(s\\) gama"):
        law._fit_theta(data, peak, fixed={"gama": 0.5})


def test_mpl_shape_published_holds_beta_and_gamma_in_the_fit_and_every_refit():
    from lrplan.laws.mpl import PUBLISHED_SHAPE

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = MultiPowerLaw(shape="published", n_boot=3, window_refits=(0.2,), shape_refits=True).fit(synthetic(mpl_truth))
    held = lambda p: (p["beta"], p["gamma"]) == (PUBLISHED_SHAPE["beta"], PUBLISHED_SHAPE["gamma"])  # noqa: E731
    assert held(law.params_) and law.fixed_ == PUBLISHED_SHAPE and law.report_["fixed"] == PUBLISHED_SHAPE
    assert all(held(b) for b in law.boot_) and held(law.window_[0]["params"])
    (free,) = law.shape_                                   # the alternative to a held shape is the free fit
    assert free["shape"] == "free" and free["fixed"] == {} and not held(free["params"])
    assert free["params"]["beta"] == pytest.approx(TRUE_MPL["beta"], abs=0.05) and free["cost_ratio"] < 1
    back = Law.from_dict(json.loads(json.dumps(law.to_dict())))
    assert back.shape == "published" and back.shape_ == law.shape_


def test_mpl_shape_auto_keeps_an_identified_shape_and_holds_one_left_on_a_bound():
    from lrplan.laws.mpl import PUBLISHED_SHAPE

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # constant, cosine and a step decay identify the truth's shape (inside the bounds): kept free
        kept = MultiPowerLaw(shape="auto", shape_refits=True).fit(synthetic(mpl_truth))
        # constant and cosine only, a truth with a steep shape: the free fit puts gamma on its bound
        truth = {**TRUE_MPL, "beta": 1.2, "gamma": 0.4}
        curves = synthetic(lambda lr, steps: K.mpl_loss(lr, steps, *truth.values(), method="exact"), noise=1e-3,
                           specs={k: SPECS[k] for k in ("cos", "const")})
        held = MultiPowerLaw(shape="auto", shape_refits=True).fit(curves)
        free = MultiPowerLaw(shape="free").fit(curves)
    assert kept.fixed_ == {} and kept.params_["beta"] == pytest.approx(TRUE_MPL["beta"], abs=0.02)
    assert [r["shape"] for r in kept.shape_] == ["published"]
    assert free.params_["gamma"] == pytest.approx(0.9)     # GAMMA_BOUNDS[1]
    assert held.fixed_ == PUBLISHED_SHAPE and held.params_["gamma"] == PUBLISHED_SHAPE["gamma"]
    assert any("puts gamma on a bound" in w and "shape held at the published beta 0.591, gamma 0.644" in w
               for w in held.report_["warnings"])
    assert held.shape_[0]["shape"] == "free" and held.shape_[0]["params"] == pytest.approx(free.params_)


def test_mpl_shape_option_is_checked():
    with pytest.raises(LrplanError, match="shape must be one of free, published, auto, got 'fixed'"):
        MultiPowerLaw(shape="fixed")
