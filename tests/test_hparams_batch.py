"""Critical batch size, LR-batch coupling and curve transfer across batch sizes."""

import math

import numpy as np
import pandas as pd
import pytest

from lrplan.curves import Curves
from lrplan.errors import ConfigError, FitError
from lrplan.hparams import (
    CriticalBatch, critical_batch_table, fit_bcrit_law, fit_critical_batch, scale_lr, steps_to_target, transfer_curve,
)
from lrplan.hparams.batch import step_ratio


def test_critical_batch_recovers_the_hyperbola():
    B = np.array([32, 64, 128, 256, 512, 1024.0])
    S = 2000 * (1 + 300 / B)
    cb = fit_critical_batch(B, S)
    assert cb.s_min == pytest.approx(2000) and cb.b_crit == pytest.approx(300)
    assert cb.e_min == pytest.approx(600000)
    E = S * B
    np.testing.assert_allclose((S / cb.s_min - 1) * (E / cb.e_min - 1), 1.0, rtol=1e-9)


def test_critical_batch_needs_two_batch_sizes_and_a_tradeoff():
    with pytest.raises(FitError, match="2 or more batch sizes"):
        fit_critical_batch([64, 64], [100, 110])
    with pytest.raises(FitError, match="do not follow"):
        fit_critical_batch([64, 128, 256], [100, 200, 400])  # bigger batch needs more steps


def _curves(b_crit=200.0, s_min_at=lambda L: 1e4 * (L - 2.0) ** -1.5, batches=(16, 64, 256)):
    """Runs whose steps to reach loss L follow S = S_min(L) (1 + B_crit / B) exactly (piecewise linear)."""
    rows = []
    levels = np.linspace(4.0, 2.6, 50)
    for b in batches:
        steps = s_min_at(levels) * (1 + b_crit / b)
        steps = steps - steps[0]
        for s, L in zip(steps, levels):
            rows.append({"run": f"bs{b}", "step": int(round(s)), "loss": L, "batch_size": float(b)})
    return Curves.from_frame(pd.DataFrame(rows).drop_duplicates(["run", "step"]))


def test_steps_to_target_interpolates_between_logged_points():
    c = Curves.from_frame(pd.DataFrame({"run": "a", "step": [0, 100, 200], "loss": [4.0, 3.0, 2.5], "batch_size": 32.0}))
    s = steps_to_target(c, 2.75, seq_len=128)
    assert s["steps"].iloc[0] == pytest.approx(150.0)
    assert s["batch"].iloc[0] == 32 * 128
    assert math.isnan(steps_to_target(c, 2.0)["steps"].iloc[0])


def test_critical_batch_table_and_law_from_curves():
    tab = critical_batch_table(_curves(), [3.2, 3.0, 2.8])
    assert tab["b_crit"].to_numpy() == pytest.approx([200, 200, 200], rel=0.02)
    law = fit_bcrit_law(tab, "loss")
    assert abs(law.exponents["L"]) < 0.2  # constant B_crit: no loss dependence
    with pytest.raises(ConfigError):
        fit_bcrit_law(tab, "compute")


def test_coupling_rules():
    assert scale_lr(1e-3, 256, 1024, "sqrt") == pytest.approx(2e-3)
    assert scale_lr(1e-3, 256, 1024, "linear") == pytest.approx(4e-3)
    assert scale_lr(1e-3, 256, 1024, "none") == pytest.approx(1e-3)
    # surge: the optimum LR peaks at B_noise and is symmetric in log B around it
    up = scale_lr(1e-3, 256, [128, 256, 512, 1024], "surge", b_noise=512)
    assert np.argmax(up) == 2
    assert scale_lr(1e-3, 512, 256, "surge", b_noise=512) == pytest.approx(scale_lr(1e-3, 512, 1024, "surge", b_noise=512))
    with pytest.raises(ConfigError, match="needs b_noise"):
        scale_lr(1e-3, 1, 2, "surge")
    with pytest.raises(ConfigError, match="unknown"):
        scale_lr(1e-3, 1, 2, "cubic")


class StepLaw:
    """A stand-in curve law: loss depends only on the LR area (sum of LR so far)."""

    def predict(self, lr, steps):
        area = np.cumsum(lr)
        return 2.0 + 1.0 / (1.0 + area[np.asarray(steps)])


def test_transfer_curve_identity_at_the_same_batch():
    lr = np.full(100, 1e-2)
    np.testing.assert_allclose(transfer_curve(StepLaw(), lr, 64, 64, b_crit=128), StepLaw().predict(lr, np.arange(100)))


def test_transfer_curve_uses_the_step_ratio_and_coupling():
    k = step_ratio(64, 256, b_crit=256)
    assert k == pytest.approx((1 + 4) / (1 + 1))
    lr = np.full(200, 2e-2)  # LR at batch 256; sqrt coupling -> 1e-2 at batch 64
    out = transfer_curve(StepLaw(), lr, 64, 256, b_crit=256, steps=[0, 99, 199], rule="sqrt")
    n0 = math.ceil(k * 200)
    expect = StepLaw().predict(np.full(n0, 1e-2), np.minimum(np.round(k * np.array([0, 99, 199])).astype(int), n0 - 1))
    np.testing.assert_allclose(out, expect)
    assert CriticalBatch(100, 256).steps(64) / CriticalBatch(100, 256).steps(256) == pytest.approx(k)


def test_transfer_curve_with_a_shipped_loss_law():
    from lrplan.laws import load_fit

    law = load_fit("mpl-25m-mpl")
    lr = np.full(2000, law.peak_)
    steps = np.array([999, 1999])
    np.testing.assert_allclose(transfer_curve(law, lr, 256, 256, b_crit=500, steps=steps), law.predict(lr, steps))
    k = step_ratio(256, 1024, 500)
    bigger = transfer_curve(law, lr, 256, 1024, b_crit=500, steps=steps, rule="none")
    n0 = math.ceil(k * 2000)
    np.testing.assert_allclose(bigger, law.predict(np.full(n0, law.peak_), np.round(k * steps).astype(int)))
    assert np.all(bigger < law.predict(lr, steps))
