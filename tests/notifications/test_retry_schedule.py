"""The Standard Webhooks retry schedule with full jitter, then DEAD."""

from __future__ import annotations

import random

from notifications import conf
from notifications.services import retry_delay
from notifications.transport import parse_retry_after

STEPS = [5, 300, 1800, 7200, 18000, 36000, 36000]


def test_the_default_schedule_is_standard_webhooks():
    assert conf.DEFAULT_RETRY_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


def test_each_delay_lies_between_zero_and_its_step():
    rng = random.Random(7)
    for failed, step in enumerate(STEPS, start=1):
        delays = [retry_delay(failed_attempt=failed, rng=rng).total_seconds() for _ in range(500)]
        assert all(0 <= d <= step for d in delays)
        # Full jitter spreads over the whole range, not a narrow band around the step.
        assert min(delays) < step * 0.1
        assert max(delays) > step * 0.9


def test_after_the_eighth_attempt_there_is_no_next_one():
    assert retry_delay(failed_attempt=7) is not None
    assert retry_delay(failed_attempt=8) is None
    assert retry_delay(failed_attempt=9) is None


def test_retry_after_is_a_floor_with_a_cap():
    rng = random.Random(1)
    assert retry_delay(failed_attempt=1, retry_after=120, rng=rng).total_seconds() == 120
    capped = retry_delay(failed_attempt=1, retry_after=10**9, rng=rng).total_seconds()
    assert capped == conf.MAX_RETRY_AFTER.total_seconds()


def test_the_schedule_comes_from_settings(settings):
    settings.DSAR_WEBHOOK_RETRY_SCHEDULE = [0, 0.01]
    assert retry_delay(failed_attempt=1).total_seconds() <= 0.01
    assert retry_delay(failed_attempt=2) is None


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("30", now=0) == 30
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40) == 60
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after(None, now=0) is None
