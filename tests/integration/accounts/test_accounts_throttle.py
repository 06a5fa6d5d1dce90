"""The login throttle in the database: 5 failures from one address lock it for 15 minutes, for every
process that shares the database."""

from datetime import UTC, datetime, timedelta

from gateway.accounts.throttle import LoginThrottle


class Clock:
    def __init__(self):
        self.at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.at


def test_five_failures_seen_by_two_processes_lock_the_address_for_both(db):
    clock = Clock()
    first, second = LoginThrottle(db, clock=clock), LoginThrottle(db, clock=clock)
    for i in range(5):
        assert first.allowed("203.0.113.7") and second.allowed("203.0.113.7")
        (first if i % 2 else second).failed("203.0.113.7")
    assert not first.allowed("203.0.113.7") and not second.allowed("203.0.113.7")
    assert first.allowed("198.51.100.1")                          # another address is not locked


def test_the_lock_lifts_15_minutes_after_the_oldest_failure(db):
    clock = Clock()
    throttle = LoginThrottle(db, clock=clock)
    for _ in range(5):
        throttle.failed("203.0.113.7")
        clock.at += timedelta(minutes=1)
    clock.at += timedelta(minutes=9)         # 14 minutes after the first failure
    assert not LoginThrottle(db, clock=clock).allowed("203.0.113.7")
    clock.at += timedelta(minutes=1, seconds=1)
    assert LoginThrottle(db, clock=clock).allowed("203.0.113.7")


def test_a_successful_login_forgets_the_addresses_failures(db):
    throttle = LoginThrottle(db)
    for _ in range(4):
        throttle.failed("203.0.113.7")
    throttle.succeeded("203.0.113.7")
    for _ in range(4):
        throttle.failed("203.0.113.7")
    assert LoginThrottle(db).allowed("203.0.113.7")
