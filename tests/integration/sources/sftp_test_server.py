"""A real SFTP server on a free 127.0.0.1 port for tests: OpenSSH's sshd with its own host key, config and
authorised client key, or, when sshd is missing (or STOCKGATE_TEST_SFTP_SERVER=paramiko), a paramiko
server serving the same local folders. Files live on the local disk, so a test writes them directly.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paramiko.sftp_attr import SFTPAttributes
from paramiko.sftp_server import SFTPServer
from paramiko.sftp_si import SFTPServerInterface

SSHD = "/usr/sbin/sshd"


def write_ed25519_key(path: Path) -> paramiko.Ed25519Key:
    """Generate an ed25519 key in OpenSSH format at `path` (mode 600) and return it."""
    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                     serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)
    return paramiko.Ed25519Key.from_private_key_file(str(path))


def known_hosts_line(host: str, port: int, key: paramiko.PKey) -> str:
    return f"[{host}]:{port} {key.get_name()} {key.get_base64()}\n"


def _unused_port_for_sshd() -> int:
    """A port free a moment ago, for sshd, which cannot listen on port 0 and say which port it got. Another
    program may take it before sshd binds: `_start_sshd` then sees sshd fail and tries another one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_banner(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(4).startswith(b"SSH-"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass
class SftpServer:
    """What a test needs to point a source at the server."""

    kind: str                      # "openssh" | "paramiko"
    host: str
    port: int
    username: str
    client_key: Path               # private key the server accepts
    known_hosts: Path              # holds the server's real host key
    host_key: paramiko.PKey
    folder: Path                   # a local folder, reachable over SFTP at the same absolute path
    _stop: object = field(default=None, repr=False)

    def stop(self) -> None:
        if self._stop:
            self._stop()


def start_sftp_server(tmp: Path) -> SftpServer:
    """Start sshd (or the paramiko stand-in) in `tmp`; the caller must call `stop()`."""
    tmp.mkdir(parents=True, exist_ok=True)
    host_key = write_ed25519_key(tmp / "host_key")
    client_key = write_ed25519_key(tmp / "client_key")
    folder = tmp / "outbound"
    folder.mkdir()
    user = os.environ.get("USER") or "root"
    if os.environ.get("STOCKGATE_TEST_SFTP_SERVER") != "paramiko" and os.access(SSHD, os.X_OK) and os.geteuid() == 0:
        port, stop = _start_sshd(tmp, client_key)
        kind, user = "openssh", "root"
    else:
        port, stop = _start_paramiko(host_key, client_key)
        kind = "paramiko"
    known_hosts = tmp / "known_hosts"
    known_hosts.write_text(known_hosts_line("127.0.0.1", port, host_key))
    return SftpServer(kind, "127.0.0.1", port, user, tmp / "client_key", known_hosts, host_key, folder, stop)


def _start_sshd(tmp: Path, client_key: paramiko.PKey, attempts: int = 5):
    """sshd on a free port: (port, stop). A port taken between the choice and sshd's bind is tried again."""
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)   # sshd's privilege-separation folder
    authorized = tmp / "authorized_keys"
    authorized.write_text(f"{client_key.get_name()} {client_key.get_base64()}\n")
    for _ in range(attempts):
        port = _unused_port_for_sshd()
        stop = _try_sshd(tmp, port, authorized)
        if stop is not None:
            return port, stop
    raise RuntimeError(f"sshd did not start in {attempts} attempts: {(tmp / 'sshd.log').read_text()}")


def _try_sshd(tmp: Path, port: int, authorized: Path):
    config = tmp / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {tmp / 'host_key'}", f"PidFile {tmp / 'sshd.pid'}",
        "UsePAM no", "StrictModes no", f"AuthorizedKeysFile {authorized}", "PermitRootLogin prohibit-password",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "Subsystem sftp internal-sftp",
        "LogLevel ERROR", ""]))
    log = open(tmp / "sshd.log", "wb")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config), "-o", f"PidFile={tmp / 'sshd.pid'}"],
                            stdout=log, stderr=log)
    if proc.poll() is not None or not _wait_for_banner(port, time.monotonic() + 5) or proc.poll() is not None:
        proc.kill()                   # it could not bind (the port was taken meanwhile), or did not answer
        proc.wait(5)
        log.close()
        return None

    def stop():
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return stop


# -- the paramiko stand-in ---------------------------------------------------------------------------

class _Auth(paramiko.ServerInterface):
    def __init__(self, client_key: paramiko.PKey):
        self.client_key = client_key

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        ok = key.get_base64() == self.client_key.get_base64()
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    def stat(self):
        return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))


class _LocalFiles(SFTPServerInterface):
    """Serve the local file system as is (tests only)."""

    def _err(self, exc: OSError):
        return SFTPServer.convert_errno(exc.errno)

    def list_folder(self, path):
        try:
            return [SFTPAttributes.from_stat(os.lstat(os.path.join(path, n)), n) for n in os.listdir(path)]
        except OSError as exc:
            return self._err(exc)

    def stat(self, path):
        try:
            return SFTPAttributes.from_stat(os.stat(path))
        except OSError as exc:
            return self._err(exc)

    lstat = stat

    def open(self, path, flags, attr):
        try:
            fd = os.open(path, flags, 0o644)
            handle = _Handle(flags)
            handle.readfile = handle.writefile = os.fdopen(fd, "rb" if flags == os.O_RDONLY else "r+b")
            handle.filename = path
            return handle
        except OSError as exc:
            return self._err(exc)

    def remove(self, path):
        try:
            os.remove(path)
            return paramiko.SFTP_OK
        except OSError as exc:
            return self._err(exc)

    def posix_rename(self, oldpath, newpath):
        try:
            os.replace(oldpath, newpath)
            return paramiko.SFTP_OK
        except OSError as exc:
            return self._err(exc)

    rename = posix_rename

    def mkdir(self, path, attr):
        try:
            os.mkdir(path)
            return paramiko.SFTP_OK
        except OSError as exc:
            return self._err(exc)

    def canonicalize(self, path):
        return os.path.normpath(path if os.path.isabs(path) else "/" + path)


def _start_paramiko(host_key: paramiko.PKey, client_key: paramiko.PKey):
    """The paramiko stand-in, listening on port 0 (the kernel's free port): (port, stop)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    transports: list[paramiko.Transport] = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(host_key)
            transport.set_subsystem_handler("sftp", SFTPServer, _LocalFiles)
            transports.append(transport)
            try:
                transport.start_server(server=_Auth(client_key))
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    threading.Thread(target=serve, daemon=True, name="paramiko-sftp").start()

    def stop():
        listener.close()
        for transport in transports:
            transport.close()
    return port, stop


def server_kind_note(server: SftpServer) -> str:
    """The line a test prints so its output says which server ran."""
    if server.kind == "openssh":
        return f"SFTP tests ran against OpenSSH sshd ({shutil.which('sshd') or SSHD}) on port {server.port}"
    return f"SFTP tests ran against the paramiko stand-in server on port {server.port} (sshd not available)"
