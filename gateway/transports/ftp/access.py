"""Who may log in to the FTP server and what each account may do inside its home.

A home is `<data_dir>/ftp/<username>/` with `inbox/` (upload, list, rename; delete only temporary names;
sub-folders up to `MAX_INBOX_DEPTH` deep, made and removed when empty), `reports/` and `templates/` (list
and download). Nothing else is granted: no append, nothing written outside the inbox, nothing outside
the home, and no path through a symbolic link. (`SITE CHMOD` and `MFMT` in the inbox are answered, and
ignored, by the handler.)
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.filesystems import AbstractedFS

from channels.stability import is_temporary_name
from gateway.errors import ConfigError
from gateway.passwords import hash_password, verify_password
from gateway.settings import AccountSettings, Settings
from gateway.settings.checks import FTP_USERNAME

INBOX, REPORTS, TEMPLATES = "inbox", "reports", "templates"
FOLDERS = (INBOX, REPORTS, TEMPLATES)
MAX_INBOX_DEPTH = 8        # levels of sub-folders below inbox/ (lftp mirror -R of a folder tree)


def ftp_root(data_dir: Path) -> Path:
    """The folder holding every account's home."""
    return Path(data_dir) / "ftp"


def account_home(data_dir: Path, username: str) -> Path:
    """`<data_dir>/ftp/<username>`: the account's FTP root."""
    return ftp_root(data_dir) / username


def make_homes(settings: Settings) -> dict[str, Path]:
    """Create every account's home with its three folders; return {username: resolved home}."""
    homes = {}
    for account in settings.accounts:
        if not FTP_USERNAME.match(account.username):     # checked at load; settings made in code come here too
            raise ConfigError(f"{account.key('username')}: {account.username!r} must be 1-64 letters, digits, "
                              "_ . @ or -, not starting with . @ or -")
        home = account_home(settings.data_dir, account.username)
        for folder in FOLDERS:
            (home / folder).mkdir(parents=True, exist_ok=True)
        homes[account.username] = home.resolve()
    return homes


class AccountAuthorizer(DummyAuthorizer):
    """Accounts from the configuration, argon2 password hashes, per-folder permissions. Made fresh for
    each server. Any failure inside a login check is a refused login (fail closed)."""

    def __init__(self, accounts: tuple[AccountSettings, ...], homes: dict[str, Path]):
        super().__init__()
        self._accounts = {a.username: a for a in accounts}
        self._homes = homes
        # unknown user names are checked against this hash, so they cost as much time as known ones
        self._decoy_hash = hash_password("no account has this password")

    def account(self, username: str) -> AccountSettings | None:
        return self._accounts.get(username)

    def validate_authentication(self, username, password, handler):
        """Raise AuthenticationFailed unless `password` matches the account's hash."""
        try:
            account = self._accounts.get(username)
            matches = verify_password(account.password_hash if account else self._decoy_hash, password)
            ok = account is not None and matches
        except Exception:  # fail closed: an error in the check is a refusal
            ok = False
        if not ok:
            raise AuthenticationFailed("Authentication failed.")

    def has_user(self, username):
        return username in self._accounts

    def get_home_dir(self, username):
        return str(self._homes[username])

    def get_msg_login(self, username):
        return "Logged in. Upload stock files to /inbox; reports appear in /reports."

    def get_msg_quit(self, username):
        return "Goodbye."

    def get_perms(self, username):
        return "elrdfw"

    def impersonate_user(self, username, password):
        pass

    def terminate_impersonation(self, username):
        pass

    def has_perm(self, username, perm, path=None):
        """Permission `perm` (pyftpdlib's letters) for `username` on the real path `path`."""
        home = self._homes.get(username)
        if home is None:
            return False
        if path is None:
            return perm in "el"
        parts = _parts_below(home, path)
        if parts is None:
            return False
        area = parts[0] if parts else ""
        if perm in "el":                                   # CWD, LIST, SIZE, MDTM, STAT: anywhere at home
            return True
        if perm == "r":                                    # RETR: reports and templates only
            return area in (REPORTS, TEMPLATES) and len(parts) >= 2
        if area != INBOX or not parts[1:]:
            return perm in "MT" and area == INBOX         # SITE CHMOD, MFMT on /inbox itself: ignored
        depth = len(parts) - 2                             # sub-folders between inbox/ and the name
        if perm in "wf":                                   # STOR, RNFR/RNTO: files in inbox and its sub-folders
            return depth <= MAX_INBOX_DEPTH
        if perm == "m":                                    # MKD: a sub-folder of inbox
            return depth < MAX_INBOX_DEPTH
        if perm == "d":                                    # DELE a temporary name; RMD an (empty) sub-folder
            return is_temporary_name(parts[-1]) or (os.path.isdir(path) and not os.path.islink(path))
        if perm in "MT":                                   # SITE CHMOD, MFMT: answered and ignored
            return True
        return False                                       # APPE


def inbox_name(home: Path | str, path: str) -> str | None:
    """The name of `path` inside the inbox of `home`, sub-folders joined by `/` (`east/stock.csv`); None
    for a path that is not below the inbox."""
    parts = _parts_below(Path(home), path)
    if not parts or parts[0] != INBOX or len(parts) < 2:
        return None
    return "/".join(parts[1:])


def _parts_below(home: Path, path: str) -> tuple[str, ...] | None:
    """The components of `path` below `home`, or None when `path` is not inside it."""
    relative = os.path.relpath(os.path.normpath(path), str(home))
    if relative == ".":
        return ()
    if relative == ".." or relative.startswith(".." + os.sep) or os.path.isabs(relative):
        return None
    return tuple(relative.split(os.sep))


class JailedFilesystem(AbstractedFS):
    """pyftpdlib's virtual file system, also refusing any path through a symbolic link, opening files
    without following links, and changing directory without `os.chdir` (pyftpdlib's own `chdir` moves
    the whole process, and with it every path another thread resolves at that moment)."""

    def chdir(self, path):
        """Make `path` (a real path already checked by `validpath`) the session's directory."""
        if not os.path.isdir(path):
            code = errno.ENOTDIR if os.path.lexists(path) else errno.ENOENT
            raise OSError(code, os.strerror(code), path)
        if not os.access(path, os.X_OK):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), path)
        self.cwd = self.fs2ftp(path)

    def validpath(self, path):
        if not super().validpath(path):
            return False
        parts = _parts_below(Path(self.root), path)
        if parts is None:
            return False
        current = self.root
        for part in parts:
            current = os.path.join(current, part)
            if os.path.islink(current):
                return False
        return True

    def open(self, filename, mode):
        def no_follow(path, flags):
            return os.open(path, flags | os.O_NOFOLLOW, 0o640)

        return open(filename, mode, opener=no_follow)
