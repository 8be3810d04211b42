"""The real application plus two test-only routes, served by gunicorn in tests/test_eventlog_commit.py.

Both store a meeting event with ``eventlog.append`` and then end the
transaction in a way no production route can be made to on purpose:

- ``/_test/eventlog/doomed`` appends, then adds a second event under the same
  (meeting, seq): the unique key fails in the flush inside ``commit()``, so the
  commit fails and the route rolls back;
- ``/_test/eventlog/held`` appends, says so in a file, and keeps the
  transaction open until the test creates a "go" file, then commits.

GET routes: no CSRF token is needed, and nothing here is reachable in production
(wsgi.py serves the application without them).
"""
from __future__ import annotations

import time
from pathlib import Path

from flask import request
from sqlalchemy.exc import IntegrityError

from meetings import create_app
from meetings.core.db import utcnow
from meetings.core.extensions import db
from meetings.platform.realtime import eventlog
from meetings.platform.realtime.models import MeetingEvent

HOLD_SECONDS = 15  # a deadline for the test's "go", not a measurement

app = create_app()


@app.get("/_test/eventlog/doomed")
def doomed():
    """Append an event (and a private notice), then make the commit fail; answer 409 once rolled back."""
    meeting_id = int(request.args["meeting_id"])
    ev = eventlog.append(db.session, meeting_id, "test.doomed", {"tag": request.args["tag"]})
    if "user_id" in request.args:  # a private notice queued in the same transaction
        eventlog.notify(db.session, int(request.args["user_id"]), "test.doomed.notice", {"tag": request.args["tag"]})
    # Flushed by commit(): the same (meeting_id, seq) violates the log's unique key there.
    db.session.add(MeetingEvent(meeting_id=meeting_id, seq=ev.seq, type="test.twin", data={}, at=utcnow()))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return {"committed": False, "seq": ev.seq}, 409
    return {"committed": True, "seq": ev.seq}


@app.get("/_test/eventlog/held")
def held():
    """Append an event, write ``<dir>/appended``, wait for ``<dir>/go``, then commit."""
    meeting_id = int(request.args["meeting_id"])
    flags = Path(request.args["dir"])
    ev = eventlog.append(db.session, meeting_id, "test.held", {"tag": request.args["tag"]})
    (flags / "appended").write_text(str(ev.seq))
    deadline = time.monotonic() + HOLD_SECONDS
    while not (flags / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # gevent's sleep under gunicorn: the worker serves sockets meanwhile
    db.session.commit()
    return {"committed": True, "seq": ev.seq}
