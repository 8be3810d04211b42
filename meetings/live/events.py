"""Socket.IO handlers of the live room (filled in by the live-room issue)."""
