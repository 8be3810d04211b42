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

from flask import Flask, Response, request

from meetings.core.extensions import db

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
