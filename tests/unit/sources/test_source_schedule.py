"""When a source polls next: interval or cron, sooner while a file settles, capped backoff after failures."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import ConfigError
from gateway.settings import SourceSettings
from gateway.transports.sources.runner import Schedule

AT = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


def source(**keys) -> SourceSettings:
    return SourceSettings(name="erp", type="folder", warehouse="MF", path="x", **keys)


def test_an_interval_source_polls_again_after_its_interval():
    assert Schedule(source(interval_seconds=300)).next_after(AT, failures=0, waiting=False) == AT + timedelta(minutes=5)


def test_a_cron_source_polls_at_its_next_fire_time_in_local_time():
    following = Schedule(source(cron="0 2 * * *")).next_after(AT, failures=0, waiting=False)
    assert following.tzinfo is not None and timedelta(0) < following - AT <= timedelta(days=1)
    assert (following.astimezone().hour, following.astimezone().minute) == (2, 0)


def test_a_file_still_settling_gets_its_next_look_after_stable_seconds():
    schedule = Schedule(source(interval_seconds=300, stable_seconds=10))
    assert schedule.next_after(AT, failures=0, waiting=True) == AT + timedelta(seconds=10)


def test_failures_back_off_exponentially_up_to_the_cap():
    schedule = Schedule(source(interval_seconds=300), backoff_base=30, backoff_cap=900)
    delays = [(schedule.next_after(AT, failures=n, waiting=False) - AT).total_seconds() for n in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 900, 900]


def test_a_bad_cron_expression_is_a_configuration_error_naming_the_source():
    with pytest.raises(ConfigError, match=r"sources\['erp'\]\.cron: '61 \* \* \* \*'"):
        Schedule(source(cron="61 * * * *"))
