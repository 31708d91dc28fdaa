"""Encoding-aware USSD pagination: concrete screens and hypothesis properties."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.text import Budget, ItemTooLong, encoding_of, length, paginate

MORE, BACK = "98. More", "0. Back"
AT_SCREEN = Budget(156, 66)
"""A 160/70 screen less the 4 characters of AT's ``CON `` (the channel takes them off)."""


def split_pages(pages: list[str], back: str = BACK) -> list[list[str]]:
    """Check the More/Back lines of every page and return each page's content lines."""
    if len(pages) == 1:
        return [pages[0].split("\n")]
    contents = []
    for page_no, page in enumerate(pages):
        nav = ([MORE] if page_no < len(pages) - 1 else []) + ([back] if page_no and back else [])
        lines = page.split("\n")
        assert lines[len(lines) - len(nav) :] == nav, f"page {page_no} navigation: {page!r}"
        contents.append(lines[: len(lines) - len(nav)])
        assert contents[-1], f"page {page_no} has no content"
    return contents


def test_short_menu_is_one_page() -> None:
    """A menu that fits is shown as-is, with no More or Back option."""
    pages = paginate("Welcome", ["1. Balance", "2. Send money"], Budget())
    assert pages == ["Welcome\n1. Balance\n2. Send money"]


def test_long_menu_splits_with_more_and_back() -> None:
    """Options that overflow move to a second screen reached with 98 and left with 0."""
    items = ["1. Alpha", "2. Beta", "3. Gamma", "4. Delta"]
    pages = paginate("Menu", items, Budget(gsm7=36, ucs2=16))
    assert pages == ["Menu\n1. Alpha\n2. Beta\n98. More", "3. Gamma\n4. Delta\n0. Back"]


def test_the_whole_budget_is_usable_and_no_more() -> None:
    """A page may hold exactly the budget (a channel's own overhead is already taken off it)."""
    assert paginate("", ["x" * 34], Budget(gsm7=34)) == ["x" * 34]
    with pytest.raises(ItemTooLong):
        paginate("", ["x" * 35], Budget(gsm7=34))


def test_non_gsm_item_switches_page_to_ucs2_limit() -> None:
    """One Yoruba option shrinks that screen to the UCS-2 limit, not the others."""
    items = [f"{i}. Option {i}" for i in range(1, 8)] + ["8. Ọjà ẹja"]
    assert len(paginate("Yan:", items[:7], Budget())) == 1
    pages = paginate("Yan:", items, Budget())
    assert len(pages) == 2
    assert encoding_of(pages[0]) == "gsm7"
    assert encoding_of(pages[-1]) == "ucs2"
    assert all(Budget().fits(p) for p in pages)


def test_extension_chars_count_double_on_a_page() -> None:
    """Euro signs take two septets each, so fewer of them fit on a screen."""
    assert len(paginate("", ["€" * 78], AT_SCREEN)) == 1
    with pytest.raises(ItemTooLong):
        paginate("", ["€" * 78, "x"], AT_SCREEN)


def test_empty_back_label_is_omitted() -> None:
    """With no Back label, later pages end with the last option or More."""
    pages = paginate("Menu", ["1. Alpha", "2. Beta", "3. Gamma"], Budget(gsm7=30), back="")
    assert pages[-1].split("\n")[-1] == "3. Gamma"
    assert "" not in "\n".join(pages).split("\n")


def test_item_too_long_is_reported() -> None:
    """An option that can never fit is rejected with the option's text."""
    long_item = "1. " + "very long option " * 12
    with pytest.raises(ItemTooLong) as info:
        paginate("Menu", [long_item, "2. Short"], Budget())
    assert info.value.item == long_item
    assert isinstance(info.value, ValueError)


def test_long_header_is_split_at_words() -> None:
    """A long notice is spread over screens without losing or reordering words."""
    header = " ".join(f"word{i}" for i in range(60))
    pages = paginate(header, ["1. OK"], Budget(gsm7=76))
    contents = split_pages(pages)
    assert contents[-1][-1] == "1. OK"
    shown = " ".join(line for c in contents for line in c)
    assert shown.split()[:-2] == header.split()
    assert all(Budget(gsm7=76).fits(p) for p in pages)


def test_overlong_word_is_cut_hard() -> None:
    """A word longer than a screen (say a URL) is cut rather than rejected."""
    url = "https://example.com/" + "a" * 150
    pages = paginate(url, ["1. Open"], Budget(gsm7=56))
    contents = split_pages(pages)
    assert "".join(line for c in contents for line in c if line != "1. Open") == url
    assert all(length(p) <= 56 for p in pages)


WORDY = st.sampled_from(["a", "Lipa", "M-Pesa", "€", "{x}", "ẹ", "ọ", "ሰላም", "😀", "Ọjà", "café"])
ASCII_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)
MIXED_TEXT = st.lists(WORDY, max_size=6).map(" ".join)
ITEM = st.one_of(ASCII_TEXT, MIXED_TEXT).map(lambda s: s.replace("\n", " ")[:20])
HEADER = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=300),
    st.lists(st.one_of(WORDY, st.just("\n"), ASCII_TEXT), max_size=60).map(" ".join),
)
BUDGET = st.builds(Budget, gsm7=st.integers(64, 200), ucs2=st.integers(64, 120))


@settings(max_examples=300, deadline=None)
@given(header=HEADER, items=st.lists(ITEM, max_size=25), budget=BUDGET)
def test_pagination_properties(header: str, items: list[str], budget: Budget) -> None:
    """Every screen fits, every option shows once in order, and navigation is consistent."""
    pages = paginate(header, items, budget)
    assert all(budget.fits(page) for page in pages)
    contents = split_pages(pages)
    lines = [line for content in contents for line in content]
    whole = "\n".join(([header] if header else []) + items)
    if budget.fits(whole):
        assert pages == [whole]
    # A lone page is all content: a stray More/Back line would break the checks below.
    head_lines = lines[: len(lines) - len(items)]
    assert lines[len(head_lines) :] == items
    assert "".join("".join(h.split()) for h in head_lines) == "".join(header.split())


@settings(max_examples=200, deadline=None)
@given(header=HEADER, items=st.lists(ITEM, max_size=25), budget=BUDGET)
def test_pages_are_filled_greedily(header: str, items: list[str], budget: Budget) -> None:
    """A screen only moves an option to the next page when it really would not fit."""
    pages = paginate(header, items, budget)
    contents = split_pages(pages)
    first_item = sum(len(c) for c in contents) - len(items)
    lines_before = 0
    for page_no in range(len(pages) - 1):
        lines_before += len(contents[page_no])
        if lines_before < first_item:
            continue  # next page still starts with header text
        nav = [MORE] + ([BACK] if page_no else [])
        grown = [*contents[page_no], contents[page_no + 1][0], *nav]
        assert not budget.fits("\n".join(grown)), f"page {page_no} not full"
