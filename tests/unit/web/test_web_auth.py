"""Logins fail closed, sessions expire, tokens are compared exactly, failed logins lock an address out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.passwords import hash_password
from gateway.settings import WebSettings
from gateway.web.auth import check_credentials, csrf_matches, login_required, role_allows
from gateway.web.middleware import token_from_cookie
from gateway.web.sessions import LoginThrottle, SessionStore

PASSWORD = "s3cret-Pa55"
WEB = WebSettings(username="ops", password_hash=hash_password(PASSWORD))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_only_the_configured_user_and_password_log_in():
    assert check_credentials(WEB, "ops", PASSWORD) is True
    assert check_credentials(WEB, "ops", PASSWORD + " ") is False
    assert check_credentials(WEB, "ops ", PASSWORD) is False
    assert check_credentials(WEB, "Ops", PASSWORD) is False


@settings(max_examples=150, deadline=None)
@given(username=st.one_of(st.text(max_size=40), st.none(), st.integers(), st.binary(max_size=10),
                          st.just("ops"), st.just("ops/"), st.just("ops\x00"), st.text(min_size=1025, max_size=1100)),
       password=st.one_of(st.text(max_size=40), st.none(), st.binary(max_size=10), st.just(""),
                          st.text(min_size=1025, max_size=1100)))
def test_malformed_credentials_never_log_in(username, password):
    if username == "ops" and password == PASSWORD:
        return
    assert check_credentials(WEB, username, password) is False


@pytest.mark.parametrize("web", [
    WebSettings(),                                                      # no login configured
    WebSettings(username="ops", password_hash="$argon2id$broken"),      # a hash that cannot be checked
])
def test_without_a_usable_login_configured_nobody_logs_in(web):
    assert check_credentials(web, "ops", PASSWORD) is False
    assert check_credentials(web, "", "") is False


def test_a_login_is_required_exactly_when_credentials_are_configured():
    assert login_required(WEB) is True
    assert login_required(WebSettings()) is False


def test_a_session_ends_after_its_idle_time_and_tokens_are_random():
    clock = Clock()
    store = SessionStore(idle_seconds=60, clock=clock)
    one, two = store.login(store.create().token, "ops", "admin"), store.create()

    clock.now += 59
    assert store.get(one.token) is one
    clock.now += 61
    assert store.get(one.token) is None
    assert one.token != two.token and one.csrf != two.csrf and len(one.token) >= 40


def test_the_oldest_sessions_go_first_beyond_the_cap():
    store = SessionStore(max_sessions=3)
    sessions = [store.create() for _ in range(5)]

    assert [store.get(s.token) is not None for s in sessions] == [False, False, True, True, True]


def test_a_login_replaces_the_session_token_and_a_logout_ends_it():
    store = SessionStore()
    anonymous = store.create()

    logged_in = store.login(anonymous.token, "ops", "operator")

    assert store.get(anonymous.token) is None and store.get(logged_in.token) is logged_in
    assert (logged_in.user, logged_in.role) == ("ops", "operator") and logged_in.csrf != anonymous.csrf
    store.logout(logged_in.token)
    assert store.get(logged_in.token) is None


def test_csrf_tokens_must_match_exactly():
    session = SessionStore().create()

    assert csrf_matches(session.csrf, session.csrf) is True
    assert csrf_matches(session.csrf, session.csrf[:-1]) is False
    assert csrf_matches(session.csrf, "") is False
    assert csrf_matches(session.csrf, None) is False
    assert csrf_matches(None, session.csrf) is False


@pytest.mark.parametrize("role, needed, allowed", [
    ("admin", "operator", True), ("operator", "operator", True), ("viewer", "operator", False),
    ("viewer", "viewer", True), (None, "viewer", False), ("root", "viewer", False), ("operator", "admin", False),
])
def test_each_role_may_do_what_the_roles_below_it_may(role, needed, allowed):
    assert role_allows(role, needed) is allowed


def test_failed_logins_lock_an_address_out_for_a_while():
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, lockout_seconds=600, clock=clock)
    for _ in range(3):
        throttle.failed("10.0.0.9")

    assert not throttle.allowed("10.0.0.9") and throttle.allowed("10.0.0.10")
    clock.now += 601
    assert throttle.allowed("10.0.0.9")


@pytest.mark.parametrize("header, token", [
    ("sg_session=abc", "abc"), ("a=1; sg_session=xyz; b=2", "xyz"), ("sg_session=", None), ("", None),
    (None, None), ('sg_session="unterminated', None), ("other=1", None),
])
def test_the_session_cookie_is_read_from_any_cookie_header(header, token):
    assert token_from_cookie(header) == token
