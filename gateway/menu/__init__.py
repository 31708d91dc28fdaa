"""Menu files → validated model → one compiled state machine per menu version."""
