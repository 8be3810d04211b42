"""Long-term validation: B-LTA with a real TSA (certomancer), B-LT without one (the organization CA's own
timestamp unit and CRL/OCSP), validation years after the signer's certificate expired, revocation, renewal."""
from __future__ import annotations

import base64
import hashlib
import io
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from sqlalchemy import select

from meetings.core.extensions import db
from meetings.minutes import files, keys
from meetings.minutes.models import Minutes, SignerKey
from meetings.minutes.signers import issue_key
from meetings.minutes.verify import verify_pdf
from meetings.platform.audit.models import AuditEntry
from tests.factories import move_meeting
from tests.ltv_support import tsa  # noqa: F401  (fixture)
from tests.minutes_support import (
    CA_PASS,
    CHAIR_PASS,
    SECRETARY_PASS,
    flip_byte,
    pdfsig_report,
    pki,  # noqa: F401  (fixture)
)

SIGNER_DAYS = 2  # short-lived signer certificates: "years after expiry" is a few years ahead


@pytest.fixture
def signers(app, world, pki):  # noqa: F811
    """The organization CA (with its OCSP responder) in the app's instance, short-lived keys for both signers."""
    shutil.copytree(pki["instance"] / "ca", app.config["INSTANCE_PATH"] + "/ca")
    app.config.update(MINUTES_FONT_CACHE=str(pki["instance"] / "fonts"), SIGNER_CERT_DAYS=SIGNER_DAYS,
                      PKI_BASE_URL="http://pki.invalid")  # never fetched: the revocation data is made locally
    # A responder and timestamp unit of this instance, naming its CRL and OCSP URLs (as `ca init` does).
    r = app.test_cli_runner().invoke(args=["ca", "responder"], input=CA_PASS + "\n")
    assert r.exit_code == 0 and "timestamp unit" in r.output, r.output
    with app.app_context():
        issue_key(db.session, app.config, world.secretary, ca_passphrase=CA_PASS, passphrase=SECRETARY_PASS)
        issue_key(db.session, app.config, world.chair, ca_passphrase=CA_PASS, passphrase=CHAIR_PASS)
        db.session.commit()
    return world


@pytest.fixture
def with_tsa(app, tsa):  # noqa: F811
    app.config.update(TSA_URL=tsa["url"], MINUTES_TRUST_ROOTS=[str(tsa["root"])])
    return tsa


def _finalized(app, as_user, world) -> int:
    m = as_user("secretary").post(f"/api/v1/meetings/{world.meeting.id}/minutes", json={}).json
    with app.app_context():
        from meetings.bodies.models import Meeting

        move_meeting(db.session, db.session.get(Meeting, world.meeting.id), world.users["secretary"], "closed")
    r = as_user("secretary").post(f"/api/v1/minutes/{m['id']}/finalize")
    assert r.status_code == 200, r.json
    return m["id"]


def _sign(as_user, name, minutes_id, secret):
    return as_user(name).post(f"/api/v1/minutes/{minutes_id}/signatures", json={"secret": secret})


def _signed(app, as_user, world) -> tuple[int, bytes]:
    mid = _finalized(app, as_user, world)
    assert _sign(as_user, "secretary", mid, SECRETARY_PASS).status_code == 201
    r = _sign(as_user, "chair", mid, CHAIR_PASS)
    assert r.status_code == 201, r.json
    return mid, _stored(app, mid)


def _stored(app, mid) -> bytes:
    with app.app_context():
        return files.minutes_file(app.config["STORAGE_PATH"], db.session.get(Minutes, mid).sha256).read_bytes()


def _roots(app, extra=()):
    return keys.trust_roots(app.config["INSTANCE_PATH"], [str(p) for p in extra])


def _dss(pdf: bytes) -> tuple[int, int]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    dss = PdfFileReader(io.BytesIO(pdf)).root["/DSS"]
    return len(dss.get("/OCSPs", [])), len(dss.get("/CRLs", []))


def _expired_moment(app) -> datetime:
    """Three years after the newest signer certificate has expired."""
    with app.app_context():
        last = max(k.not_after for k in db.session.execute(select(SignerKey)).scalars())
    return last.astimezone(UTC) + timedelta(days=3 * 365)


def test_b_lta_with_a_tsa(app, as_user, signers, with_tsa, tmp_path):
    mid, pdf = _signed(app, as_user, signers)
    roots = _roots(app, [with_tsa["root"]])
    report = verify_pdf(pdf, roots)
    assert report["valid"] and report["trusted"] and not report["tampered"], report
    assert [s["level"] for s in report["signatures"]] == ["B-LTA", "B-LTA"] and report["level"] == "B-LTA"
    assert all(s["timestamp"] for s in report["signatures"])  # each signature has its signature timestamp
    (stamp,) = report["document_timestamps"]
    assert stamp["intact"] and stamp["valid"] and stamp["tsa"] and "Test TSA" in stamp["tsa"]
    ocsps, crls = _dss(pdf)
    assert ocsps >= 2 and crls >= 1  # our responder's answers for both signers, the TSA's CRL

    # Years after the signers' certificates expired, from the embedded data alone (no network).
    later = verify_pdf(pdf, roots, validation_time=_expired_moment(app))
    assert later["valid_at"] is True, [s.get("at") for s in later["signatures"]]
    assert all(s["at"]["passed"] for s in later["signatures"])

    out = pdfsig_report(pdf, tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 2, out


def _signature_timestamps(pdf: bytes) -> list:
    """(TSA certificate, TSTInfo) of each signature's signature timestamp."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    found = []
    for sig in PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures:
        for tst in extract_tst_data_iter(sig.signer_info, signed=False):
            (tsa_cert,) = [c.chosen for c in tst["certificates"] if not c.chosen.ca]
            found.append((tsa_cert, tst["encap_content_info"]["content"].parsed))
    return found


def _dss_ocsp_serials(pdf: bytes) -> set[int]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    from meetings.minutes.ltv import dss_contents

    ocsps, _ = dss_contents(PdfFileReader(io.BytesIO(pdf)))
    return {s["cert_id"]["serial_number"].native for r in ocsps
            for s in r["response_bytes"]["response"].parsed["tbs_response_data"]["responses"]}


def test_b_lt_without_a_tsa(app, as_user, signers, tmp_path):
    """Without a TSA the organization's timestamp unit stamps each signature, and our own OCSP answers for
    the signers and the unit are embedded (no HTTP): B-LT, valid years after the signers' certificates
    expired while the unit's certificate holds, and no longer once it has expired too."""
    from meetings.minutes.ltv import UNIT_POLICY

    assert not app.config.get("TSA_URL")
    mid, pdf = _signed(app, as_user, signers)
    roots = _roots(app)
    report = verify_pdf(pdf, roots)
    assert report["valid"] and report["trusted"] and not report["tampered"]
    assert [(s["level"], s["revocation_embedded"]) for s in report["signatures"]] == [("B-LT", True)] * 2
    assert all(s["timestamp"] for s in report["signatures"])
    assert report["level"] == "B-LT" and report["document_timestamps"] == []  # B-LTA needs an external TSA
    rest = as_user("secretary").get(f"/api/v1/minutes/{mid}/verification").json
    assert rest["level"] == "B-LT" and [s["revocation_embedded"] for s in rest["signatures"]] == [True, True]

    unit, _ = keys.load_timestamp_unit(app.config["INSTANCE_PATH"])
    stamps = _signature_timestamps(pdf)
    assert len(stamps) == 2
    for tsa_cert, info in stamps:
        assert tsa_cert.serial_number == unit.serial_number and info["policy"].dotted == UNIT_POLICY
    with app.app_context():
        signer_serials = {int(k.serial, 16) for k in db.session.execute(select(SignerKey)).scalars()}
    assert signer_serials | {unit.serial_number} <= _dss_ocsp_serials(pdf)

    # Years after the signers' certificates expired (within the unit's five years), from the embedded data.
    later = verify_pdf(pdf, roots, validation_time=_expired_moment(app))
    assert later["valid_at"] is True, [s["at"] for s in later["signatures"]]
    assert all(s["at"]["method"] == "ades-with-time" for s in later["signatures"])
    # The same over REST: the stored file, and the file uploaded as an archivist would, as of that moment.
    at = {"at": _expired_moment(app).isoformat()}
    rest_later = as_user("secretary").get(f"/api/v1/minutes/{mid}/verification", query_string=at).json
    assert rest_later["valid_at"] is True and rest_later["validation_time"]
    uploaded = as_user("delegate").post("/api/v1/verification", query_string=at, data=pdf,
                                        content_type="application/pdf").json
    assert uploaded["valid_at"] is True
    assert as_user("secretary").get(f"/api/v1/minutes/{mid}/verification",
                                    query_string={"at": "yesterday"}).status_code == 422
    # Once the unit's certificate has expired too, nothing proves the timestamps any more.
    beyond = verify_pdf(pdf, roots, validation_time=unit.not_valid_after_utc + timedelta(days=30))
    assert beyond["valid_at"] is False
    # A timestamp alone is not enough: the file as the secretary's signature left it, before its DSS update,
    # is B-T and does not validate after expiry.
    from pyhanko.pdf_utils.reader import PdfFileReader

    first = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0].byte_range
    bare = verify_pdf(pdf[:first[2] + first[3]], roots, validation_time=_expired_moment(app))
    assert bare["signatures"][0]["level"] == "B-T" and bare["valid_at"] is False
    assert pdfsig_report(pdf, tmp_path).count("Signature Validation: Signature is Valid.") == 2


def _ocsp(client, cert_pem: str, issuer: x509.Certificate, *, get: bool = False):
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    der = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build().public_bytes(
        serialization.Encoding.DER)
    if get:
        r = client.get("/pki/ocsp/" + base64.b64encode(der).decode())
    else:
        r = client.post("/pki/ocsp", data=der, content_type="application/ocsp-request")
    assert r.status_code == 200 and r.mimetype == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(r.data)


def test_revocation(app, as_user, signers, client):
    world = signers
    mid, pdf = _signed(app, as_user, world)
    with app.app_context():
        sec, chair = (db.session.execute(select(SignerKey).where(SignerKey.user_id == u.id)).scalar_one()
                      for u in (world.secretary, world.chair))
        sec_id, sec_pem, chair_pem, sec_serial = sec.id, sec.certificate_pem, chair.certificate_pem, sec.serial
    ca = keys.load_ca_cert(app.config["INSTANCE_PATH"])
    assert _ocsp(client, sec_pem, ca).certificate_status == ocsp.OCSPCertStatus.GOOD

    cli = app.test_cli_runner()
    r = cli.invoke(args=["ca", "revoke", str(sec_id), "--reason", "key_compromise"])
    assert r.exit_code == 0, r.output
    assert cli.invoke(args=["ca", "revoke", str(sec_id)]).exit_code != 0  # already revoked

    answer = _ocsp(client, sec_pem, ca)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise
    (responder,) = answer.certificates  # signed by the CA's responder, which needs no revocation check itself
    responder.verify_directly_issued_by(ca)
    responder.public_key().verify(answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(),
                                  answer.signature_hash_algorithm)
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
    assert _ocsp(client, chair_pem, ca, get=True).certificate_status == ocsp.OCSPCertStatus.GOOD

    assert client.get("/pki/ca.crl").status_code == 404  # no CRL published yet
    r = cli.invoke(args=["ca", "crl", "--days", "30"], input=CA_PASS + "\n")
    assert r.exit_code == 0, r.output
    got = client.get("/pki/ca.crl")
    crl = x509.load_der_x509_crl(got.data)
    assert got.mimetype == "application/pkix-crl" and crl.is_signature_valid(ca.public_key())
    assert [format(e.serial_number, "x") for e in crl] == [sec_serial]

    # A new signature with the revoked key is refused; the one made before stays valid.
    v2 = as_user("secretary").post(f"/api/v1/minutes/{mid}/corrections", json={"reason": "Sửa lỗi"}).json
    assert as_user("secretary").post(f"/api/v1/minutes/{v2['id']}/finalize").status_code == 200
    r = _sign(as_user, "secretary", v2["id"], SECRETARY_PASS)
    assert r.status_code == 409 and r.json["error"]["code"] == "key_revoked"
    report = verify_pdf(pdf, _roots(app))
    assert report["valid"] and report["trusted"] and not report["tampered"]


def test_ocsp_refuses_what_is_not_ours(app, client, signers):
    bad = ocsp.load_der_ocsp_response(client.post("/pki/ocsp", data=b"junk").data)
    assert bad.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Someone else")])
    other = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(other_key.public_key())
             .serial_number(7).not_valid_before(datetime.now(UTC)).not_valid_after(datetime.now(UTC)
                                                                                    + timedelta(days=1))
             .sign(other_key, hashes.SHA256()))
    pem = other.public_bytes(serialization.Encoding.PEM).decode()
    assert _ocsp(client, pem, other).response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_renewal_adds_a_document_timestamp(app, as_user, signers, with_tsa, tmp_path):
    mid, pdf = _signed(app, as_user, signers)
    assert as_user("secretary").post(f"/api/v1/minutes/{mid}/publish").status_code == 200
    cli = app.test_cli_runner()
    r = cli.invoke(args=["minutes", "renew-timestamps", "--before", "30"])
    assert r.exit_code == 0 and "0 of 1" in r.output, r.output  # the TSA certificate holds until 2100
    assert _stored(app, mid) == pdf
    r = cli.invoke(args=["minutes", "renew-timestamps", "--before", "36500"])
    assert r.exit_code == 0 and "1 of 1" in r.output, r.output
    renewed = _stored(app, mid)
    assert renewed.startswith(pdf) and renewed != pdf  # an incremental update; the old file is kept
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "minutes.timestamp_renewed")
                                   ).scalar_one()
        assert entry.object_id == mid
    roots = _roots(app, [with_tsa["root"]])
    report = verify_pdf(renewed, roots, validation_time=_expired_moment(app))
    assert report["valid"] and not report["tampered"] and report["level"] == "B-LTA"
    assert len(report["document_timestamps"]) == 2 and all(t["intact"] for t in report["document_timestamps"])
    assert report["valid_at"] is True
    assert pdfsig_report(renewed, tmp_path).count("Signature Validation: Signature is Valid.") == 2
    assert verify_pdf(flip_byte(renewed, len(pdf) - 3000), roots)["tampered"]
    # The stored validation report now speaks of the renewed file.
    stored = as_user("secretary").get(f"/api/v1/minutes/{mid}/validation-report").json
    assert stored["file"]["sha256"] == hashlib.sha256(renewed).hexdigest()
    assert stored["verification"]["level"] == "B-LTA"


def test_missing_validation_reports_are_made_by_the_cli(app, as_user, signers):
    mid, pdf = _signed(app, as_user, signers)
    assert as_user("secretary").post(f"/api/v1/minutes/{mid}/publish").status_code == 200
    with app.app_context():  # as minutes published before reports existed are: none stored
        db.session.get(Minutes, mid).validation_sha256 = None
        db.session.commit()
    assert as_user("secretary").get(f"/api/v1/minutes/{mid}/validation-report").status_code == 409
    cli = app.test_cli_runner()
    r = cli.invoke(args=["minutes", "validation-reports"])
    assert r.exit_code == 0 and "1 report(s) made" in r.output, r.output
    stored = as_user("secretary").get(f"/api/v1/minutes/{mid}/validation-report").json
    assert stored["file"]["sha256"] == hashlib.sha256(pdf).hexdigest() and stored["verification"]["valid"]
    assert "0 report(s) made" in cli.invoke(args=["minutes", "validation-reports"]).output
    assert "1 report(s) made" in cli.invoke(args=["minutes", "validation-reports", "--all"]).output


def test_cli_verify_at(app, as_user, signers, with_tsa, tmp_path):
    mid, pdf = _signed(app, as_user, signers)
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    later = _expired_moment(app).strftime("%Y-%m-%dT%H:%M:%S")
    r = app.test_cli_runner().invoke(args=["minutes", "verify", str(path), "--at", later])
    assert r.exit_code == 0, r.output
    assert "document level: PAdES B-LTA" in r.output and "valid" in r.output


def test_responder_is_renewed_with_its_key_kept_private(app, signers):
    ca = keys.ca_dir(app.config["INSTANCE_PATH"])
    before = (ca / keys.RESPONDER_CERT).read_bytes()
    r = app.test_cli_runner().invoke(args=["ca", "responder"], input=CA_PASS + "\n")
    assert r.exit_code == 0 and "OCSP responder" in r.output, r.output
    assert (ca / keys.RESPONDER_CERT).read_bytes() != before
    assert (ca / keys.RESPONDER_KEY).stat().st_mode & 0o777 == 0o600
    assert (ca / keys.TIMESTAMP_KEY).stat().st_mode & 0o777 == 0o600
    unit, unit_key = keys.load_timestamp_unit(app.config["INSTANCE_PATH"])
    unit.verify_directly_issued_by(keys.load_ca_cert(app.config["INSTANCE_PATH"]))
    eku = unit.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [x509.ExtendedKeyUsageOID.TIME_STAMPING]
    usage = unit.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert unit.public_key().public_numbers() == unit_key.public_key().public_numbers()
    assert unit.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    assert unit.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    assert app.test_cli_runner().invoke(args=["ca", "responder"], input="wrong-pass\n").exit_code != 0
