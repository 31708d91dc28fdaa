"""`jumbe fake-at` shows what it "sent", so someone trying SMS locally sees each message."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from conftest import ROOT

from gateway.channels.africastalking.sms import AtSms
from gateway.errors import SendError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake_at_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`jumbe fake-at` on a free port, with one number that always gets 406."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMBE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "fake-at", "--port", str(port),
         "--fail", "+254700000406=406"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError(f"fake-at did not start: {process.communicate()}") from None
            time.sleep(0.05)
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()


def test_fake_at_prints_each_message_it_sends(
    fake_at_process: tuple[subprocess.Popen[str], str],
) -> None:
    """Each send through the real SDK prints one line: time, to, sender, text (newlines ⏎)."""
    process, url = fake_at_process
    assert process.stdout is not None
    banner = process.stdout.readline()
    assert banner.startswith(f"fake Africa's Talking on {url}")
    sdk = AtSms("sandbox", "key", url, timeout=5.0)
    sdk.send("+254711000666", "Hello from Jumbe\nReply STOP to opt out", "JUMBE")
    with pytest.raises(SendError, match="406"):
        sdk.send("+254700000406", "Deals!", None)
    sent, refused = process.stdout.readline(), process.stdout.readline()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d  \+254711000666  JUMBE  Hello from Jumbe ⏎ Reply STOP to opt out\n", sent
    )
    assert refused.endswith(
        "  +254700000406  (default sender)  [not sent: 406 UserInBlacklist] Deals!\n"
    )
