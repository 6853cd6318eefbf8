"""Smoke run of the proxy validation benchmark (fit on two schedules, predict four others)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def test_proxy_validation_smoke():
    proxy = Path(__file__).resolve().parents[1] / "lrplan" / "data" / "proxy" / "curves.csv.gz"
    if not proxy.exists():
        pytest.skip("bundled proxy curves not generated")
    import proxy_validation

    rows, noise = proxy_validation.main(["--smoke"])
    mpl = [r for r in rows if r["data"].startswith("MPL")]
    assert len(mpl) == 1 and mpl[0]["law"] == "momentum"
    # fit on constant + cosine (24k steps): the 72k-step and WSD predictions stay within 1 % on average
    assert mpl[0]["PredE"] < 0.01 and mpl[0]["R2"] > 0.95
    proxy_rows = [r for r in rows if r["data"].startswith("proxy")]
    assert proxy_rows and all(0 <= r["PredE"] < 0.2 for r in proxy_rows)
    assert set(noise.columns) >= {"preset", "schedule", "seed spread %"}
