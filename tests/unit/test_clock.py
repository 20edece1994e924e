"""The injectable clock: real time by default, frozen, advanced or set on demand; RFC 3339 dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mockserver import Clock
from mockserver.engine.clock import parse_rfc3339, rfc3339

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
SLACK = timedelta(seconds=5)


def close(a: datetime, b: datetime) -> bool:
    return abs(a - b) < SLACK


def test_runs_on_real_time_by_default() -> None:
    clock = Clock()
    assert not clock.frozen
    assert close(clock.now(), datetime.now(UTC))
    assert clock.now().tzinfo is not None


def test_frozen_at_construction() -> None:
    clock = Clock(frozen_at=T0)
    assert clock.frozen
    assert clock.now() == T0
    assert clock.now() == T0


def test_freeze_stops_time() -> None:
    clock = Clock()
    clock.freeze(T0)
    assert clock.frozen
    assert clock.now() == T0
    assert clock.timestamp() == "2026-03-04T05:06:07Z"


def test_freeze_without_an_instant_freezes_now() -> None:
    clock = Clock()
    clock.freeze()
    first = clock.now()
    assert close(first, datetime.now(UTC))
    assert clock.now() == first


def test_advance_a_frozen_clock() -> None:
    clock = Clock(frozen_at=T0)
    clock.advance(90)
    assert clock.now() == T0 + timedelta(seconds=90)
    clock.advance(0.5)
    assert clock.now() == T0 + timedelta(seconds=90.5)
    assert clock.timestamp() == "2026-03-04T05:07:37Z"


def test_advance_a_running_clock() -> None:
    clock = Clock()
    clock.advance(3600)
    assert close(clock.now(), datetime.now(UTC) + timedelta(hours=1))
    assert not clock.frozen


def test_set_a_frozen_clock_keeps_it_frozen() -> None:
    clock = Clock(frozen_at=T0)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    clock.set(later)
    assert clock.frozen
    assert clock.now() == later


def test_set_a_running_clock_keeps_it_running() -> None:
    clock = Clock()
    past = datetime(2001, 2, 3, tzinfo=UTC)
    clock.set(past)
    assert not clock.frozen
    assert close(clock.now(), past)


def test_unfreeze_runs_on_from_the_frozen_instant() -> None:
    clock = Clock(frozen_at=T0)
    clock.unfreeze()
    assert not clock.frozen
    assert close(clock.now(), T0)
    assert clock.now() >= T0


def test_naive_datetimes_are_utc() -> None:
    clock = Clock(frozen_at=datetime(2026, 1, 1, 12, 0, 0))
    assert clock.now() == datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    clock.set(datetime(2026, 1, 2))
    assert clock.timestamp() == "2026-01-02T00:00:00Z"


def test_other_time_zones_are_converted_to_utc() -> None:
    paris_summer = timezone(timedelta(hours=2))
    clock = Clock(frozen_at=datetime(2026, 6, 1, 14, 0, 0, tzinfo=paris_summer))
    assert clock.timestamp() == "2026-06-01T12:00:00Z"
    assert clock.now().utcoffset() == timedelta(0)


def test_rfc3339_has_seconds_precision_and_z() -> None:
    assert rfc3339(datetime(2026, 11, 23, 12, 53, 10, 987654, tzinfo=UTC)) == "2026-11-23T12:53:10Z"
    assert rfc3339(datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))) == "2025-12-31T23:30:00Z"
    assert rfc3339(datetime(2026, 1, 1)) == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        # the last microsecond of a second stays in it, even where a float timestamp would round up
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59Z"),
        (datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC), "1969-12-31T23:59:59Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
    ],
)
def test_rfc3339_at_the_edges_of_a_second_and_of_time(moment: datetime, text: str) -> None:
    assert rfc3339(moment) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T12:53:10Z", datetime(2026, 11, 23, 12, 53, 10, tzinfo=UTC)),
        ("2026-11-23T12:53:10z", datetime(2026, 11, 23, 12, 53, 10, tzinfo=UTC)),
        ("2026-11-23T14:53:10+02:00", datetime(2026, 11, 23, 12, 53, 10, tzinfo=UTC)),
        ("2026-11-23T12:53:10.250Z", datetime(2026, 11, 23, 12, 53, 10, 250000, tzinfo=UTC)),
        ("2026-11-23", datetime(2026, 11, 23, tzinfo=UTC)),
        (" 2026-11-23T12:53:10Z ", datetime(2026, 11, 23, 12, 53, 10, tzinfo=UTC)),
    ],
)
def test_parse_rfc3339(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_parse_and_format_round_trip() -> None:
    assert rfc3339(parse_rfc3339("2026-11-23T12:53:10Z")) == "2026-11-23T12:53:10Z"


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "2026-11-23T25:00:00Z", ""])
def test_parse_rfc3339_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)


@pytest.mark.parametrize(
    "offset",
    [
        timedelta(0),
        timedelta(seconds=1, microseconds=500_000),
        timedelta(microseconds=-1),
        timedelta(days=-365 * 60, microseconds=123),  # before 1970: whole seconds floor downwards
        timedelta(days=365 * 30, microseconds=999_999),
    ],
)
def test_timestamp_of_a_running_clock_is_rfc3339_of_now(offset: timedelta) -> None:
    """timestamp() reads the clock in integers; it says the second rfc3339(now()) says."""
    clock = Clock()
    clock.set(datetime.now(UTC) + offset)
    for _ in range(200):
        before = rfc3339(clock.now())
        stamp = clock.timestamp()
        after = rfc3339(clock.now())
        assert stamp in (before, after), (before, stamp, after)
