"""``kind: survey`` files: checked by ``jumbe check`` with ``path:line``, served live."""

from __future__ import annotations

from pathlib import Path

from conftest import MENUS, GatewayFactory, hop
from processes import jumbe
from survey_fixtures import SURVEY, content

from gateway.content.check import check_files


def findings_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    _, findings = check_files([path])
    return [str(f).removeprefix(f"{path}:") for f in findings]


def test_the_shipped_survey_and_demo_are_clean() -> None:
    """The worked NPS survey, the demo menu that starts it and the keywords file check clean."""
    result = jumbe("check", str(MENUS))
    assert result.returncode == 0, result.stdout
    assert "1 survey" in result.stderr


def test_an_unknown_question_type_is_an_error_at_its_line(tmp_path: Path) -> None:
    """A typo in a type names the known ones, at the line of ``type:``."""
    text = SURVEY.replace("type: csat", "type: cast")
    assert findings_of(tmp_path, text) == [
        "7:20: error: unknown question type 'cast' (known: single, multiple, nps, ces, csat, "
        "yes_no, number, text)"
    ]


def test_an_unreachable_question_is_an_error(tmp_path: Path) -> None:
    """Every answer of q1 skips past q2: q2 can never be asked."""
    text = SURVEY.replace(
        'text: "Recommend us? 0-10"}',
        'text: "Recommend us? 0-10", skip: {promoter: q3, passive: q3, detractor: end}}',
    )
    assert findings_of(tmp_path, text) == [
        "6:10: error: question 'q2' is unreachable: every answer before it skips past it"
    ]


def test_a_skip_backwards_or_by_an_unknown_category_is_an_error(tmp_path: Path) -> None:
    """Skips only go forward, and only name categories the question's answers have."""
    text = SURVEY.replace('text: "Happy? 1-5"}', 'text: "Happy? 1-5", skip: {satisfied: q1}}')
    text = text.replace('text: "Why?"}', 'text: "Why?", skip: {great: q3}}')
    assert findings_of(tmp_path, text) == [
        "6:54: error: 'great' is not a category of this text question (categories: text)",
        "7:64: error: skip to 'q1' goes backwards: skips only go forward",
    ]


def test_a_screen_over_budget_is_an_error_unless_paginated(tmp_path: Path) -> None:
    """A question too long for one USSD screen (and one SMS) is an error at its text; with
    pagination on for both channels it is accepted."""
    long = "How likely are you to recommend us to a friend or a colleague? " * 3
    text = SURVEY.replace("Recommend us? 0-10", long.strip())
    found = findings_of(tmp_path, text)
    assert any(f.startswith("5:31: error: en: the USSD screen is") and "over the 160" in f
               for f in found), found  # fmt: skip
    assert any(f.startswith("5:31: error: en: the SMS question needs 2 SMS") for f in found), found
    paginated = text + "channels: {ussd: {paginate: true}, sms: {paginate: true}}\n"
    assert findings_of(tmp_path, paginated) == []


def test_more_than_five_questions_is_a_warning(tmp_path: Path) -> None:
    """Six SMS questions: a warning at ``questions:``, and the survey is still served."""
    extra = "".join(f'  - {{id: x{i}, type: yes_no, text: "Q{i}?"}}\n' for i in range(3))
    assert findings_of(tmp_path, SURVEY + extra) == [
        "5:3: warning: 6 questions: over SMS, more than 5 lose most respondents before the end"
    ]


def test_quota_buckets_must_be_categories_of_a_question(tmp_path: Path) -> None:
    """A quota names a question of the survey and buckets among its answers' categories."""
    text = SURVEY + "quotas:\n  - {question: q1, buckets: {promoter: 2, fans: 1}}\n"
    assert findings_of(tmp_path, text) == [
        "9:49: error: 'fans' is not a category of question 'q1' (detractor, passive, promoter)"
    ]


def test_a_survey_and_a_menu_cannot_share_a_service_code(tmp_path: Path) -> None:
    """Service codes are unique across menus and surveys, the clash at the second file."""
    folder = content(tmp_path, ("a_menu.yaml", "id: m\nservice_codes: ['*500*1#']\nstart: a\n"
                                "screens:\n  a:\n    end: Hi\n"), ("b.yaml", SURVEY))  # fmt: skip
    _, findings = check_files([folder])
    assert [str(f) for f in findings] == [
        f"{folder}/b.yaml:3:17: error: service code *500*1# is also served by "
        f"{folder}/a_menu.yaml:2"
    ]


async def test_a_survey_edit_is_served_live(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """Editing a survey's first question changes what the next dial shows, without a restart."""
    folder = content(tmp_path, ("s.yaml", SURVEY))
    client = await make_gateway(menus_dir=folder, reload_interval=0, admin_token="admin")
    assert await hop(client, "", service_code="*500*1#") == (200, "CON Recommend us? 0-10")
    (folder / "s.yaml").write_text(SURVEY.replace("Recommend us?", "Would you recommend us?"))
    response = await client.post("/admin/reload", headers={"Authorization": "Bearer admin"})
    assert response.status == 200, await response.text()
    status, body = await hop(client, "", session_id="s2", service_code="*500*1#",
                             phone="+254700000009")  # fmt: skip
    assert (status, body) == (200, "CON Would you recommend us? 0-10")
