"""`jumbe report rewards`: the reconciliation report of a running gateway in the terminal."""

from __future__ import annotations

from typing import Any

from processes import jumbe_async
from rewards_fixtures import KE, TOKEN, Stack, fake_at_fixture, stack_fixture  # noqa: F401


async def test_report_rewards_prints_states_and_mismatches(stack: Any) -> None:
    """A settled redemption and one AT contradicts: the table counts both and names the one."""
    s: Stack = await stack()
    s.fake.airtime_final[KE] = "Failed"
    await s.earn(KE, 100, "r1")
    _, body = await s.redeem(KE, "air50")
    await s.until(KE, body["redemption"], "REVERSED")
    assert await s.callback(KE, s.fake.topups()[0].request_id, "Success") == 200
    url = str(s.client.make_url("")).rstrip("/")
    code, out, err = await jumbe_async("report", "rewards", "--url", url, token=TOKEN)
    assert (code, err) == (0, "")
    assert "1 redemption(s), 1 mismatch(es)" in out.splitlines()[0]
    assert "state REVERSED" in out
    assert body["redemption"] in out and "AT reported Success on a REVERSED" in out
    code, csv, _ = await jumbe_async("report", "rewards", "--url", url, "--format", "csv",
                                     token=TOKEN)  # fmt: skip
    assert code == 0
    assert csv.splitlines()[0] == "redemption,subscriber,state,problem"
    assert KE.lstrip("+") not in out + csv
