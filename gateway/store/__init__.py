"""Redis: the connection (embedded or URL), every key with its TTL, and the Lua scripts."""
