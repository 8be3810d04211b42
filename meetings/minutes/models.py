"""minutes models (to be filled in by its issue)."""
