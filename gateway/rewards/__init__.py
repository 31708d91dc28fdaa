"""Rewards: a points ledger that cannot double-spend, redeemed as airtime or vouchers.

- ``ledger``: the append-only ledger on Redis (every change one Lua script in the subscriber's
  slot); ``catalog``: what points buy (``kind: catalog`` files); ``amounts``: currencies and
  airtime limits; ``service``: earn and redeem (guards, budget, hold, queue), the one place
  both go through; ``fulfil``: the job handler that sends airtime through Africa's Talking;
  ``expiry``, ``reconcile``: the daily jobs; ``runtime``: the wiring inside ``serve``.

No aiohttp here: the ``/v1`` views, the AT callbacks and the USSD effects call ``service``.
"""
