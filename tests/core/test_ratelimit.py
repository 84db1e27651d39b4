"""The shared fixed-window counter: parsing, counting, windows, housekeeping."""

from __future__ import annotations

import pytest

from core import ratelimit
from core.models import RateCounter
from core.ratelimit import Rate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "limit", "seconds"),
    [
        ("1200/min", 1200, 60),
        ("10/15min", 10, 900),
        ("5/s", 5, 1),
        ("20/minute", 20, 60),
        ("3/2hours", 3, 7200),
    ],
)
def test_rates_read_like_drf_and_with_a_window_multiple(text, limit, seconds):
    assert Rate.parse(text) == Rate(limit=limit, seconds=seconds)


@pytest.mark.parametrize("text", ["", "min", "0/min", "10/0min", "10/fortnight", "ten/min"])
def test_a_bad_rate_is_refused(text):
    with pytest.raises(ValueError, match="rate"):
        Rate.parse(text)


def test_calls_are_counted_in_their_window_and_a_new_window_starts_again():
    rate = Rate(limit=2, seconds=60)
    t = 1_800_000_000.0  # a window boundary (divisible by 60)
    decisions = [ratelimit.hit("k", rate, now=t + i) for i in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[2].retry_after == 58
    assert ratelimit.peek("k", rate, now=t + 5).count == 3

    fresh = ratelimit.hit("k", rate, now=t + 60)
    assert (fresh.allowed, fresh.count) == (True, 1)
    assert RateCounter.objects.filter(name__startswith="rl:k:").count() == 1  # one row per counter


def test_counters_are_separate_per_name():
    rate = Rate(limit=1, seconds=60)
    assert ratelimit.hit("a", rate, now=1_800_000_000).allowed
    assert ratelimit.hit("b", rate, now=1_800_000_000).allowed
    assert not ratelimit.hit("a", rate, now=1_800_000_001).allowed


def test_ended_windows_are_purged():
    rate = Rate(limit=5, seconds=60)
    ratelimit.hit("old", rate, now=1_800_000_000)
    ratelimit.hit("new", rate, now=1_800_000_120)
    assert ratelimit.purge_ended(now=1_800_000_130) == 1
    assert list(RateCounter.objects.values_list("name", flat=True)) == ["rl:new:60"]


@pytest.mark.redis
def test_with_redis_the_counter_is_a_redis_key(settings, redis_url):
    from django.core.cache import caches

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    caches["default"].clear()
    rate = Rate(limit=2, seconds=60)
    assert [ratelimit.hit("r", rate).allowed for _ in range(3)] == [True, True, False]
    assert not RateCounter.objects.exists()
    assert ratelimit.purge_ended() == 0


def test_a_malformed_rate_setting_fails_the_system_check(settings):
    from django.core.checks import run_checks

    settings.DSAR_API_RATE = "lots"
    errors = [e for e in run_checks() if e.id == "dsar.E001"]
    assert len(errors) == 1 and "DSAR_API_RATE" in errors[0].msg
