"""Explicit FTPS against the real server with a self-signed certificate made by the test."""

from __future__ import annotations

import datetime
import ftplib
import io
import shutil
import ssl
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ftp_test_harness import PASSWORDS

QU = b"SKU,EAST,WEST\r\nA1,5,7\r\n"


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1: (certfile, keyfile)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return str(certfile), str(keyfile)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_with_ssl_reqd_uploads_over_ftps_and_the_file_is_applied(start_ftp, certificate, tmp_path):
    gateway = start_ftp(tls_certfile=certificate[0], tls_keyfile=certificate[1], require_tls=True)
    source = tmp_path / "tls.csv"
    source.write_bytes(QU)

    done = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k", "-T", str(source),
                           f"ftp://east:{PASSWORDS['east']}@127.0.0.1:{gateway.port}/inbox/"],
                          capture_output=True, timeout=30)

    assert done.returncode == 0, done.stderr
    [row] = gateway.wait_for_finished_files(1)
    assert (row.name, row.status) == ("tls.csv", "applied")
    assert gateway.on_hand("A1", "WEST") == 7


def test_a_plain_text_login_is_refused_when_tls_is_required(start_ftp, certificate):
    gateway = start_ftp(tls_certfile=certificate[0], tls_keyfile=certificate[1], require_tls=True)
    ftp = gateway.connect()
    with pytest.raises(ftplib.error_perm) as refused:
        ftp.login("east", PASSWORDS["east"])
    ftp.close()
    assert "SSL/TLS required" in str(refused.value)


def test_ftplib_over_tls_with_a_protected_data_channel_uploads_a_file(start_ftp, certificate):
    gateway = start_ftp(tls_certfile=certificate[0], tls_keyfile=certificate[1], require_tls=True)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect("127.0.0.1", gateway.port, timeout=20)
    ftp.login("east", PASSWORDS["east"])
    ftp.prot_p()
    reply = ftp.storbinary("STOR /inbox/tls-lib.csv", io.BytesIO(QU))
    ftp.quit()

    [row] = gateway.wait_for_finished_files(1)
    assert reply.startswith("226") and row.file_id in reply
    assert row.status == "applied"
