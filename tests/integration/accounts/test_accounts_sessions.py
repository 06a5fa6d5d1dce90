"""Web sessions in the database: they survive a restart, change token at login, expire when idle and end
with their user's removal or new password."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.accounts.sessions import SessionStore
from gateway.accounts.users import add_user, remove_user, set_password, set_role
from gateway.db import schema
from gateway.db.engine import make_database
from gateway.errors import NotFoundError
from gateway.passwords import hash_password
from gateway.settings import WebSettings


class Clock:
    def __init__(self):
        self.at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.at

    def advance(self, **delta):
        self.at += timedelta(**delta)


@pytest.fixture
def ada(db):
    add_user(db, "ada", "correct horse", "operator")
    add_user(db, "root", "correct horse", "admin")
    return "ada"


def test_a_session_logged_in_survives_a_restart(database_url, db, ada):
    session = SessionStore(db).login(SessionStore(db).create().token, "ada", "operator")
    db.dispose()
    restarted = make_database(database_url)
    try:
        again = SessionStore(restarted).get(session.token)
    finally:
        restarted.dispose()
    assert (again.user, again.role, again.csrf) == ("ada", "operator", session.csrf)


def test_an_anonymous_session_has_a_csrf_token_and_no_user(db):
    store = SessionStore(db)
    session = store.create()
    found = store.get(session.token)
    assert (found.user, found.role) == (None, None)
    assert found.csrf_matches(session.csrf) and not found.csrf_matches("forged") and not found.csrf_matches(None)


def test_logging_in_gives_a_new_token_and_the_old_one_is_dead(db, ada):
    store = SessionStore(db)
    before = store.create()
    after = store.login(before.token, "ada", "operator")
    assert after.token != before.token and after.csrf != before.csrf
    assert store.get(before.token) is None
    assert store.get(after.token).user == "ada"


def test_the_database_holds_no_token_a_browser_could_present(db, ada):
    store = SessionStore(db)
    session = store.login(store.create().token, "ada", "operator")
    with db.read() as conn:
        stored = [tuple(map(str, r)) for r in conn.execute(select(schema.web_sessions))]
    assert stored and not any(session.token in value or session.csrf in value for row in stored for value in row)


def test_a_session_idle_longer_than_the_limit_ends_and_one_in_use_does_not(db, ada):
    clock = Clock()
    store = SessionStore(db, idle_seconds=3600, clock=clock)
    busy = store.login(None, "ada", "operator")
    idle = store.login(None, "root", "admin")
    for _ in range(3):
        clock.advance(minutes=40)
        assert store.get(busy.token).user == "ada"
    assert store.get(idle.token) is None
    clock.advance(minutes=61)
    assert store.get(busy.token) is None


def test_logging_out_ends_the_session(db, ada):
    store = SessionStore(db)
    session = store.login(None, "ada", "operator")
    store.logout(session.token)
    assert store.get(session.token) is None


def test_a_removed_users_sessions_end(db, ada):
    store = SessionStore(db)
    session = store.login(None, "ada", "operator")
    remove_user(db, "ada")
    assert store.get(session.token) is None


def test_a_new_password_ends_the_users_sessions(db, ada):
    store = SessionStore(db)
    first, second = store.login(None, "ada", "operator"), store.login(None, "ada", "operator")
    other = store.login(None, "root", "admin")
    set_password(db, "ada", "battery staple")
    assert (store.get(first.token), store.get(second.token)) == (None, None)
    assert store.get(other.token).user == "root"


def test_a_new_role_applies_to_a_session_at_its_next_request(db, ada):
    store = SessionStore(db)
    session = store.login(None, "ada", "operator")
    set_role(db, "ada", "viewer")
    assert store.get(session.token).role == "viewer"


def test_the_configuration_login_is_an_admin_until_its_password_hash_changes(db):
    web = WebSettings(username="ops", password_hash=hash_password("file password"))
    session = SessionStore(db, web=web).login(None, "ops", "admin")
    assert (SessionStore(db, web=web).get(session.token).role) == "admin"
    changed = WebSettings(username="ops", password_hash=hash_password("new file password"))
    assert SessionStore(db, web=changed).get(session.token) is None


def test_only_a_known_user_can_be_logged_in(db):
    with pytest.raises(NotFoundError, match="no user 'nobody'"):
        SessionStore(db).login(None, "nobody", "admin")


def test_an_unknown_or_odd_token_is_no_session(db):
    store = SessionStore(db)
    assert [store.get(t) for t in (None, "", "x" * 5000, 42, "unknown")] == [None] * 5
