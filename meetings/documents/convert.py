"""Office documents (.docx, .xlsx, .pptx, .odt …) to PDF with LibreOffice, in a sandbox.

Each conversion runs in its own child process (``subprocess``: gevent's
cooperative version under the server, so waiting blocks no socket), which:

1. starts as a fresh interpreter (``python -I convert.py``, this file, standard
   library only at module level), in a new session (its own process group),
   with an environment of PATH, locale, HOME and TMPDIR only (no secret of the
   server's environment is inherited) and an empty private directory;
2. caps its own address space, CPU time and file writes (RLIMIT_AS, RLIMIT_CPU,
   RLIMIT_FSIZE; they carry over into LibreOffice);
3. checks the file with ``office_check.py`` (container, zip bomb, macros) and
   answers a refusal on stdout; otherwise
4. executes ``soffice --headless --convert-to pdf`` with a LibreOffice profile
   made for this conversion alone (``-env:UserInstallation``) whose
   registrymodifications.xcu sets macro security to "very high" and disables
   macro execution, inside a new network namespace (``unshare --net``: no
   network but a loopback that is down) wherever that works (as root, or with
   user namespaces).

The parent kills the whole process group when the wall-clock limit passes (and
after every conversion, for a stray ``soffice.bin``) and removes the directory.
The user's file name never reaches a command line: the input is always
``document.<ext>``.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

MB = 1024 * 1024

# The profile's settings: macros never run (security level 3 = "very high": only
# signed macros from trusted places, and there are none; execution disabled
# outright), no links to other documents followed.
_PROFILE_SETTINGS = (
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "SecureURL", ""),  # no trusted place
    ("/org.openoffice.Office.Common/Misc", "UseDocumentSystemFileLocking", "false"),
    ("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "false"),
)
PROFILE_XCU = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + "".join(f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>\n'
              for path, name, value in _PROFILE_SETTINGS)
    + "</oor:items>\n"
)

# REST codes of a refused conversion (the rest are office_check's: macro_refused, zip_bomb,
# corrupt_office_file, unsupported_type, encrypted, empty).
TIMEOUT, FAILED, BUSY = "conversion_timeout", "conversion_failed", "busy"


class ConversionRefused(Exception):
    """The document was not converted; ``code`` says why, ``reason`` gives the tool's words, and ``cause``
    which of the ways a ``conversion_failed`` comes about (``CAUSES``), for the page to say it."""

    def __init__(self, code: str, message: str, reason: str | None = None, cause: str | None = None):
        super().__init__(message)
        self.code, self.message, self.reason, self.cause = code, message, reason, cause


# Why a conversion failed: no LibreOffice here, a PDF over the size limit, LibreOffice gave up (a damaged
# file, or one that needs more memory than allowed), or the pre-check did not finish within the limits.
CAUSES = ("no_converter", "output_too_large", "converter_failed", "check_failed")


@dataclass(frozen=True)
class ConversionLimits:
    """Settings OFFICE_CONVERT_SECONDS, OFFICE_CONVERT_MEMORY_MB, SOFFICE_PATH,
    OFFICE_MAX_UNCOMPRESSED_MB; ``max_pdf_bytes`` caps the PDF written (RLIMIT_FSIZE)."""

    seconds: float = 120.0
    memory_mb: int = 2048
    soffice: str = "soffice"
    max_uncompressed_mb: int = 512
    max_pdf_bytes: int = 512 * MB

    @classmethod
    def from_config(cls, config: Mapping) -> ConversionLimits:
        return cls(
            seconds=float(config.get("OFFICE_CONVERT_SECONDS", 120)),
            memory_mb=int(config.get("OFFICE_CONVERT_MEMORY_MB", 2048)),
            soffice=str(config.get("SOFFICE_PATH") or "soffice"),
            max_uncompressed_mb=int(config.get("OFFICE_MAX_UNCOMPRESSED_MB", 512)),
            max_pdf_bytes=int(config.get("MAX_UPLOAD_MB", 100)) * 2 * MB + 64 * MB,
        )


@dataclass
class Converted:
    """A conversion that succeeded: how long it took and what the check saw."""

    seconds: float
    checked: dict


# LibreOffice is heavy (hundreds of MB each): a few at once, the rest wait or get "busy".
_SLOTS = threading.BoundedSemaphore(max(1, min(2, os.cpu_count() or 1)))


def convert(source: str | os.PathLike, ext: str, out: str | os.PathLike, limits: ConversionLimits) -> Converted:
    """Convert the Office file ``source`` (uploaded as ``.ext``) to the PDF ``out``, in the
    sandbox; raises ConversionRefused (with office_check's codes for a refused file)."""
    soffice = shutil.which(limits.soffice)
    if soffice is None:
        raise ConversionRefused(FAILED, "Office documents cannot be converted on this server "
                                        "(LibreOffice is not installed).", f"{limits.soffice} not found",
                                cause="no_converter")
    started = time.monotonic()
    if not _SLOTS.acquire(timeout=limits.seconds):
        raise ConversionRefused(BUSY, "The server is converting too many documents; try again shortly.")
    work = tempfile.mkdtemp(prefix="meetings-office-")
    try:
        checked = _run(source, ext.lower(), out, limits, soffice, work)
    finally:
        _SLOTS.release()
        shutil.rmtree(work, ignore_errors=True)
    return Converted(seconds=time.monotonic() - started, checked=checked)


def _run(source, ext: str, out, limits: ConversionLimits, soffice: str, work: str) -> dict:
    inbox, outbox, profile, tmp = (os.path.join(work, d) for d in ("in", "out", "profile", "tmp"))
    for d in (inbox, outbox, tmp, os.path.join(profile, "user")):
        os.makedirs(d, mode=0o700)
    document = os.path.join(inbox, f"document.{ext}")
    shutil.copyfile(source, document)
    with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w") as fh:
        fh.write(PROFILE_XCU)
    request = {
        "path": document, "ext": ext, "outdir": outbox, "profile": profile,
        "memory_mb": limits.memory_mb, "cpu_seconds": max(1, int(limits.seconds + 0.999)),
        "max_out": limits.max_pdf_bytes, "max_uncompressed": limits.max_uncompressed_mb * MB,
        "command": [*network_jail(), soffice],
    }
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "HOME": work, "TMPDIR": tmp,
           "SAL_USE_VCLPLUGIN": "svp"}
    proc = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True, cwd=work,
                            env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(json.dumps(request).encode(), timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.communicate()
        raise ConversionRefused(TIMEOUT, f"Converting the document took longer than {limits.seconds:g} s; "
                                         "it is too large or too complex to convert.") from None
    finally:
        _kill_group(proc.pid)  # soffice.bin may outlive the launcher
    checked = _verdict(stdout)
    pdf = os.path.join(outbox, "document.pdf")
    tail = stderr.decode("utf-8", "replace")[-300:]
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise ConversionRefused(TIMEOUT, f"Converting the document took longer than {limits.seconds:g} s.", tail)
    if proc.returncode == -signal.SIGXFSZ:
        raise ConversionRefused(FAILED, "The PDF made from the document would be too large.", tail,
                                cause="output_too_large")
    if proc.returncode != 0 or not os.path.isfile(pdf) or os.path.getsize(pdf) == 0:
        raise ConversionRefused(FAILED, "LibreOffice could not convert the document to PDF; it may be damaged "
                                        "or need more memory than allowed "
                                        f"({limits.memory_mb} MB).", f"exit {proc.returncode}: {tail}",
                                cause="converter_failed")
    shutil.copyfile(pdf, out)
    return checked


def _verdict(stdout: bytes) -> dict:
    """The check's answer: the child's first line of output (soffice's own lines follow)."""
    try:
        answer = json.loads(stdout.decode("utf-8", "replace").splitlines()[0])
    except (ValueError, IndexError):
        raise ConversionRefused(FAILED, "The document could not be checked within the limits.",
                                stdout.decode("utf-8", "replace")[-300:], cause="check_failed") from None
    if not answer.get("ok"):
        raise ConversionRefused(answer.get("code") or FAILED, answer.get("message") or "Refused.",
                                answer.get("reason"))
    return answer.get("checked") or {}


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@lru_cache(maxsize=1)
def network_jail() -> tuple[str, ...]:
    """The command prefix that runs LibreOffice without network: ``unshare --net`` as root,
    ``unshare --map-root-user --net`` with unprivileged user namespaces; () where neither
    works (then the profile and the empty environment are all: see docs/security.md)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    for prefix in ((unshare, "--net", "--"), (unshare, "--map-root-user", "--net", "--")):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.SubprocessError):
            continue
    return ()


# ----------------------------------------------------------------------------------
# The child. Everything below runs in the fresh interpreter only.


def _limit_self(memory_mb: int, cpu_seconds: int, max_out: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MB, memory_mb * MB))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_out, max_out))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child_main() -> None:
    import importlib.util

    request = json.loads(sys.stdin.read())
    _limit_self(request["memory_mb"], request["cpu_seconds"], request["max_out"])
    # Loaded by path: ``-I`` puts no package on sys.path.
    spec = importlib.util.spec_from_file_location(
        "office_check", os.path.join(os.path.dirname(os.path.abspath(__file__)), "office_check.py"))
    check = importlib.util.module_from_spec(spec)
    sys.modules["office_check"] = check  # dataclasses look their module up while being made
    spec.loader.exec_module(check)
    try:
        checked = check.check_file(request["path"], request["ext"],
                                   check.OfficeLimits(max_uncompressed=request["max_uncompressed"]))
    except check.Refused as exc:
        answer = {"ok": False, "code": exc.code, "message": exc.message, "reason": exc.reason}
        sys.stdout.write(json.dumps(answer) + "\n")
        return
    except MemoryError:
        sys.stdout.write(json.dumps({"ok": False, "code": "zip_bomb",
                                     "message": "The document needs more memory than allowed to unpack."}) + "\n")
        return
    sys.stdout.write(json.dumps({"ok": True, "checked": checked}) + "\n")
    sys.stdout.flush()
    argv = [*request["command"], f"-env:UserInstallation=file://{request['profile']}", "--headless",
            "--invisible", "--nologo", "--norestore", "--nodefault", "--nolockcheck", "--nofirststartwizard",
            "--convert-to", "pdf", "--outdir", request["outdir"], request["path"]]
    os.execv(argv[0], argv)


if __name__ == "__main__":
    _child_main()
