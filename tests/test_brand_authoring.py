"""Issue 3 over HTTP: paging in GSM-7 and UCS-2, remembered language, resume, live reload."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import redis
import yaml
from conftest import MENUS, PHONE, GatewayFactory, hop, journey

from gateway.content.reloader import SCAN_CHUNK
from gateway.privacy import pseudonymize
from gateway.store import keys
from gateway.text import Budget, encoding_of

KEY = b"test-pseudonym-key"


def forty_option_menu(path: Path, invalid: str = "") -> None:
    options = [
        {"label": {"en": f"Product {i}", "yo": f"Ọja {i}"}, "next": "picked"} for i in range(1, 41)
    ]
    extra = {"invalid": invalid} if invalid else {}
    path.write_text(yaml.safe_dump({
        "id": "shop", "service_codes": ["*600#"], "languages": ["en", "yo"], "start": "main",
        "screens": {
            "main": {"menu": {"text": {"en": "Pick a product", "yo": "Yan ọja kan"},
                              "options": options, "save": "product", **extra}},
            "picked": {"end": {"en": "You picked {product}", "yo": "O yan {product}"}},
        },
    }, allow_unicode=True))  # fmt: skip


async def page_through(  # type: ignore[no-untyped-def]
    client, session_id: str, first: str = ""
) -> list[str]:
    """Every page of the shop menu from the screen shown after ``first`` (e.g. a bad answer)."""
    inputs: list[str] = [first] if first else []
    pages = [(await hop(client, first, session_id=session_id, service_code="*600#"))[1]]
    while "98. " in pages[-1]:
        inputs.append("98")
        pages.append(
            (await hop(client, "*".join(inputs), session_id=session_id, service_code="*600#"))[1]
        )
    return pages


def options_in(pages: list[str]) -> list[str]:
    """Option lines of all pages (the first page opens with the screen text)."""
    lines = [
        line for i, page in enumerate(pages) for line in page[4:].split("\n")[1 if i == 0 else 0 :]
    ]
    return [line for line in lines if not line.startswith(("98. ", "0. "))]


async def test_forty_options_page_in_english(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """A 40-option GSM-7 menu pages within 160 characters; every option shows once, in order."""
    forty_option_menu(tmp_path / "shop.yaml")
    client = await make_gateway(menus_dir=tmp_path)
    pages = await page_through(client, "en40")
    assert len(pages) > 2
    assert all(Budget().fits(page) and encoding_of(page) == "gsm7" for page in pages)
    assert "0. Back" not in pages[0] and all("0. Back" in page for page in pages[1:])
    assert "98. More" not in pages[-1]
    shown = [line for line in options_in(pages) if line[0].isdigit()]
    assert shown == [f"{i}. Product {i}" for i in range(1, 41)]
    picked = "*".join(["98"] * (len(pages) - 1) + ["37"])
    assert (await hop(client, picked, session_id="en40", service_code="*600#"))[
        1
    ] == "END You picked 37"


async def test_forty_options_page_in_yoruba_ucs2(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """In Yoruba (ẹ, ọ: UCS-2) pages hold 70 characters, with Yoruba More/Back labels."""
    forty_option_menu(tmp_path / "shop.yaml")
    redis_client.hset(keys.subscriber(pseudonymize(KEY, PHONE)), "lang", "yo")
    client = await make_gateway(menus_dir=tmp_path)
    pages = await page_through(client, "yo40")
    assert pages[0].startswith("CON Yan ọja kan")
    assert all(encoding_of(page) == "ucs2" and len(page) <= 70 for page in pages)
    assert all("98. Sii" in page for page in pages[:-1])
    assert all("0. Pada" in page for page in pages[1:])
    shown = [line for line in options_in(pages) if line[0].isdigit()]
    assert shown == [f"{i}. Ọja {i}" for i in range(1, 41)]


async def test_paging_after_a_wrong_answer_shows_every_option_once(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A long 'invalid' text shifts page breaks; More after the re-prompt keeps those breaks."""
    invalid = "That number is not on the list. Please pick one of the products below"
    forty_option_menu(tmp_path / "shop.yaml", invalid=invalid)
    client = await make_gateway(menus_dir=tmp_path)
    await hop(client, "", session_id="bad40", service_code="*600#")
    pages = await page_through(client, "bad40", first="77")
    assert pages[0].startswith(f"CON {invalid}")
    shown = [line for line in options_in(pages) if line[0].isdigit()]
    assert shown == [f"{i}. Product {i}" for i in range(1, 41)]


async def test_wrong_answer_on_a_later_page_says_so_from_the_first_page(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A wrong answer on page 2 re-prompts with the 'invalid' text and the list from option 1."""
    invalid = "That number is not on the list"
    forty_option_menu(tmp_path / "shop.yaml", invalid=invalid)
    client = await make_gateway(menus_dir=tmp_path)
    await hop(client, "", session_id="late", service_code="*600#")
    _, second = await hop(client, "98", session_id="late", service_code="*600#")
    assert "1. Product 1\n" not in second
    _, reprompt = await hop(client, "98*77", session_id="late", service_code="*600#")
    assert reprompt.startswith(f"CON {invalid}\n1. Product 1\n")


async def test_network_specific_budget(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """Airtel Kenya (63903) allows 182 characters: a 170-character screen fits it in one page."""
    long_text = "x" * 150
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({
        "id": "m", "service_codes": ["*700#"], "start": "a", "screens": {
            "a": {"menu": {"text": long_text, "options": [{"label": "Go on", "next": "b"}]}},
            "b": {"end": "ok"}}}))  # fmt: skip
    client = await make_gateway(menus_dir=tmp_path)
    one = await client.post("/ussd/africastalking", data={
        "sessionId": "net1", "serviceCode": "*700#", "phoneNumber": PHONE,
        "networkCode": "63903", "text": ""})  # fmt: skip
    assert (await one.text()) == f"CON {long_text}\n1. Go on"
    _, paged = await hop(client, "", session_id="net2", service_code="*700#")
    assert paged.endswith("98. More") and "1. Go on" not in paged


async def test_language_choice_is_remembered(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """Choosing Kiswahili once makes the next session start in Kiswahili (by pseudonym)."""
    client = await make_gateway()
    await journey(client, ["4", "2"], service_code="*384#", session_id="lang1")
    _, first = await hop(client, "", service_code="*384#", session_id="lang2")
    assert first.startswith("CON Karibu Jumbe")
    stored = redis_client.hget(keys.subscriber(pseudonymize(KEY, PHONE)), "lang")
    assert stored == b"sw"
    assert not [k for k in redis_client.keys("*") if b"254700000001" in k]


async def test_language_picked_by_a_dialled_shortcut_is_remembered(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """*384*4*2# picks Kiswahili on the first hop; the next session starts in Kiswahili."""
    client = await make_gateway()
    _, picked = await hop(client, "", service_code="*384*4*2#", session_id="short1")
    _, next_session = await hop(client, "", service_code="*384#", session_id="short2")
    assert next_session.startswith("CON Karibu Jumbe"), (picked, next_session)
    stored = redis_client.hget(keys.subscriber(pseudonymize(KEY, PHONE)), "lang")
    assert stored == b"sw"


async def test_remembered_language_applies_when_the_first_hop_carries_text(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """Aggregators that put shortcut digits in the first hop's text still get the language."""
    resumable_menu(tmp_path / "s.yaml", "restart", "1m")
    redis_client.hset(keys.subscriber(pseudonymize(KEY, PHONE)), "lang", "sw")
    client = await make_gateway(menus_dir=tmp_path)
    _, first = await hop(client, "Juma", service_code="*800#", session_id="txt1")
    assert first == "CON Mji?\n0. Rudi"


def resumable_menu(path: Path, policy: str, within: str) -> None:
    path.write_text(yaml.safe_dump({
        "id": "signup", "service_codes": ["*800#"], "languages": ["en", "sw"], "start": "name",
        "resume": {"policy": policy, "within": within},
        "screens": {
            "name": {"input": {"text": {"en": "Name?", "sw": "Jina?"}, "save": "name",
                               "next": "town"}},
            "town": {"input": {"text": {"en": "Town?", "sw": "Mji?"}, "save": "town",
                               "next": "age"}},
            "age": {"input": {"text": {"en": "Age?", "sw": "Umri?"},
                              "validate": {"integer": {"min": 10, "max": 99}},
                              "save": "age", "next": "done"}},
            "done": {"end": {"en": "{name} from {town}, {age}", "sw": "{name} wa {town}, {age}"}},
        },
    }))  # fmt: skip


async def test_resume_policy_resume(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """Dropped after two answers, a redial continues at the third question with both kept."""
    resumable_menu(tmp_path / "s.yaml", "resume", "10m")
    client = await make_gateway(menus_dir=tmp_path)
    await journey(client, ["Amina", "Kisumu"], service_code="*800#", session_id="r1")
    _, again = await hop(client, "", service_code="*800#", session_id="r2")
    assert again == "CON Age?\n0. Back"
    _, end = await hop(client, "30", service_code="*800#", session_id="r2")
    assert end == "END Amina from Kisumu, 30"
    _, fresh = await hop(client, "", service_code="*800#", session_id="r3")
    assert fresh == "CON Name?", "a session that ended normally never resumes"


async def test_resume_policy_confirm(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """'confirm' asks first: 1 continues where the subscriber left off, 2 starts over."""
    resumable_menu(tmp_path / "s.yaml", "confirm", "10m")
    client = await make_gateway(menus_dir=tmp_path)
    await journey(client, ["Amina"], service_code="*800#", session_id="c1")
    _, prompt = await hop(client, "", service_code="*800#", session_id="c2")
    assert prompt == "CON Continue where you left off?\n1. Yes\n2. Start over"
    assert (await hop(client, "7", service_code="*800#", session_id="c2"))[1] == prompt
    resumed = (await hop(client, "7*1", service_code="*800#", session_id="c2"))[1]
    assert resumed == "CON Town?\n0. Back"
    # dropped again at Town: this time start over
    await hop(client, "", service_code="*800#", session_id="c3")
    assert (await hop(client, "2", service_code="*800#", session_id="c3"))[1] == "CON Name?"


async def test_resume_prompt_in_subscribers_language(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """The confirm prompt speaks the subscriber's language."""
    resumable_menu(tmp_path / "s.yaml", "confirm", "10m")
    redis_client.hset(keys.subscriber(pseudonymize(KEY, PHONE)), "lang", "sw")
    client = await make_gateway(menus_dir=tmp_path)
    await journey(client, ["Juma"], service_code="*800#", session_id="sw1")
    _, prompt = await hop(client, "", service_code="*800#", session_id="sw2")
    assert prompt == "CON Endelea ulipoishia?\n1. Ndiyo\n2. Anza upya"


async def test_no_resume_after_the_window(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """After resume.within has passed, a redial starts over."""
    resumable_menu(tmp_path / "s.yaml", "resume", "1s")
    client = await make_gateway(menus_dir=tmp_path)
    await journey(client, ["Amina", "Kisumu"], service_code="*800#", session_id="w1")
    await asyncio.sleep(1.3)
    assert (await hop(client, "", service_code="*800#", session_id="w2"))[1] == "CON Name?"


async def wait_for(
    client,
    session_id: str,
    expected_prefix: str,  # type: ignore[no-untyped-def]
    service_code: str = "*384#",
) -> str:
    deadline = time.monotonic() + 10
    body = ""
    while time.monotonic() < deadline:
        _, body = await hop(
            client, "", service_code=service_code, session_id=f"{session_id}-{time.monotonic()}"
        )
        if body.startswith(expected_prefix):
            return body
        await asyncio.sleep(0.05)
    return body


async def test_live_reload(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """Editing demo.yaml changes the next new session; sessions in flight keep their version;
    a broken edit keeps the old version serving; added and removed files are picked up."""
    menus = tmp_path / "menus"
    shutil.copytree(MENUS, menus)
    demo = menus / "demo.yaml"
    client = await make_gateway(menus_dir=menus, reload_interval=0.05)
    await hop(client, "", service_code="*384#", session_id="inflight")
    demo.write_text(
        demo.read_text()
        .replace("Welcome to Jumbe", "Hello from Jumbe")
        .replace('"Rate us from 1 to 5"', '"Score us 1-5"')
    )
    assert (await wait_for(client, "new", "CON Hello from Jumbe")).startswith(
        "CON Hello from Jumbe"
    )
    _, inflight = await hop(client, "1", service_code="*384#", session_id="inflight")
    assert inflight.startswith("CON Rate us from 1 to 5"), "in-flight session kept its version"
    demo.write_text(demo.read_text().replace("next: rate", "next: nowhere"))
    await asyncio.sleep(0.5)
    _, still = await hop(client, "", service_code="*384#", session_id="after-broken")
    assert still.startswith("CON Hello from Jumbe"), "the broken edit is not served"
    (menus / "extra.yaml").write_text(
        "id: extra\nservice_codes: ['*901#']\nstart: a\nscreens:\n  a:\n    end: Extra!\n"
    )
    assert await wait_for(client, "extra", "END Extra!", "*901#") == "END Extra!"
    (menus / "extra.yaml").unlink()
    assert (await wait_for(client, "gone", "END This service", "*901#")).startswith(
        "END This service code is not in use"
    )


async def test_live_reload_of_a_folder_scanned_in_chunks(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """With more files than the watcher scans between its pauses (``SCAN_CHUNK``), an edit to
    any of them, and a file added, are still picked up."""
    menus = tmp_path / "menus"
    shutil.copytree(MENUS, menus)
    count = 3 * SCAN_CHUNK

    def shop(i: int, text: str) -> str:
        head = f"id: shop{i}\nservice_codes: ['*7{i:03d}#']\nstart: a\n"
        return f"{head}screens:\n  a:\n    end: {text}\n"

    for i in range(count):
        (menus / f"shop{i}.yaml").write_text(shop(i, f"Shop {i}"))
    client = await make_gateway(menus_dir=menus, reload_interval=0.05)
    for i in (0, count // 2, count - 1):
        (menus / f"shop{i}.yaml").write_text(shop(i, f"Shop {i} is open"))
    for i in (0, count // 2, count - 1):
        assert await wait_for(client, f"s{i}", f"END Shop {i} is open", f"*7{i:03d}#") == (
            f"END Shop {i} is open"
        )
    (menus / "shop-new.yaml").write_text(shop(count, "New shop"))
    assert await wait_for(client, "new", "END New shop", f"*7{count:03d}#") == "END New shop"


async def test_admin_reload(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """POST /admin/reload needs the admin token and reports files kept on their old version."""
    menus = tmp_path / "menus"
    shutil.copytree(MENUS, menus)
    client = await make_gateway(menus_dir=menus, reload_interval=0, admin_token="adm")
    assert (await client.post("/admin/reload")).status == 403
    bad = await client.post("/admin/reload", headers={"Authorization": "Bearer nope"})
    assert bad.status == 403
    (menus / "demo.yaml").write_text(
        "id: demo\nservice_codes: ['*384#']\nstart: gone\nscreens:\n  a:\n    end: x\n"
    )
    response = await client.post("/admin/reload", headers={"Authorization": "Bearer adm"})
    report = await response.json()
    assert response.status == 422
    assert report["kept_previous"] == [str(menus / "demo.yaml")]
    assert any("start screen 'gone' is not defined" in f for f in report["findings"])
    assert (await hop(client, "", service_code="*384#"))[1].startswith("CON Welcome to Jumbe")
