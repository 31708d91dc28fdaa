"""Surveys over USSD and SMS (issue 12): the file format, the pure engine, scores, the store.

- ``model``: a checked survey (questions, skip logic, quotas, texts per language);
- ``parse``: ``kind: survey`` files → ``Survey`` plus findings at their lines;
- ``answers``: tolerant answer parsing, answer categories, NPS/CES/CSAT;
- ``engine``: pure steps (start or resume, answer → next question, breakoff, completion);
- ``store``: the respondent state in Redis (Lua scripts on one slot per respondent), quotas;
- ``sms``: invitations, replies, the one reminder, expiry;
- ``report``: ``GET /v1/reports/surveys/{id}`` and its CSV export.

Engines import no aiohttp; the USSD side is the ``survey`` screen kind
(``menu.screens.survey``) whose effects ``hops.surveys`` performs.
"""
