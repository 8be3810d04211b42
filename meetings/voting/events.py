"""Socket.IO handlers of voting: ``vote.cast`` → acknowledgement (docs/realtime.md, "Voting")."""
from __future__ import annotations

from meetings.core.extensions import db
from meetings.platform.realtime.gateway import socket_event
from meetings.voting import casting
from meetings.voting.schemas import SocketBallotIn


@socket_event("vote.cast", SocketBallotIn)
def vote_cast(user, data):
    """Cast a ballot from a tablet. The ack never carries a secret choice; the voter's other
    devices (and the proxy holder's) get ``vote.confirmed``, the managers ``poll.progress``."""
    # cast_ballot checks who may see and vote in the poll itself, with a few indexed lookups.
    # A secret poll's ack carries the ballot's tracking code (and only this device gets it).
    # The ballot is written in the next group commit (meetings/voting/group_commit.py), with those
    # of other tablets; this returns once that commit is done, leaving the gateway nothing to commit.
    return casting.cast_ballot(db.session, data["poll_id"], user, data.get("option_ids"), data.get("on_behalf_of"),
                               data.get("ballot"))
