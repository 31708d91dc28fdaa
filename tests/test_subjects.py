"""Data-subject rights over HTTP: `GET /v1/subscribers/{msisdn}/export` lists, and
`DELETE /v1/subscribers/{msisdn}` erases, what every engine holds about one subscriber — checked
by walking every key in Redis — while an opt-out survives the erasure."""

from __future__ import annotations

import asyncio
import inspect
import shutil
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp.test_utils import TestClient
from conftest import MENUS, GatewayFactory, hop

from gateway.appkeys import ACTIVITY, INCENTIVES, PSEUDONYM
from gateway.lifecycle.recorder import FLUSH_DELAY
from gateway.store import keys
from gateway.subjects import HOLDERS
from gateway.subjects.families import NOT_PERSONAL

TOKEN = "subjects-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ALICE, BOB = "+254711000101", "+254711000202"
CLUB = """\
id: club
service_codes: ["*777#"]
languages: [en, sw]
start: lang
resume: {policy: resume, within: 10m}
screens:
  lang:
    language: {text: "Choose a language", labels: {en: English, sw: Kiswahili}, next: name}
  name:
    input: {text: {en: "Your name?", sw: "Jina lako?"}, save: name, next: done}
  done:
    end: {en: "Welcome {name}", sw: "Karibu {name}"}
"""


def test_every_key_family_is_exported_and_erased_or_said_not_personal() -> None:
    """Each key family in store/keys.py is either held by an engine's holder (exported and
    erased) or listed as not personal with the reason; none is both, none is unknown."""
    families = {
        name for name, value in vars(keys).items()
        if inspect.isfunction(value) and value.__module__ == keys.__name__
        and inspect.signature(value).return_annotation in ("str", str)
    }  # fmt: skip
    held = [family for holder in HOLDERS for family in holder.families]
    assert len(held) == len(set(held)), "a family held twice"
    assert not set(held) & set(NOT_PERSONAL), "held and said not personal"
    assert set(held) | set(NOT_PERSONAL) == families, (
        "unclassified: " + ", ".join(sorted(families - set(held) - set(NOT_PERSONAL)))
        + "; unknown: " + ", ".join(sorted((set(held) | set(NOT_PERSONAL)) - families))
    )  # fmt: skip


async def _inbound(client: TestClient[Any, Any], phone: str, text: str, at_id: str) -> None:
    response = await client.post("/sms/africastalking/inbound", data={
        "from": phone, "to": "22384", "text": text, "id": at_id,
        "date": "2026-11-30 08:00:00", "networkCode": "63902", "linkId": "",
    })  # fmt: skip
    assert response.status == 200, await response.text()


async def _leave_traces(client: TestClient[Any, Any], phone: str, tag: str) -> None:
    """What a subscriber leaves in every engine: a language and a resume point, an ended USSD
    session, a consent grant then STOP (history, confirmation SMS, inbound messages), a VIP tag,
    a receipt, an incentive."""
    app = client.server.app
    for text in ("", "2"):  # Kiswahili, then drops on the name screen
        status, _ = await hop(client, text, session_id=f"club-{tag}", service_code="*777#",
                              phone=phone)  # fmt: skip
        assert status == 200
    await hop(client, "", session_id=f"demo-{tag}", service_code="*384#", phone=phone)
    for text in ("", "1", "1*9"):  # the NPS survey: intro, continue, a score of 9
        await hop(client, text, session_id=f"nps-{tag}", service_code="*384*77#", phone=phone)
    await client.post("/ussd/africastalking/events", data={
        "sessionId": f"demo-{tag}", "serviceCode": "*384#", "phoneNumber": phone,
        "networkCode": "63902", "status": "Incomplete", "date": "2026-11-30 08:00:00",
    })  # fmt: skip
    grant = {"msisdn": phone, "purpose": "promo_sms", "granted": True, "source": "web"}
    assert (await client.post("/v1/consent", json=grant, headers=AUTH)).status == 200
    await _inbound(client, phone, "VIP", f"in-vip-{tag}")
    await _inbound(client, phone, "STOP", f"in-stop-{tag}")
    receipt = {"to": phone, "text": f"Receipt {tag}", "category": "transactional"}
    assert (await client.post("/v1/sms", json=receipt, headers=AUTH)).status == 202
    await app[INCENTIVES].grant(app[PSEUDONYM](phone), 10, "survey:nps", f"nps-{tag}")


def _everything(client: redis.Redis) -> dict[bytes, bytes]:
    """Every key in Redis and its contents flattened to bytes."""
    contents: dict[bytes, bytes] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        value: Any
        if kind == "string":
            value = client.get(key) or b""
        elif kind == "hash":
            value = b" ".join(k + b"=" + v for k, v in client.hgetall(key).items())
        elif kind == "stream":
            value = b" ".join(repr(fields).encode() for _, fields in client.xrange(key))
        elif kind == "set":
            value = b" ".join(client.smembers(key))
        elif kind == "zset":
            value = b" ".join(client.zrange(key, 0, -1))
        else:
            value = b""
        contents[key] = value
    return contents


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(MENUS, folder)
    (folder / "club.yaml").write_text(CLUB)
    return folder


async def test_export_lists_and_erase_removes_a_subscriber_everywhere(
    make_gateway: GatewayFactory, redis_client: redis.Redis, content: Path
) -> None:
    client = await make_gateway(api_token=TOKEN, sms_worker=False, menus_dir=content,
                                consent_modes={"promo_sms": "opt_out", "ads": "opt_out",
                                               "surveys": "opt_out"})  # fmt: skip
    pseudonym = client.server.app[PSEUDONYM]
    alice, bob = pseudonym(ALICE), pseudonym(BOB)
    await _leave_traces(client, ALICE, "a")
    await _leave_traces(client, BOB, "b")

    response = await client.get(f"/v1/subscribers/{ALICE}/export", headers=AUTH)
    assert response.status == 200, await response.text()
    exported = await response.json()
    assert (exported["msisdn"], exported["subscriber"]) == (ALICE, alice)
    memory = exported["ussd_memory"]
    assert memory["remembered"] == {"lang": "sw"}
    assert memory["resume_points"]["club"]["s"] == "name"
    consent = exported["consent"]
    assert consent["purposes"]["promo_sms"]["state"] == "revoked"
    assert [h["state"] for h in consent["history"] if h["purpose"] == "promo_sms"] == [
        "granted", "revoked"]  # fmt: skip
    assert consent["tags"] == ["vip"]
    texts = [m["text"] for m in exported["sms"]["sent_to_subscriber"]]
    assert "Receipt a" in texts and all(m["to"] == ALICE for m in exported["sms"][
        "sent_to_subscriber"])  # fmt: skip
    assert [m["text"] for m in exported["sms"]["received_from_subscriber"]] == ["VIP", "STOP"]
    assert [e["status"] for e in exported["ussd_sessions"]["ended_sessions"]] == ["incomplete"]
    assert exported["surveys"]["respondent_of"]["nps"]["a:score"][0] == "9"
    earned = [e for e in exported["rewards"]["ledger"] if e["t"] == "earn"]
    assert [(e["pts"], e["src"]) for e in earned] == [("10", "survey:nps")]
    assert "Receipt b" not in str(exported) and bob not in str(exported)

    before = _everything(redis_client)
    erased = await client.delete(f"/v1/subscribers/{ALICE.lstrip('+')}", headers=AUTH)
    assert erased.status == 200, await erased.text()
    body = await erased.json()
    assert body["erased"] is True and sum(body["removed"].values()) > 0

    after = _everything(redis_client)
    # Kept on purpose: the suppression record, the audit trail, and ledger entries (with the
    # ledger's indexes), which keep only the pseudonym.
    kept_on_purpose = {keys.consent(alice), keys.audit(), keys.rewards_ledger(alice),
                       keys.rewards_sources(alice), keys.rewards_redemptions(alice),
                       keys.rewards_snapshot(alice), keys.rewards_requests(alice)}  # fmt: skip
    indexes = (b"j:inc:", b"j:rw:exp:", b"j:rw:idx:")
    for key, value in after.items():
        if key.decode() in kept_on_purpose or key.startswith(indexes):
            assert ALICE.lstrip("+").encode() not in value, key
            continue
        assert alice.encode() not in key + value, key
        assert ALICE.lstrip("+").encode() not in key + value, key
    suppression = redis_client.hgetall(keys.consent(alice))
    assert set(suppression) == {b"promo_sms", b"ads", b"surveys"}
    assert all(v.startswith(b"revoked|") for v in suppression.values())
    # Bob's traces are all still there.
    assert sum(bob.encode() in k + v for k, v in after.items()) == sum(
        bob.encode() in k + v for k, v in before.items())  # fmt: skip

    # Erasure never turns marketing back on: opt_out mode, and still refused.
    promo = {"to": ALICE, "text": "Offer", "category": "promotional"}
    refused = await client.post("/v1/sms", json=promo, headers=AUTH)
    assert refused.status == 409 and "opted out" in (await refused.json())["reason"]
    again = await client.delete(f"/v1/subscribers/{ALICE}", headers=AUTH)
    assert again.status == 200 and sum((await again.json())["removed"].values()) == 0
    audit = redis_client.xrange(keys.audit())
    actions = [(f[b"action"], f[b"subscriber"], f[b"requested_by"]) for _, f in audit]
    assert actions[:2] == [(b"export", alice.encode(), b"JUMBE_API_TOKEN"),
                           (b"erase", alice.encode(), b"JUMBE_API_TOKEN")]  # fmt: skip
    assert ALICE.lstrip("+").encode() not in repr(audit).encode()


async def test_activity_noted_just_before_an_erasure_is_not_written_after_it(
    make_gateway: GatewayFactory, redis_client: redis.Redis, content: Path
) -> None:
    """Activity is written in batches a moment after it happens: an erasure in that moment
    drops the subscriber's note, so their lifecycle record does not come back after it."""
    client = await make_gateway(api_token=TOKEN, sms_worker=False, menus_dir=content)
    alice, bob = client.server.app[PSEUDONYM](ALICE), client.server.app[PSEUDONYM](BOB)
    for subscriber in (alice, bob):
        client.server.app[ACTIVITY].record(subscriber, "sms")  # written FLUSH_DELAY from now
    erased = await client.delete(f"/v1/subscribers/{ALICE}", headers=AUTH)
    assert erased.status == 200, await erased.text()
    await asyncio.sleep(FLUSH_DELAY + 0.5)
    assert redis_client.exists(keys.lifecycle(bob)) == 1  # the batch was written, without her
    assert redis_client.exists(keys.lifecycle(alice)) == 0
    last = keys.lifecycle_last(keys.lifecycle_shard(alice))
    assert redis_client.zscore(last, alice) is None


async def test_requests_need_the_subjects_scope_and_a_number(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        "tokens:\n  - {name: bi, token: reports-only-token-123, scopes: [reports]}\n"
        "  - {name: dpo, token: data-protection-token, scopes: [subjects]}\n"
    )
    client = await make_gateway(api_tokens_file=tokens, sms_worker=False)
    bi = {"Authorization": "Bearer reports-only-token-123"}
    dpo = {"Authorization": "Bearer data-protection-token"}
    assert (await client.get(f"/v1/subscribers/{ALICE}/export", headers=bi)).status == 403
    assert (await client.delete(f"/v1/subscribers/{ALICE}", headers=bi)).status == 403
    bad = await client.get("/v1/subscribers/not-a-number/export", headers=dpo)
    assert bad.status == 400 and "E.164" in (await bad.json())["reason"]
    fine = await client.get(f"/v1/subscribers/%2B{ALICE[1:]}/export", headers=dpo)
    assert fine.status == 200 and (await fine.json())["msisdn"] == ALICE
