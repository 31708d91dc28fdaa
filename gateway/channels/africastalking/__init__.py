"""Africa's Talking: USSD hops (form bodies, cumulative ``text``, ``CON``/``END`` replies), the
end-of-session notification, and SMS (SDK sends; inbound, delivery and opt-out callbacks).

Importing this package is cheap (``jumbe check`` needs only its screen overhead); ``setup``
loads the routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

PROVIDER = "africastalking"
SCREEN_OVERHEAD = 4
"""``CON `` / ``END ``: the characters of each screen AT's wire format uses itself."""

if TYPE_CHECKING:
    from aiohttp import web


def setup(app: web.Application) -> None:
    """Register AT's routes (``/ussd/africastalking``, ``/sms/africastalking/…``)."""
    from gateway.channels.africastalking.routes import add_routes

    add_routes(app)
