"""Funnel analytics: per menu screen and day, how many sessions reached it, answered it, gave an
invalid answer, or ended there by timeout, by the subscriber, or by an error.

- ``counts``: the hop pipeline's side, counted in memory and added to Redis about once a second;
- ``drops``: where and why a session ended before an END, from the end-of-session notification;
- ``report``: the report ``GET /v1/reports/funnel/{menu}`` answers.
"""
