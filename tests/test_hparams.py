"""Hyper-parameter laws: grids, cell optima, laws, published presets, recommender (issue 4)."""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrplan.errors import ConfigError, FitError, LoadError, LrplanWarning
from lrplan.hparams import (
    HparamLaw, fit_bowl, flops_per_token, load_grid, published, recommend, regret, training_compute,
)
from lrplan.hparams.evaluate import leave_one_cell_out, nearest_run, subsample
from lrplan.hparams.optimum import cell_optima, plateau_half_widths
from lrplan.hparams.synthetic import HESSIAN, synthetic_grid


@pytest.fixture(scope="module")
def small_grid():
    return synthetic_grid(Ns=(1e8, 3e8), Ds=(2e9, 8e9), lr_levels=7, batch_levels=5, noise=0.0002)


# -- published presets ------------------------------------------------------------------------

@pytest.mark.parametrize("N,D", [(2.1e8, 4e9), (1e9, 1e11), (7e9, 2e12)])
def test_step_law_preset_is_the_published_formula(N, D):
    lr, b = published("steplaw").predict(N, D)
    assert lr == pytest.approx(1.79 * N ** -0.713 * D ** 0.307, rel=1e-13)
    assert b == pytest.approx(0.58 * D ** 0.571, rel=1e-13)


def test_deepseek_preset_is_the_published_formula_with_its_compute():
    law = published("deepseek")
    L, d, seq, D = 30, 4096, 4096, 2e12
    M = 72 * L * d ** 2 + 12 * L * d * seq
    lr, b = law.predict(6.9e9, D, n_layer=L, d_model=d, seq_len=seq)
    assert lr == pytest.approx(0.3118 * (M * D) ** -0.1250, rel=1e-13)
    assert b == pytest.approx(0.2920 * (M * D) ** 0.3271, rel=1e-13)
    assert law.schedule == "multistep"


def test_deepseek_preset_without_model_shape_is_a_config_error():
    with pytest.raises(ConfigError, match="needs n_layer, d_model"):
        published("deepseek").predict(1e9, 1e11)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="preset 'kaplan' unknown"):
        published("kaplan")


def test_compute_accountings():
    assert flops_per_token("6N", N=1e9) == 6e9
    assert flops_per_token("6N+attn", N=1e9, n_layer=24, d_model=2048, seq_len=2048) == 6e9 + 12 * 24 * 2048 * 2048
    assert flops_per_token("steplaw", n_layer=10, d_model=1280, d_ff=9472, seq_len=2048) == \
        6 * (4 * 1280 + 3 * 9472 + 2 * 2048) * 10 * 1280
    assert training_compute(1e10, "6N", N=1e8) == 6e18
    with pytest.raises(ConfigError, match="unknown"):
        flops_per_token("8N", N=1)


# -- grids: units and bad input ------------------------------------------------------------------

def _table(n_lr=3, n_b=3, **extra):
    rows = []
    for N, D in ((1e8, 4e9), (2e8, 8e9)):
        for i in range(n_lr):
            for j in range(n_b):
                lr, bs = 1e-3 * 2 ** i, 64 * 2 ** j
                rows.append({"N": N, "D": D, "lr": lr, "batch_size": bs, "loss": 3.0 + 0.01 * (i - 1) ** 2 + 0.01 * (j - 1) ** 2,
                             **extra})
    return pd.DataFrame(rows)


def test_batch_in_sequences_converted_with_seq_len():
    g = load_grid(_table(), seq_len=2048)
    assert sorted(g["batch"].unique()) == [64 * 2048, 128 * 2048, 256 * 2048]
    assert list(g.columns[:6]) == ["N", "D", "lr", "batch", "loss", "seq_len"]


def test_auto_unit_uses_steps_column():
    t = _table()
    t["seq_len"] = 2048
    t["steps"] = t["D"] / (t["batch_size"] * 2048)
    g = load_grid(t)  # auto: batch x seq_len x steps == D -> sequences
    assert g["batch"].iloc[0] == t["batch_size"].iloc[0] * 2048


def test_batch_in_sequences_declared_as_tokens_is_an_error():
    t = _table()
    t["seq_len"] = 2048
    with pytest.raises(LoadError, match="smaller than one sequence"):
        load_grid(t, batch_unit="tokens")


def test_batch_too_large_for_tokens_is_a_unit_error():
    t = _table()
    t["D"] = 1e6  # D in millions by mistake: batch of 64 x 2048 tokens gives < 10 steps
    with pytest.raises(LoadError, match="fewer than 10 optimizer steps"):
        load_grid(t, seq_len=2048)


def test_small_token_batches_without_seq_len_warn():
    with pytest.warns(LrplanWarning, match="if it counts sequences"):
        load_grid(_table())


def test_steps_that_disagree_with_d_warn():
    t = _table()
    t["steps"] = t["D"] / (t["batch_size"] * 2048) / 2
    with pytest.warns(LrplanWarning, match="differs from D by more than 25 %"):
        load_grid(t, seq_len=2048, batch_unit="sequences")


def test_nan_and_diverged_runs_are_dropped_with_warnings():
    t = _table()
    t.loc[0, "loss"] = np.nan
    t.loc[1, "loss"] = 11.0
    with pytest.warns(LrplanWarning) as rec:
        g = load_grid(t, seq_len=2048)
    text = " ".join(str(w.message) for w in rec)
    assert "dropped 1 run(s) with NaN/inf loss" in text
    assert "dropped 1 diverged run(s)" in text
    assert len(g) == len(t) - 2


def test_missing_columns_named():
    with pytest.raises(LoadError, match=r"missing column\(s\) lr"):
        load_grid(_table().drop(columns="lr"), seq_len=2048)


def test_single_lr_per_cell_is_a_fit_error():
    g = load_grid(_table(n_lr=1), seq_len=2048)
    with pytest.raises(FitError, match=r"cell N=1e\+08,D=4e\+09: only 1 distinct LR value\(s\) \(0.001\)"):
        HparamLaw(method="surrogate").fit(g)


def test_sweep_summary_table_is_accepted():
    t = _table()
    t = t.rename(columns={"N": "N_nonembed"})
    t["N"] = t["N_nonembed"] + 5e6  # total parameters: the law uses the non-embedding count
    t["seq_len"] = 64
    t["batch_tokens"] = t["batch_size"] * 64
    t["D"] = t["D"] / 32
    t["status"] = "finished"
    t.loc[0, "status"], t.loc[0, "loss"] = "diverged", 7.0
    t.loc[1, "status"], t.loc[1, "loss"] = "failed", np.nan
    with pytest.warns(LrplanWarning) as rec:
        g = load_grid(t)
    text = " ".join(str(w.message) for w in rec)
    assert "did not finish (status failed)" in text and "NaN/inf loss" in text
    assert len(g) == len(t) - 2
    assert set(g["N"]) == {1e8, 2e8}
    assert g["batch"].iloc[0] == t["batch_tokens"].iloc[2]


@settings(max_examples=25, deadline=None)
@given(bs=st.lists(st.sampled_from([8, 16, 32, 64, 128, 256]), min_size=4, max_size=12),
       seq=st.sampled_from([128, 512, 2048]), losses=st.lists(st.floats(2.0, 2.9), min_size=12, max_size=12))
def test_grid_parser_properties(bs, seq, losses):
    t = pd.DataFrame({"N": 1e8, "D": 1e10, "lr": [1e-3 * 1.5 ** i for i in range(len(bs))], "bs": bs,
                      "loss": losses[:len(bs)]})
    g = load_grid(t, seq_len=seq, batch_unit="sequences")
    assert len(g) == len(t)  # losses within 45 % of each other: nothing counts as diverged
    np.testing.assert_array_equal(g["batch"].to_numpy(), np.array(bs, dtype=float) * seq)
    assert (g["cell"] == "N=1e+08,D=1e+10").all()


# -- cell optimum ---------------------------------------------------------------------------------

def test_bowl_recovers_centre_and_curvature_of_a_noiseless_cell():
    x, y = np.meshgrid(np.log(2e-3) + 0.35 * np.arange(-4, 5), np.log(5e5) + 0.69 * np.arange(-3, 4))
    lr0, b0 = 2.3e-3, 4.4e5
    dz = np.stack([x.ravel() - np.log(lr0), y.ravel() - np.log(b0)])
    loss = 2.5 * (1 + 0.5 * np.einsum("in,ij,jn->n", dz, HESSIAN, dz))
    bowl = fit_bowl(np.exp(x.ravel()), np.exp(y.ravel()), loss, window=0.05)
    assert np.exp(bowl.center[0]) == pytest.approx(lr0, rel=0.01)
    assert np.exp(bowl.center[1]) == pytest.approx(b0, rel=0.01)
    np.testing.assert_allclose(bowl.hessian, HESSIAN, rtol=0.02, atol=2e-4)
    assert bowl.floor == pytest.approx(2.5, rel=1e-4)


def test_plateau_half_width_formula():
    h = np.array([[0.012, -0.004], [-0.004, 0.010]])
    wl, wb = plateau_half_widths(h, 0.0025)
    inv = np.linalg.inv(h)
    assert wl == pytest.approx(math.sqrt(2 * 0.0025 * inv[0, 0]))
    assert wb == pytest.approx(math.sqrt(2 * 0.0025 * inv[1, 1]))


def test_optimum_beyond_the_tested_lrs_is_flagged_as_edge():
    g = synthetic_grid(Ns=(1e8,), Ds=(4e9,), lr_levels=9, batch_levels=5, noise=0)
    lr_star = 1.79 * 1e8 ** -0.713 * 4e9 ** 0.307
    low = g[g["lr"] < lr_star / 1.2]  # only LRs below the optimum were run
    (o,) = cell_optima(low)
    assert "lr-high" in o.edge
    assert o.lr_opt <= low["lr"].max() * (1 + 1e-12)


def test_near_optimal_set_and_grid_minimum():
    g = synthetic_grid(Ns=(1e8,), Ds=(4e9,), noise=0)
    (o,) = cell_optima(g, tol=0.0025)
    near = g[g["loss"] <= g["loss"].min() * 1.0025]
    assert o.near_runs == len(near)
    assert o.lr_grid == g["lr"].iloc[int(np.argmin(g["loss"]))]
    assert o.lr_near_range == (near["lr"].min(), near["lr"].max())


# -- laws ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["surrogate", "joint"])
def test_laws_recover_the_generating_exponents(small_grid, method):
    law = HparamLaw(method=method).fit(small_grid)
    assert law.lr_law_.exponents["N"] == pytest.approx(-0.713, abs=0.03)
    assert law.lr_law_.exponents["D"] == pytest.approx(0.307, abs=0.03)
    assert law.batch_law_.exponents["D"] == pytest.approx(0.571, abs=0.03)
    lr, b = law.predict(5e8, 2e10)
    assert lr == pytest.approx(1.79 * 5e8 ** -0.713 * 2e10 ** 0.307, rel=0.1)
    assert b == pytest.approx(0.58 * 2e10 ** 0.571, rel=0.1)


def test_compute_form_law(small_grid):
    law = HparamLaw(method="surrogate", lr_terms=("C",), batch_terms=("C",), accounting="6N").fit(small_grid)
    assert set(law.lr_law_.exponents) == {"C"}
    lr, _ = law.predict(2e8, 4e9)
    assert lr == pytest.approx(law.lr_law_.prefactor * (6 * 2e8 * 4e9) ** law.lr_law_.exponents["C"])


def test_constant_d_term_is_dropped_with_a_warning():
    g = synthetic_grid(Ns=(1e8, 2e8, 4e8), Ds=(4e9,), lr_levels=7, batch_levels=5)
    with pytest.warns(LrplanWarning, match="dropped the D term"):
        law = HparamLaw(method="surrogate").fit(g)
    assert set(law.lr_law_.exponents) == {"N"}


def test_round_trip_json_and_bootstrap_interval(small_grid, tmp_path):
    law = HparamLaw(method="surrogate", n_boot=12, schedule="cosine").fit(small_grid)
    law.save(tmp_path / "law.json")
    d = json.loads((tmp_path / "law.json").read_text())
    assert d["format"] == "lrplan.hparams/1" and d["schedule"] == "cosine" and len(d["bootstrap"]["lr"]) == 12
    back = HparamLaw.load(tmp_path / "law.json")
    assert back.predict(3e8, 1e10) == pytest.approx(law.predict(3e8, 1e10), rel=1e-12)
    iv = back.interval(3e8, 1e10)
    lr = law.predict(3e8, 1e10)[0]
    assert iv.lr[0] < lr < iv.lr[1] and iv.lr[1] / iv.lr[0] < 1.5


def test_not_a_law_file(tmp_path):
    (tmp_path / "x.json").write_text('{"format": "something else"}')
    with pytest.raises(FitError, match="not an lrplan hyper-parameter law"):
        HparamLaw.load(tmp_path / "x.json")


# -- recommender ------------------------------------------------------------------------------------

def test_recommendation_plateau_hardware_batch_and_warnings(small_grid):
    law = HparamLaw(method="surrogate", schedule="cosine").fit(small_grid)
    with pytest.warns(LrplanWarning) as rec_w:
        rec = recommend(law, 2e9, 1e11, seq_len=2048, schedule="constant:peak=1e-3")
    text = " ".join(str(w.message) for w in rec_w)
    assert "schedule 'cosine' but the plan uses 'constant'" in text
    assert "extrapolating: parameters" in text
    lr, b = law.predict(2e9, 1e11)
    assert rec.lr == pytest.approx(lr) and rec.batch_seqs == pytest.approx(b / 2048)
    wl, wb = plateau_half_widths(law.hessian_, 0.0025)
    assert rec.plateau["lr"] == pytest.approx([lr * math.exp(-wl), lr * math.exp(wl)])
    hw = rec.hardware
    assert math.log2(hw["batch_seqs"]).is_integer() and hw["inside_plateau"]
    assert hw["predicted_excess"] < 0.0025
    assert rec.steps == round(1e11 / b)


def test_recommendation_matching_schedule_has_no_schedule_warning(small_grid):
    law = HparamLaw(method="surrogate", schedule="cosine").fit(small_grid)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recommend(law, 2e8, 4e9, schedule="cosine:peak=1e-3,floor=0.1x")


# -- evaluation -------------------------------------------------------------------------------------

def test_regret_reads_the_nearest_run_in_log_space():
    cell = pd.DataFrame({"lr": [1e-3, 2e-3, 4e-3], "batch": [1e5, 1e5, 1e5], "loss": [2.02, 2.00, 2.05]})
    assert nearest_run(cell, 3.2e-3, 1.1e5)["lr"] == 4e-3
    assert regret(cell, 3.2e-3, 1.1e5) == pytest.approx(0.025)
    assert regret(cell, 1.9e-3, 9e4) == 0.0


def test_leave_one_cell_out_with_subsets_on_a_synthetic_grid(small_grid):
    rng = np.random.default_rng(0)
    sub = subsample(small_grid, 0.3, rng)
    assert sub.groupby("cell").size().tolist() == [10] * 4  # 30 % of 35 runs
    res = leave_one_cell_out(small_grid, lambda t, N, D: HparamLaw(method="surrogate", lr_terms=("N",),
                                                                     batch_terms=("D",)).fit(t).predict(N, D),
                             fraction=0.3, rng=rng)
    assert len(res) == 4 and (res["regret"] >= 0).all()
    assert res["regret"].mean() < 0.003


def test_three_lr_cell_gives_the_parabola_vertex_despite_focus_weighting():
    # a trainer-style cell: 3 LRs at one batch, one of them 8 % worse (focus weights would ignore it)
    lr = np.array([1.5e-3, 4.5e-3, 1.35e-2])
    loss = np.array([2.398484, 2.369417, 2.560835])
    bowl = fit_bowl(lr, np.full(3, 512.0), loss)
    x, h = np.log(lr), np.log(3)
    vertex = x[1] - h * (loss[2] - loss[0]) / (2 * (loss[2] - 2 * loss[1] + loss[0]))
    assert bowl.center[0] == pytest.approx(vertex, abs=1e-3)
    assert np.isnan(bowl.hessian[1, 1])


@pytest.mark.parametrize("method", ["near", "surrogate", "joint"])
def test_precomputed_cell_optima_give_the_same_law_as_refitting_them(small_grid, method):
    # leave-one-cell-out refits reuse the per-cell bowls fitted once on the whole grid
    known = {o.cell: o for o in cell_optima(small_grid)}
    train = small_grid[small_grid["cell"] != small_grid["cell"].iloc[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = HparamLaw(method=method).fit(train)
        reused = HparamLaw(method=method).fit(train, optima=known)
    assert reused.lr_law_.to_dict() == fresh.lr_law_.to_dict()
    assert reused.batch_law_.to_dict() == fresh.batch_law_.to_dict()
    assert reused.optima_.equals(fresh.optima_)


# -- joint fit: convergence and BLAS threads ---------------------------------------------------

@pytest.mark.parametrize("window", [0.02, 0.03, 0.05])
def test_joint_fit_on_a_30_percent_subset_converges_far_below_the_cap_for_every_window(window):
    from lrplan.hparams.joint import MAX_NFEV, fit_joint

    grid = subsample(synthetic_grid(), 0.3, np.random.default_rng(0))  # 9 cells x 19 of 63 runs
    jf = fit_joint(grid, ("N", "D"), ("D",), window, focus=0.002)
    assert jf.converged and jf.nfev <= 50 < MAX_NFEV  # 23-28 evaluations
    assert jf.lr_law.exponents["N"] == pytest.approx(-0.713, abs=0.03)
    assert jf.lr_law.exponents["D"] == pytest.approx(0.307, abs=0.01)
    assert jf.batch_law.exponents["D"] == pytest.approx(0.571, abs=0.02)


def test_joint_fit_solves_with_one_blas_thread_and_restores_the_caller_setting(small_grid, monkeypatch):
    # threaded OpenBLAS makes the per-iteration SVD of a few-hundred-row Jacobian 10-100x slower (lrplan._blas)
    from threadpoolctl import threadpool_info, threadpool_limits

    import scipy.optimize

    import lrplan.hparams.joint as joint

    seen = []

    def spy(*args, **kwargs):   # every solve of lrplan.fitting.fit goes through least_squares
        seen.append(frozenset(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"))
        return real(*args, **kwargs)

    real = scipy.optimize.least_squares
    monkeypatch.setattr(scipy.optimize, "least_squares", spy)
    with threadpool_limits(limits=2, user_api="blas"):
        joint.fit_joint(small_grid, ("N", "D"), ("D",))
        after = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    assert seen and set(seen) == {frozenset({1})} and after == {2}


def test_joint_fit_stopped_by_the_evaluation_cap_says_so(small_grid, monkeypatch):
    import lrplan.hparams.joint as joint

    monkeypatch.setattr(joint, "MAX_NFEV", 3)
    with pytest.warns(LrplanWarning, match="joint model: the fit stopped after 3 evaluations without converging"):
        jf = joint.fit_joint(small_grid, ("N", "D"), ("D",))
    assert not jf.converged and jf.nfev == 3


# -- skewed bowl (joint model) ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def skewed_grid():
    # rises faster above LR* (k = 0.6 per nat), like real landscapes; a wide window sees the asymmetry
    return synthetic_grid(Ns=(1e8, 3e8), Ds=(2e9, 8e9), lr_levels=9, batch_levels=5, noise=0.0002, skew=0.6)


def test_skewed_joint_fit_recovers_the_optimum_and_the_skew(skewed_grid):
    skewed = HparamLaw(method="joint", window=0.10, focus=None).fit(skewed_grid)  # skew: on by default
    symmetric = HparamLaw(method="joint", window=0.10, focus=None, skew=False).fit(skewed_grid)
    truth = 1.79 * 3e8 ** -0.713 * 8e9 ** 0.307
    assert skewed.skew_ == pytest.approx(0.6, abs=0.06)
    assert skewed.predict(3e8, 8e9)[0] == pytest.approx(truth, rel=0.04)
    # the symmetric bowl is pulled towards the shallow (low-LR) side
    assert symmetric.predict(3e8, 8e9)[0] < truth * 0.9
    assert symmetric.skew_ == 0.0 and "skew" not in repr(symmetric) and "skew k = 0.6" in repr(skewed)


def test_skewed_plateau_is_narrower_above_the_optimum_and_round_trips(skewed_grid, tmp_path):
    law = HparamLaw(method="joint", window=0.10, focus=None, skew=True).fit(skewed_grid)
    lr, b = law.predict(2e8, 4e9)
    p = law.plateau(2e8, 4e9, tol=0.0025)
    assert p["lr"][1] / lr < lr / p["lr"][0]
    # excess along ln lr at the optimal batch is the skewed bowl: e^(k u) times the symmetric one
    u = 0.4
    h = law.hessian_ * (4e9 / law.d_ref_) ** -law.width_exp_
    assert law.excess(2e8, 4e9, lr * math.exp(u), b) == pytest.approx(0.5 * h[0, 0] * u * u * math.exp(law.skew_ * u))
    law.save(tmp_path / "law.json")
    back = HparamLaw.load(tmp_path / "law.json")
    assert back.skew_ == law.skew_ and back.plateau(2e8, 4e9, tol=0.0025) == p


@pytest.mark.parametrize("skew", [True, False])
def test_lr_at_batch_is_the_least_excess_lr_at_that_batch(skewed_grid, skew):
    """The bowl's ridge: at a batch off the optimum, the LR that minimises the predicted excess (checked
    on a fine LR grid); the symmetric bowl's ridge is u = -h01/h00 v."""
    law = HparamLaw(method="joint", window=0.10, focus=None, skew=skew).fit(skewed_grid)
    lr, b = law.predict(2e8, 4e9)
    for factor in (0.25, 0.5, 2.0, 4.0):
        best = law.lr_at_batch(2e8, 4e9, factor * b)
        grid = best * np.exp(np.linspace(-0.3, 0.3, 6001))
        excess = [law.excess(2e8, 4e9, x, factor * b) for x in grid]
        assert grid[int(np.argmin(excess))] == pytest.approx(best, rel=2e-4)
        if not skew:
            h = law.hessian_
            assert best == pytest.approx(lr * math.exp(-h[0, 1] / h[0, 0] * math.log(factor)), rel=1e-12)
    assert law.lr_at_batch(2e8, 4e9, b) == pytest.approx(lr, rel=1e-12)


def test_skew_is_an_option_of_the_joint_model_only():
    with pytest.raises(ConfigError, match="skew is an option of the joint model"):
        HparamLaw(method="near", skew=True)


@pytest.mark.parametrize("k", [0.3, -0.3, 3.0])
def test_skewed_range_ends_where_the_skewed_bowl_reaches_the_level(k):
    from lrplan.hparams.laws import skewed_range

    lo, hi = skewed_range(0.5, k)
    assert lo < 0 < hi
    for u in (lo, hi):
        if abs(u + 2 / k) > 1e-9:  # not the shallow side's turning point
            assert u * u * math.exp(k * u) == pytest.approx(0.25)
    assert skewed_range(0.5, 0.0) == (-0.5, 0.5)


def test_skew_on_its_bound_is_reported_as_poorly_identified():
    # a cliff above the optimum (k = 6 per nat, twice the bound) that the bounded skew cannot follow
    g = synthetic_grid(Ns=(1e8, 3e8), Ds=(2e9, 8e9), lr_levels=7, batch_levels=5, noise=0.0002, skew=6.0)
    with pytest.warns(LrplanWarning, match="skew k = .* is on its bound"):
        HparamLaw(method="joint", window=0.5, focus=None).fit(g)
