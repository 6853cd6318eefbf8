"""Fact-retention metrics and law (Chang et al. 2024) on synthetic probe log-probabilities."""

import numpy as np
import pandas as pd
import pytest

from lrplan.errors import FitError, LoadError, LrplanWarning
from lrplan.forgetting import RetentionLaw, acquisition, retainability, retention_report


def _probes(a=0.15, b=1.0, gain=2.0, base=-9.0, exposure=100, steps=600, scenario="once", passage="p0", n=4):
    """Probes whose log-prob is flat at ``base`` until ``exposure``, peaks ``gain`` nats higher
    10 steps later (the LAM), then keeps b - a*log10(t) of the gain."""
    rows = []
    for q in range(n):
        for s in range(steps):
            if s < exposure:
                lp = base
            elif s < exposure + 10:
                lp = base + gain * (s - exposure + 1) / 10
            else:
                t = s - (exposure + 9)
                lp = base + gain * (1.0 if t == 0 else b - a * np.log10(t))
            rows.append({"probe": f"{passage}-q{q}", "passage": passage, "step": s, "logprob": lp, "scenario": scenario})
    return pd.DataFrame(rows)


EXPOSE = pd.DataFrame({"passage": ["p0"], "step": [100]})


def test_effectivity_is_the_gain_at_the_local_acquisition_maximum():
    acq = acquisition(_probes(), EXPOSE, window=50)
    assert len(acq) == 4
    row = acq.iloc[0]
    assert (row["step"], row["t_lam"], row["l_pre"], row["l_lam"]) == (100, 109, -9.0, -7.0)
    assert row["effectivity"] == pytest.approx(2.0)


def test_retainability_is_normalised_by_the_gain_and_starts_after_the_lam():
    R = retainability(_probes(), EXPOSE)
    one = R[R["probe"] == "p0-q0"]
    assert one["t"].iloc[0] == 1 and one["t"].iloc[-1] == 600 - 110
    np.testing.assert_allclose(one["R"], 1.0 - 0.15 * np.log10(one["t"]))
    assert (one["gain"] == 2.0).all()


def test_retention_law_recovers_decay_constant_and_learnability_threshold():
    R = retainability(_probes(a=0.2, b=0.95), EXPOSE)
    law = RetentionLaw().fit(R["t"], R["R"])
    assert law.a_ == pytest.approx(0.2) and law.b_ == pytest.approx(0.95)
    assert law.r2_ == pytest.approx(1.0)
    assert law.threshold_ == pytest.approx(10 ** (0.95 / 0.2))
    np.testing.assert_allclose(law.predict([1, 10]), [0.95, 0.75])


def test_report_per_scenario_and_paraphrase_decays_slower():
    lp = pd.concat([_probes(a=0.25, scenario="duplicated", passage="p0"),
                    _probes(a=0.10, scenario="paraphrased", passage="p1")])
    exp = pd.DataFrame({"passage": ["p0", "p1"], "step": [100, 100]})
    rep = retention_report(lp, exp, by=("scenario",)).set_index("scenario")
    assert rep.loc["duplicated", "a"] == pytest.approx(0.25)
    assert rep.loc["paraphrased", "a"] == pytest.approx(0.10)
    assert rep.loc["paraphrased", "effectivity"] == pytest.approx(2.0)
    assert (rep["probes"] == 4).all() and (rep["r2"] > 0.999).all()


def test_iqr_rule_removes_a_blown_up_probe():
    lp = _probes(n=8)
    bad = lp["probe"] == "p0-q7"
    lp.loc[bad & (lp["step"] > 200), "logprob"] += 30.0  # a wild probe after the exposure
    rep_k = retention_report(lp, EXPOSE, by=(), iqr_k=2.0)
    rep_none = retention_report(lp, EXPOSE, by=(), iqr_k=None)
    assert rep_k["a"].iloc[0] == pytest.approx(0.15, rel=1e-6)
    assert abs(rep_none["a"].iloc[0] - 0.15) > 0.1


def test_probes_that_never_gained_warn_and_all_dead_is_an_error():
    live = _probes(n=2)
    dead = _probes(gain=0.0, passage="p0", n=3)
    dead["probe"] = dead["probe"] + "-dead"
    with pytest.warns(LrplanWarning, match="dropped 3 of 5 probe"):
        R = retainability(pd.concat([live, dead]), EXPOSE)
    assert set(R["probe"]) == {"p0-q0", "p0-q1"}
    with pytest.raises(FitError, match="none of the 3 probe.*gained"):
        retainability(dead, EXPOSE)


def test_missing_columns_and_exposures_are_load_errors():
    with pytest.raises(LoadError, match="missing column.*logprob"):
        acquisition(pd.DataFrame({"probe": [], "passage": [], "step": []}), EXPOSE)
    with pytest.raises(LoadError, match="no exposure for passage.*p9"):
        acquisition(_probes(passage="p9", n=1), EXPOSE)


def test_drift_correction_removes_the_general_rise_of_all_log_probs():
    from lrplan.forgetting import drift_corrected

    lp = _probes(a=0.2, b=1.0)
    drift = 0.004 * lp["step"]  # every log-prob rises 0.004 nats per step (general learning)
    lifted = lp.assign(logprob=lp["logprob"] + drift)
    control = pd.DataFrame({"probe": "c0", "step": np.arange(600), "logprob": -20.0 + 0.004 * np.arange(600)})
    raw = retention_report(lifted, EXPOSE, by=())
    fixed = retention_report(lifted, EXPOSE, by=(), control=control)
    assert fixed["a"].iloc[0] == pytest.approx(0.2, rel=1e-6)
    assert raw["a"].iloc[0] < 0.1  # the drift hides the forgetting
    with pytest.warns(LrplanWarning, match="dropped 4 row"):
        drift_corrected(lifted[lifted["step"] < 101], control[control["step"] != 50])
