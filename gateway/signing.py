"""``X-Jumbe-Signature``: how Jumbe signs what it POSTs to a brand (webhook screens, the event
feed), so the brand can check it came from its gateway."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Jumbe-Signature"


def signature(secret: bytes, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
