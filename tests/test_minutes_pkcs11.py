"""Signing with a key that never leaves a PKCS#11 token (SoftHSM2), certified by the organization CA."""
from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from meetings.core.errors import Invalid
from meetings.minutes import keys, signing
from meetings.minutes.compose import compose
from meetings.minutes.verify import verify_pdf
from tests.minutes_support import CA_PASS, SECRETARY_PASS, pdfsig_report, pki, small_record  # noqa: F401
from tests.tools import require_tool

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN, SO_PIN, LABEL, KEY = "246810", "13579111", "bien-ban", "chu-toa"



@pytest.fixture(autouse=True, scope="module")
def _softhsm():
    """Every test here needs SoftHSM2: skipped without it, failed under CI=true (tests/tools.py)."""
    require_tool("softhsm2-util", install="softhsm2")
    require_tool("SoftHSM2", present=os.path.exists(MODULE), why=f"no {MODULE}", install="softhsm2")


@pytest.fixture(scope="module")
def token(tmp_path_factory, pki):  # noqa: F811
    """A fresh SoftHSM2 token with an RSA key generated on it and the CA's certificate for that key."""
    import pkcs11
    from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass

    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", LABEL, "--pin", PIN, "--so-pin", SO_PIN],
                   check=True, capture_output=True)
    tok = pkcs11.lib(MODULE).get_token(token_label=LABEL)
    with tok.open(rw=True, user_pin=PIN) as s:
        pub, _priv = s.generate_keypair(KeyType.RSA, 2048, label=KEY, id=b"\x01", store=True)
        public_key = rsa.RSAPublicNumbers(int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big"),
                                          int.from_bytes(pub[Attribute.MODULUS], "big")).public_key()
        cert = keys.issue_certificate(pki["instance"], CA_PASS, public_key, full_name="Lê Thị Thu Hằng",
                                      organization="UBND")
        s.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.LABEL: KEY, Attribute.ID: b"\x01",
            Attribute.SUBJECT: cert.subject.public_bytes(),
            Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER)})
    yield {"cert": cert, "conf": conf, **pki}
    if old is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = old


def _spec() -> signing.KeySpec:
    return signing.KeySpec("pkcs11", module=MODULE, token_label=LABEL, key_label=KEY)


def test_certificate_is_read_from_the_token_without_a_pin(token):
    from meetings.minutes.pkcs11 import read_certificate

    cert = read_certificate(MODULE, LABEL, KEY)
    assert isinstance(cert, x509.Certificate) and cert == token["cert"]
    assert read_certificate(MODULE, LABEL, "no-such-key") is None
    with pytest.raises(Invalid) as err:
        read_certificate(MODULE, "no-such-token", KEY)
    assert err.value.code == "no_token"


def test_secretary_pkcs12_then_chair_token_both_validate(token, tmp_path):
    composed = compose(small_record())
    pdf = signing.add_signature_fields(composed.pdf, composed.boxes)
    one = signing.sign(pdf, role="secretary", spec=signing.KeySpec("pkcs12", str(token["secretary"].path)),
                       secret=SECRETARY_PASS, signer_name="Phạm Quốc Việt", font_cache=token["instance"] / "fonts",
                       signed_at=datetime.now(UTC))
    two = signing.sign(one, role="chair", spec=_spec(), secret=PIN, signer_name="Lê Thị Thu Hằng",
                       font_cache=token["instance"] / "fonts", signed_at=datetime.now(UTC))
    report = verify_pdf(two, keys.trust_roots(token["instance"]))
    assert report["valid"] and report["trusted"] and not report["tampered"]
    assert [s["signer"] for s in report["signatures"]] == ["Phạm Quốc Việt", "Lê Thị Thu Hằng"]
    out = pdfsig_report(two, tmp_path)
    assert out.count("Signature is Valid") == 2 and "Lê Thị Thu Hằng" in out


def test_wrong_pin_is_refused(token):
    composed = compose(small_record())
    pdf = signing.add_signature_fields(composed.pdf, composed.boxes)
    with pytest.raises(Invalid) as err:
        signing.sign(pdf, role="secretary", spec=_spec(), secret="000000", signer_name="X",
                     font_cache=token["instance"] / "fonts", signed_at=datetime.now(UTC))
    assert err.value.code == "wrong_pin"


def test_token_key_registered_by_cli(app, world, token):
    r = app.test_cli_runner().invoke(args=["ca", "token", "chair", "--module", MODULE, "--token-label", LABEL,
                                           "--key-label", KEY])
    assert r.exit_code == 0, r.output
    assert "Lê Thị Thu Hằng" in r.output
    r = app.test_cli_runner().invoke(args=["ca", "token", "chair", "--module", MODULE, "--token-label", LABEL,
                                           "--key-label", "missing"])
    assert r.exit_code != 0 and "No certificate" in r.output
