"""`jumbe simulate`: a phone in the terminal that talks to the gateway exactly as AT does."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys

from conftest import ROOT, GatewayFactory

from gateway.tools.simulate import Options, frame, simulate, status_line

BENCHMARK_INPUTS = ["2", "9", "4", "great"]
BENCHMARK_REPLIES = [
    "CON Welcome\n1. Balance\n2. Survey\n3. Rewards",
    "CON Rate us 1-5",
    "CON Rate us 1-5",  # 9 is out of range: asked again
    "CON Any comment?",
    "END Thanks",
]


def _jumbe(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMBE_")}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _status_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(("CON ·", "END ·"))]


def _first_rows(stdout: str) -> list[str]:
    """The first text row of every framed screen."""
    lines = stdout.splitlines()
    return [lines[i + 1] for i, line in enumerate(lines) if line.startswith("┌")]


def test_scripted_session_in_process_shows_every_screen_with_its_budget() -> None:
    """`simulate --input 2,9,4,great` walks the survey and shows each screen as a phone would."""
    done = _jumbe("simulate", "--dial", "*384*123#", "--input", ",".join(BENCHMARK_INPUTS))
    assert done.returncode == 0, done.stderr
    expected = "\n".join(
        f"{frame(reply)}\n{status_line(reply)}" + (f"\n> {answer}" if answer else "")
        for reply, answer in zip(BENCHMARK_REPLIES, [*BENCHMARK_INPUTS, ""], strict=True)
    )
    assert done.stdout == expected + "\n"
    assert "│ Welcome                  │\n│ 1. Balance               │" in done.stdout
    assert [row.split("│")[1].strip() for row in _first_rows(done.stdout)] == [
        "Welcome", "Rate us 1-5", "Rate us 1-5", "Any comment?", "Thanks",
    ]  # fmt: skip
    assert _status_lines(done.stdout) == [
        "CON · 43/160 GSM-7", "CON · 15/160 GSM-7", "CON · 15/160 GSM-7",
        "CON · 16/160 GSM-7", "END · 10/160 GSM-7",
    ]  # fmt: skip


def test_interactive_session_reads_one_line_per_hop_until_eof() -> None:
    """Without --input each line typed is one hop; end of input ends the simulator quietly."""
    done = _jumbe("simulate", "--dial", "*384*123#", stdin="2\nvery good, thanks\n")
    assert done.returncode == 0, done.stderr
    assert _status_lines(done.stdout) == [
        "CON · 43/160 GSM-7", "CON · 15/160 GSM-7", "CON · 15/160 GSM-7",
    ]  # fmt: skip
    assert "> very good, thanks\n" in done.stdout  # spaces and commas are part of one input


async def test_simulate_against_a_running_gateway_url(make_gateway: GatewayFactory) -> None:
    """--url drives a gateway that is already running, with AT's cumulative text."""
    client = await make_gateway()
    url = str(client.make_url("/ussd/africastalking"))
    out = io.StringIO()
    outcome = await simulate(Options(dial="*384*123#", url=url, inputs=BENCHMARK_INPUTS), out)
    assert outcome.code == 0
    assert outcome.replies == BENCHMARK_REPLIES
    assert out.getvalue().count("│ Rate us 1-5") == 2


async def test_simulate_sends_the_callback_token(make_gateway: GatewayFactory) -> None:
    """A gateway with JUMBE_CALLBACK_TOKEN answers with --token; without it the 403 is shown."""
    client = await make_gateway(callback_token="s3cret")
    url = str(client.make_url("/ussd/africastalking"))
    out = io.StringIO()
    refused = await simulate(Options(dial="*384*123#", url=url, inputs=[]), out)
    assert refused.code == 1
    assert out.getvalue() == "HTTP 403\nEND Unauthorized: missing or wrong token\n"
    allowed = await simulate(
        Options(dial="*384*123#", url=url, inputs=["1"], token="s3cret"), io.StringIO()
    )
    assert allowed.code == 0
    assert allowed.replies[-1] == "END Your balance is KES 0"


def test_lang_sw_opens_the_menu_in_swahili() -> None:
    """`--lang sw` makes the first screen Swahili, as for a subscriber who chose it before."""
    done = _jumbe("simulate", "--dial", "*384#", "--lang", "sw", "--input", "5")
    assert done.returncode == 0, done.stderr
    rows = _first_rows(done.stdout)
    assert rows[0].startswith("│ Karibu Jumbe")
    assert rows[1].startswith("│ Piga 0800 000 000 (bure)")
    assert _status_lines(done.stdout)[0].startswith("CON ·")


def test_unreachable_url_is_one_clear_line_and_exit_2() -> None:
    """Pointing --url at nothing says so in one line instead of a traceback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ussd/africastalking"
    done = _jumbe("simulate", "--dial", "*384#", "--url", url, "--input", "1")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"jumbe simulate: cannot reach {url}: ")


def test_status_line_counts_the_prefix_and_switches_to_ucs2() -> None:
    """The budget line warns when a screen needs UCS-2 (70) or runs over its page."""
    assert status_line("CON Welcome") == "CON · 11/160 GSM-7"
    assert status_line("END Asante sana 😀") == "END · 18/70 UCS-2"
    assert status_line("END " + "€" * 80) == "END · 164/160 GSM-7 · 4 over!"
