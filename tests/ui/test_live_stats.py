"""The camera view's rates and lag, fed with known times."""

from __future__ import annotations

import pytest

from fashion_desktop.ui.live_stats import LiveStats, RateMeter


def test_rate_meter_counts_the_events_of_its_window_only():
    meter = RateMeter(window=2.0)
    for i in range(31):  # 30 intervals of 1/30 s: 30 per second
        meter.tick(100.0 + i / 30)
    assert meter.rate(now=101.0) == pytest.approx(30.0)
    assert meter.rate(now=110.0) == 0.0  # nothing in the last two seconds
    meter.clear()
    assert meter.rate(now=101.0) == 0.0


def test_live_stats_report_rates_and_the_median_lag():
    stats = LiveStats(window=2.0)
    assert stats.median_latency_ms() is None
    for i, lag in enumerate((0.020, 0.030, 0.100)):
        stats.result_shown(captured=10.0 + i * 0.1 - lag, now=10.0 + i * 0.1)
    assert stats.median_latency_ms() == pytest.approx(30.0)
    assert "ms behind" in stats.text()
    stats.clear()
    assert stats.median_latency_ms() is None
    assert stats.text() == "0 FPS · 0.0 classifications/s"
