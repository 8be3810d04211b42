"""A fuzz pass over PDF intake: ~100 mutated PDFs uploaded through the REST route.

Valid PDFs (tests/pdfs.py) are mutated with a fixed seed — byte flips, truncations, splices, duplicated
objects, bogus xref offsets, huge /Length values, deep nesting, broken page trees — and each is uploaded
as the secretary through ``POST /api/v1/meetings/<id>/documents`` (the check runs in a child process
under PDF_CHECK_SECONDS = 5, see tests/fuzz/conftest.py). Every answer must be 201 or a clear 4xx JSON
error with a known refusal code (never a 500), a refused file must leave nothing in storage (no blob,
nothing in tmp/), an accepted one is stored under its sha256, and the server keeps answering.
"""
from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from meetings.documents.intake import REFUSALS
from meetings.documents.storage import blob_path
from tests import pdfs
from tests.fuzz.conftest import seed_world
from tests.pdfs import upload

SEED = 20261127
MUTATIONS = 100

Mutator = Callable[[random.Random, bytes, list[bytes]], bytes]


def _seeds() -> list[bytes]:
    form = pdfs.raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /XObject << /X1 5 0 R >> >> >>",
        pdfs._stream(b"q /X1 Do Q"),
        pdfs._stream(b"BT /F1 12 Tf 72 720 Td (form) Tj ET", "/Type /XObject /Subtype /Form /BBox [0 0 595 842] "),
    ])
    return [pdfs.simple_pdf(2), pdfs.simple_pdf(3, compress=False), pdfs.noise_pdf(1, image_px=40), form]


def flip_bytes(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 40)):
        out[rng.randrange(8, len(out))] = rng.randrange(256)  # keep the %PDF- header
    return bytes(out)


def truncate_keep_eof(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    return data[: rng.randrange(16, len(data))] + b"\n%%EOF\n"


def truncate(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    return data[: rng.randrange(1, len(data))]


def splice(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    other = rng.choice(others)
    return data[: rng.randrange(16, len(data))] + other[rng.randrange(0, len(other)):]


def duplicate_object(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    objects = list(re.finditer(rb"\d+ 0 obj.*?endobj", data, re.S))
    if not objects:
        return data + data
    obj = rng.choice(objects).group(0)
    at = rng.choice([m.end() for m in objects])
    return data[:at] + b"\n" + obj * rng.randint(1, 50) + data[at:]


def bogus_startxref(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    value = rng.choice([b"0", b"-1", b"99999999999999999999", str(rng.randrange(len(data))).encode(), b"abc"])
    return re.sub(rb"startxref\s+\d+", b"startxref\n" + value, data)


def bogus_xref_entries(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    return re.sub(rb"(\d{10}) (\d{5}) n", lambda m: f"{rng.randrange(10**10):010d} {m.group(2).decode()} n".encode(),
                  data)


def huge_length(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    value = rng.choice([b"99999999999", b"-5", b"2147483648", b"1e308", b"0", b"9" * 400])
    return re.sub(rb"/Length \d+", b"/Length " + value, data, count=rng.randint(1, 3))


def deep_nesting(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    depth = rng.choice([500, 5_000, 50_000])
    opener, closer = rng.choice([(b"[", b"]"), (b"<< /A ", b" >>")])
    nested = opener * depth + b"0" + closer * depth
    return data.replace(b"/Type /Catalog", b"/Type /Catalog /Deep " + nested, 1)


def broken_page_tree(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    choice = rng.choice([b"/Count 999999999", b"/Count -1", b"/Kids 3 0 R", b"/Kids [999 0 R]", b"/Count 0"])
    key = choice.split()[0]
    return re.sub(re.escape(key) + rb" (\[[^\]]*\]|-?\d+)", choice, data, count=1)


def garbage_streams(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    def fill(m: re.Match) -> bytes:
        return m.group(1) + rng.randbytes(len(m.group(2))) + m.group(3)

    return re.sub(rb"(stream\r?\n)(.*?)(\r?\nendstream)", fill, data, count=rng.randint(1, 5), flags=re.S)


MUTATORS: list[Mutator] = [flip_bytes, truncate_keep_eof, truncate, splice, duplicate_object, bogus_startxref,
                           bogus_xref_entries, huge_length, deep_nesting, broken_page_tree, garbage_streams]


def mutations() -> list[tuple[str, bytes]]:
    """MUTATIONS (name, bytes) pairs, the same on every run (fixed seed)."""
    rng = random.Random(SEED)
    seeds = _seeds()
    out = []
    for n in range(MUTATIONS):
        mutator = MUTATORS[n % len(MUTATORS)]
        data = rng.choice(seeds)
        for _ in range(rng.choice([1, 1, 2])):
            data = mutator(rng, data, seeds)
        out.append((f"{n:03d}-{mutator.__name__}", data))
    return out


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


@pytest.fixture(scope="module")
def intake_world(fuzz_app, sample_blob):
    with fuzz_app.app_context():
        seeded = seed_world(fuzz_app, sample_blob)
    client = fuzz_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {seeded.tokens['secretary']}"
    return seeded, client


def test_mutated_pdfs_get_clear_answers_and_leave_no_refused_file(fuzz_app, intake_world):
    seeded, client = intake_world
    storage = Path(fuzz_app.config["STORAGE_PATH"])
    blobs_before = _files(storage / "blobs")
    accepted: set[str] = set()
    problems: list[str] = []
    outcomes: dict[str, int] = {}
    for name, data in mutations():
        sha = hashlib.sha256(data).hexdigest()
        existed = blob_path(storage, sha).exists()
        r = upload(client, seeded.meeting_id, data, filename=f"{name}.pdf")
        body = r.get_json(silent=True)
        key = "201" if r.status_code == 201 else f"{r.status_code} {(body or {}).get('error', {}).get('code')}"
        outcomes[key] = outcomes.get(key, 0) + 1
        if r.status_code == 201:
            # Both the upload as received (kept for the archive) and the disarmed copy served to tablets.
            accepted |= {sha, body["sha256"]}
            if body.get("original_sha256") != sha:
                problems.append(f"{name}: the original is not the upload")
            for kept in (sha, body["sha256"]):
                if not blob_path(storage, kept).exists():
                    problems.append(f"{name}: accepted but {kept} not stored")
        elif not (isinstance(body, dict) and isinstance(body.get("error"), dict)
                  and REFUSALS.get(body["error"].get("code")) == r.status_code and 400 <= r.status_code < 500):
            problems.append(f"{name}: {r.status_code} {r.get_data()[:300]!r}")
        elif blob_path(storage, sha).exists() and not existed:
            problems.append(f"{name}: refused ({body['error']['code']}) but stored")
        if _files(storage / "tmp"):
            problems.append(f"{name}: left {sorted(map(str, _files(storage / 'tmp')))} in tmp/")
    stored = {p.stem for p in _files(storage / "blobs") - blobs_before}
    assert not problems, "\n".join(problems)
    assert stored <= accepted, f"refused files in storage: {stored - accepted}"
    # Both kinds of answer occurred: the mutations reach the parser, not only the quick checks.
    assert outcomes.get("201", 0) > 0 and sum(n for k, n in outcomes.items() if k.startswith("422")) > 0, outcomes
    # The server still answers after the whole pass.
    r = client.get(f"/api/v1/meetings/{seeded.meeting_id}/documents")
    assert r.status_code == 200 and len(r.get_json()) == 1 + outcomes.get("201", 0), outcomes
