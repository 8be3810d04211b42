"""The one commit point of an HTTP request.

Views and services never commit. When the answer is ready, this hook commits
the request's transaction if the request may write (not GET, HEAD or OPTIONS)
and succeeded (status below 400). Otherwise it leaves the transaction open
and the app-context teardown closes the session, which rolls it back: a
refused or failed request leaves nothing behind, and what a read did by
mistake is never committed. (Closing rather than rolling back keeps loaded
objects readable, as they are after a commit.)
Broadcasts queued by the event log go out only after this commit
(``meetings.platform.realtime.eventlog``).

A failing commit (a lost database, a constraint, a full disk) becomes the
error answer the application gives for that exception, and the broadcasts are
dropped with the rollback.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, g, request

from meetings.core.extensions import db

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_AFTERWARDS = "units_of_work_afterwards"


def afterwards(work: Callable[[], object]) -> None:
    """Run ``work()`` once this request is over, after its own transaction has ended.

    For what a read must cause to be written without writing in the read's
    transaction (a read receipt queued by a file download): ``work`` is a unit
    of work of its own, with its own session and commit. Queued once per
    request however often it is asked; a failure is logged, never the answer's.
    """
    queued = g.setdefault(_AFTERWARDS, [])
    if work not in queued:
        queued.append(work)


def init_commit_point(app: Flask) -> None:
    """Register the hook. Call it last in ``create_app``: after-request hooks run in
    reverse order, so the commit happens before headers are added to the answer."""

    @app.after_request
    def _commit_or_roll_back(response: Response) -> Response:
        session = db.session
        if request.method in READ_METHODS or response.status_code >= 400:
            return response  # closed (rolled back) by the teardown
        try:
            session.commit()
        except Exception as exc:  # becomes the error answer, as if the view had raised it
            session.rollback()
            return app.make_response(app.handle_user_exception(exc))
        return response

    @app.teardown_request
    def _run_afterwards(_exc: BaseException | None) -> None:
        queued = g.pop(_AFTERWARDS, None)
        if not queued:
            return
        db.session.remove()  # the request's transaction ends first (rolled back if it was a read)
        for work in queued:
            try:
                work()
            except Exception:  # the answer is already made; say so in the log
                log.exception("work after %s %s failed", request.method, request.path)
