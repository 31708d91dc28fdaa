"""Balance-check piggyback ads: campaigns, the decision engine, events (no aiohttp here)."""
