"""Surveys over SMS, over real HTTP, Redis, the outbox and its worker sending through the real
SDK to the fake Africa's Talking; time moved by hand (``app[SURVEY_SMS].clock``)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiohttp.test_utils import TestClient
from conftest import MENUS, GatewayFactory, eventually
from survey_fixtures import Clock, FakeServer, content, fake_at_fixture, respondent

from gateway.content.reloader import CONTENT
from gateway.http.v1_surveys import SURVEY_SMS
from gateway.privacy import pseudonymize
from gateway.sms.outbox import keyed_message_id
from gateway.sms.runtime import SMS

__all__ = ["fake_at_fixture"]

KEY = b"test-pseudonym-key"
TOKEN = {"Authorization": "Bearer api"}
A, B = "+254711000201", "+254711000202"
NOON_EAT = datetime(2030, 1, 2, 9, 0, tzinfo=UTC).timestamp()  # Wednesday 12:00 in Nairobi
SHORT = """\
kind: survey
id: short
intro: "Quick survey about our shop, it is FREE. Reply 1 to start, 2 to skip"
closing: "Thanks, that is all!"
channels:
  sms: {reminder: 2h, expiry: 48h}
questions:
  - {id: score, type: nps, text: "How likely are you to recommend us? Reply 0-10"}
  - {id: why, type: text, text: "What is the main reason?"}
"""


def pseudo(phone: str) -> str:
    return pseudonymize(KEY, phone)


async def gateway(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path | None = None,
    now: float = NOON_EAT,
) -> tuple[TestClient[Any, Any], Clock]:  # fmt: skip
    folder = MENUS
    if tmp_path is not None:
        keywords = (MENUS / "keywords.yaml").read_text()
        folder = content(tmp_path, ("short.yaml", SHORT), ("kw.yaml", keywords))
    client = await make_gateway(
        menus_dir=folder, at_base_url=fake_at.url, sms_send_timeout=2.0, sms_rate_per_sender=0,
        api_token="api", survey_tick=3600,
    )  # fmt: skip
    clock = Clock(now)
    client.server.app[SURVEY_SMS].clock = clock
    return client, clock


async def consent(client: TestClient[Any, Any], phone: str) -> None:
    response = await client.post("/v1/consent", headers=TOKEN, json={
        "msisdn": phone, "purpose": "surveys", "granted": True, "source": "signup"})  # fmt: skip
    assert response.status == 200, await response.text()


async def inbound(client: TestClient[Any, Any], text: str, at_id: str, phone: str = A) -> None:
    response = await client.post("/sms/africastalking/inbound", data={
        "from": phone, "to": "22384", "text": text, "id": at_id, "date": "2030-01-02 12:00:00",
        "networkCode": "63902", "linkId": "",
    })  # fmt: skip
    assert response.status == 200


async def received(fake_at: FakeServer, count: int, phone: str = A) -> list[str]:
    """The texts AT has been asked to send to ``phone`` once there are ``count`` of them."""

    def texts() -> list[str]:
        return [r.message for r in fake_at.fake.received if r.to == phone]

    async def arrived() -> bool:
        return len(texts()) >= count

    await eventually(arrived)
    return texts()


async def invite(client: TestClient[Any, Any], survey: str, *numbers: str) -> Any:
    response = await client.post(f"/v1/surveys/{survey}/invite", headers=TOKEN,
                                 json={"msisdns": list(numbers), "channel": "sms"})  # fmt: skip
    return response.status, await response.json()


async def test_invite_checks_consent_per_number_and_404s_an_unknown_survey(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path
) -> None:
    """202 with the refused numbers and why; an unknown survey is 404; a bad body 400."""
    client, _ = await gateway(make_gateway, fake_at, tmp_path)
    await consent(client, A)
    status, body = await invite(client, "short", A, B, "12")
    assert status == 202
    assert body == {"invited": 1, "refused": [
        {"msisdn": B, "reason": "no recorded consent for surveys"},
        {"msisdn": "12", "reason": "not an E.164 number"},
    ]}  # fmt: skip
    assert (await invite(client, "nope", A))[0] == 404
    response = await client.post("/v1/surveys/short/invite", headers=TOKEN, json={"to": [A]})
    assert response.status == 400
    status, body = await invite(client, "short", A)
    assert body["refused"] == [{"msisdn": A, "reason": "already invited"}]


async def test_an_sms_respondent_answering_8_then_free_text_is_completed(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """The invitation opens the survey (even while queued); " 8 " answers the NPS question,
    free text the next; each answer is answered at once; the report counts it completed."""
    client, _ = await gateway(make_gateway, fake_at, tmp_path)
    await consent(client, A)
    assert (await invite(client, "short", A))[1]["invited"] == 1
    # A subscriber answers what reached their phone: the outbox's shards promise no order
    # between two queued messages, so each reply waits for the question it answers.
    await inbound(client, "yes", "in1")
    await received(fake_at, 1)
    await inbound(client, " 8 ", "in2")
    await received(fake_at, 2)
    await inbound(client, "Fast delivery, fair prices", "in3")
    texts = await received(fake_at, 3)
    assert texts == ["How likely are you to recommend us? Reply 0-10", "What is the main reason?",
                     "Thanks, that is all!"]  # fmt: skip
    stored = respondent(redis_client, pseudo(A), "short")
    assert (stored["d"], stored["ch"]) == ("completed", "sms")
    report = await (await client.get("/v1/reports/surveys/short", headers=TOKEN)).json()
    assert report["completed"] == 1
    assert report["questions"]["score"]["nps"] == 0.0  # one passive
    assert report["questions"]["why"]["n"] == 1


async def test_a_retried_reply_is_applied_once(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """AT delivering the same reply twice answers one question, not two."""
    client, _ = await gateway(make_gateway, fake_at, tmp_path)
    await consent(client, A)
    await invite(client, "short", A)
    await inbound(client, "1", "r1")
    await inbound(client, "9", "r2")
    redis_client.delete("j:sms:in:{inbox}:africastalking:r2")  # as if the marker never landed
    await inbound(client, "9", "r2")
    stored = respondent(redis_client, pseudo(A), "short")
    assert "a:why" not in stored and stored["d"] == "started"


async def test_stop_mid_survey_is_breakoff_and_an_opt_out(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """STOP after an answer: breakoff, the opt-out recorded and confirmed; STOP before any
    answer: refused."""
    client, _ = await gateway(make_gateway, fake_at, tmp_path)
    for phone in (A, B):
        await consent(client, phone)
    await invite(client, "short", A, B)
    await inbound(client, "1", "s1", A)
    await inbound(client, "10", "s2", A)
    await inbound(client, "STOP", "s3", A)
    await inbound(client, "stop", "s4", B)
    assert respondent(redis_client, pseudo(A), "short")["d"] == "breakoff"
    assert respondent(redis_client, pseudo(B), "short")["d"] == "refused"
    ledger = client.server.app[SMS].ledger
    for phone in (A, B):
        assert (await ledger.state(pseudo(phone), "surveys")).state == "revoked"
    texts = await received(fake_at, 3, A)  # the questions and the confirmation, in any order
    assert any(text.startswith("You will no longer get marketing messages") for text in texts)


async def test_the_invitation_waits_out_quiet_hours_but_the_survey_is_open(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """Invited at 21:00 in Nairobi: the invitation waits for 08:00, yet a reply sent at once
    is matched to the survey (and answered at once: conversation is not held)."""
    evening = datetime(2030, 1, 2, 18, 0, tzinfo=UTC).timestamp()  # 21:00 EAT
    client, _ = await gateway(make_gateway, fake_at, tmp_path, now=evening)
    await consent(client, A)
    await invite(client, "short", A)
    stored = respondent(redis_client, pseudo(A), "short")
    message = await client.server.app[SMS].outbox.get(stored["inv"])
    assert message is not None and message["status"] == "scheduled"
    morning = datetime(2030, 1, 3, 5, 0, tzinfo=UTC).timestamp()  # 08:00 EAT
    assert int(message["due"]) == morning * 1000
    assert stored["d"] == "queued"
    await inbound(client, "1", "q1")
    assert await received(fake_at, 1) == ["How likely are you to recommend us? Reply 0-10"]
    assert respondent(redis_client, pseudo(A), "short")["d"] == "contacted"


async def test_a_queued_invitation_counts_as_contacted_once_it_goes_out(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """Invited at night the respondent is queued; at 08:00, when the invitation goes out,
    contacted (with its time)."""
    evening = datetime(2030, 1, 2, 18, 0, tzinfo=UTC).timestamp()  # 21:00 EAT
    client, clock = await gateway(make_gateway, fake_at, tmp_path, now=evening)
    surveys = client.server.app[SURVEY_SMS]
    await consent(client, A)
    await invite(client, "short", A)
    clock.now = evening + 3600
    assert await surveys.tick() == 0
    assert respondent(redis_client, pseudo(A), "short")["d"] == "queued"
    clock.now = datetime(2030, 1, 3, 5, 0, tzinfo=UTC).timestamp()  # 08:00 EAT
    assert await surveys.tick() == 1
    stored = respondent(redis_client, pseudo(A), "short")
    assert stored["d"] == "contacted" and float(stored["t:contacted"]) == clock.now


async def test_one_reminder_outside_quiet_hours_then_expiry_as_unresponsive(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """Invited at 17:00 EAT with a 2 h reminder: 19:00 is quiet, so the one reminder goes at
    08:00; no second one; 48 h after the invitation the respondent is unresponsive, and a late
    reply is no longer taken as an answer."""
    five_pm = datetime(2030, 1, 2, 14, 0, tzinfo=UTC).timestamp()
    client, clock = await gateway(make_gateway, fake_at, tmp_path, now=five_pm)
    surveys, outbox = client.server.app[SURVEY_SMS], client.server.app[SMS].outbox
    await consent(client, A)
    await invite(client, "short", A)
    reminder = keyed_message_id(f"survey:short:remind:{pseudo(A)}")
    clock.now = five_pm + 2.5 * 3600  # 19:30 EAT: the reminder would be in quiet hours
    assert await surveys.tick() == 0
    assert await outbox.get(reminder) is None
    clock.now = datetime(2030, 1, 3, 5, 0, tzinfo=UTC).timestamp()  # 08:00 EAT
    assert await surveys.tick() == 1
    sent = await outbox.get(reminder)
    assert sent is not None and sent["text"].startswith("Reminder: we would love your answer.")
    assert int(sent["due"]) == clock.now * 1000  # not held: it is daytime
    clock.now += 6 * 3600
    assert await surveys.tick() == 0  # one reminder at most
    clock.now = five_pm + 48 * 3600
    assert await surveys.tick() == 1
    assert respondent(redis_client, pseudo(A), "short")["d"] == "unresponsive"
    await inbound(client, "9", "late")
    assert "a:score" not in respondent(redis_client, pseudo(A), "short")


async def test_no_reminder_when_quiet_hours_last_past_the_expiry(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """Expiry 10 h after a 17:00 invitation: the reminder's 19:00 is quiet and the morning is
    past the expiry, so no reminder is ever sent; at 03:00 the respondent expires."""
    five_pm = datetime(2030, 1, 2, 14, 0, tzinfo=UTC).timestamp()
    text = SHORT.replace("expiry: 48h", "expiry: 10h")
    client, clock = await gateway(make_gateway, fake_at, tmp_path, now=five_pm)
    (tmp_path / "content" / "short.yaml").write_text(text)
    await client.server.app[CONTENT].reload_async()
    surveys, outbox = client.server.app[SURVEY_SMS], client.server.app[SMS].outbox
    await consent(client, A)
    await invite(client, "short", A)
    for hours in (2, 5, 10):
        clock.now = five_pm + hours * 3600
        await surveys.tick()
    assert await outbox.get(keyed_message_id(f"survey:short:remind:{pseudo(A)}")) is None
    assert respondent(redis_client, pseudo(A), "short")["d"] == "unresponsive"


async def test_the_demo_survey_keyword_starts_the_nps_survey(
    make_gateway: GatewayFactory, fake_at: FakeServer, redis_client: Any
) -> None:
    """Texting SURVEY (the shipped keywords file) starts the shipped NPS survey: no recorded
    consent needed (the subscriber asked); its intro, then its first question."""
    client, _ = await gateway(make_gateway, fake_at)
    await inbound(client, "survey", "k1")
    texts = await received(fake_at, 2)
    assert "Thanks! Your first question is on its way." in texts
    assert any(t.startswith("Jumbe survey: 3 quick questions") for t in texts)
    await inbound(client, "1", "k2")
    texts = await received(fake_at, 3)
    assert texts[2].startswith("How likely are you to recommend Jumbe to a friend?")
    assert respondent(redis_client, pseudo(A), "nps")["ch"] == "sms"


async def test_a_keyword_in_swahili_starts_the_survey_in_swahili(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path
) -> None:
    """The survey speaks the language of the word that started it, when it has that language."""
    keywords = "kind: keywords\nlanguages: [en, sw]\nkeywords:\n" \
        "  - {words: {en: [SURVEY], sw: [UTAFITI]}, survey: nps}\n"  # fmt: skip
    nps = (MENUS / "surveys" / "nps.yaml").read_text()
    folder = content(tmp_path, ("nps.yaml", nps), ("kw.yaml", keywords))
    client = await make_gateway(menus_dir=folder, at_base_url=fake_at.url, sms_send_timeout=2.0,
                                sms_rate_per_sender=0, survey_tick=3600)  # fmt: skip
    await inbound(client, "utafiti", "sw1")
    texts = await received(fake_at, 1)
    assert texts[0].startswith("Utafiti wa Jumbe: maswali 3 mafupi")


async def _six_started(client: TestClient[Any, Any], prefix: str) -> list[str]:
    """Six consenting numbers invited to the short survey, each having replied 1 (start)."""
    phones = [f"{prefix}{i:02d}" for i in range(6)]
    for phone in phones:
        await consent(client, phone)
    await invite(client, "short", *phones)
    for i, phone in enumerate(phones):
        await inbound(client, "1", f"go{i}", phone)
    return phones


async def test_two_quick_replies_are_applied_one_after_the_other(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """Replies that arrive together are applied in turn, each on the progress the previous
    one left: the waiting question is never one already answered."""
    client, _ = await gateway(make_gateway, fake_at, tmp_path)
    phones = await _six_started(client, "+2547110003")
    await asyncio.gather(*(
        inbound(client, text, f"{text[:3]}{i}", phone)
        for i, phone in enumerate(phones) for text in ("9", "Great shop")
    ))  # fmt: skip
    for phone in phones:
        stored = respondent(redis_client, pseudo(phone), "short")
        waiting = orjson.loads(stored["p"])["q"]
        answered = {field[2:] for field in stored if field.startswith("a:")}
        assert waiting not in answered, (stored["d"], waiting, answered)


async def test_two_quick_replies_to_two_gateway_processes_are_applied_in_turn(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """``--workers 2`` (or two machines): AT posts a subscriber's two quick replies to two
    processes at once. The second waits for the first, so both questions get their answer and
    the subscriber is not asked the first question's follow-up twice."""
    first, _ = await gateway(make_gateway, fake_at, tmp_path)
    second, _ = await gateway(make_gateway, fake_at, tmp_path)
    phones = await _six_started(first, "+2547110004")
    await asyncio.gather(*(
        call for i, phone in enumerate(phones)
        for call in (inbound(first, "9", f"nine{i}", phone),
                     inbound(second, "7", f"seven{i}", phone))  # valid for both questions
    ))  # fmt: skip
    for phone in phones:
        stored = respondent(redis_client, pseudo(phone), "short")
        answered = {field[2:] for field in stored if field.startswith("a:")}
        assert answered == {"score", "why"}, (phone, stored)
        assert stored["d"] == "completed"


async def test_a_first_question_that_never_arrives_makes_the_respondent_failed(
    make_gateway: GatewayFactory, fake_at: FakeServer, tmp_path: Path, redis_client: Any
) -> None:
    """SURVEY texted, but the network rejects the first question (its delivery report says
    so): when the respondent is looked at again they are ``failed``, and no reminder goes to a
    number that cannot get it."""
    client, clock = await gateway(make_gateway, fake_at, now=time.time())  # the shipped nps
    fake_at.fake.callback_url = str(client.make_url("/sms/africastalking/delivery"))
    fake_at.fake.final_for[A] = ("Rejected", "InvalidPhoneNumber")
    surveys, outbox = client.server.app[SURVEY_SMS], client.server.app[SMS].outbox
    await inbound(client, "SURVEY", "kw-1")
    first = respondent(redis_client, pseudo(A), "nps")["inv"]

    async def rejected() -> bool:
        return (await outbox.get(first) or {}).get("status") == "rejected"

    await eventually(rejected)
    clock.now = time.time() + 3 * 86400  # past the reminder and the expiry
    assert await surveys.tick() == 1
    assert respondent(redis_client, pseudo(A), "nps")["d"] == "failed"
    assert await outbox.get(keyed_message_id(f"survey:nps:remind:{pseudo(A)}")) is None
    report = await client.get("/v1/reports/surveys/nps", headers={"Authorization": "Bearer api"})
    assert (await report.json())["dispositions"]["failed"] == 1
