"""Socket.IO handlers of voting (to be filled in by its issue)."""
