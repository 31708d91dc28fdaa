"""The ``jumbe`` command. Each subcommand is registered by the module that owns it (listed in
``_COMMAND_MODULES``): serve · check · sms · worker · fake-at · graph · simulate ·
ack-data-loss · report."""

from __future__ import annotations

import argparse
import sys

from gateway import __version__
from gateway.content import cli as content_cli
from gateway.errors import ConfigError, StoreUnavailable
from gateway.http import serve as serve_cli
from gateway.reports import cli as reports_cli
from gateway.sms import cli as sms_cli
from gateway.store import cli as store_cli
from gateway.tools import cli as tools_cli

_COMMAND_MODULES = (serve_cli, content_cli, sms_cli, tools_cli, store_cli, reports_cli)
"""Modules that register subcommands: each has ``add_commands``, ``COMMANDS`` and ``run``."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jumbe", description="Jumbe: a USSD and SMS session gateway for feature phones."
    )
    parser.add_argument("--version", action="version", version=f"jumbe {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in _COMMAND_MODULES:
        module.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        for module in _COMMAND_MODULES:
            if args.command in module.COMMANDS:
                return module.run(args) or 0
        raise AssertionError(f"no module runs {args.command!r}")  # argparse knows them all
    except ConfigError as exc:
        print(f"jumbe: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"jumbe: {exc}", file=sys.stderr)
        return 1
