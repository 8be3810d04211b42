"""The exports say what the record says, and the bag verifies alone.

A sitting run through the REST API (status changes, roll call, a proxy, a
named and a secret poll), minutes signed twice and published, then: votes.csv
and votes.json list each voter of the named poll (never of the secret one),
every timestamp in every export is ISO 8601 in UTC with its offset, the bag
has a README, carries the CA chain with which its signed minutes validate
offline, and carries the validation report made at publishing.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bagit
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from meetings.core.extensions import db
from meetings.minutes import keys
from meetings.minutes.models import Minutes
from meetings.minutes.report import render_html
from meetings.minutes.signers import issue_key
from meetings.minutes.verify import verify_pdf
from meetings.voting.models import BallotCast
from tests.minutes_support import CA_PASS, CHAIR_PASS, SECRETARY_PASS, pki  # noqa: F401
from tests.test_voting_support import close_secret, open_poll, vote

NAMED = "Thông qua Đề án phát triển đô thị"
SECRET = "Bầu Trưởng ban"
# Anything that looks like a date and a time of day, however written.
LOOKS_LIKE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00$")


def _status(client, meeting_id: int, status: str) -> None:
    r = client.post(f"/api/v1/meetings/{meeting_id}/status", json={"status": status})
    assert r.status_code == 200, r.json


@pytest.fixture
def published(app, world, as_user, pki):  # noqa: F811
    """A sitting through the API, its minutes signed by secretary and chair and published."""
    shutil.copytree(pki["instance"] / "ca", app.config["INSTANCE_PATH"] + "/ca")
    app.config["MINUTES_FONT_CACHE"] = str(pki["instance"] / "fonts")
    with app.app_context():
        issue_key(db.session, app.config, world.secretary, ca_passphrase=CA_PASS, passphrase=SECRETARY_PASS)
        issue_key(db.session, app.config, world.chair, ca_passphrase=CA_PASS, passphrase=CHAIR_PASS)
        db.session.commit()
    w, mid = world, world.meeting.id
    sec, chair = as_user("secretary"), as_user("chair")
    _status(chair, mid, "in_progress")
    for name, status in (("chair", "present"), ("secretary", "present"), ("delegate", "present"),
                         ("delegate2", "excused"), ("observer", "remote")):
        body = {"status": status, **({"reason": "Đi công tác"} if status == "excused" else {})}
        assert sec.put(f"/api/v1/meetings/{mid}/attendance/{w.users[name].id}", json=body).status_code == 200
    r = as_user("delegate2").post(f"/api/v1/meetings/{mid}/proxies", json={"holder_id": w.delegate.id})
    assert r.status_code == 201, r.json
    named = open_poll(as_user, w, title=NAMED, agenda_item_id=w.items[0].id)
    for name, choice in (("chair", "for"), ("secretary", "for"), ("delegate", "against")):
        assert vote(as_user, name, named, choice).status_code == 201
    assert vote(as_user, "delegate", named, "for", on_behalf_of=w.delegate2.id).status_code == 201
    assert chair.post(f"/api/v1/polls/{named['id']}/close").status_code == 200
    secret = open_poll(as_user, w, title=SECRET, secret=True)
    for name, choice in (("chair", "for"), ("secretary", "against"), ("delegate", "for")):
        assert vote(as_user, name, secret, choice).status_code == 201
    assert close_secret(as_user, w, secret)["status"] == "closed"
    _status(chair, mid, "adjourned")
    _status(sec, mid, "closed")
    m = sec.post(f"/api/v1/meetings/{mid}/minutes", json={}).json
    assert sec.post(f"/api/v1/minutes/{m['id']}/finalize").status_code == 200
    assert sec.post(f"/api/v1/minutes/{m['id']}/signatures", json={"secret": SECRETARY_PASS}).status_code == 201
    assert chair.post(f"/api/v1/minutes/{m['id']}/signatures", json={"secret": CHAIR_PASS}).status_code == 201
    assert sec.post(f"/api/v1/minutes/{m['id']}/publish").status_code == 200
    return {"world": w, "minutes": sec.get(f"/api/v1/minutes/{m['id']}").json, "named": named, "secret": secret,
            "ca_pem": (pki["instance"] / "ca" / "root.pem").read_bytes()}


@pytest.fixture
def bag(published, as_user, tmp_path) -> Path:
    """The meeting's bag, unzipped and validated; its data/ folder."""
    mid = published["world"].meeting.id
    r = as_user("archivist").get(f"/api/v1/meetings/{mid}/bundle")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        zf.extractall(tmp_path / "bag")
    bagit.Bag(str(tmp_path / "bag" / f"meeting-{mid}")).validate()
    return tmp_path / "bag" / f"meeting-{mid}" / "data"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


def test_votes_list_each_voter_of_named_polls_and_only_counts_of_secret_ones(published, bag, app):
    w = published["world"]
    rows = _csv_rows(bag / "votes.csv")
    ballots = [r for r in rows if r["row"] == "ballot"]
    assert {r["poll_title"] for r in ballots} == {NAMED}  # not one ballot row of the secret poll
    got = sorted((r["voter"], r["cast_by"], r["by_proxy_for"], r["choices"], r["weight"]) for r in ballots)
    assert got == sorted([
        ("Người dùng chair", "Người dùng chair", "", "Tán thành", "1"),
        ("Người dùng secretary", "Người dùng secretary", "", "Tán thành", "1"),
        ("Người dùng delegate", "Người dùng delegate", "", "Không tán thành", "1"),
        ("Người dùng delegate2", "Người dùng delegate", "Người dùng delegate2", "Tán thành", "1")])
    with app.app_context():
        cast = {b.voter_id: b.cast_at for b in db.session.execute(
            select(BallotCast).where(BallotCast.poll_id == published["named"]["id"])).scalars()}
    for r in ballots:
        assert datetime.fromisoformat(r["cast_at"]) == cast[int(r["voter_id"])]
    secret_rows = [r for r in rows if r["poll_title"] == SECRET]
    assert {r["row"] for r in secret_rows} == {"option"}
    assert sum(int(r["count"]) for r in secret_rows) == 3
    assert all(not r["voter"] and not r["choices"] and not r["cast_at"] for r in secret_rows)
    named_counts = {r["option"]: int(r["count"]) for r in rows if r["poll_title"] == NAMED and r["row"] == "option"}
    assert named_counts["Tán thành"] == 3 and named_counts["Không tán thành"] == 1

    polls = {p["title"]: p for p in json.loads((bag / "votes.json").read_text("utf-8"))}
    assert polls[SECRET]["named_votes"] is None
    proxy = next(v for v in polls[NAMED]["named_votes"] if v["by_proxy_for"])
    assert proxy["voter_name"] == w.delegate2.full_name and proxy["cast_by_name"] == w.delegate.full_name
    assert datetime.fromisoformat(proxy["cast_at"]) == cast[w.delegate2.id]


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_every_timestamp_in_every_export_is_iso_8601_utc(published, bag, as_user):
    seen: dict[str, int] = {}

    def check(where: str, values) -> None:
        for v in values:
            if LOOKS_LIKE_TIME.search(v):
                assert ISO_UTC.match(v), f"{where}: {v!r}"
                seen[where] = seen.get(where, 0) + 1

    for path in sorted(bag.rglob("*.json")):
        check(path.name, _strings(json.loads(path.read_text("utf-8"))))
    for line in (bag / "audit-log.jsonl").read_text("utf-8").splitlines():
        entry = json.loads(line)
        check("audit-log.jsonl", [entry["at"]])
        assert re.match(r".*T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$", entry["at"])  # the precision the chain hashes
        check("audit-log.jsonl details", _strings(entry["details"]))
    for path in sorted(bag.glob("*.csv")):
        check(path.name, [cell for row in csv.reader(io.StringIO(path.read_text("utf-8-sig"))) for cell in row])
    # The poll exports of the voting domain too.
    chair = as_user("chair")
    for poll in (published["named"], published["secret"]):
        check("results.json", _strings(chair.get(f"/api/v1/polls/{poll['id']}/results.json").json))
        text = chair.get(f"/api/v1/polls/{poll['id']}/results.csv").get_data(as_text=True).lstrip("\ufeff")
        check("results.csv", [cell for row in csv.reader(io.StringIO(text)) for cell in row])
    for where in ("attendance.json", "attendance.csv", "votes.json", "votes.csv", "meeting.json", "audit-log.jsonl",
                  "bien-ban-v1.validation.json", "results.json", "results.csv"):
        assert seen.get(where), f"no timestamp checked in {where}"
    meta = json.loads((bag / "meeting.json").read_text("utf-8"))
    assert len(meta["sittings"]) == 1 and meta["sittings"][0]["ended_at"] and meta["closed_at"]


def test_each_secret_poll_comes_with_its_bulletin_board_and_a_verifier_that_runs_alone(published, bag, tmp_path):
    """polls/<id>/: the board and the stand-alone verifier; run from a copy of that folder alone (no
    project on the path), it says OK; a ballot changed in the board, and it fails."""
    secret_id = published["secret"]["id"]
    assert sorted(p.name for p in (bag / "polls").iterdir()) == [str(secret_id)]  # a named poll has none
    folder = bag / "polls" / str(secret_id)
    assert sorted(p.name for p in folder.iterdir()) == ["bulletin-board.json", "elgamal.py", "elgamal_dkg.py",
                                                        "verify_board.py"]
    board = json.loads((folder / "bulletin-board.json").read_text("utf-8"))
    assert board["poll"]["id"] == secret_id and board["voters"] == 3 and len(board["ballots"]) == 3
    assert board["result"] == {"counts": [2, 1, 0]}
    alone = tmp_path / "alone"
    shutil.copytree(folder, alone)

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "verify_board.py", "bulletin-board.json"], cwd=alone,
                              capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})

    ok = run()
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    board["ballots"][0]["ballot"]["ciphertexts"][0]["a"], board["ballots"][1]["ballot"]["ciphertexts"][0]["a"] = (
        board["ballots"][1]["ballot"]["ciphertexts"][0]["a"], board["ballots"][0]["ballot"]["ciphertexts"][0]["a"])
    (alone / "bulletin-board.json").write_text(json.dumps(board), "utf-8")
    bad = run()
    assert bad.returncode == 1 and "FAILED" in bad.stdout, bad.stdout + bad.stderr


def _readme_names_each_file(bag: Path) -> None:
    readme = (bag / "README.txt").read_text("utf-8")
    assert "=== Tiếng Việt ===" in readme and "=== English ===" in readme
    names = {p.name for p in bag.iterdir() if p.is_file() and p.name != "README.txt"} | {"trust/ca-chain.pem"}
    names |= {re.sub(r"v\d+", "v<n>", p.name) for p in (bag / "minutes").iterdir()}
    for name in names:
        assert name in readme, name
    assert "bagit --validate" in readme and "+00:00" in readme


def test_the_bag_alone_says_what_it_holds_and_validates_the_minutes_offline(published, bag, app):
    _readme_names_each_file(bag)
    chain = (bag / "trust" / "ca-chain.pem").read_bytes()
    assert chain == published["ca_pem"]
    roots = x509.load_pem_x509_certificates(chain)
    pdf = (bag / "minutes" / "bien-ban-v1.pdf").read_bytes()
    report = verify_pdf(pdf, roots)
    assert report["valid"] and report["trusted"] and not report["tampered"]
    assert [s["role"] for s in report["signatures"]] == ["secretary", "chair"]
    # Without the bag's chain the same signatures are intact but not trusted: the chain is what anchors them.
    assert not verify_pdf(pdf, [_other_root()])["trusted"]
    # Decades on, once the signers' certificates have expired, the bag alone still proves the signatures:
    # the file carries its timestamps and revocation data (B-LT), the bag the chain.
    from meetings.minutes.models import SignerKey

    with app.app_context():
        expired = max(k.not_after for k in db.session.execute(select(SignerKey)).scalars()) + timedelta(days=30)
    later = verify_pdf(pdf, roots, validation_time=expired)
    assert report["level"] == "B-LT" and later["valid_at"] is True, [s.get("at") for s in later["signatures"]]
    meta = json.loads((bag / "meeting.json").read_text("utf-8"))
    assert [r["sha256_fingerprint"] for r in meta["trust_roots"]] == [keys.fingerprint(roots[0])]


def test_the_validation_report_is_stored_served_and_bagged(published, bag, as_user, app):
    m = published["minutes"]
    r = as_user("delegate").get(f"/api/v1/minutes/{m['id']}/validation-report")
    assert r.status_code == 200 and r.mimetype == "application/json"
    report = json.loads(r.data)
    with app.app_context():
        stored = db.session.get(Minutes, m["id"]).validation_sha256
    assert hashlib.sha256(r.data).hexdigest() == stored  # content-addressed
    assert (bag / "minutes" / "bien-ban-v1.validation.json").read_bytes() == r.data
    assert report["file"] == {"name": "bien-ban-v1.pdf", "sha256": m["sha256"], "size": m["size"],
                              "matches_record": True}
    v = report["verification"]
    assert v["valid"] and v["trusted"] and [s["signer"] for s in v["signatures"]] == [
        "Người dùng secretary", "Người dùng chair"]
    ca = x509.load_pem_x509_certificate(published["ca_pem"])
    assert [t["sha256_fingerprint"] for t in report["trust_roots"]] == [keys.fingerprint(ca)]
    assert report["trust_roots"][0]["source"] == "organization_ca"
    validated = datetime.fromisoformat(report["validated_at"])
    assert validated.utcoffset() == timedelta(0) and abs(datetime.now(UTC) - validated) < timedelta(minutes=5)
    assert report["validator"]["pyhanko"]

    page = as_user("archivist").get(f"/api/v1/minutes/{m['id']}/validation-report?format=html")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert (bag / "minutes" / "bien-ban-v1.validation.html").read_text("utf-8") == text
    for label in ("Báo cáo kiểm tra chữ ký số", "Signature validation report", "Người ký", "Signer",
                  "Dấu vân tay SHA-256", m["sha256"], keys.fingerprint(ca), "Người dùng chair"):
        assert label in text, label
    assert as_user("outsider").get(f"/api/v1/minutes/{m['id']}/validation-report").status_code == 404
    audit = [json.loads(x) for x in (bag / "audit-log.jsonl").read_text("utf-8").splitlines()]
    [validated_entry] = [e for e in audit if e["action"] == "minutes.validated"]
    assert validated_entry["details"]["report_sha256"] == stored


def test_the_report_page_escapes_and_shows_keys_it_does_not_know():
    page = render_html({"minutes": {"meeting_title": "<b>Họp</b> & bàn"}, "file": {"sha256": "ab"},
                        "verification": {"valid": True, "level": "B-LT", "new_key": "<i>x</i>",
                                         "signatures": [{"signer": "<script>alert(1)</script>", "role": "chair"}]}})
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Họp" not in page and "&lt;b&gt;Họp&lt;/b&gt; &amp; bàn" in page
    assert "Mức chữ ký (PAdES)" in page and "B-LT" in page and "<code>new_key</code>" in page
    assert "&lt;i&gt;x&lt;/i&gt;" in page and "Chủ tọa" in page


def _other_root(path: Path | None = None) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Một CA khác")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    if path is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert


def test_the_ca_chain_is_downloadable(app, world, as_user, pki, tmp_path):  # noqa: F811
    r = as_user("delegate").get("/api/v1/ca/chain")
    assert r.status_code == 404 and r.json["error"]["code"] == "no_ca"
    assert app.test_cli_runner().invoke(args=["ca", "export"]).exit_code != 0
    shutil.copytree(pki["instance"] / "ca", app.config["INSTANCE_PATH"] + "/ca")
    ca_pem = (pki["instance"] / "ca" / "root.pem").read_bytes()
    assert as_user(None).get("/api/v1/ca/chain").status_code == 401
    r = as_user("delegate").get("/api/v1/ca/chain")
    assert r.status_code == 200 and r.mimetype == "application/pem-certificate-chain" and r.data == ca_pem
    # Extra roots come after the organization CA, each once.
    extra = _other_root(tmp_path / "extra.pem")
    app.config["MINUTES_TRUST_ROOTS"] = [str(tmp_path / "extra.pem"), str(tmp_path / "extra.pem")]
    pem = as_user("observer").get("/api/v1/ca/chain").data
    fingerprints = [keys.fingerprint(c) for c in x509.load_pem_x509_certificates(pem)]
    ca = x509.load_pem_x509_certificate(ca_pem)
    assert fingerprints == [keys.fingerprint(ca), keys.fingerprint(extra)]
    der = as_user("archivist").get("/api/v1/ca/chain?format=der")
    assert der.status_code == 200 and der.mimetype == "application/pkcs7-mime"
    # A PKCS#7 certificate set has no order (DER sorts it): the same certificates.
    assert sorted(keys.fingerprint(c) for c in pkcs7.load_der_pkcs7_certificates(der.data)) == sorted(fingerprints)
    # The CLI writes the same chain.
    out = tmp_path / "chain.pem"
    done = app.test_cli_runner().invoke(args=["ca", "export", str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == pem
    done = app.test_cli_runner().invoke(args=["ca", "export"])
    assert done.exit_code == 0 and done.stdout_bytes == pem
    # And the archive page links it.
    page = as_user("archivist").get("/archive").get_data(as_text=True)
    assert 'href="/api/v1/ca/chain"' in page
