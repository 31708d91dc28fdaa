"""Rewards: a points ledger that cannot double-spend, redeemed as airtime or vouchers.

- ``ledger``: the append-only ledger on Redis (every change one Lua script in the subscriber's
  slot); ``catalog``: what points buy (``kind: catalog`` files); ``amounts``: currencies and
  airtime limits; ``service``: earn, redeem and settle — the one place they go through
  (``Rewards.activity`` is told of every earn and redemption); ``fulfil``: the job handler that
  sends airtime through Africa's Talking or gives out a voucher code; ``notify``: the SMS
  receipt; ``daily``: expiry, incentive drain, stuck holds, the reconciliation report;
  ``runtime``: the wiring inside ``serve`` and ``jumbe worker --queue rewards``.

No aiohttp in the domain modules: the ``/v1`` views, the AT callbacks and the USSD effects call
``service``; only ``runtime`` knows the app.
"""
