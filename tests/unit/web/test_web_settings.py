"""The [web] settings: the page is never exposed beyond loopback without a login."""

from __future__ import annotations

import pytest

from gateway.errors import ConfigError
from gateway.settings import is_loopback_host, parse_settings

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"


@pytest.mark.parametrize("host", ["0.0.0.0", "", "192.168.1.20", "::", "stockgate.example.com"])
def test_a_non_loopback_host_without_credentials_is_refused_with_one_line_naming_the_key(host):
    with pytest.raises(ConfigError) as raised:
        parse_settings({"web": {"host": host}}, environ={})

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("web.host: ") and repr(host) in message
    assert "web.username and web.password_hash are required" in message


def test_a_non_loopback_host_with_credentials_is_accepted():
    settings = parse_settings({"web": {"host": "0.0.0.0", "username": "ops", "password_hash": HASH}}, environ={})

    assert settings.web.host == "0.0.0.0" and settings.web.username == "ops"


def test_a_disabled_web_page_needs_no_credentials_whatever_its_host():
    assert parse_settings({"web": {"enabled": False, "host": "0.0.0.0"}}, environ={}).web.enabled is False


@pytest.mark.parametrize("web, expected", [
    ({"username": "ops"}, "web: set both username and password_hash"),
    ({"password_hash": HASH}, "web: set both username and password_hash"),
    ({"username": "ops", "password_hash": "hunter2"}, "web.password_hash: not an argon2 hash"),
])
def test_half_configured_or_plain_text_credentials_are_refused(web, expected):
    with pytest.raises(ConfigError, match=expected):
        parse_settings({"web": web}, environ={})


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("LOCALHOST", True), ("::1", True),
    ("[::1]", True), ("0.0.0.0", False), ("", False), ("10.0.0.1", False), ("::", False), ("example.com", False),
])
def test_loopback_hosts_are_recognised(host, loopback):
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize("value", [0, -1])
def test_a_read_timeout_that_is_not_positive_is_refused_naming_the_key(value):
    with pytest.raises(ConfigError, match=f"web.read_timeout_seconds: {float(value)} must be more than 0"):
        parse_settings({"web": {"read_timeout_seconds": value}}, environ={})


def test_the_read_timeout_is_30_seconds_unless_set():
    assert parse_settings({}, environ={}).web.read_timeout_seconds == 30
    assert parse_settings({"web": {"read_timeout_seconds": 2}}, environ={}).web.read_timeout_seconds == 2.0
