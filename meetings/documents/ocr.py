"""Scanned PDFs get a text layer: OCR (OCRmyPDF, tesseract ``vie+eng``) in the job queue.

At intake (``text_layer_at_intake``, called by ``service`` before the row is written) a
child process (``ocr_child.py``) counts the pages whose text is too short to read or
highlight; a document where at least ``OCR_SCAN_SHARE`` percent of them are such pages is a
scan: its row is written ``text_layer = "queued"`` and, once the upload's transaction
commits, the task ``documents.ocr`` is queued (``_queue_after_commit``). Delegates see the
image-only file at once.

The task, in steps that each commit on their own (a long OCR holds no transaction):

1. claim: ``queued`` or ``failed`` → ``running`` (one UPDATE: of two runs, one wins);
2. OCR the delivered (disarmed) file in a child process under time and memory limits; the
   result is a new blob, the **rendition** (``ocr_sha256``). The stored files are never
   rewritten: a signed upload keeps its original and its delivered copy byte for byte;
3. ``ready`` with the rendition, or ``failed`` with the reason (``ocr_error``) and another
   attempt after the queue's back-off (``jobs.backoff_delay``), at most ``OCR_ATTEMPTS``.

Each change is announced after its commit as ``document.text_layer`` (docs/realtime.md):
to the meeting's room when delegates may see the document (published, meeting not a draft,
the rule of ``document.published``), and always to the meeting's managers. From ``ready``
on, delivery serves the rendition (``delivery.served_sha256``). A periodic sweep queues
again what was committed ``queued`` but never handed to the queue, and a run cut short
(its consumer died) once its lease ran out.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from meetings.bodies.models import Meeting
from meetings.core.db import ends_savepoint, utcnow
from meetings.documents import storage
from meetings.documents.models import Document
from meetings.platform import jobs
from meetings.platform.audit import service as audit
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.rooms import managers_room
from meetings.platform.signals import document_text_ready

log = logging.getLogger(__name__)

OCR_TASK = "documents.ocr"
SWEEP_TASK = "documents.ocr_sweep"
TEXT_LAYER_EVENT = "document.text_layer"
LAYERS = ("text", "queued", "running", "ready", "failed")
CHILD = Path(__file__).with_name("ocr_child.py")
MB = 1024 * 1024
_QUEUED = "ocr_queued_documents"
# At most this many OCR runs at once in one process: each may use OCR_MEMORY_MB (tesseract
# per page, ghostscript). The other consumer threads wait their turn.
_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))


@dataclass(frozen=True)
class OcrSettings:
    """The OCR settings (docs/configuration.md, "OCR of scanned PDFs")."""

    enabled: bool = True
    languages: str = "vie+eng"
    seconds: float = 900.0
    memory_mb: int = 2048
    scan_share: int = 50  # percent of the pages without text that make a document a scan
    page_min_chars: int = 10
    attempts: int = 3
    jobs: int = 1

    @classmethod
    def from_config(cls, config: Mapping) -> OcrSettings:
        return cls(
            enabled=bool(config.get("OCR_ENABLED", True)),
            languages=str(config.get("OCR_LANGUAGES") or "vie+eng"),
            seconds=float(config.get("OCR_SECONDS") or 900),
            memory_mb=int(config.get("OCR_MEMORY_MB") or 2048),
            scan_share=int(config.get("OCR_SCAN_SHARE", 50)),
            page_min_chars=int(config.get("OCR_PAGE_MIN_CHARS", 10)),
            attempts=max(1, int(config.get("OCR_ATTEMPTS") or 3)),
            jobs=max(1, int(config.get("OCR_JOBS") or 1)),
        )


def _settings() -> OcrSettings:
    if has_app_context():
        return OcrSettings.from_config(current_app.config)
    from meetings.core.config import load_settings

    return OcrSettings.from_config(load_settings())


class OcrFailed(Exception):
    """The child did not produce a rendition; the message says why (stored in ``ocr_error``)."""


def _run_child(request: dict[str, Any], seconds: float, tmp: Path) -> dict[str, Any]:
    """Run ``ocr_child.py`` on ``request``; kill its whole process group after ``seconds``."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "TMPDIR": str(tmp),
           "HOME": str(tmp), "OMP_THREAD_LIMIT": "1"}  # one tesseract thread: its memory stays predictable
    if os.environ.get("TESSDATA_PREFIX"):
        env["TESSDATA_PREFIX"] = os.environ["TESSDATA_PREFIX"]
    proc = subprocess.Popen([sys.executable, "-I", str(CHILD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, close_fds=True, env=env, cwd=str(tmp), start_new_session=True)
    try:
        out, err = proc.communicate(json.dumps(request).encode(), timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise OcrFailed(f"timeout: OCR took longer than {seconds:g} s") from None
    finally:
        _kill_group(proc)  # tesseract or gs left behind by a child that died
    try:
        answer = json.loads(out.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = " ".join(err.decode("utf-8", "replace").split())[-200:]
        if proc.returncode in (-24, -9):  # SIGXCPU, SIGKILL
            raise OcrFailed(f"timeout: the CPU-time limit ({request['cpu_seconds']} s) ran out") from None
        raise OcrFailed(f"the OCR process stopped (exit {proc.returncode}, memory limit "
                        f"{request['memory_mb']} MB): {tail}") from None
    if not answer.get("ok"):
        raise OcrFailed(answer.get("error") or "OCR failed")
    return answer


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait()


def pages_without_text(path: str | os.PathLike, settings: OcrSettings, tmp: Path) -> tuple[int, int]:
    """(pages looked at, pages among them without usable text) of the PDF at ``path``."""
    answer = _run_child({"mode": "probe", "path": str(path), "min_chars": settings.page_min_chars,
                         "memory_mb": 1024, "cpu_seconds": 60, "max_file": 16 * MB}, 90, tmp)
    return answer["looked"], answer["without_text"]


def is_scan(looked: int, without_text: int, settings: OcrSettings) -> bool:
    """Whether enough pages lack text (``OCR_SCAN_SHARE`` percent, at least one page)."""
    return looked > 0 and without_text > 0 and without_text * 100 >= settings.scan_share * looked


def _some_page_has_images(path: Path, sample: int = 200) -> bool:
    """Whether a page (of up to ``sample``) draws an image, directly or through its forms: a page
    without one is no scan. qpdf reads only the page tree and the resource dictionaries (no
    stream is decoded), and the file already passed the intake check; so this costs no child."""
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            pages = pdf.pages
            step = max(1, len(pages) // sample)
            return any(_has_image(pages[n].obj.get("/Resources"), 0, pikepdf)
                       for n in range(0, len(pages), step))
    except Exception:  # unreadable here: let the child's probe decide
        return True


def _has_image(resources: Any, depth: int, pikepdf: Any) -> bool:
    if depth > 3 or not isinstance(resources, pikepdf.Dictionary):
        return False
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, pikepdf.Dictionary):
        return False
    for name in list(xobjects.keys()):
        xobj = xobjects.get(name)
        subtype = xobj.get("/Subtype") if isinstance(xobj, pikepdf.Stream) else None
        if subtype == "/Image" or (subtype == "/Form" and _has_image(xobj.get("/Resources"), depth + 1, pikepdf)):
            return True
    return False


def text_layer_at_intake(storage_path: str | Path, sha256: str) -> str:
    """The ``text_layer`` a new document row starts with: ``queued`` for a scan (OCR on), else ``text``."""
    settings = _settings()
    if not settings.enabled:
        return "text"
    path = storage.blob_path(storage_path, sha256)
    if not _some_page_has_images(path):
        return "text"  # the common case (a born-digital PDF), decided without a child
    tmp = Path(tempfile.mkdtemp(prefix="ocr-probe-", dir=storage.tmp_dir(storage_path)))
    try:
        looked, without = pages_without_text(path, settings, tmp)
    except OcrFailed as exc:  # intake read it already: a probe failure only means "no OCR"
        log.warning("text probe of %s failed: %s", sha256, exc)
        return "text"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return "queued" if is_scan(looked, without, settings) else "text"


def make_rendition(storage_path: str | Path, sha256: str, settings: OcrSettings) -> str:
    """OCR the blob ``sha256`` into a new blob (the rendition); returns its sha256. Raises OcrFailed."""
    source = storage.blob_path(storage_path, sha256)
    if not source.is_file():
        raise OcrFailed("the document's file is missing from storage")
    tmp = Path(tempfile.mkdtemp(prefix="ocr-", dir=storage.tmp_dir(storage_path)))
    out = tmp / "rendition.pdf"
    try:
        request = {"mode": "ocr", "path": str(source), "out": str(out), "languages": settings.languages,
                   "jobs": settings.jobs, "memory_mb": settings.memory_mb,
                   "cpu_seconds": max(1, int(settings.seconds)), "page_seconds": settings.seconds,
                   "max_file": max(512 * MB, 8 * source.stat().st_size)}
        with _SLOTS:
            _run_child(request, settings.seconds, tmp)
        if not out.is_file() or out.stat().st_size == 0:
            raise OcrFailed("OCR produced no file")
        staged = storage.adopt(out)
        storage.accept(staged, storage_path)
        return staged.sha256
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- announcing ------------------------------------------------------------------


def payload(doc: Document) -> dict[str, Any]:
    """The data of ``document.text_layer`` (docs/realtime.md)."""
    return {"document_id": doc.id, "series_id": doc.series_id, "version": doc.version, "title": doc.title,
            "agenda_item_id": doc.agenda_item_id, "pages": doc.page_count, "text_layer": doc.text_layer,
            "ocr_error": doc.ocr_error}


def _tell(session: Session, doc: Document) -> None:
    """Announce the document's text layer after commit: delegates who see it, and the managers."""
    meeting = session.get(Meeting, doc.meeting_id)
    data = payload(doc)
    if doc.published and meeting is not None and meeting.status != "draft":
        eventlog.append(session, doc.meeting_id, TEXT_LAYER_EVENT, data)
    eventlog.notify_room(session, managers_room(doc.meeting_id), TEXT_LAYER_EVENT, data)


# --- the task ----------------------------------------------------------------------


def _lease_key(document_id: int) -> str:
    return f"ocr-running:{int(document_id)}"


@jobs.task(OCR_TASK)
def make_text_layer(document_id: int, attempt: int = 1) -> str:
    """Give the document ``document_id`` its text layer; answers ready, retry, failed, skipped or off."""
    settings = _settings()
    if not settings.enabled:
        return "off"
    root = current_app.config["STORAGE_PATH"]
    with jobs.unit_of_work() as session:
        # The UPDATE first (SQLite: a reading transaction could not write after another commit).
        claimed = session.execute(
            update(Document).where(Document.id == document_id, Document.text_layer.in_(("queued", "failed")))
            .values(text_layer="running", ocr_error=None).execution_options(synchronize_session=False)).rowcount
        if not claimed:
            return "skipped"
        doc = session.get(Document, document_id)
        source = doc.sha256
        _tell(session, doc)
    _put_lease(document_id, settings)
    try:
        rendition = make_rendition(root, source, settings)
    except OcrFailed as exc:
        return _failed(document_id, attempt, str(exc), settings)
    except Exception as exc:  # a fault of ours: the document stays usable, the queue tries again
        log.exception("OCR of document %s failed", document_id)
        return _failed(document_id, attempt, f"{type(exc).__name__}: {exc}", settings)
    with jobs.unit_of_work() as session:
        doc = session.get(Document, document_id)
        if doc is None:
            return "skipped"
        doc.text_layer, doc.ocr_sha256, doc.ocr_error = "ready", rendition, None
        session.flush()
        audit.record(session, "document.ocr", actor_id=None, object_type="document", object_id=doc.id,
                     meeting_id=doc.meeting_id, details={"sha256": doc.sha256, "ocr_sha256": rendition,
                                                        "languages": settings.languages, "attempt": attempt})
        # Annotations left orphaned for want of text re-anchor now, in this same transaction.
        document_text_ready.send(None, session=session, document=doc)
        _tell(session, doc)
    _drop_lease(document_id)
    storage.drop_watermarks(root, document_id)  # stamped copies of the image-only file are not served again
    return "ready"


def _failed(document_id: int, attempt: int, reason: str, settings: OcrSettings) -> str:
    reason = reason[:300]
    with jobs.unit_of_work() as session:
        doc = session.get(Document, document_id)
        if doc is None:
            return "skipped"
        doc.text_layer, doc.ocr_error = "failed", reason
        session.flush()
        audit.record(session, "document.ocr_failed", actor_id=None, object_type="document", object_id=doc.id,
                     meeting_id=doc.meeting_id, details={"reason": reason, "attempt": attempt})
        _tell(session, doc)
    _drop_lease(document_id)
    log.warning("OCR of document %s failed (attempt %d of %d): %s", document_id, attempt, settings.attempts, reason)
    if attempt >= settings.attempts:
        return "failed"
    jobs.enqueue(OCR_TASK, document_id, attempt + 1, delay=jobs.backoff_delay(attempt))
    return "retry"


def _put_lease(document_id: int, settings: OcrSettings) -> None:
    until = utcnow() + timedelta(seconds=2 * settings.seconds + 60)
    try:
        jobs.huey_for().put(_lease_key(document_id), until.isoformat())
    except Exception:  # the queue's storage failed: only the sweep's catch-up is lost
        log.warning("OCR lease of document %s not recorded", document_id, exc_info=True)


def _drop_lease(document_id: int) -> None:
    try:
        jobs.huey_for().delete(_lease_key(document_id))
    except Exception:
        log.warning("OCR lease of document %s not removed", document_id, exc_info=True)


@jobs.periodic(SWEEP_TASK, minute="*/10", with_session=False)
def sweep() -> int:
    """Queue what waits in vain: ``queued`` rows never handed over, ``running`` ones whose lease ran out."""
    if not _settings().enabled:
        return 0
    huey = jobs.huey_for()
    with jobs.unit_of_work() as session:
        waiting = list(session.scalars(select(Document.id).where(Document.text_layer == "queued")))
        for doc_id in session.scalars(select(Document.id).where(Document.text_layer == "running")):
            lease = huey.get(_lease_key(doc_id), peek=True)
            if lease is not None and lease < utcnow().isoformat():
                session.execute(update(Document).where(Document.id == doc_id, Document.text_layer == "running")
                                .values(text_layer="queued").execution_options(synchronize_session=False))
                huey.delete(_lease_key(doc_id))
                waiting.append(doc_id)
    for doc_id in waiting:
        jobs.enqueue(OCR_TASK, doc_id)
    return len(waiting)


# --- handing new scans to the queue once their upload committed -------------------


@event.listens_for(Session, "after_flush")
def _note_new_scans(session: Session, _context) -> None:
    for obj in session.new:
        if isinstance(obj, Document) and obj.text_layer == "queued":
            session.info.setdefault(_QUEUED, set()).add(obj.id)


@event.listens_for(Session, "after_commit")
def _queue_after_commit(session: Session) -> None:
    if ends_savepoint(session):  # a version row is added in a savepoint: wait for the real commit
        return
    queued = session.info.pop(_QUEUED, None)
    if not queued or not has_app_context():
        return  # outside an application: the sweep queues them
    for document_id in sorted(queued):
        try:
            jobs.enqueue(OCR_TASK, document_id)
        except Exception:  # the queue's storage is unreachable: the sweep queues it later
            log.warning("could not queue OCR of document %s; the sweep will", document_id, exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if not ends_savepoint(session):
        session.info.pop(_QUEUED, None)
