"""Scores and reports: the domain's test vectors through real USSD respondents, the report's
exact shape, the CSV export without phone numbers, and ``jumbe report survey``."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from conftest import GatewayFactory, hop
from processes import jumbe_async
from survey_fixtures import content

from gateway.privacy import pseudonymize
from gateway.surveys import answers
from gateway.surveys.model import DISPOSITIONS

TOKEN = "reports-token"
SCORED = [
    (f"{sid}.yaml", f"kind: survey\nid: {sid}\nservice_codes: ['*600*{n}#']\nquestions:\n"
                    f"  - {{id: {qtype}, type: {qtype}, text: Rate us}}\n")
    for n, (sid, qtype) in enumerate((("n", "nps"), ("c", "ces"), ("s", "csat")), 1)
]  # fmt: skip
WITH_TEXT = """\
kind: survey
id: t
service_codes: ["*600*9#"]
questions:
  - {id: score, type: nps, text: "Rate us 0-10"}
  - {id: why, type: text, text: "Why?"}
"""
VECTORS = {"*600*1#": [10, 10, 9, 8, 7, 6, 5, 0, 9, 10], "*600*2#": [7, 6, 5],
           "*600*3#": [5, 4, 3, 2]}  # fmt: skip


def test_the_score_formulas_on_the_domain_vectors() -> None:
    """NPS [10,10,9,8,7,6,5,0,9,10] = +20; CES [7,6,5] = 6.0; CSAT [5,4,3,2] = 50; with n."""
    assert answers.nps(VECTORS["*600*1#"]) == (20.0, 10)
    assert answers.ces(VECTORS["*600*2#"]) == (6.0, 3)
    assert answers.csat(VECTORS["*600*3#"]) == (50, 4)
    assert answers.nps([]) == (None, 0)


async def gateway(make_gateway: GatewayFactory, tmp_path: Path) -> Any:
    folder = content(tmp_path, *SCORED, ("t.yaml", WITH_TEXT))
    return await make_gateway(menus_dir=folder, api_token=TOKEN, sms_worker=False)


async def get(client: Any, path: str) -> Any:
    response = await client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200, await response.text()
    return (
        await response.json()
        if response.content_type == "application/json"
        else (await response.text())
    )


async def respond(client: Any) -> None:
    """One USSD respondent per value of each vector, plus one invalid answer (not counted)."""
    for code, values in VECTORS.items():
        for i, value in enumerate(values):
            phone, session = f"+2547000{code[5]}{i:04d}", f"{code}-{i}"
            await hop(client, "", session, code, phone)
            await hop(client, str(value), session, code, phone)
    await hop(client, "", "bad", "*600*1#", "+254799999999")
    await hop(client, "11", "bad", "*600*1#", "+254799999999")


async def test_the_vectors_come_out_exactly_in_the_report(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Answers given over USSD score exactly as domain S7 says, from valid answers only; the
    report has DESIGN §4's shape: every disposition, zeros included, integer counts."""
    client = await gateway(make_gateway, tmp_path)
    await respond(client)
    nps = await get(client, "/v1/reports/surveys/n")
    assert nps == {
        "id": "n",
        "respondents": 11,
        "completed": 10,
        "dispositions": {**dict.fromkeys(DISPOSITIONS, 0), "completed": 10, "contacted": 1},
        "questions": {"nps": {
            "type": "nps", "n": 10, "nps": 20.0,
            "values": {"0": 1, "1": 0, "2": 0, "3": 0, "4": 0, "5": 1, "6": 1, "7": 1, "8": 1,
                       "9": 2, "10": 3},
            "counts": {"detractor": 3, "passive": 2, "promoter": 5},
        }},
    }  # fmt: skip
    ces = (await get(client, "/v1/reports/surveys/c"))["questions"]["ces"]
    assert (ces["ces"], ces["n"]) == (6.0, 3)
    csat = (await get(client, "/v1/reports/surveys/s"))["questions"]["csat"]
    assert (csat["csat"], csat["n"]) == (50, 4)
    response = await client.get("/v1/reports/surveys/nope",
                                headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert response.status == 404


async def test_the_csv_export_has_pseudonyms_and_never_a_number(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """One row per respondent with the pseudonym, disposition, channel, times, each answer and
    its category; no phone number, not even one typed into a free-text answer."""
    client = await gateway(make_gateway, tmp_path)
    phone = "+254711222333"
    for text in ("", "9", "9*call me on 0711 222 333"):
        await hop(client, text, "x1", "*600*9#", phone)
    body = await get(client, "/v1/reports/surveys/t?format=csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 1
    row = rows[0]
    assert row["respondent"] == pseudonymize(b"test-pseudonym-key", phone)
    assert (row["disposition"], row["channel"]) == ("completed", "ussd")
    assert (row["score"], row["score_category"]) == ("9", "promoter")
    assert row["why"] == "call me on <redacted>" and row["why_category"] == "text"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", row["completed_at"])
    assert not re.search(r"\d{9,}|711 ?222 ?333", body)


async def test_jumbe_report_survey_prints_scores_and_draws_the_page(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """The command prints the scores and dispositions; --html writes an offline page with the
    score distribution and the completion funnel."""
    client = await gateway(make_gateway, tmp_path)
    await respond(client)
    url = str(client.make_url("")).rstrip("/")
    page = tmp_path / "n.html"
    code, out, err = await jumbe_async("report", "survey", "n", "--url", url, "--html", str(page),
                                       token=TOKEN)  # fmt: skip
    assert code == 0, err
    assert out.startswith("Survey n: 11 respondents, 10 completed")
    assert re.search(r"nps\s+nps\s+10\s+20", out)
    html = page.read_text()
    assert "nps: answers by score (n=10)" in html and "Completion funnel" in html
    assert html.count("<svg") == 2
    for network in ("http", "<script", "src=", "href="):
        assert network not in html.lower()
    code, _, err = await jumbe_async("report", "survey", "zz", "--url", url, token=TOKEN)
    assert code == 1 and "no such survey" in err
