"""Remote signing over the CSC API, against certomancer-csc-dummy running as a real HTTP server.

The secretary's and the chair's keys live at the service; each signs the
minutes through the REST API with the PIN typed in the console. pyHanko and
poppler's pdfsig both validate the result against the service's root.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from meetings.core.errors import Invalid, Unavailable
from meetings.core.extensions import db
from meetings.minutes import csc
from meetings.minutes.models import Minutes, MinutesSignature, SignerKey
from meetings.minutes.signers import register_csc
from meetings.minutes.verify import verify_pdf
from meetings.platform.audit.models import AuditEntry
from tests.minutes_support import nss_db_trusting, pdfsig_report

SERVER = Path(__file__).with_name("csc_server.py")
ARCH = "ubnd-csc"
CREDENTIALS = {"secretary": f"{ARCH}/thu-ky", "chair": f"{ARCH}/chu-toa"}
PINS = {CREDENTIALS["secretary"]: "482916", CREDENTIALS["chair"]: "735102"}
TOKEN = "test-access-token-1"


@pytest.fixture(scope="module")
def csc_config(tmp_path_factory) -> Path:
    """A Certomancer PKI: a root and one signing certificate each for the secretary and the chair."""
    folder = tmp_path_factory.mktemp("csc")
    for label in ("root", "thu-ky", "chu-toa"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (folder / f"{label}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    now = datetime.now(UTC)
    validity = {"valid-from": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "valid-to": (now + timedelta(days=730)).strftime("%Y-%m-%dT%H:%M:%S+0000")}
    signer_ext = [{"id": "key_usage", "critical": True,
                   "smart-value": {"schema": "key-usage", "params": ["digital_signature", "non_repudiation"]}}]
    config = {
        "keysets": {ARCH: {"keys": {label: {"path": f"{label}.key.pem"} for label in ("root", "thu-ky", "chu-toa")}}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entity-defaults": {"country-name": "VN", "organization-name": "Dịch vụ ký số từ xa"},
            "entities": {"root": {"common-name": "CSC Test Root CA"},
                         "thu-ky": {"common-name": "Người dùng secretary"},
                         "chu-toa": {"common-name": "Người dùng chair"}},
            "certs": {
                "root": {"subject": "root", "issuer": "root", "validity": validity, "extensions": [
                    {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                    {"id": "key_usage", "critical": True,
                     "smart-value": {"schema": "key-usage", "params": ["digital_signature", "key_cert_sign",
                                                                       "crl_sign"]}}]},
                "thu-ky": {"subject": "thu-ky", "issuer": "root", "validity": validity, "extensions": signer_ext},
                "chu-toa": {"subject": "chu-toa", "issuer": "root", "validity": validity, "extensions": signer_ext},
            },
        }},
    }
    path = folder / "certomancer.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _start(config: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(SERVER), str(config), json.dumps(PINS), TOKEN],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()  # "port N" once the socket accepts connections
    if not line.startswith("port "):
        proc.kill()
        raise RuntimeError("the CSC test server did not start")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


@pytest.fixture(scope="module")
def csc_service(csc_config, tmp_path_factory):
    """The CSC server on a free port, and its root certificate as a PEM file (the trust root to verify with)."""
    proc, url = _start(csc_config)
    try:
        credential = csc.read_credential(url, CREDENTIALS["secretary"], TOKEN)
        root = tmp_path_factory.mktemp("csc-root") / "csc-root.pem"
        root.write_bytes(credential.chain[-1].public_bytes(serialization.Encoding.PEM))
        yield {"url": url, "root": root, "root_cert": credential.chain[-1]}
    finally:
        _stop(proc)


@pytest.fixture
def csc_app(app, csc_service):
    app.config["MINUTES_TRUST_ROOTS"] = [str(csc_service["root"])]
    app.config["CSC_ACCESS_TOKEN"] = TOKEN
    from meetings.minutes.cli import ca_group

    app.cli.add_command(ca_group)
    return app


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _finalized(as_user, world) -> dict:
    """Minutes of the world's meeting, finalized after the sitting ran and closed through the API."""
    m = as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/minutes", json={})
    assert m.status_code == 201, m.json
    url = f"/api/v1/meetings/{world.meeting.id}/status"
    for who, status in (("chair", "in_progress"), ("chair", "adjourned"), ("secretary", "closed")):
        r = as_user(who).post(url, json={"status": status})
        assert r.status_code == 200, r.json
    r = as_user("secretary").post(f"/api/v1/minutes/{m.json['id']}/finalize")
    assert r.status_code == 200, r.json
    return r.json


def _sign(as_user, name: str, minutes_id: int, secret: str):
    return as_user(name).post(f"/api/v1/minutes/{minutes_id}/signatures", json={"secret": secret})


def _state(minutes_id: int) -> tuple:
    db.session.expire_all()
    m = db.session.get(Minutes, minutes_id)
    count = db.session.execute(select(func.count()).select_from(MinutesSignature)).scalar_one()
    return m.status, m.sha256, m.size, count


def test_remote_keys_sign_the_minutes_and_both_validators_agree(csc_app, csc_service, as_user, world, tmp_path):
    url = csc_service["url"]
    r = _cli(csc_app, "ca", "csc", "secretary", "--url", url, "--credential-id", CREDENTIALS["secretary"])
    assert r.exit_code == 0, r.output
    assert "registered remote key" in r.output and "Người dùng secretary" in r.output
    with csc_app.app_context():
        register_csc(db.session, csc_app.config, world.chair, url=url, credential_id=CREDENTIALS["chair"])
        db.session.commit()
        key = db.session.execute(select(SignerKey).where(SignerKey.user_id == world.secretary.id)).scalar_one()
        assert (key.kind, key.source, key.service_url, key.credential_id) == ("csc", "remote", url,
                                                                              CREDENTIALS["secretary"])
        assert key.fingerprint and key.not_after > datetime.now(UTC) and "Người dùng secretary" in key.subject

    m = _finalized(as_user, world)
    before = _state(m["id"])
    r = _sign(as_user, "secretary", m["id"], "000000")
    assert r.status_code == 422 and r.json["error"]["code"] == "wrong_pin", r.json
    assert "000000" not in r.get_data(as_text=True)
    assert _state(m["id"]) == before  # a refused PIN changes nothing

    assert _sign(as_user, "secretary", m["id"], PINS[CREDENTIALS["secretary"]]).status_code == 201
    r = _sign(as_user, "chair", m["id"], PINS[CREDENTIALS["chair"]])
    assert r.status_code == 201, r.json
    got = as_user("secretary").get(f"/api/v1/minutes/{m['id']}").json
    assert got["status"] == "signed" and [s["role"] for s in got["signatures"]] == ["secretary", "chair"]
    entries = list(db.session.execute(select(AuditEntry)).scalars())
    assert "signer_key.remote" in {e.action for e in entries} and "minutes.signed" in {e.action for e in entries}
    logged = json.dumps([e.details for e in entries], ensure_ascii=False)
    assert not any(pin in logged for pin in PINS.values())  # the PIN is in no record

    pdf = as_user("secretary").get(f"/api/v1/minutes/{m['id']}/file").data
    report = verify_pdf(pdf, [csc_service["root_cert"]])
    assert report["valid"] and report["trusted"] and not report["tampered"], report
    assert [s["role"] for s in report["signatures"]] == ["secretary", "chair"]
    assert [s["signer"] for s in report["signatures"]] == ["Người dùng secretary", "Người dùng chair"]
    assert verify_pdf(pdf, [])["trusted"] is False  # trust comes from the service's root, not from nowhere
    rest = as_user("secretary").get(f"/api/v1/minutes/{m['id']}/verification").json
    assert rest["valid"] and rest["trusted"]  # the app trusts it through MINUTES_TRUST_ROOTS

    nss = nss_db_trusting(csc_service["root"], tmp_path / "nss")
    out = pdfsig_report(pdf, tmp_path, nss)
    assert out.count("Signature is Valid") == 2, out
    if nss is not None:
        assert out.count("Certificate is Trusted") == 2, out


def test_registration_reads_the_certificate_and_refuses_clearly(csc_app, csc_service, world):
    url = csc_service["url"]
    with csc_app.app_context():
        for credential_id, code in ((f"{ARCH}/nobody", "csc_no_credential"), ("no-such-arch", "csc_no_credential")):
            with pytest.raises(Invalid) as err:
                register_csc(db.session, csc_app.config, world.secretary, url=url, credential_id=credential_id)
            assert err.value.code == code
        csc_app.config["CSC_ACCESS_TOKEN"] = "wrong-token"
        with pytest.raises(Invalid) as err:
            register_csc(db.session, csc_app.config, world.secretary, url=url, credential_id=CREDENTIALS["chair"])
        assert err.value.code == "csc_unauthorized"
        with pytest.raises(Invalid) as err:
            register_csc(db.session, csc_app.config, world.secretary, url="ftp://x", credential_id="a/b")
        assert err.value.code == "invalid_url"
        db.session.rollback()
        assert db.session.execute(select(func.count()).select_from(SignerKey)).scalar_one() == 0


def test_service_down_is_csc_unavailable(csc_app, csc_config, as_user, world):
    proc, url = _start(csc_config)  # a service of its own, to take down
    try:
        with csc_app.app_context():
            register_csc(db.session, csc_app.config, world.secretary, url=url, credential_id=CREDENTIALS["secretary"])
            db.session.commit()
    finally:
        _stop(proc)
    m = _finalized(as_user, world)
    before = _state(m["id"])
    r = _sign(as_user, "secretary", m["id"], PINS[CREDENTIALS["secretary"]])
    assert r.status_code == 503 and r.json["error"]["code"] == "csc_unavailable", r.json
    assert _state(m["id"]) == before
    r = _cli(csc_app, "ca", "csc", "chair", "--url", url, "--credential-id", CREDENTIALS["chair"])
    assert r.exit_code != 0 and "cannot be reached" in r.output
    with pytest.raises(Unavailable) as err:
        csc.read_credential(url, CREDENTIALS["chair"])
    assert err.value.code == "csc_unavailable"
