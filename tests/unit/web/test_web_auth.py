"""When a login is asked for, tokens compared exactly, roles ordered, the session cookie read (the login
check, sessions and the throttle are `gateway.accounts`' and tested in tests/integration/accounts/)."""

from __future__ import annotations

import secrets

import pytest

from gateway.passwords import hash_password
from gateway.settings import WebSettings
from gateway.web.auth import csrf_matches, login_required, role_allows
from gateway.web.middleware import token_from_cookie

WEB = WebSettings(username="ops", password_hash=hash_password("s3cret-Pa55"))


def test_a_login_is_required_when_credentials_are_configured_or_the_page_is_off_loopback():
    assert login_required(WEB) is True
    assert login_required(WebSettings()) is False
    assert login_required(WebSettings(host="0.0.0.0")) is True     # fails closed (settings refuse it anyway)


def test_csrf_tokens_must_match_exactly():
    token = secrets.token_urlsafe(32)

    assert csrf_matches(token, token) is True
    assert csrf_matches(token, token[:-1]) is False
    assert csrf_matches(token, "") is False
    assert csrf_matches(token, None) is False
    assert csrf_matches(None, token) is False


@pytest.mark.parametrize("role, needed, allowed", [
    ("admin", "operator", True), ("operator", "operator", True), ("viewer", "operator", False),
    ("viewer", "viewer", True), (None, "viewer", False), ("root", "viewer", False), ("operator", "admin", False),
])
def test_each_role_may_do_what_the_roles_below_it_may(role, needed, allowed):
    assert role_allows(role, needed) is allowed


@pytest.mark.parametrize("header, token", [
    ("sg_session=abc", "abc"), ("a=1; sg_session=xyz; b=2", "xyz"), ("sg_session=", None), ("", None),
    (None, None), ('sg_session="unterminated', None), ("other=1", None),
])
def test_the_session_cookie_is_read_from_any_cookie_header(header, token):
    assert token_from_cookie(header) == token
