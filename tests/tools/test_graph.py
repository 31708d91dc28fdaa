"""`jumbe graph`: the Mermaid diagram brands review before publishing a menu."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MENUS, ROOT

from gateway.cli import main
from gateway.menu.model import Menu
from gateway.menu.parse import parse_file, parse_text
from gateway.menu.screens import kind_of
from gateway.tools.graph import mermaid

# One Mermaid statement per line: a node with a quoted label, or an edge with an optional one.
NODE = re.compile(r'^    \w+(\(\[|\[\[|\(\(|[\[({])"[^"]*"(\]\)|\]\]|\)\)|[\])}])$')
EDGE = re.compile(r'^    \w+ -->(\|"[^"|]*"\|)? \w+$')
CLASSES = re.compile(r"^    (classDef|class) [\w ,:#-]+$")


def _menu(path: Path) -> Menu:
    menu, findings = parse_file(path)
    assert menu is not None, findings
    return menu


def _assert_well_formed(diagram: str) -> None:
    lines = diagram.splitlines()
    assert lines[0] == "flowchart TD"
    for line in lines[1:]:
        assert NODE.match(line) or EDGE.match(line) or CLASSES.match(line), line


def test_demo_diagram_shows_every_screen_and_transition() -> None:
    """A reviewer sees each screen with its kind and text, and every way between screens."""
    menu = _menu(MENUS / "demo.yaml")
    diagram = mermaid(menu)
    _assert_well_formed(diagram)
    assert '    dial(("#42;384#35;"))\n    dial --> s_main' in diagram  # the service code, first
    assert "    class s_main start" in diagram
    assert '    s_main["main · menu<br/>Welcome to Jumbe {name#124;}"]' in diagram
    assert '    s_rate("rate · input<br/>Rate us from 1 to 5")' in diagram
    assert '    s_rating_router{"rating_router · router"}' in diagram
    assert '    s_happy(["happy · end<br/>Thanks! You gave us {rating}."])' in diagram
    assert '    s_join[["join · set<br/>member=yes, tier=bronze"]]' in diagram
    assert '    s_help(["help · end<br/>Call 0800 000 000 (free) or SMS HELP to…"])' in diagram
    assert '    s_main -->|"1#46; Rate us"| s_rate' in diagram  # "1." kept out of Markdown
    assert '    s_main -->|"5#46; Help"| s_help' in diagram
    assert '    s_rating_router -->|"rating #gt;= 4"| s_happy' in diagram
    assert '    s_rating_router -->|"else"| s_sorry' in diagram
    assert '    s_rate -->|"valid"| s_rating_router' in diagram
    assert "    s_join --> s_joined" in diagram
    assert "    s_language --> s_main" in diagram
    transitions = sum(len(kind_of(s).edges(s, "en")) for s in menu.screens.values())
    assert diagram.count(" -->") == transitions + 1  # plus the arrow into the start screen


def test_graph_command_writes_the_benchmark_diagram_to_a_file(tmp_path: Path) -> None:
    """`jumbe graph menus/benchmark.yaml -o flow.mmd` leaves a ready-to-render file."""
    out = tmp_path / "flow.mmd"
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "graph", "menus/benchmark.yaml", "-o", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    diagram = out.read_text(encoding="utf-8")
    _assert_well_formed(diagram)
    assert '    dial(("#42;384#42;123#35;"))\n    dial --> s_welcome' in diagram
    assert '    s_welcome["welcome · menu<br/>Welcome"]' in diagram
    assert '    s_thanks(["thanks · end<br/>Thanks"])' in diagram
    assert '    s_welcome -->|"2#46; Survey"| s_rate' in diagram
    assert '    s_rate -->|"valid"| s_comment' in diagram
    assert '    s_comment -->|"valid"| s_thanks' in diagram


def test_graph_prints_to_stdout_by_default() -> None:
    """Without -o the diagram goes to stdout, so it can be piped into a renderer."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "graph", str(MENUS / "demo.yaml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == mermaid(_menu(MENUS / "demo.yaml"))


SPECIAL = """
id: special
service_codes: ["*385#"]
languages: [en]
start: end
screens:
  end:
    menu:
      text: "Say \\"hi\\" [now] {{x}} | <b>bold</b> & #5\\nsecond line"
      options:
        - {label: "A|B \\"C\\" [D]", next: my-router}
        - {label: "- dash", key: "7", next: my-router}
  my-router:
    router:
      - {if: "tier in ['gold', 'silver']", next: my_router}
      - {next: my_router}
  my_router:
    end: "- `code` *bold* (x)"
"""


def test_special_characters_cannot_break_the_diagram() -> None:
    """Quotes, brackets, pipes, HTML, newlines and Markdown in texts render as written."""
    menu, findings = parse_text(SPECIAL, "special.yaml")
    assert menu is not None, findings
    diagram = mermaid(menu)
    _assert_well_formed(diagram)
    assert (
        '    s_end["end · menu<br/>Say #quot;hi#quot; [now] {{x}} #124; #lt;b#gt;bold#lt;/b#gt; '
        '#amp; #35;5…"]'
    ) in diagram  # a screen called "end" (a Mermaid keyword) is still a node
    assert '    s_end -->|"1#46; A#124;B #quot;C#quot; [D]"| s_my_router' in diagram
    assert '    s_end -->|"7#46; - dash"| s_my_router' in diagram
    assert "    s_my_router -->|\"tier in ['gold', 'silver']\"| s_my_router_2" in diagram
    assert (
        '    s_my_router_2(["my_router · end<br/>#45; #96;code#96; #42;bold#42; (x)"])' in diagram
    )


def test_graph_of_a_broken_file_prints_findings_and_exits_1() -> None:
    """A file with errors gets no diagram, only the same findings `jumbe check` prints."""
    path = ROOT / "tests" / "menu" / "files" / "invalid_four_findings.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "graph", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"{path}:17:49: error: unknown next screen 'nowhere'" in done.stderr.splitlines()


def test_graph_refuses_a_file_that_is_not_a_menu(capsys: pytest.CaptureFixture[str]) -> None:
    """jumbe graph on the keywords file says it draws menus, instead of menu errors."""
    assert main(["graph", str(ROOT / "menus" / "keywords.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.strip().endswith("a keywords file; jumbe graph draws menus")
    assert "unknown field" not in err
