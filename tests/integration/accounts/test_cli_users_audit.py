"""`stockgate users ...` and `stockgate audit`: each change is audited with the OS user; no password or
hash is ever printed or stored in the log; errors are one line."""

import getpass

from sqlalchemy import select

from gateway.db import schema
from gateway.db.engine import make_database
from gateway.passwords import hash_password

PASSWORDS = ("correct horse", "battery staple", "new password!")


def _everything_printed(results) -> str:
    return "".join(r.out + r.err for r in results)


def test_users_commands_manage_users_and_each_change_is_audited_without_a_secret(stockgate, database_url):
    results = [stockgate("init")]
    results.append(stockgate("users", "add", "ada", "--role", "admin", "--password-stdin", stdin="correct horse\n"))
    results.append(stockgate("users", "add", "bob", "--role", "operator", "--password-stdin",
                             stdin="battery staple\n"))
    results.append(stockgate("users", "role", "bob", "viewer"))
    results.append(stockgate("users", "passwd", "bob", "--password-stdin", stdin="new password!\n"))
    results.append(stockgate("users", "list"))
    listed = stockgate("users", "list", "--json")
    results.append(listed)
    assert [r.code for r in results] == [0] * len(results), results
    assert results[1].out == "user ada added (admin)\n"
    assert [(u["name"], u["role"], u["source"]) for u in listed.json()["users"]] == [
        ("ada", "admin", "database"), ("bob", "viewer", "database")]
    results.append(stockgate("users", "remove", "bob"))
    log = stockgate("audit", "--json")
    results += [log, stockgate("audit")]
    actor = f"cli:{getpass.getuser()}"
    assert [(e["actor"], e["action"], e["target"]) for e in log.json()["entries"]] == [
        (actor, "user.remove", "bob"), (actor, "user.passwd", "bob"), (actor, "user.role", "bob"),
        (actor, "user.add", "bob"), (actor, "user.add", "ada")]
    assert log.json()["entries"][2]["detail"] == {"from": "operator", "to": "viewer"}

    printed = _everything_printed(results)
    db = make_database(database_url)
    with db.read() as conn:
        logged = " ".join(str(v) for row in conn.execute(select(schema.audit_log)) for v in row)
        hashes = conn.execute(select(schema.users.c.password_hash)).scalars().all()
    db.dispose()
    for secret in (*PASSWORDS, *hashes, "$argon2"):
        assert secret not in printed and secret not in logged


def test_audit_filters_by_actor_action_and_limit(stockgate):
    stockgate("init")
    for name in ("ada", "bob", "cy"):
        stockgate("users", "add", name, "--role", "admin", "--password-stdin", stdin="correct horse\n")
    stockgate("users", "role", "cy", "viewer")
    actor = f"cli:{getpass.getuser()}"
    assert [e["target"] for e in stockgate("audit", "--action", "user.add", "--json").json()["entries"]] == [
        "cy", "bob", "ada"]
    assert [e["action"] for e in stockgate("audit", "--limit", "1", "--json").json()["entries"]] == ["user.role"]
    assert stockgate("audit", "--actor", actor, "--json").json()["entries"][0]["target"] == "cy"
    assert stockgate("audit", "--actor", "web:nobody", "--json").json() == {"entries": []}
    assert stockgate("audit", "--actor", "web:nobody").out == "no audit entries\n"
    too_many = stockgate("audit", "--limit", "20000")
    assert (too_many.code, too_many.err) == (
        2, "stockgate: error: an audit listing takes a limit of 1 to 10,000 and an offset of 0 or more "
           "(not 20000 and 0)\n")


def test_the_last_admin_is_kept_and_errors_are_one_line_with_exit_2(stockgate):
    stockgate("init")
    stockgate("users", "add", "ada", "--role", "admin", "--password-stdin", stdin="correct horse\n")
    cases = {
        ("users", "remove", "ada"): "stockgate: error: 'ada' is the last admin: add another admin before you remove "
                                    "'ada'\n",
        ("users", "role", "ada", "operator"): "stockgate: error: 'ada' is the last admin: add another admin before "
                                              "you make 'ada' operator\n",
        ("users", "remove", "nobody"): "stockgate: error: no user 'nobody' (`stockgate users list` shows them)\n",
        ("users", "add", "Ada", "--role", "viewer", "--password-stdin"):
            "stockgate: error: user 'ada' exists already (names are unique without regard to case)\n",
        ("users", "add", "a b", "--role", "viewer", "--password-stdin"):
            "stockgate: error: user name 'a b' must be 1-100 letters, digits, '.', '_', '@' or '-', starting with "
            "a letter or digit\n",
    }
    for args, message in cases.items():
        result = stockgate(*args, stdin="correct horse\n")
        assert (result.code, result.out, result.err) == (2, "", message), args
    short = stockgate("users", "add", "bob", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert (short.code, short.err) == (2, "stockgate: error: a password must have at least 8 characters\n")
    empty = stockgate("users", "passwd", "ada", "--password-stdin", stdin="")
    assert (empty.code, empty.err) == (2, "stockgate: error: no password given on stdin\n")
    no_terminal = stockgate("users", "passwd", "ada", stdin="correct horse\n")
    assert (no_terminal.code, no_terminal.err) == (
        2, "stockgate: error: no terminal to ask for the password on: pass it on stdin with --password-stdin\n")
    bad_role = stockgate("users", "add", "bob", "--role", "root", "--password-stdin", stdin="correct horse\n")
    assert bad_role.code == 2 and "invalid choice: 'root'" in bad_role.err and "Traceback" not in bad_role.err
    assert [u["name"] for u in stockgate("users", "list", "--json").json()["users"]] == ["ada"]


def test_the_configurations_web_login_is_listed_as_an_admin_and_its_name_cannot_be_added(stockgate, write_config):
    config = write_config(f'[web]\nusername = "ops"\npassword_hash = "{hash_password("file password")}"\n')
    stockgate("init", config=config)
    listed = stockgate("users", "list", "--json").json()["users"]
    assert listed == [{"name": "ops", "role": "admin", "source": "config", "created_at": None,
                       "password_changed_at": None}]
    taken = stockgate("users", "add", "OPS", "--role", "viewer", "--password-stdin", stdin="correct horse\n")
    assert (taken.code, taken.err) == (
        2, "stockgate: error: 'OPS' is the [web] login of the configuration already; choose another name\n")
