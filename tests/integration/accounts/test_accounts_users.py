"""Web users on SQLite and PostgreSQL: adding, roles, the last admin, and the login check."""

import pytest
from sqlalchemy import select

from gateway.accounts.users import (
    add_user, authenticate, list_users, remove_user, role_allows, set_password, set_role,
)
from gateway.db import schema
from gateway.errors import NotFoundError, UsageError
from gateway.passwords import hash_password
from gateway.settings import WebSettings


def _names_and_roles(db):
    return [(u.name, u.role) for u in list_users(db)]


def test_users_are_added_listed_given_another_role_and_removed(db):
    add_user(db, "ada", "correct horse", "admin")
    add_user(db, "bob", "battery staple", "operator")
    add_user(db, "cy", "viewer-pass", "viewer")
    assert _names_and_roles(db) == [("ada", "admin"), ("bob", "operator"), ("cy", "viewer")]
    set_role(db, "cy", "operator")
    remove_user(db, "bob")
    assert _names_and_roles(db) == [("ada", "admin"), ("cy", "operator")]


def test_a_password_is_stored_as_an_argon2_hash_never_as_given(db):
    add_user(db, "ada", "correct horse", "admin")
    with db.read() as conn:
        stored = conn.execute(select(schema.users.c.password_hash)).scalar()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


def test_roles_allow_what_the_roles_below_them_do():
    assert [role_allows("admin", r) for r in ("viewer", "operator", "admin")] == [True, True, True]
    assert [role_allows("operator", r) for r in ("viewer", "operator", "admin")] == [True, True, False]
    assert [role_allows("viewer", r) for r in ("viewer", "operator", "admin")] == [True, False, False]
    assert role_allows(None, "viewer") is False and role_allows("root", "viewer") is False


@pytest.mark.parametrize("name, password, role, message", [
    ("ada", "correct horse", "root", "role 'root' is not one of admin, operator, viewer"),
    ("", "correct horse", "admin", "user name ''"),
    ("a b", "correct horse", "admin", "user name 'a b'"),
    ("<script>", "correct horse", "admin", "user name '<script>'"),
    ("ada", "short", "admin", "at least 8 characters"),
])
def test_a_bad_name_role_or_password_is_refused_naming_it_and_nothing_is_stored(db, name, password, role, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        add_user(db, name, password, role)
    assert list_users(db) == []


def test_a_name_taken_in_another_case_is_refused(db):
    add_user(db, "Ada", "correct horse", "admin")
    with pytest.raises(UsageError, match="user 'Ada' exists already"):
        add_user(db, "ada", "another one", "viewer")
    assert _names_and_roles(db) == [("Ada", "admin")]


def test_the_last_admin_can_be_neither_removed_nor_demoted(db):
    add_user(db, "ada", "correct horse", "admin")
    add_user(db, "bob", "battery staple", "operator")
    with pytest.raises(UsageError, match="'ada' is the last admin"):
        remove_user(db, "ada")
    with pytest.raises(UsageError, match="'ada' is the last admin"):
        set_role(db, "ada", "viewer")
    set_role(db, "bob", "admin")
    remove_user(db, "ada")
    assert _names_and_roles(db) == [("bob", "admin")]


def test_two_admins_removed_at_once_leave_one(db, concurrently):
    for name in ("ada", "bob", "cy"):
        add_user(db, name, "correct horse", "admin")
    errors = concurrently(lambda i: remove_user(db, ("ada", "bob", "cy")[i]), 3)
    assert len(errors) == 1 and isinstance(errors[0], UsageError)
    assert [role for _, role in _names_and_roles(db)] == ["admin"]


def test_an_unknown_user_cannot_be_changed(db):
    for change in (lambda: remove_user(db, "nobody"), lambda: set_role(db, "nobody", "viewer"),
                   lambda: set_password(db, "nobody", "correct horse")):
        with pytest.raises(NotFoundError, match="no user 'nobody'"):
            change()


def test_the_right_password_logs_in_and_a_wrong_one_or_an_unknown_user_does_not(db):
    add_user(db, "ada", "correct horse", "operator")
    user = authenticate(db, "ada", "correct horse")
    assert (user.name, user.role, user.source) == ("ada", "operator", "database")
    assert authenticate(db, "ada", "wrong horse") is None
    assert authenticate(db, "ADA", "correct horse") is None
    assert authenticate(db, "nobody", "correct horse") is None
    for odd in ((None, "x"), ("ada", None), ("ada", ""), ("ada", "x" * 2000), (["ada"], "correct horse")):
        assert authenticate(db, *odd) is None


def test_a_new_password_replaces_the_old_one(db):
    add_user(db, "ada", "correct horse", "admin")
    set_password(db, "ada", "battery staple")
    assert authenticate(db, "ada", "correct horse") is None
    assert authenticate(db, "ada", "battery staple").name == "ada"


def test_the_configuration_web_login_keeps_working_as_an_admin(db):
    web = WebSettings(username="ops", password_hash=hash_password("file password"))
    user = authenticate(db, "ops", "file password", web)
    assert (user.name, user.role, user.source) == ("ops", "admin", "config")
    assert authenticate(db, "ops", "wrong password", web) is None
    assert authenticate(db, "ops", "file password") is None          # not without the configuration
    assert [(u.name, u.role, u.source) for u in list_users(db, web)] == [("ops", "admin", "config")]
