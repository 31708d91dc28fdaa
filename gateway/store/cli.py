"""``jumbe ack-data-loss``: an operator confirms that Redis's lost data has been dealt with.

After a data loss (``gateway.store.meta``), marketing in ``opt_out`` mode is refused because
opt-outs may have been lost. Once they are restored (or the risk is accepted), this command
clears the recorded loss and keeps an audit entry with the note.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

COMMANDS = ("ack-data-loss",)


def add_commands(commands: Any) -> None:
    """Register the store subcommands on ``jumbe``'s subparsers."""
    ack = commands.add_parser(
        "ack-data-loss",
        help="acknowledge a detected Redis data loss (marketing in opt_out mode resumes)",
        description=__doc__,
    )
    ack.add_argument("--redis", dest="redis_url", help="Redis URL (default: JUMBE_REDIS_URL, "
                     "else the embedded Redis of --data-dir)")  # fmt: skip
    ack.add_argument("--data-dir", type=Path, help="embedded Redis data folder (default: ./var)")
    ack.add_argument("--note", default="", help="why it is safe now, kept in the audit entry")


def run(args: argparse.Namespace) -> int:
    import redis

    from gateway.store.connection import detect_cluster
    from gateway.store.embedded import EmbeddedRedis, running_socket
    from gateway.store.meta import acknowledge

    url = args.redis_url or os.environ.get("JUMBE_REDIS_URL") or os.environ.get("REDIS_URL")
    data_dir = args.data_dir or Path(os.environ.get("JUMBE_DATA_DIR", "var"))
    embedded = None
    if url is None:
        socket = running_socket(data_dir)
        if socket is not None:
            url = f"unix://{socket}"
        elif (data_dir / "epoch").exists():
            embedded = EmbeddedRedis(data_dir)
            embedded.start()
            url = embedded.url
        else:
            raise ConfigError(f"no Jumbe data in {data_dir}: pass --redis URL or --data-dir")
    client = (redis.RedisCluster if detect_cluster(url) else redis.Redis).from_url(
        url, socket_timeout=5
    )
    try:
        reason = acknowledge(client, args.note or "acknowledged with jumbe ack-data-loss")
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()
    if reason is None:
        print("no unacknowledged data loss is recorded")
    else:
        print(f"acknowledged: {reason}")
    return 0
