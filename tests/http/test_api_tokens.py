"""Scoped /v1 tokens from JUMBE_API_TOKENS_FILE, over HTTP: scopes, names in logs, idempotency."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory, free_port, settings_for
from processes import environment, jumbe, start

from gateway.config import from_env
from gateway.errors import ConfigError
from gateway.http.app import create_app

CRM = "crm-token-0123456789"
SHOP = "shop-token-0123456789"
ENV_TOKEN = "env-token-0123456789"
PHONE = "+254711000333"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _tokens_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tokens.yaml"
    path.write_text(text)
    return path


GOOD = f"""
tokens:
  - name: crm
    token: "{CRM}"
    scopes: [consent]
  - name: shop
    sha256: "{hashlib.sha256(SHOP.encode()).hexdigest()}"
    scopes: [sms, consent]
"""


async def _gateway(
    make_gateway: GatewayFactory, tmp_path: Path, text: str = GOOD, **overrides: Any
) -> TestClient[Any, Any]:
    path = _tokens_file(tmp_path, text)
    return await make_gateway(api_tokens_file=path, sms_worker=False, **overrides)


async def _json(response: Any) -> dict[str, Any]:
    assert response.content_type == "application/json"
    body: dict[str, Any] = orjson.loads(await response.read())
    return body


async def test_a_scoped_token_may_use_its_scopes_and_gets_403_elsewhere(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """The CRM's consent-only token reads consent (200) and gets 403 with the reason on /v1/sms."""
    client = await _gateway(make_gateway, tmp_path)
    own = await client.get(f"/v1/consent/{PHONE}", headers=_bearer(CRM))
    assert own.status == 200
    other = await client.post("/v1/sms", headers=_bearer(CRM), json={
        "to": PHONE, "text": "hi", "category": "transactional"})  # fmt: skip
    assert other.status == 403
    assert await _json(other) == {
        "error": "forbidden", "reason": "this token may not use the sms API"}  # fmt: skip


async def test_a_token_given_by_its_sha256_works_like_a_plain_one(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """An entry holding only the token's SHA-256 lets that token send (202); its digest does not."""
    client = await _gateway(make_gateway, tmp_path)
    body = {"to": PHONE, "text": "Receipt", "category": "transactional"}
    assert (await client.post("/v1/sms", headers=_bearer(SHOP), json=body)).status == 202
    digest = hashlib.sha256(SHOP.encode()).hexdigest()
    wrong = await client.post("/v1/sms", headers=_bearer(digest), json=body)
    assert (wrong.status, (await _json(wrong))["reason"]) == (401, "wrong bearer token")


async def test_the_environment_token_keeps_every_scope_beside_the_file(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """With both configured, JUMBE_API_TOKEN still sends SMS and reads consent."""
    client = await _gateway(make_gateway, tmp_path, api_token=ENV_TOKEN)
    body = {"to": PHONE, "text": "Receipt", "category": "transactional"}
    assert (await client.post("/v1/sms", headers=_bearer(ENV_TOKEN), json=body)).status == 202
    assert (await client.get(f"/v1/consent/{PHONE}", headers=_bearer(ENV_TOKEN))).status == 200
    assert (await client.get(f"/v1/consent/{PHONE}", headers=_bearer(CRM))).status == 200


def _get(port: int, path: str, token: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=_bearer(token))
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def test_the_log_line_names_the_token_never_its_value(tmp_path: Path) -> None:
    """A real gateway's api_request lines carry the token's name (crm, JUMBE_API_TOKEN), never
    the token itself."""
    port, log = free_port(), tmp_path / "gateway.log"
    env = environment(JUMBE_API_TOKEN=ENV_TOKEN,
                      JUMBE_API_TOKENS_FILE=str(_tokens_file(tmp_path, GOOD)))  # fmt: skip
    server = start(port, tmp_path / "var", "--log-format", "json", env=env, log=log)
    try:
        statuses = [_get(port, f"/v1/consent/{PHONE}", token)
                    for token in (CRM, ENV_TOKEN, "not-a-token-at-all")]  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert statuses == [200, 200, 401]
    text = log.read_bytes()
    calls = [line for line in map(orjson.loads, text.splitlines())
             if line["event"] == "api_request"]  # fmt: skip
    assert [(c["status"], c.get("token_name")) for c in calls] == [
        (200, "crm"), (200, "JUMBE_API_TOKEN"), (401, None)]  # fmt: skip
    for secret in (CRM, ENV_TOKEN, "not-a-token-at-all"):
        assert secret.encode() not in text


async def test_idempotency_keys_of_two_clients_never_collide(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Two tokens using the same Idempotency-Key send two messages; each retry gets its own."""
    both = GOOD.replace("scopes: [consent]", "scopes: [sms]")
    client = await _gateway(make_gateway, tmp_path, both)
    key = {"Idempotency-Key": "order-1"}
    crm_body = {"to": PHONE, "text": "From the CRM", "category": "transactional"}
    shop_body = {"to": PHONE, "text": "From the shop", "category": "transactional"}
    crm = await _json(await client.post("/v1/sms", headers={**_bearer(CRM), **key}, json=crm_body))
    shop = await client.post("/v1/sms", headers={**_bearer(SHOP), **key}, json=shop_body)
    assert shop.status == 202  # not 422 "already used for a different message"
    shop_id = (await _json(shop))["id"]
    assert shop_id != crm["id"]
    again = await client.post("/v1/sms", headers={**_bearer(CRM), **key}, json=crm_body)
    assert (await _json(again))["id"] == crm["id"]


@pytest.mark.parametrize(("text", "problem"), [
    ("tokens:\n  - {name: crm, token: 'crm-token-0123456789', scopes: [sms, report]}\n",
     "token #1 (crm): unknown scope 'report'; expected one of consent, piggyback, reports, "
     "rewards, segments, sms, subjects, surveys"),
    ("tokens:\n  - {name: crm, scopes: [sms]}\n", "token #1 (crm): give exactly one of token or "
     "sha256"),
    ("tokens:\n  - {name: a, token: 'a-token-0123456789', scopes: [sms]}\n"
     "  - {name: CRM, token: 'crm-token-0123456789', scopes: [sms]}\n",
     "token #2 (CRM): name must be 1-64 lower-case letters"),
    ("tokens:\n  - {name: crm, token: short, scopes: [sms]}\n",
     "token #1 (crm): token must be a string of at least 16 characters"),
    ("tokens:\n  - {name: crm, sha256: abc, scopes: [sms]}\n",
     "token #1 (crm): sha256 must be 64 hex digits"),
    ("tokens:\n  - {name: crm, token: 'crm-token-0123456789', scopes: []}\n",
     "token #1 (crm): scopes must be a non-empty list"),
    ("tokens:\n  - {name: crm, token: 'crm-token-0123456789', scope: [sms]}\n",
     "token #1 (crm): unknown key(s) scope"),
    ("tokens:\n  - {name: a, token: 'same-token-0123456789', scopes: [sms]}\n"
     "  - {name: b, token: 'same-token-0123456789', scopes: [consent]}\n",
     "'b' has the same token as 'a'"),
    ("tokens:\n  - {name: a, token: 'a-token-0123456789', scopes: [sms]}\n"
     "  - {name: a, token: 'b-token-0123456789', scopes: [sms]}\n", "the name 'a' is used twice"),
    ("tokens: [{name: crm\n", "not valid YAML at line 2"),
    ("- {name: crm}\n", "expected one top-level key, tokens"),
])  # fmt: skip
def test_a_tokens_file_that_cannot_be_used_names_the_entry(
    redis_url: str, tmp_path: Path, text: str, problem: str
) -> None:
    """Each mistake in the tokens file stops the gateway with the entry and the problem."""
    settings = settings_for(redis_url, api_tokens_file=_tokens_file(tmp_path, text))
    with pytest.raises(ConfigError) as caught:
        create_app(settings)
    assert str(caught.value).startswith("JUMBE_API_TOKENS_FILE")
    assert problem in str(caught.value)


def test_the_tokens_file_comes_from_the_environment_only() -> None:
    """JUMBE_API_TOKENS_FILE sets the path; unset, there is no file."""
    assert from_env({"JUMBE_API_TOKENS_FILE": "/etc/jumbe/tokens.yaml"}).api.tokens_file == Path(
        "/etc/jumbe/tokens.yaml")  # fmt: skip
    assert from_env({}).api.tokens_file is None


def test_serve_refuses_to_start_with_an_unknown_scope(tmp_path: Path) -> None:
    """`jumbe serve` with a file naming scope `report` exits 2 with one line naming the entry."""
    path = _tokens_file(tmp_path, "tokens:\n  - name: crm\n    token: crm-token-0123456789\n"
                        "    scopes: [report]\n")  # fmt: skip
    result = jumbe("serve", "--data-dir", str(tmp_path / "var"), "--port", "0",
                   env=environment(JUMBE_API_TOKENS_FILE=str(path)))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (f"jumbe: JUMBE_API_TOKENS_FILE {path}: token #1 (crm): unknown scope "
                             "'report'; expected one of consent, piggyback, reports, rewards, "
                             "segments, sms, subjects, surveys\n")  # fmt: skip
    assert not (tmp_path / "var").exists()  # refused before the embedded Redis started


def test_a_missing_tokens_file_refuses_to_start(redis_url: str, tmp_path: Path) -> None:
    """A path that does not exist is a clear start-up error, not an API without tokens."""
    settings = settings_for(redis_url, api_tokens_file=tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read it: no such file or directory"):
        create_app(settings)
