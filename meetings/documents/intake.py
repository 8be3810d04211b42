"""The PDF check: parse an uploaded file with pypdf in a child process with limits.

A hostile PDF (a decompression bomb, a cyclic page tree, a parser trap) must
not take the server down, so the parse runs in a fresh interpreter started
with ``subprocess`` (fork + exec: nothing of the gevent-patched parent keeps
running in the child) that first caps its own address space (RLIMIT_AS), CPU
time (RLIMIT_CPU) and file writes (RLIMIT_FSIZE), and that the parent kills
when the wall-clock limit passes. Under gunicorn's gevent worker
``subprocess`` is gevent's cooperative version, so waiting blocks no socket.

Once the parse passed, the same child disarms the file (``disarm.py``, with
pikepdf): JavaScript, actions, triggers and embedded files are removed and the
cleaned copy written where the parent asked (``disarm_to``), under a file-size
limit; a file with nothing to remove is not rewritten.

This file is also the child's program (``python -I intake.py``): at module
level it imports the standard library only, so the child starts in ~0.1 s
without importing the application.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

MB = 1024 * 1024

# Codes of refusal (the REST answer's error.code) and their HTTP status.
REFUSALS = {
    "empty": 422,
    "not_pdf": 415,
    "encrypted": 422,
    "unreadable": 422,
    "too_many_pages": 422,
    "too_large": 413,
    "timeout": 422,
    "too_complex": 422,
    "busy": 503,
    # Office uploads (convert.py, office_check.py): refused before or by the conversion.
    "unsupported_type": 415,
    "macro_refused": 422,
    "zip_bomb": 422,
    "corrupt_office_file": 422,
    "conversion_failed": 422,
    "conversion_timeout": 422,
}


@dataclass(frozen=True)
class IntakeLimits:
    """The limits an upload is checked under (settings MAX_UPLOAD_MB, MAX_PDF_PAGES,
    PDF_CHECK_SECONDS, PDF_CHECK_MEMORY_MB; PDF_CHECK_DECODED_MB caps the total of
    decompressed stream bytes, a bomb's signature)."""

    max_bytes: int = 100 * MB
    max_pages: int = 2000
    seconds: float = 60.0
    memory_mb: int = 1024
    max_decoded_bytes: int = 4096 * MB

    @classmethod
    def from_config(cls, config: Mapping) -> IntakeLimits:
        return cls(
            max_bytes=int(config.get("MAX_UPLOAD_MB", 100)) * MB,
            max_pages=int(config.get("MAX_PDF_PAGES", 2000)),
            seconds=float(config.get("PDF_CHECK_SECONDS", 60)),
            memory_mb=int(config.get("PDF_CHECK_MEMORY_MB", 1024)),
            max_decoded_bytes=int(config.get("PDF_CHECK_DECODED_MB", 4096)) * MB,
        )


@dataclass
class Verdict:
    """What the check found. ``ok`` with ``pages``, or a refusal ``code`` and ``message``."""

    ok: bool
    pages: int = 0
    code: str | None = None
    message: str = ""
    reason: str | None = None  # the parser's own words, for the logs and ``details``
    peak_rss_kb: int | None = None  # the child's peak resident memory
    decoded_bytes: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    disarmed: dict = field(default_factory=dict)  # kind → count removed (see disarm.py)
    signed: bool = False  # the upload carries digital signatures
    rewritten: bool = False  # a disarmed copy was written to ``disarm_to``


def refuse(code: str, message: str, reason: str | None = None, **kw) -> Verdict:
    return Verdict(ok=False, code=code, message=message, reason=reason, **kw)


def quick_check(head: bytes, tail: bytes, size: int) -> Verdict | None:
    """The checks that need no parser: empty, not a PDF, cut short. None when they pass."""
    if size == 0:
        return refuse("empty", "The file is empty.")
    if not head.startswith(b"%PDF-"):
        return refuse("not_pdf", "The file is not a PDF: it must start with %PDF-.")
    # Readers look for the end marker in the last 1024 bytes (Acrobat's rule); a file
    # without it was cut short in transit, and pypdf would silently "repair" it.
    if b"%%EOF" not in tail:
        return refuse("unreadable", "The PDF is truncated: its end marker %%EOF is missing.")
    return None


# At most this many checks at once: each may use PDF_CHECK_MEMORY_MB. Under gevent
# the semaphore is cooperative (monkey-patched threading).
_SLOTS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


def check_pdf(path: str | os.PathLike, limits: IntakeLimits, *,
              disarm_to: str | os.PathLike | None = None) -> Verdict:
    """Parse the PDF at ``path`` in a child process under ``limits``; never raises for a bad file.

    With ``disarm_to``, the child also disarms the file: ``verdict.rewritten`` says whether
    it wrote the cleaned copy there (otherwise the file had nothing to remove)."""
    started = time.monotonic()
    if not _SLOTS.acquire(timeout=limits.seconds):
        return refuse("busy", "The server is checking too many uploads; try again shortly.")
    try:
        verdict = _run_child(str(path), limits, str(disarm_to) if disarm_to is not None else None)
    finally:
        _SLOTS.release()
    verdict.seconds = time.monotonic() - started
    return verdict


def _run_child(path: str, limits: IntakeLimits, disarm_to: str | None) -> Verdict:
    request = {
        "path": path,
        "disarm_to": disarm_to,
        # qpdf's rewrite can grow a file (e.g. object streams unpacked); anything beyond is a trap.
        "max_out": limits.max_bytes * 2 + 64 * MB if disarm_to else 0,
        "max_pages": limits.max_pages,
        "memory_mb": limits.memory_mb,
        "cpu_seconds": max(1, int(limits.seconds + 0.999)),
        "max_decoded_bytes": limits.max_decoded_bytes,
    }
    proc = subprocess.Popen(
        [sys.executable, "-I", os.path.abspath(__file__)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        close_fds=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
    )
    try:
        out, err = proc.communicate(json.dumps(request).encode(), timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return refuse("timeout", f"Checking the PDF took longer than {limits.seconds:g} s; "
                                 "the file is too complex to accept.")
    return _read_answer(proc.returncode, out, err, limits)


def _read_answer(returncode: int, out: bytes, err: bytes, limits: IntakeLimits) -> Verdict:
    try:
        answer = json.loads(out.decode("utf-8").strip().splitlines()[-1])
        return Verdict(**answer)
    except (ValueError, IndexError, TypeError):
        pass
    # No answer: the kernel stopped the child (CPU limit → SIGXCPU, or it died in
    # C code when memory ran out).
    tail = err.decode("utf-8", "replace")[-300:]
    if returncode in (-24, -9):  # SIGXCPU, SIGKILL
        return refuse("timeout", f"Checking the PDF took longer than {limits.seconds:g} s.", tail)
    if returncode == -25:  # SIGXFSZ: the disarmed copy grew past its cap
        return refuse("too_complex", "The PDF's rewritten copy would be too large.", tail)
    return refuse("too_complex", "The PDF could not be checked within the memory limit "
                                 f"({limits.memory_mb} MB).", f"exit {returncode}: {tail}")


# ----------------------------------------------------------------------------------
# The child. Everything below runs in the fresh interpreter only.


def _limit_self(memory_mb: int, cpu_seconds: int, max_out: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MB, memory_mb * MB))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    # The check writes no file; the disarmed copy at most ``max_out`` bytes.
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_out, max_out))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _peak_rss_kb() -> int | None:
    # VmHWM belongs to this process's own memory map, created at exec; getrusage's
    # ru_maxrss would carry over the parent's high-water mark from before the exec.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class _DecodedTooMuch(Exception):
    pass


class _Walker:
    """Decodes every content stream and XObject once, counting decompressed bytes."""

    def __init__(self, max_decoded: int):
        self.max_decoded = max_decoded
        self.decoded = 0
        self.seen: set[tuple[int, int]] = set()

    def add(self, n: int) -> None:
        self.decoded += n
        if self.decoded > self.max_decoded:
            raise _DecodedTooMuch()

    def page(self, page) -> None:
        page.mediabox  # noqa: B018 - a page without a usable box is broken
        contents = page.get_contents()
        if contents is not None:
            self.add(len(contents.get_data()))
            contents.operations  # noqa: B018 - parse every operator, not only decode
        del contents
        _forget_decoded(page.get("/Contents"))
        self.resources(page.get("/Resources"), depth=0)

    def resources(self, resources, depth: int) -> None:
        from pypdf.filters import decode_stream_data
        from pypdf.generic import IndirectObject

        if resources is None or depth > 20:
            return
        resources = resources.get_object()
        xobjects = resources.get("/XObject") if hasattr(resources, "get") else None
        if xobjects is None:
            return
        for ref in xobjects.get_object().values():
            if isinstance(ref, IndirectObject):
                key = (ref.idnum, ref.generation)
                if key in self.seen:
                    continue  # shared images are decoded once
                self.seen.add(key)
            xobj = ref.get_object()
            if not hasattr(xobj, "get_data"):
                continue
            # decode_stream_data does not cache the result on the object (get_data
            # would): memory stays one stream deep however many images there are.
            self.add(len(decode_stream_data(xobj)) if "/Filter" in xobj else len(xobj.get_data()))
            if xobj.get("/Subtype") == "/Form":
                self.resources(xobj.get("/Resources"), depth + 1)


def _forget_decoded(contents) -> None:
    """Drop pypdf's cached decoded copy of a page's content streams once checked."""
    if contents is None:
        return
    contents = contents.get_object()
    for stream in contents if isinstance(contents, list) else [contents]:
        stream = stream.get_object()
        if hasattr(stream, "decoded_self"):
            stream.decoded_self = None


def _check(request: dict) -> dict:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError

    walker = _Walker(request["max_decoded_bytes"])
    stack = contextlib.ExitStack()
    try:
        # A file object, not a path: pypdf would read a path whole into memory.
        reader = PdfReader(stack.enter_context(open(request["path"], "rb")), strict=False)
        if reader.is_encrypted:
            return asdict(refuse("encrypted", "The PDF is encrypted or password-protected; "
                                              "upload it without protection."))
        pages = len(reader.pages)
        if pages == 0:
            return asdict(refuse("unreadable", "The PDF has no pages."))
        if pages > request["max_pages"]:
            return asdict(refuse("too_many_pages", f"The PDF has {pages} pages; "
                                                   f"at most {request['max_pages']} are accepted."))
        for page in reader.pages:
            walker.page(page)
    except FileNotDecryptedError as exc:
        return asdict(refuse("encrypted", "The PDF is encrypted.", str(exc)))
    except _DecodedTooMuch:
        return asdict(refuse("too_complex", "The PDF's streams decompress to more than "
                                            f"{request['max_decoded_bytes'] // MB} MB.",
                             decoded_bytes=walker.decoded))
    except LimitReachedError as exc:
        if "cycl" in str(exc).lower():
            return asdict(refuse("unreadable", "The PDF's page tree is cyclic.", str(exc)[:300]))
        return asdict(refuse("too_complex", "The PDF exceeds the parser's safety limits "
                                            "(e.g. a stream that decompresses to too much data).",
                             str(exc)[:300], decoded_bytes=walker.decoded))
    except (MemoryError, RecursionError) as exc:
        return asdict(refuse("too_complex", "The PDF needs more memory than allowed to check.",
                             type(exc).__name__))
    except Exception as exc:  # any parser failure means the file is not sound
        if "cycl" in str(exc).lower():
            return asdict(refuse("unreadable", "The PDF's page tree is cyclic.", str(exc)[:300]))
        return asdict(refuse("unreadable", "The PDF is damaged and cannot be read.",
                             f"{type(exc).__name__}: {str(exc)[:300]}"))
    finally:
        stack.close()
    return asdict(Verdict(ok=True, pages=pages, decoded_bytes=walker.decoded))


def _disarm(request: dict, answer: dict) -> dict:
    """Disarm the checked file (``disarm.py``, loaded by path: ``-I`` puts no package on sys.path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "disarm", os.path.join(os.path.dirname(os.path.abspath(__file__)), "disarm.py"))
    disarm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(disarm)
    try:
        result = disarm.disarm_file(request["path"], request["disarm_to"])
    except (MemoryError, RecursionError) as exc:
        return asdict(refuse("too_complex", "The PDF needs more memory than allowed to disarm.",
                             type(exc).__name__))
    except Exception as exc:  # qpdf could not read or rewrite it: we cannot vouch for the copy
        return asdict(refuse("unreadable", "The PDF could not be rewritten without its scripts "
                                           "and embedded files.", f"{type(exc).__name__}: {str(exc)[:300]}"))
    return {**answer, "disarmed": result["disarmed"], "signed": result["signed"],
            "rewritten": result["rewritten"]}


def _child_main() -> None:
    request = json.loads(sys.stdin.read())
    _limit_self(request["memory_mb"], request["cpu_seconds"], request.get("max_out", 0))
    import logging

    logging.disable(logging.WARNING)  # pypdf warns about every repaired oddity
    answer = _check(request)
    if answer["ok"] and request.get("disarm_to"):
        answer = _disarm(request, answer)
    answer["peak_rss_kb"] = _peak_rss_kb()
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _child_main()
