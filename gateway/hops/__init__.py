"""The hop pipeline: from a normalized ``UssdRequest`` to a ``Reply`` and a saved session."""
