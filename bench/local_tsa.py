"""A real RFC 3161 time-stamping authority on this machine: certomancer's Animator, for tests and benchmarks.

Certomancer runs, as its own process over HTTP on a free port, a small PKI: a root CA publishing a CRL,
and a TSA whose certificate names that CRL. Keys are made in the given folder, never committed.
Certomancer is a development dependency (requirements-dev.txt): the benchmarks and tests use it, the
server never does.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ARCH = "testing"
CONFIG = """\
external-url-prefix: "http://127.0.0.1:{port}"
keysets:
  testing:
    path-prefix: keys
    keys:
      root: {{path: root.key.pem}}
      tsa: {{path: tsa.key.pem}}
pki-architectures:
  testing:
    keyset: testing
    entity-defaults: {{country-name: VN, organization-name: Test Time Authority}}
    entities:
      root: {{common-name: Test TSA Root}}
      tsa: {{common-name: Test TSA}}
    certs:
      root:
        subject: root
        issuer: root
        validity: {{valid-from: "2000-01-01T00:00:00+0000", valid-to: "2500-01-01T00:00:00+0000"}}
        extensions:
          - {{id: basic_constraints, critical: true, value: {{ca: true}}}}
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature, key_cert_sign, crl_sign]}}
      tsa:
        issuer: root
        validity: {{valid-from: "2000-01-01T00:00:00+0000", valid-to: "{tsa_until}"}}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature]}}
          - {{id: extended_key_usage, critical: true, value: [time_stamping]}}
          - id: crl_distribution_points
            smart-value: {{schema: crl-dist-url, params: {{crl-repo-names: [root]}}}}
    services:
      crl-repo:
        root: {{for-issuer: root, signing-key: root, simulated-update-schedule: "P30D"}}
      time-stamping:
        tsa: {{signing-key: tsa, signing-cert: tsa}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_keys(folder: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("root", "tsa"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (folder / f"{name}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


@contextmanager
def local_tsa(folder: Path, *, tsa_until: str = "2100-01-01T00:00:00+0000") -> Iterator[dict]:
    """{"url": TSA URL, "root": PEM file of its root, "crl_url": its CRL} while the server runs."""
    from asn1crypto import pem
    from certomancer.registry import CertomancerConfig

    _write_keys(folder / "keys")
    port = free_port()
    config = folder / "certomancer.yml"
    config.write_text(CONFIG.format(port=port, tsa_until=tsa_until))
    arch = CertomancerConfig.from_file(str(config)).get_pki_arch(ARCH)
    root = folder / "tsa-root.pem"
    root.write_bytes(pem.armor("CERTIFICATE", arch.get_cert("root").dump()))
    cli = Path(sys.executable).with_name("certomancer")
    proc = subprocess.Popen([str(cli), "--config", str(config), "animate", "--port", str(port), "--no-web-ui"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("certomancer did not start") from None
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}/{ARCH}"
        yield {"url": f"{base}/tsa/tsa", "root": root, "crl_url": f"{base}/crls/root/latest.crl"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
