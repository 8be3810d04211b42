"""Socket.IO handlers of annotations (to be filled in by its issue)."""
