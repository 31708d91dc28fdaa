"""Surveys over USSD, over real HTTP and Redis: state per (survey, subscriber), not session."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from conftest import MENUS, GatewayFactory, RedisProcess, hop
from prometheus_client.parser import text_string_to_metric_families
from survey_fixtures import INCENTIVE_SURVEY, MENU, QUOTA_SURVEY, SURVEY, content, respondent

from gateway import logs
from gateway.privacy import pseudonymize
from gateway.store import keys

A, B, C = "+254700000101", "+254700000102", "+254700000103"


def pseudo(phone: str) -> str:
    return pseudonymize(b"test-pseudonym-key", phone)


async def folder_gateway(make_gateway: GatewayFactory, tmp_path: Path, *files: str) -> Any:
    named = [(f"f{i}.yaml", text) for i, text in enumerate(files)]
    return await make_gateway(menus_dir=content(tmp_path, *named))


async def test_a_redial_resumes_at_the_first_unanswered_question(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """Dropped after question 1, the subscriber redials (a new session) and is asked question 2;
    question 1 is never asked again, and its answer is kept."""
    client = await folder_gateway(make_gateway, tmp_path, SURVEY)
    code = "*500*1#"
    assert await hop(client, "", "d1", code, A) == (200, "CON Recommend us? 0-10")
    assert await hop(client, "8", "d1", code, A) == (200, "CON Why?")
    # the session drops here; a new one starts on redial
    assert await hop(client, "", "d2", code, A) == (200, "CON Why?")
    assert await hop(client, "fast", "d2", code, A) == (200, "CON Happy? 1-5")
    assert await hop(client, "", "d3", code, A) == (200, "CON Happy? 1-5")
    assert await hop(client, "5", "d3", code, A) == (200, "END Thank you for your answers!")
    stored = respondent(redis_client, pseudo(A), "s1")
    assert stored["d"] == "completed" and stored["ch"] == "ussd"
    assert orjson.loads(stored["a:q1"])[:3] == ["8", 8, "passive"]
    assert orjson.loads(stored["a:q2"])[:3] == ["fast", "fast", "text"]
    assert {"t:contacted", "t:started", "t:completed"} <= set(stored)


async def test_a_completed_survey_is_not_retaken(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Dialling a survey already completed gets a short END saying so."""
    client = await folder_gateway(make_gateway, tmp_path, SURVEY)
    code = "*500*1#"
    for text in ("", "10", "10*great", "10*great*4"):
        await hop(client, text, "c1", code, A)
    assert await hop(client, "", "c2", code, A) == (
        200, "END You have already taken this survey. Thank you!"
    )  # fmt: skip


async def test_out_of_range_answers_are_re_asked_twice_then_breakoff(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """11 and "abc" to a 0-10 question re-ask it with a note; a third invalid answer ends the
    survey as a breakoff, and a redial says it is over."""
    client = await folder_gateway(make_gateway, tmp_path, SURVEY)
    code, again = "*500*1#", "CON Sorry, that is not a valid answer.\nRecommend us? 0-10"
    await hop(client, "", "b1", code, A)
    assert await hop(client, "11", "b1", code, A) == (200, again)
    assert await hop(client, "11*abc", "b1", code, A) == (200, again)
    assert await hop(client, "11*abc*-1", "b1", code, A) == (200, "END Thank you for your time.")
    assert respondent(redis_client, pseudo(A), "s1")["d"] == "breakoff"
    _, body = await hop(client, "", "b2", code, A)
    assert body.startswith("END You have already taken this survey")


async def test_tolerant_answers_over_ussd(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """ " 8 ", "8." and "8/10" are all 8."""
    client = await folder_gateway(make_gateway, tmp_path, SURVEY)
    for n, answer in enumerate((" 8 ", "8.", "8/10")):
        phone = f"+25470000020{n}"
        await hop(client, "", f"t{n}", "*500*1#", phone)
        assert await hop(client, answer, f"t{n}", "*500*1#", phone) == (200, "CON Why?")


async def test_a_menu_starts_a_survey_and_goes_on_to_next(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """The survey screen in a menu: its questions, then the menu's next screen; the same
    respondent dialling the survey directly afterwards has already taken it."""
    client = await folder_gateway(make_gateway, tmp_path, MENU, SURVEY)
    bodies = [(await hop(client, text, "m1", "*500#", A))[1]
              for text in ("", "1", "1*9", "1*9*ok", "1*9*ok*5")]  # fmt: skip
    assert bodies == ["CON Shop\n1. Feedback", "CON Recommend us? 0-10", "CON Why?",
                      "CON Happy? 1-5", "END Thanks from the shop"]  # fmt: skip
    assert (await hop(client, "", "m2", "*500*1#", A))[1].startswith("END You have already")


async def test_the_demo_menu_reaches_the_shipped_nps_survey(make_gateway: GatewayFactory) -> None:
    """*384# → 6 (Tell us more) → the NPS survey's intro (FREE, continue?) → its questions."""
    client = await make_gateway(menus_dir=MENUS)
    await hop(client, "", "demo", "*384#", A)
    _, body = await hop(client, "6", "demo", "*384#", A)
    assert body.startswith("CON Jumbe survey: 3 quick questions") and "FREE" in body
    assert body.endswith("1. Yes\n2. No")
    _, body = await hop(client, "6*1", "demo", "*384#", A)
    assert body.startswith("CON How likely are you to recommend Jumbe")


async def test_quotas_reject_the_right_respondent(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """Bucket "yes" holds one: the first member goes on, the second member is rejected with
    the survey's text, a non-member (no bucket) goes on."""
    client = await folder_gateway(make_gateway, tmp_path, QUOTA_SURVEY)
    code = "*500*2#"
    for phone, session in ((A, "qa"), (B, "qb"), (C, "qc")):
        await hop(client, "", session, code, phone)
    assert await hop(client, "yes", "qa", code, A) == (200, "CON Happy? 1-5")
    assert await hop(client, "1", "qb", code, B) == (
        200, "END Thanks, we have enough answers from you group."
    )  # fmt: skip
    assert await hop(client, "no", "qc", code, C) == (200, "CON Happy? 1-5")
    assert respondent(redis_client, pseudo(B), "q")["d"] == "rejected"
    assert respondent(redis_client, pseudo(A), "q")["d"] == "started"


async def test_a_breakoff_gives_its_quota_place_back(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A member who breaks off frees the bucket's place for the next member."""
    client = await folder_gateway(make_gateway, tmp_path, QUOTA_SURVEY)
    code = "*500*2#"
    await hop(client, "", "r1", code, A)
    await hop(client, "1", "r1", code, A)
    for text in ("1*9", "1*9*9", "1*9*9*9"):
        await hop(client, text, "r1", code, A)
    await hop(client, "", "r2", code, B)
    assert await hop(client, "1", "r2", code, B) == (200, "CON Happy? 1-5")


async def test_completion_grants_the_incentive_exactly_once(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """Completing grants the survey's points through app[INCENTIVES] — the rewards ledger —
    once per respondent, whatever the retries and redials."""
    client = await folder_gateway(make_gateway, tmp_path, INCENTIVE_SURVEY)
    code = "*500*3#"
    await hop(client, "", "i1", code, A)
    assert await hop(client, "1", "i1", code, A) == (200, "END Thank you for your answers!")
    assert await hop(client, "1", "i1", code, A) == (200, "END Thank you for your answers!")
    await hop(client, "", "i2", code, A)
    entries = redis_client.xrange(keys.rewards_ledger(pseudo(A)))
    earned = [(f[b"t"], f[b"pts"], f[b"src"]) for _, f in entries]
    assert earned == [(b"earn", b"25", b"survey:inc")]


@pytest.fixture
def log_stream() -> Any:
    stream = io.BytesIO()
    logs.configure("json", "info", stream=stream)
    yield stream
    logs.configure("json", "info")


async def test_an_answer_costs_one_round_trip_like_a_menu_hop(
    make_gateway: GatewayFactory, tmp_path: Path, log_stream: io.BytesIO
) -> None:
    """Dialling a survey costs two round trips (the respondent read, the session's save), like
    the first hop of a menu that remembers subscribers; each answer costs one: what it records
    rides with the session's compare-and-set. No phone number in the log."""
    client = await folder_gateway(make_gateway, tmp_path, SURVEY)
    for text in ("", "7", "7*ok"):
        await hop(client, text, "rt", "*500*1#", A)
    logs.flush()
    lines = [orjson.loads(line) for line in log_stream.getvalue().splitlines()]
    trips = [line["redis_round_trips"] for line in lines if line["event"] == "ussd_hop"]
    assert trips == [2, 1, 1]
    assert A[1:].encode() not in log_stream.getvalue()


async def test_with_redis_gone_a_respondent_reads_an_end_and_loses_nothing(
    make_gateway: GatewayFactory, tmp_path: Path, own_redis: RedisProcess
) -> None:
    """Redis stops mid-survey: the answer gets a readable END, never a 500; once Redis is back,
    a redial resumes where the respondent stood."""
    client = await make_gateway(menus_dir=content(tmp_path, ("s.yaml", SURVEY)),
                                redis_url=own_redis.url, hop_deadline=2.0)  # fmt: skip
    code = "*500*1#"
    await hop(client, "", "f1", code, A)
    assert await hop(client, "6", "f1", code, A) == (200, "CON Why?")
    own_redis.stop()
    status, body = await hop(client, "6*slow", "f1", code, A)
    assert status == 200 and body.startswith("END ")
    own_redis.start()
    assert await hop(client, "", "f2", code, A) == (200, "CON Why?")


async def test_dispositions_are_counted_in_metrics(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """/metrics counts respondents reaching each disposition, by survey and channel; no
    pseudonym or number among the labels."""

    def completed(text: str) -> float:
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "jumbe_survey_dispositions_total"
            and sample.labels == {"survey": "s1", "channel": "ussd", "disposition": "completed"}
        )

    client = await folder_gateway(make_gateway, tmp_path, SURVEY)
    before = completed(await (await client.get("/metrics")).text())
    for text in ("", "3", "3*slow", "3*slow*2"):
        await hop(client, text, "mx", "*500*1#", B)
    page = await (await client.get("/metrics")).text()
    assert completed(page) == before + 1
    assert pseudo(B) not in page and B[1:] not in page


async def test_a_dialled_survey_speaks_the_language_the_subscriber_chose(
    make_gateway: GatewayFactory,
) -> None:
    """A subscriber who picked Kiswahili in the demo menu dials the NPS survey straight in and
    is asked in Kiswahili, without another round trip (the read goes with the respondent's)."""
    client = await make_gateway(menus_dir=MENUS)
    for text in ("", "4", "4*2"):
        await hop(client, text, "lang", "*384#", C)
    _, body = await hop(client, "", "sw1", "*384*77#", C)
    assert body.startswith("CON Utafiti wa Jumbe: maswali 3 mafupi")
    assert body.endswith("1. Ndiyo\n2. Hapana")
    _, body = await hop(client, "1", "sw1", "*384*77#", C)
    assert body.startswith("CON Kuna uwezekano gani utapendekeza Jumbe")
