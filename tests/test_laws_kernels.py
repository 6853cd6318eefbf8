"""Kernels: S1/S2 against literal sums, the MPL drop against the naive double sum, and the
published-parameter reproduction of the multi-power-law TEST table."""

import numpy as np
import pytest

from lrplan.datasets import MPL_PUBLISHED_PARAMS, MPL_PUBLISHED_TEST_METRICS, MPL_TEST, mpl_curves, mpl_schedule
from lrplan.laws import kernels as K
from lrplan.laws.metrics import average, curve_metrics
from lrplan.schedules import parse


def test_lr_area_is_inclusive_cumulative_sum():
    lr = np.array([0.0, 1e-4, 3e-4, 3e-4, 1e-4])
    assert np.allclose(K.lr_area(lr), [0.0, 1e-4, 4e-4, 7e-4, 8e-4])


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_momentum_s2_matches_double_sum(eps):
    lr = parse("wsd:peak=3e-4,warmup=20,cooldown=0.3,floor=3e-5", 120).array()
    lam = 0.99
    s2 = K.momentum_s2(lr, lam, eps)
    naive = np.zeros(lr.size)
    for t in range(lr.size):
        tot = 0.0
        for i in range(1, t + 1):
            m = sum((lr[k - 1] - lr[k]) * lam ** (i - k) for k in range(1, i + 1))
            tot += m * lr[i] ** eps
        naive[t] = tot
    assert np.allclose(s2, naive, rtol=1e-10, atol=1e-16)


def test_momentum_s2_dlam_matches_finite_difference():
    lr = parse("cosine:peak=1,warmup=100,floor=0.1x", 3000).array()
    h = 1e-6
    fd = (K.momentum_s2(lr, 0.995 + h) - K.momentum_s2(lr, 0.995 - h)) / (2 * h)
    assert np.allclose(K.momentum_s2_dlam(lr, 0.995), fd, rtol=1e-6, atol=1e-8)


def test_single_drop_saturates_at_delta_over_one_minus_lambda():
    lr = np.r_[np.ones(10), 0.5 * np.ones(20000)]
    assert K.momentum_s2(lr, 0.999)[-1] == pytest.approx(0.5 / (1 - 0.999), rel=1e-6)


PARAMS = MPL_PUBLISHED_PARAMS["100"]


@pytest.mark.parametrize("run", ["cosine_24000", "wsd_20000_24000", "wsdcon_3"])
def test_mpl_drop_exact_and_fast_match_double_sum(run):
    lr = mpl_schedule(run).array()
    steps = np.arange(2160, lr.size, 491)
    _, _, _, B, C, beta, gamma = PARAMS
    ref = K.mpl_drop_exact(lr, steps, C, beta, gamma)
    exact = K.mpl_drop(K.drop_terms(lr, steps, method="exact"), C, beta, gamma)
    fast = K.mpl_drop(K.drop_terms(lr, steps, method="fast"), C, beta, gamma)
    assert np.max(np.abs(B * (exact - ref))) < 1e-12
    assert np.max(np.abs(B * (fast - ref))) < 1e-6  # nats


def test_every_step_evaluation_within_1e5_nats_of_double_sum():
    lr = parse("cosine:peak=3e-4,warmup=2000,floor=3e-5", 60000).array()
    _, _, _, B, C, beta, gamma = PARAMS
    every = K.mpl_drop_every_step(lr, C, beta, gamma)
    steps = np.linspace(0, lr.size - 1, 150).astype(int)
    ref = K.mpl_drop_exact(lr, steps, C, beta, gamma)
    assert np.max(np.abs(B * (every[steps] - ref))) < 1e-5


def test_sampled_prediction_within_1e5_nats_of_double_sum():
    # the path MultiPowerLaw.predict takes for 1,000 sampled steps of a long smooth schedule
    from lrplan.laws.mpl import published

    lr = parse("cosine:peak=3e-4,warmup=2000,floor=3e-5", 60000).array()
    steps = np.linspace(0, lr.size - 1, 1000).astype(int)
    L0, A, alpha, B, C, beta, gamma = PARAMS
    ref = L0 + A * np.maximum(np.cumsum(lr)[steps], 3e-4) ** (-alpha) - B * K.mpl_drop_exact(lr, steps, C, beta, gamma)
    assert np.max(np.abs(published("100").predict(lr, steps) - ref)) < 1e-5


@pytest.mark.parametrize("spec", ["cosine:peak=3e-4,warmup=2000,floor=3e-5",
                                  "wsd:peak=3e-4,warmup=2000,cooldown=0.2,shape=1-sqrt,floor=3e-5"])
def test_grid_aligned_far_field_within_5e6_nats_of_double_sum(spec):
    # 60,001 steps: the last coarse block of 16 steps is partial
    lr = parse(spec, 60001).array()
    steps = np.r_[0, 5, 95, 96, 97, np.linspace(0, lr.size - 1, 60).astype(int)]
    _, _, _, B, C, beta, gamma = PARAMS
    ref = K.mpl_drop_exact(lr, steps, C, beta, gamma)
    grid = K.mpl_drop(K.drop_terms(lr, steps, method="fast", near=6, grid=16), C, beta, gamma)
    assert np.max(np.abs(B * (grid - ref))) < 5e-6  # nats (about 3e-6 here; 1.4e-6 on 1M steps)


def test_long_schedule_prediction_at_1000_steps_within_1e5_nats_of_double_sum():
    # 200,000 steps: MultiPowerLaw.predict takes the grid-aligned far field (mpl.LONG_SCHEDULE)
    from lrplan.laws.mpl import LONG_SCHEDULE, published

    lr = parse("cosine:peak=3e-4,warmup=5000,floor=3e-5", LONG_SCHEDULE).array()
    steps = np.linspace(0, lr.size - 1, 1000).astype(int)
    pred = published("100").predict(lr, steps)
    L0, A, alpha, B, C, beta, gamma = PARAMS
    chk = steps[::10]
    ref = L0 + A * np.maximum(np.cumsum(lr)[chk], 3e-4) ** (-alpha) - B * K.mpl_drop_exact(lr, chk, C, beta, gamma)
    assert np.max(np.abs(pred[::10] - ref)) < 1e-5


def test_mpl_drop_gradient_matches_finite_differences():
    lr = mpl_schedule("wsdcon_9").array()
    terms = K.drop_terms(lr / 3e-4, np.arange(2160, 16000, 300))
    C, beta, gamma = 0.1, 0.6, 0.6
    _, dC, db, dg = K.mpl_drop(terms, C, beta, gamma, grad=True)
    h = 1e-6
    f = lambda *p: K.mpl_drop(terms, *p)
    assert np.allclose(dC, (f(C + h, beta, gamma) - f(C - h, beta, gamma)) / (2 * h), rtol=1e-5, atol=1e-9)
    assert np.allclose(db, (f(C, beta + h, gamma) - f(C, beta - h, gamma)) / (2 * h), rtol=1e-5, atol=1e-9)
    assert np.allclose(dg, (f(C, beta, gamma + h) - f(C, beta, gamma - h)) / (2 * h), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("size", ["25", "100", "400"])
def test_published_parameters_reproduce_published_test_table(size):
    curves = mpl_curves(size, runs=MPL_TEST)
    per = {}
    for run in MPL_TEST:
        c = curves.curve(run)
        pred = K.mpl_loss(mpl_schedule(run).array(), c["step"].to_numpy(), *MPL_PUBLISHED_PARAMS[size])
        per[run] = curve_metrics(c["loss"], pred)
    avg = average(per)
    pub = MPL_PUBLISHED_TEST_METRICS[size]
    assert round(avg["R2"], 4) == pub["R2"]
    for k in ("MAE", "RMSE", "PredE", "WorstE"):
        assert round(avg[k], 5) == pub[k], k


def test_bound_q_matches_literal_sums():
    from lrplan.laws.bound import bound_q

    lr = np.r_[np.linspace(0, 1, 50), np.ones(300), np.linspace(1, 0.1, 200)]
    steps = np.array([1, 5, 100, 549, 300])
    ref = []
    for s in steps:
        S, E = np.cumsum(lr[:s + 1]), np.cumsum(lr[:s + 1] ** 2)
        q = E[-1] / (2 * S[-1])
        for k in range(s):
            q += 0.5 * lr[k] / (S[-1] - S[k]) * (E[-1] - (E[k - 1] if k else 0)) / (S[-1] - (S[k - 1] if k else 0))
        ref.append(q)
    assert np.allclose(bound_q(lr, steps, chunk_pairs=700), ref, rtol=1e-12)
