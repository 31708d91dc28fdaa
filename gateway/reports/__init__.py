"""``jumbe report …`` and what every report shares: a client of ``/v1/reports/*``, tables
(terminal, CSV, HTML) and chart primitives as inline SVG, assembled into self-contained pages.

- ``client``: fetch a report; every failure is one line for the terminal.
- ``tables``: ``Table`` → aligned text, RFC 4180 CSV, an HTML ``<table>``.
- ``svg``: bar, stacked bar, line and funnel charts (no scripts, no network).
- ``page``: the HTML document around them (inline CSS).
- ``sms``: the SMS report's rows and page; ads, surveys and funnels add a module each.
- ``cli``: the ``jumbe report`` subcommand.

Nothing here imports Redis or aiohttp: the gateway's views and the command share the renderers.
"""
