"""HTTPS with rustls: a certificate and key made here, at test time, by a CA of
the test's own; TLS 1.2 and 1.3 and nothing older; plain HTTP only on
loopback unless allowed. SIGHUP reads the token file and the certificate
again, without dropping a request: neither those under way nor those arriving
meanwhile, on new or kept-alive connections."""
import datetime
import hashlib
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time

import psycopg
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from psycopg.types.json import Jsonb

from conftest import BINARY, HEADER_TIMEOUT_MS, PORT, Server
from events import event

TLS_PORT = PORT + 3
PLAIN_PORT = PORT + 4


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, serial, ca=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(serial).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A CA, and two server certificates it signed (serials 1001 and 1002)."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(_name("user_metrics test CA"), _name("user_metrics test CA"), ca_key.public_key(),
                      ca_key, 1, ca=True)
    (folder / "ca.pem").write_bytes(_pem(ca))
    for serial in (1001, 1002):
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _certificate(_name("127.0.0.1"), ca.subject, key.public_key(), ca_key, serial)
        (folder / f"{serial}.pem").write_bytes(_pem(certificate))
        (folder / f"{serial}.key").write_bytes(_key_pem(key))
    return folder


def install(certificates, serial, into):
    """Puts certificate `serial` where the server reads it, each file replaced
    at once (as a deployment would)."""
    for suffix in ("pem", "key"):
        staged = into / f"staged.{suffix}"
        staged.write_bytes((certificates / f"{serial}.{suffix}").read_bytes())
        os.replace(staged, into / f"server.{suffix}")


@pytest.fixture
def tls_server(dsn, certificates, tmp_path):
    install(certificates, 1001, tmp_path)
    server = Server(dsn, TLS_PORT, tmp_path, ca=certificates / "ca.pem",
                    USER_METRICS_HTTP_TLS_CERT=str(tmp_path / "server.pem"),
                    USER_METRICS_HTTP_TLS_KEY=str(tmp_path / "server.key"))
    yield server
    assert server.stop() == 0, server.log_text()


def handshake(server, certificates, version=None):
    """The TLS version and the server certificate's serial of a new connection."""
    context = ssl.create_default_context(cafile=str(certificates / "ca.pem"))
    if version is not None:
        context.minimum_version = context.maximum_version = version
        # Let the client offer what OpenSSL's defaults would not.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
            return tls.version(), x509.load_der_x509_certificate(der).serial_number


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_https_with_tls_1_2_and_1_3_only(tls_server, certificates):
    response = requests.get(tls_server.url + "/health", verify=tls_server.verify, timeout=10)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert handshake(tls_server, certificates) == ("TLSv1.3", 1001)
    assert handshake(tls_server, certificates, ssl.TLSVersion.TLSv1_2) == ("TLSv1.2", 1001)
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        with pytest.raises(ssl.SSLError) as refused:
            handshake(tls_server, certificates, old)
        # Refused by the server (its alert), not left unoffered by the client.
        assert "ALERT_" in str(refused.value), refused.value
    # Plain HTTP on the HTTPS port gets no HTTP answer.
    with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert not sock.recv(65536).startswith(b"HTTP/")
    # A connection that never starts its handshake is closed like one that
    # never sends its head.
    with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=10) as sock:
        started = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - started < HEADER_TIMEOUT_MS / 1000 + 1.5


def test_plain_http_only_on_loopback_unless_allowed(dsn, server, tmp_path):
    env = {"USER_METRICS_HTTP_DATABASE": "host=/nonexistent", "USER_METRICS_HTTP_TOKENS": str(server.tokens_file),
           "USER_METRICS_HTTP_LISTEN": f"0.0.0.0:{PLAIN_PORT}"}
    run = subprocess.run([BINARY], env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 1
    assert "0.0.0.0 is not a loopback address" in run.stderr and "USER_METRICS_HTTP_ALLOW_PLAIN_HTTP" in run.stderr
    run = subprocess.run([BINARY], env={**env, "USER_METRICS_HTTP_TLS_CERT": "/x"}, capture_output=True, text=True,
                         timeout=30)
    assert run.returncode == 1 and "set both or neither" in run.stderr
    allowed = Server(dsn, PLAIN_PORT, tmp_path, USER_METRICS_HTTP_LISTEN=f"0.0.0.0:{PLAIN_PORT}",
                     USER_METRICS_HTTP_ALLOW_PLAIN_HTTP="true")
    try:
        assert requests.get(allowed.url + "/health", timeout=10).status_code == 200
        assert "plain HTTP" in allowed.log_text()
    finally:
        assert allowed.stop() == 0


def test_a_bad_certificate_stops_the_server_at_start(dsn, server, tmp_path):
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    run = subprocess.run([BINARY], capture_output=True, text=True, timeout=30, env={
        "USER_METRICS_HTTP_DATABASE": "host=/nonexistent", "USER_METRICS_HTTP_TOKENS": str(server.tokens_file),
        "USER_METRICS_HTTP_TLS_CERT": str(tmp_path / "bad.pem"), "USER_METRICS_HTTP_TLS_KEY": str(tmp_path / "no.key")})
    assert run.returncode == 1 and "bad.pem" in run.stderr, run.stderr


def sha256_hex(token):
    return hashlib.sha256(token.encode()).hexdigest()


def wait_for_log(server, text, count):
    deadline = time.monotonic() + 10
    while server.log_text().count(text) < count:
        assert time.monotonic() < deadline, server.log_text()
        time.sleep(0.05)


def test_sighup_reloads_the_token_file_and_the_certificate_without_dropping_requests(
        tls_server, certificates, dsn, db, tmp_path):
    server = tls_server
    old_reader = server.tokens["user_metrics_reader"]
    weekly = "/reports/weekly?week_ending=2026-11-23&tz=UTC"
    failures, done = [], {"kept_alive": 0, "new_connections": 0}
    stop = threading.Event()

    def kept_alive():
        with requests.Session() as http:
            while not stop.is_set():
                response = http.post(server.url + "/ingest", data="[]", headers=server.writer,
                                     verify=server.verify, timeout=10)
                if response.status_code != 200:
                    failures.append(response.text)
                done["kept_alive"] += 1

    def new_connections():
        while not stop.is_set():
            response = requests.get(server.url + "/health", verify=server.verify, timeout=10,
                                    headers={"Connection": "close"})
            if response.status_code != 200:
                failures.append(response.text)
            done["new_connections"] += 1

    in_flight = {}
    with psycopg.connect(dsn) as holder:
        holder.execute("SELECT user_metrics.ingest_metrics(%s)",
                       (Jsonb(event("r-0", "reload@example.com", "s-r", "2026-11-16T09:00:00Z", 1, user__name="A")),))

        def waiting_request():
            in_flight["response"] = requests.post(
                server.url + "/ingest", verify=server.verify, timeout=30, headers=server.writer,
                data=json.dumps(event("r-1", "reload@example.com", "s-r", "2026-11-16T09:00:00Z", 1, user__name="B")))

        threads = [threading.Thread(target=f) for f in (kept_alive, new_connections, waiting_request)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        # A new reader token, the old one gone; the next certificate.
        new_reader = server.make_token("user_metrics_reader")
        lines = [line for line in server.tokens_file.read_text().splitlines()
                 if not line.startswith(sha256_hex(old_reader))]
        server.tokens_file.write_text("\n".join(lines) + "\n")
        install(certificates, 1002, tmp_path)
        before = dict(done)
        server.process.send_signal(signal.SIGHUP)
        wait_for_log(server, "reloaded the certificate and key", 1)
        time.sleep(0.5)
        holder.rollback()
        threads[2].join()
        stop.set()
        for t in threads[:2]:
            t.join()

    assert failures == []
    assert done["kept_alive"] > before["kept_alive"] and done["new_connections"] > before["new_connections"]
    assert in_flight["response"].status_code == 200 and in_flight["response"].json()["accepted"] == 1
    assert "reloaded the token file: 3 tokens" in server.log_text()
    assert handshake(server, certificates)[1] == 1002
    read = lambda token: requests.get(server.url + weekly, headers={"Authorization": f"Bearer {token}"},
                                      verify=server.verify, timeout=10).status_code
    assert (read(new_reader), read(old_reader)) == (200, 401)

    # Files that do not load change nothing: the server says so and goes on.
    (tmp_path / "server.pem").write_text("garbage\n")
    server.tokens_file.write_text("# no tokens\n")
    server.process.send_signal(signal.SIGHUP)
    wait_for_log(server, "the certificate was not reloaded (the previous one stays)", 1)
    assert "the token file was not reloaded (the previous tokens stay): token file" in server.log_text()
    assert handshake(server, certificates)[1] == 1002
    assert read(new_reader) == 200
