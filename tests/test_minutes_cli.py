"""`flask ca …` and `flask minutes verify`: passphrases by hidden prompt, clear exits."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from meetings.core.extensions import db
from meetings.minutes import signing
from meetings.minutes.compose import compose
from meetings.minutes.models import SignerKey
from tests.minutes_support import add_annotation, small_record


def _cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_ca_init_issue_sign_and_verify(app, world, tmp_path):
    r = _cli(app, "ca", "list")
    assert r.exit_code == 0 and "(none" in r.output
    r = _cli(app, "ca", "init", "--organization", "UBND tỉnh Thử Nghiệm", input="short\nshort\n")
    assert r.exit_code != 0 and "at least 8" in r.output
    r = _cli(app, "ca", "init", "--organization", "UBND tỉnh Thử Nghiệm", input="ca-secret-1\nca-secret-1\n")
    assert r.exit_code == 0, r.output
    assert "ca-secret-1" not in r.output
    r = _cli(app, "ca", "init", "--organization", "Again", input="ca-secret-2\nca-secret-2\n")
    assert r.exit_code != 0 and "already exists" in r.output
    r = _cli(app, "ca", "issue", "secretary", input="wrong-ca-pass\nsigner-pass-1\nsigner-pass-1\n")
    assert r.exit_code != 0 and "Wrong CA passphrase" in r.output
    r = _cli(app, "ca", "issue", "nobody", input="ca-secret-1\nsigner-pass-1\nsigner-pass-1\n")
    assert r.exit_code != 0 and "no user" in r.output
    r = _cli(app, "ca", "issue", "secretary", "--organization", "UBND",
             input="ca-secret-1\nsigner-pass-1\nsigner-pass-1\n")
    assert r.exit_code == 0, r.output
    with app.app_context():
        key = db.session.execute(select(SignerKey)).scalar_one()
        assert key.user_id == world.secretary.id and key.kind == "pkcs12" and key.source == "issued"
        key_path = key.path
    assert "Người dùng secretary" in _cli(app, "ca", "list").output

    composed = compose(small_record())
    pdf = signing.sign(signing.add_signature_fields(composed.pdf, composed.boxes), role="secretary",
                       spec=signing.KeySpec("pkcs12", key_path), secret="signer-pass-1",
                       signer_name="Người dùng secretary", font_cache=tmp_path / "fonts",
                       signed_at=datetime.now(UTC))
    good = tmp_path / "good.pdf"
    good.write_bytes(pdf)
    r = _cli(app, "minutes", "verify", str(good))
    assert r.exit_code == 0, r.output
    assert "Người dùng secretary (secretary)" in r.output and "trusted: yes" in r.output
    assert "all signatures valid and trusted" in r.output
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(add_annotation(pdf))
    r = _cli(app, "minutes", "verify", str(bad))
    assert r.exit_code == 1 and "TAMPERED" in r.output and "NOT ALLOWED" in r.output
    r = _cli(app, "minutes", "verify", "--json", str(bad))
    assert r.exit_code == 1 and '"tampered": true' in r.output
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"hello")
    r = _cli(app, "minutes", "verify", str(junk))
    assert r.exit_code == 1 and "cannot verify" in r.output


def test_import_external_pkcs12(app, world, tmp_path):
    from tests.test_minutes_signing import _external_pkcs12

    data, _ = _external_pkcs12(b"external-pass")
    p12 = tmp_path / "ext.p12"
    p12.write_bytes(data)
    r = _cli(app, "ca", "import", "chair", str(p12), input="wrong\n")
    assert r.exit_code != 0 and "does not open" in r.output
    r = _cli(app, "ca", "import", "chair", str(p12), input="external-pass\n")
    assert r.exit_code == 0, r.output
    with app.app_context():
        key = db.session.execute(select(SignerKey)).scalar_one()
        assert key.source == "imported" and Path(key.path).read_bytes() == data
    r = _cli(app, "ca", "import", "chair", str(p12), input="external-pass\n")
    assert r.exit_code != 0 and "already" in r.output
