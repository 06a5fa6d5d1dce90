"""The FTP login lockout and the path-argument refusals, as plain values."""

from __future__ import annotations

import pytest

from gateway.transports.ftp.guard import LoginGuard, path_refusal


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_an_address_is_locked_after_max_failures_and_free_again_when_the_lockout_ends():
    clock = Clock()
    guard = LoginGuard(3, 60, clock=clock)
    assert [guard.record_failure("10.0.0.1") for _ in range(3)] == [False, False, True]
    assert guard.seconds_locked("10.0.0.1") == 60
    assert guard.seconds_locked("10.0.0.2") == 0
    clock.now += 61
    assert guard.seconds_locked("10.0.0.1") == 0
    assert guard.record_failure("10.0.0.1") is False   # a fresh count after the lockout


def test_a_successful_login_clears_the_count_of_failures():
    guard = LoginGuard(2, 60, clock=Clock())
    guard.record_failure("10.0.0.1")
    guard.record_success("10.0.0.1")
    assert guard.record_failure("10.0.0.1") is False


@pytest.mark.parametrize("argument", ["../x", "inbox/../../etc", "..", "..\\x", "C:\\Windows", "\\\\host\\share",
                                      "a\x00b", "a\rb", "\uff0e\uff0e/x", "inbox\uff0fx", "x\u2024\u2024"])
def test_escaping_path_arguments_are_refused_with_a_reason(argument):
    assert path_refusal(argument)


@pytest.mark.parametrize("argument", ["stock.csv", "/inbox/stock.csv", "reports/x.report.json", "....", "a..b.csv",
                                      "%2e%2e", "Bestand März.csv", ".hidden.part"])
def test_ordinary_names_are_not_refused(argument):
    assert path_refusal(argument) is None
