"""Redis URLs in messages: never with their password (no dependencies: the CLI imports it)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def describe(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
