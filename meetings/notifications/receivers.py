"""What the notifications domain connects at start-up (imported by ``create_app``).

The outbox's after-commit hook, the delivery task and the sweep register themselves when
their modules are imported; the modules that listen to the lower domains' signals
(invitations, reminders, alerts) are imported here too, so one import wires the domain.
"""
from __future__ import annotations

# One aliased import per line (isort keeps them apart): append yours.
from meetings.notifications import alerts as _alerts  # noqa: F401  (documents, minutes to sign, polls opened)
from meetings.notifications import delivery as _delivery  # noqa: F401  (the deliver task, the sweep)
from meetings.notifications import invitations as _invitations  # noqa: F401  (publish, reschedule, participants)
from meetings.notifications import invitations_owed as _owed  # noqa: F401  (a group's invitations, by the queue)
from meetings.notifications import outbox as _outbox  # noqa: F401  (the after-commit hook)
from meetings.notifications import reminders as _reminders  # noqa: F401  (reminders.tick, the nightly clean-up)
