"""Socket.IO handlers of minutes (to be filled in by its issue)."""
