"""Organization CA, PKCS#12 signing, and verification by pyHanko and by poppler's pdfsig."""
from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from meetings.core.errors import Conflict, Invalid
from meetings.minutes import keys, signing
from meetings.minutes.compose import compose
from meetings.minutes.verify import verify_pdf
from tests.minutes_support import (
    CHAIR_PASS,
    SECRETARY_PASS,
    add_annotation,
    flip_byte,
    nss_db_trusting,
    pdfsig_report,
    pdftotext,
    pki,  # noqa: F401  (fixture)
    small_record,
)


def _sign(pdf: bytes, role: str, key: keys.IssuedKey, secret: str, name: str, inst) -> bytes:
    return signing.sign(pdf, role=role, spec=signing.KeySpec("pkcs12", str(key.path)), secret=secret,
                        signer_name=name, font_cache=inst / "fonts", signed_at=datetime.now(UTC))


@pytest.fixture(scope="module")
def signed(pki):  # noqa: F811
    composed = compose(small_record())
    prepared = signing.add_signature_fields(composed.pdf, composed.boxes)
    one = _sign(prepared, "secretary", pki["secretary"], SECRETARY_PASS, "Phạm Quốc Việt", pki["instance"])
    two = _sign(one, "chair", pki["chair"], CHAIR_PASS, "Lê Thị Thu Hằng", pki["instance"])
    return {"prepared": prepared, "one": one, "two": two, **pki}


def _roots(pki):  # noqa: F811
    return keys.trust_roots(pki["instance"])


def test_both_signatures_validate_with_pyhanko(signed):
    report = verify_pdf(signed["two"], _roots(signed))
    assert report["intact"] and report["valid"] and report["trusted"] and not report["tampered"]
    first, second = report["signatures"]
    assert (first["role"], first["signer"]) == ("secretary", "Phạm Quốc Việt")
    assert (second["role"], second["signer"]) == ("chair", "Lê Thị Thu Hằng")
    assert first["certifying"] and first["docmdp"] == "FILL_FORMS"
    assert not second["certifying"]
    # The secretary's signature is followed by the chair's form filling, which the certification allows.
    assert first["modified_after"] and first["modification_level"] == "FORM_FILLING" and first["changes_allowed"]
    assert second["coverage"] == "ENTIRE_FILE" and not second["modified_after"]
    assert (first["covers_revision"], second["covers_revision"], second["revisions"]) == (3, 4, 4)


def test_signatures_are_incremental_updates(signed):
    assert signed["one"].startswith(signed["prepared"])
    assert signed["two"].startswith(signed["one"])


def test_both_signatures_validate_with_pdfsig(signed, tmp_path):
    out = pdfsig_report(signed["two"], tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 2
    assert "Signer Certificate Common Name: Phạm Quốc Việt" in out
    assert "Signer Certificate Common Name: Lê Thị Thu Hằng" in out
    assert "Total document signed" in out
    nss = nss_db_trusting(signed["instance"] / "ca" / "root.pem", tmp_path / "nss")
    assert nss is not None  # nss_db_trusting skips (fails in CI) without certutil
    trusted = pdfsig_report(signed["two"], tmp_path, nss)
    assert trusted.count("Certificate Validation: Certificate is Trusted.") == 2


def test_one_changed_byte_is_reported_as_tampered(signed, tmp_path):
    bad = flip_byte(signed["two"])
    report = verify_pdf(bad, _roots(signed))
    assert report["tampered"] and not report["valid"]
    assert not any(s.get("intact") for s in report["signatures"])
    out = pdfsig_report(bad, tmp_path)
    assert "Signature is Valid" not in out
    assert "Digest Mismatch" in out or "Signature is Invalid" in out


def test_annotation_added_after_signing_shows(signed, tmp_path):
    bad = add_annotation(signed["two"])
    report = verify_pdf(bad, _roots(signed))
    assert report["tampered"] and not report["valid"]
    chair = report["signatures"][1]
    assert chair["intact"] and chair["modified_after"] and not chair["changes_allowed"]
    out = pdfsig_report(bad, tmp_path)
    assert "Total document signed" not in out  # poppler: the last signature no longer covers the file
    assert out.count("Not total document signed") == 2


def test_wrong_passphrase_is_refused(pki):  # noqa: F811
    composed = compose(small_record())
    prepared = signing.add_signature_fields(composed.pdf, composed.boxes)
    with pytest.raises(Invalid) as err:
        _sign(prepared, "secretary", pki["secretary"], "not-the-passphrase", "X", pki["instance"])
    assert err.value.code == "wrong_passphrase"


def test_stamp_uses_embedded_vietnamese_font(signed):
    import subprocess

    fonts = subprocess.run(["pdffonts", "-"], input=signed["two"], capture_output=True, check=True).stdout.decode()
    assert "DejaVuSerif" in fonts
    # The certified page still reads correctly after both signatures.
    assert "CHỦ TỌA" in pdftotext(signed["two"])


def test_ca_key_and_signer_keys_are_encrypted_and_private(pki):  # noqa: F811
    ca_key = (pki["instance"] / "ca" / keys.CA_KEY)
    assert b"ENCRYPTED PRIVATE KEY" in ca_key.read_bytes()
    for path in (ca_key, pki["secretary"].path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(pki["secretary"].path.read_bytes(), None)
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(pki["secretary"].path.read_bytes(), b"wrong")


def test_ca_is_not_overwritten_and_passphrases_must_be_strong(pki, tmp_path):  # noqa: F811
    with pytest.raises(Conflict):
        keys.init_ca(pki["instance"], "Other", "another-passphrase")
    with pytest.raises(Invalid):
        keys.init_ca(tmp_path / "new", "Org", "short")
    with pytest.raises(Invalid) as err:
        keys.issue_pkcs12(pki["instance"], "wrong-ca-pass", user_id=9, full_name="X", organization=None,
                          passphrase="long-enough-1")
    assert err.value.code == "wrong_passphrase"
    with pytest.raises(Invalid):
        keys.issue_pkcs12(pki["instance"], "ca-passphrase-1", user_id=9, full_name="X", organization=None,
                          passphrase="short")


def _external_pkcs12(passphrase: bytes) -> tuple[bytes, x509.Certificate]:
    """A self-made CA and signer outside the organization, as an imported PKCS#12 would be."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA bên ngoài")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Phạm Quốc Việt (ngoài)")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    data = pkcs12.serialize_key_and_certificates(b"ext", key, cert, [ca],
                                                 serialization.BestAvailableEncryption(passphrase))
    return data, ca


def test_imported_pkcs12_signs_and_is_trusted_only_with_its_root(pki, tmp_path):  # noqa: F811
    data, ext_ca = _external_pkcs12(b"external-pass")
    with pytest.raises(Invalid):
        keys.import_pkcs12(pki["instance"], data, "wrong", user_id=7)
    imported = keys.import_pkcs12(pki["instance"], data, "external-pass", user_id=7)
    composed = compose(small_record())
    pdf = _sign(signing.add_signature_fields(composed.pdf, composed.boxes), "secretary", imported,
                "external-pass", "Phạm Quốc Việt", pki["instance"])
    report = verify_pdf(pdf, keys.trust_roots(pki["instance"]))
    assert report["valid"] and not report["trusted"] and not report["tampered"]
    extra = tmp_path / "extra.pem"
    extra.write_bytes(ext_ca.public_bytes(serialization.Encoding.PEM))
    assert verify_pdf(pdf, keys.trust_roots(pki["instance"], [str(extra)]))["trusted"]


@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.7\n garbage \x00\xff", b"%PDF-1.4\n%%EOF"])
def test_broken_files_are_reported_not_raised(data, pki):  # noqa: F811
    report = verify_pdf(data, keys.trust_roots(pki["instance"]))
    assert not report["valid"] and not report["signed"]
